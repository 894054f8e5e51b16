"""``ddr lists import``: the command line import, on the service's PostgreSQL store."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from ddr_registration.adapters.list_files import COLUMNS, write_list_file
from ddr_registration.bootstrap import build_app, lists_app
from ddr_registration.domain.members import BirthDate, Category, ListedMember, Sex
from ddr_runtime.auth.issuer import DevelopmentTokenIssuer
from ddr_runtime.auth.roles import Role
from ddr_runtime.auth.tokens import TokenVerifier
from ddr_runtime.config import Settings
from ddr_testkit.services import running, service_settings

pytestmark = [pytest.mark.postgres, pytest.mark.kafka]


def listed(ref: str, name: str) -> ListedMember:
    return ListedMember(
        movement_ref=ref,
        full_name=name,
        full_name_arabic=None,
        sex=Sex.M,
        birth=BirthDate.year_only(1984),
        category=Category.COMBATANT,
        region="Tombouctou",
        cercle="Goundam",
        commune=None,
        rank=None,
        armed=False,
    )


@pytest.fixture
def service_env(
    fresh_postgres_database: str,
    kafka_bootstrap_servers: str,
    namespace: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Settings:
    """The environment the command reads its settings from, and the same settings for the service."""
    monkeypatch.setenv("DDR_REGISTRATION_DATABASE_URL", fresh_postgres_database)
    monkeypatch.setenv("DDR_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("DDR_TOPIC_NAMESPACE", namespace)
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", kafka_bootstrap_servers)
    return service_settings(
        "registration", fresh_postgres_database, kafka_bootstrap_servers, namespace, tmp_path / "var"
    )


def register_movement(
    settings: Settings, issuer: DevelopmentTokenIssuer, verifier: TokenVerifier, code: str
) -> None:
    app = build_app(settings, token_verifier=verifier)
    token = issuer.issue(subject="officer", roles=[Role.CNDDR_OFFICER])

    async def run() -> None:
        async with (
            running(app),
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://r") as client,
        ):
            answer = await client.post(
                "/movements",
                json={"code": code, "display_name": code},
                headers={"Authorization": f"Bearer {token}"},
            )
            assert answer.status_code == 201, answer.text

    asyncio.run(run())


def test_the_command_imports_a_list_and_ends_with_the_report(
    service_env: Settings, issuer: DevelopmentTokenIssuer, token_verifier: TokenVerifier, tmp_path: Path
) -> None:
    register_movement(service_env, issuer, token_verifier, "CMFPR2")
    path = tmp_path / "cmfpr2.csv"
    write_list_file(path, [listed("C-1", "Boubacar Maïga"), listed("C-2", "Hamidou Cissé")])

    first = CliRunner().invoke(lists_app, ["import", str(path), "--movement", "CMFPR2"])
    again = CliRunner().invoke(lists_app, ["import", str(path), "--movement", "CMFPR2"])

    assert first.exit_code == 0, first.output
    assert "accepted" in first.output
    assert "pre-registered" in first.output
    assert again.exit_code == 0, again.output
    assert "already-imported" in again.output


def test_the_command_rejects_a_file_with_a_bad_row_whole_when_asked(
    service_env: Settings, issuer: DevelopmentTokenIssuer, token_verifier: TokenVerifier, tmp_path: Path
) -> None:
    register_movement(service_env, issuer, token_verifier, "CMFPR3")
    path = tmp_path / "bad.csv"
    bad = ["C-9", "Hamadoun Traoré", "", "M", "l'an passé", "combatant", "Mopti", "Mopti", "", "", "non"]
    path.write_text(",".join(COLUMNS) + "\n" + ",".join([*bad, "", "", "", ""]) + "\n", encoding="utf-8")

    result = CliRunner().invoke(lists_app, ["import", str(path), "--movement", "CMFPR3", "--reject-whole"])

    assert result.exit_code == 1, result.output
    assert "rejected" in result.output
    assert "birth_date" in result.output


def test_the_command_refuses_an_unknown_movement(service_env: Settings, tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    write_list_file(path, [listed("X-1", "Ali Ag Ali")])

    result = CliRunner().invoke(lists_app, ["import", str(path), "--movement", "NOPE"])

    assert result.exit_code == 2, result.output
    assert "no movement NOPE" in result.output
