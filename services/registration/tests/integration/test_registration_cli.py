"""``ddr lists import`` (the command line import, on the service's PostgreSQL store), ``ddr movements``
(through the service's API) and ``ddr simulate``, as the README uses them."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from ddr_registration.adapters.list_files import COLUMNS, write_list_file
from ddr_registration.bootstrap import build_app, lists_app, simulate_app
from ddr_registration.domain.members import BirthDate, Category, ListedMember, Sex
from ddr_registration.entrypoints import movements_cli
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


@pytest.fixture
def served(
    service_env: Settings, token_verifier: TokenVerifier, monkeypatch: pytest.MonkeyPatch
) -> Iterator[TestClient]:
    """The registration service serving on the command's store; ``ddr movements`` calls reach it."""
    with TestClient(build_app(service_env, token_verifier=token_verifier)) as client:

        def as_caller(_service: str, _url: str | None, token: str) -> contextlib.nullcontext[TestClient]:
            client.headers["Authorization"] = f"Bearer {token}"
            return contextlib.nullcontext(client)

        monkeypatch.setattr(movements_cli, "api_client", as_caller)
        yield client


def officer_token(issuer: DevelopmentTokenIssuer, *roles: Role) -> list[str]:
    return ["--token", issuer.issue(subject="cnddr-cli", roles=[Role.CNDDR_OFFICER, *roles])]


def test_movements_are_added_joined_to_a_coalition_since_a_day_and_listed_through_the_api(
    served: TestClient, issuer: DevelopmentTokenIssuer
) -> None:
    token = officer_token(issuer)
    runner = CliRunner()

    added = [
        runner.invoke(movements_cli.movements_app, [*command, *token])
        for command in (
            ["add", "CMA", "--coalition", "--name", "Coordination des mouvements de l'Azawad"],
            ["add", "HCUA"],
        )
    ]
    late = runner.invoke(
        movements_cli.movements_app, ["join", "HCUA", "--coalition", "CMA", "--since", "2014-10-28", *token]
    )
    joined = runner.invoke(
        movements_cli.movements_app,
        ["join", "HCUA", "--coalition", "CMA", "--since", "2014-10-28",
         "--back-recording-reason", "the 2015 agreement's memberships", *officer_token(issuer, Role.RECORDS_OFFICER)],
    )  # fmt: skip
    listed = runner.invoke(movements_cli.movements_app, ["list", *token])

    assert [result.exit_code for result in added] == [0, 0], [result.output for result in added]
    assert late.exit_code == 1
    assert "only the records_officer role may record it" in late.output
    assert joined.exit_code == 0, joined.output
    assert "CMA (2014-10-28)" in listed.output
    hcua = served.get("/movements/HCUA", headers={"Authorization": f"Bearer {token[1]}"}).json()
    assert hcua["memberships"] == [
        {"movement": "HCUA", "coalition": "CMA", "since": "2014-10-28", "until": None}
    ]


def test_the_readme_sequence_imports_a_simulated_list_once_its_movement_is_added(
    served: TestClient, issuer: DevelopmentTokenIssuer, tmp_path: Path
) -> None:
    runner = CliRunner()
    lists = tmp_path / "var" / "lists"

    simulated = runner.invoke(simulate_app, ["caseload", "--out", str(lists)])
    before = runner.invoke(lists_app, ["import", str(lists / "CMFPR.csv"), "--movement", "CMFPR"])
    added = runner.invoke(movements_cli.movements_app, ["add", "CMFPR", *officer_token(issuer)])
    imported = runner.invoke(lists_app, ["import", str(lists / "CMFPR.csv"), "--movement", "CMFPR"])

    assert simulated.exit_code == 0, simulated.output
    assert (before.exit_code, "no movement CMFPR" in before.output) == (2, True)
    assert added.exit_code == 0, added.output
    assert imported.exit_code == 0, imported.output
    assert "list import accepted" in imported.output


def test_the_command_reads_a_list_through_the_movements_profile_and_names_the_columns_not_read(
    served: TestClient, issuer: DevelopmentTokenIssuer, tmp_path: Path
) -> None:
    headers = {"Authorization": f"Bearer {issuer.issue(subject='officer', roles=[Role.CNDDR_OFFICER])}"}
    assert served.post(
        "/movements", json={"code": "GATIA", "display_name": "GATIA"}, headers=headers
    ).is_success
    profile = {"name": "gatia-2018", "columns": {"origin_region": "region", "origin_cercle": "cercle"},
               "values": {"category": {"CBT": "combatant"}}}  # fmt: skip
    assert served.post("/movements/GATIA/import-profiles", json=profile, headers=headers).status_code == 201
    path = tmp_path / "gatia.csv"
    path.write_text(
        "matricule,family_name,given_names,sexe,naissance,categorie,origin_region,origin_cercle,arme,remarques\n"
        "G-1,Acharatoumane,Moussa,M,1975,CBT,Ménaka,Ménaka,non,chef\n",
        encoding="utf-8",
    )

    without = CliRunner().invoke(lists_app, ["import", str(path), "--movement", "GATIA"])
    result = CliRunner().invoke(
        lists_app, ["import", str(path), "--movement", "GATIA", "--profile", "gatia-2018"]
    )

    assert without.exit_code == 2
    assert "lacks the required column(s): region, cercle" in without.output
    assert result.exit_code == 0, result.output
    assert "list import accepted" in result.output
    assert "gatia-2018 v1" in result.output
    assert "remarques" in result.output
