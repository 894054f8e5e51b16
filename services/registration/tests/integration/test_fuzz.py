"""Schemathesis over registration's OpenAPI document, in process, with a token per role: no server error,
no answer off its documented status, content type, headers or schema (issue 14, the proof that stays)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ddr_registration.bootstrap import build_app
from ddr_runtime.auth.issuer import DevelopmentTokenIssuer
from ddr_runtime.auth.roles import Role
from ddr_runtime.auth.tokens import TokenVerifier
from ddr_testkit.fuzz import fuzz_openapi
from ddr_testkit.services import service_settings

pytestmark = [pytest.mark.kafka]


def test_registration_answers_every_generated_request_as_its_document_says(
    kafka_bootstrap_servers: str,
    namespace: str,
    tmp_path: Path,
    issuer: DevelopmentTokenIssuer,
    token_verifier: TokenVerifier,
) -> None:
    """Findings 13 and 15: an offset of 1e20 gave a 500; bodies and uploads had no bound."""
    settings = service_settings(
        "registration",
        f"sqlite+aiosqlite:///{tmp_path / 'registration.sqlite'}",
        kafka_bootstrap_servers,
        namespace,
        tmp_path,
    )
    tokens: dict[str, str | None] = {
        "anonymous": None,
        "cnddr_officer": issuer.issue(subject="o", roles=[Role.CNDDR_OFFICER], regions=["Gao"]),
        "movement_liaison": issuer.issue(subject="l", roles=[Role.MOVEMENT_LIAISON], movement="MNLA"),
        "child_protection": issuer.issue(subject="c", roles=[Role.CHILD_PROTECTION]),
        "cts_officer": issuer.issue(subject="t", roles=[Role.CTS_OFFICER]),
        "auditor": issuer.issue(subject="a", roles=[Role.AUDITOR]),
    }
    app = build_app(settings, token_verifier=token_verifier, biometric_key=os.urandom(32))

    failures = fuzz_openapi(app, tokens, max_examples=10)

    assert failures == [], "\n\n".join(map(str, failures))
