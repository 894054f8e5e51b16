"""Schemathesis over integration's OpenAPI document, in process, with a token per role (issue 14): no server error,
no answer off its documented status, content type, headers or schema."""

from __future__ import annotations

from pathlib import Path

import pytest

from ddr_integration.bootstrap import build_app
from ddr_runtime.auth.issuer import DevelopmentTokenIssuer
from ddr_runtime.auth.roles import Role
from ddr_runtime.auth.tokens import TokenVerifier
from ddr_testkit.fuzz import fuzz_openapi
from ddr_testkit.services import service_settings

pytestmark = [pytest.mark.kafka]


def test_integration_answers_every_generated_request_as_its_document_says(
    kafka_bootstrap_servers: str,
    namespace: str,
    tmp_path: Path,
    issuer: DevelopmentTokenIssuer,
    token_verifier: TokenVerifier,
) -> None:
    settings = service_settings(
        "integration",
        f"sqlite+aiosqlite:///{tmp_path / 'integration.sqlite'}",
        kafka_bootstrap_servers,
        namespace,
        tmp_path,
    )
    tokens: dict[str, str | None] = {
        "anonymous": None,
        "nic_officer": issuer.issue(subject="nic_officer", roles=[Role.NIC_OFFICER], regions=["Gao"]),
        "mod_liaison": issuer.issue(subject="mod_liaison", roles=[Role.MOD_LIAISON]),
        "cts_officer": issuer.issue(subject="cts_officer", roles=[Role.CTS_OFFICER]),
        "movement_liaison": issuer.issue(
            subject="movement_liaison", roles=[Role.MOVEMENT_LIAISON], movement="MNLA"
        ),
        "auditor": issuer.issue(subject="auditor", roles=[Role.AUDITOR]),
        "operator": issuer.issue(subject="op", roles=[Role.OPERATOR]),
    }

    failures = fuzz_openapi(build_app(settings, token_verifier=token_verifier), tokens, max_examples=8)

    assert failures == [], "\n\n".join(map(str, failures))
