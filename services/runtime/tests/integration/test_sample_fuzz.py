"""Schemathesis over the sample app's OpenAPI document, in process, with a token per role: no server error,
no answer off its documented status, content type, headers or schema."""

from __future__ import annotations

import pytest

from ddr_runtime.auth.roles import Role
from ddr_testkit.fuzz import Callers, fuzz_openapi, service_tokens
from ddr_testkit.sample_app import build_sample_app, sample_settings
from ddr_testkit.services import ServiceEnv

pytestmark = [pytest.mark.kafka]

CALLERS: Callers = {
    Role.CNDDR_OFFICER: {},
    Role.MOVEMENT_LIAISON: {"movement": "MNLA"},
    Role.EXAMINER: {"regions": ["Gao"]},
    Role.CVR_PARTNER: {"partner": "ngo-1"},
    Role.AUDITOR: {},
}


def test_the_sample_app_answers_every_generated_request_as_its_document_says(service_env: ServiceEnv) -> None:
    env = service_env
    settings = sample_settings(
        f"sqlite+aiosqlite:///{env.var_dir / 'sample.sqlite'}",
        env.kafka_bootstrap_servers,
        env.namespace,
        env.var_dir,
    )
    app = build_sample_app(settings, token_verifier=env.token_verifier)

    failures = fuzz_openapi(app, service_tokens(env.issuer, CALLERS), max_examples=15)

    assert failures == [], "\n\n".join(map(str, failures))
