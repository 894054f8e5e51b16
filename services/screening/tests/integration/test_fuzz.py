"""Schemathesis over screening's OpenAPI document, in process, with a token per role (issue 14): no server
error, no answer off its documented status, content type, headers or schema."""

from __future__ import annotations

from pathlib import Path

import pytest

from ddr_runtime.auth.issuer import DevelopmentTokenIssuer
from ddr_runtime.auth.roles import Role
from ddr_runtime.auth.tokens import TokenVerifier
from ddr_screening.bootstrap import build_app
from ddr_testkit.fuzz import fuzz_openapi
from ddr_testkit.services import service_settings

pytestmark = [pytest.mark.kafka]


def test_screening_answers_every_generated_request_as_its_document_says(
    kafka_bootstrap_servers: str,
    namespace: str,
    tmp_path: Path,
    issuer: DevelopmentTokenIssuer,
    token_verifier: TokenVerifier,
) -> None:
    settings = service_settings(
        "screening",
        f"sqlite+aiosqlite:///{tmp_path / 'screening.sqlite'}",
        kafka_bootstrap_servers,
        namespace,
        tmp_path,
    )
    gao = ["Gao"]
    tokens: dict[str, str | None] = {
        "anonymous": None,
        "screening_officer": issuer.issue(subject="so", roles=[Role.SCREENING_OFFICER], regions=gao),
        "examiner": issuer.issue(subject="ex", roles=[Role.EXAMINER], regions=gao),
        "vetting_officer": issuer.issue(subject="vo", roles=[Role.VETTING_OFFICER], regions=gao),
        "child_protection": issuer.issue(subject="cp", roles=[Role.CHILD_PROTECTION], regions=gao),
        "auditor": issuer.issue(subject="au", roles=[Role.AUDITOR]),
        "movement_liaison": issuer.issue(subject="ml", roles=[Role.MOVEMENT_LIAISON], movement="MNLA"),
        "operator": issuer.issue(subject="op", roles=[Role.OPERATOR]),
        "donor": issuer.issue(subject="do", roles=[Role.DONOR]),
    }

    failures = fuzz_openapi(build_app(settings, token_verifier=token_verifier), tokens, max_examples=5)

    assert failures == [], "\n\n".join(map(str, failures))
