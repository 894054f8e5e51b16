"""Schemathesis over the sample app's OpenAPI document, in process, with a token per role: no server error,
no answer off its documented status, content type, headers or schema."""

from __future__ import annotations

from pathlib import Path

import pytest

from ddr_contracts.topics import dead_letter_topic
from ddr_runtime.auth.issuer import DevelopmentTokenIssuer
from ddr_runtime.auth.roles import Role
from ddr_runtime.auth.tokens import TokenVerifier
from ddr_runtime.messaging.topics import TopicSpec, ensure_topics
from ddr_testkit.fuzz import fuzz_openapi
from ddr_testkit.sample_app import build_sample_app
from ddr_testkit.services import service_settings

pytestmark = [pytest.mark.kafka]


def test_the_sample_app_answers_every_generated_request_as_its_document_says(
    kafka_bootstrap_servers: str,
    namespace: str,
    tmp_path: Path,
    issuer: DevelopmentTokenIssuer,
    token_verifier: TokenVerifier,
) -> None:
    settings = service_settings(
        "sample",
        f"sqlite+aiosqlite:///{tmp_path / 'sample.sqlite'}",
        kafka_bootstrap_servers,
        namespace,
        tmp_path,
    )
    topic = settings.events_topic("sample")
    ensure_topics(
        kafka_bootstrap_servers, [TopicSpec(topic, 3, {}), TopicSpec(dead_letter_topic(topic), 1, {})]
    )
    tokens: dict[str, str | None] = {
        "anonymous": None,
        "cnddr_officer": issuer.issue(subject="o", roles=[Role.CNDDR_OFFICER]),
        "movement_liaison": issuer.issue(subject="l", roles=[Role.MOVEMENT_LIAISON], movement="MNLA"),
        "examiner": issuer.issue(subject="e", roles=[Role.EXAMINER], regions=["Gao"]),
        "cvr_partner": issuer.issue(subject="p", roles=[Role.CVR_PARTNER], partner="ngo-1"),
        "auditor": issuer.issue(subject="a", roles=[Role.AUDITOR]),
    }

    failures = fuzz_openapi(
        build_sample_app(settings, token_verifier=token_verifier), tokens, max_examples=15
    )

    assert failures == [], "\n\n".join(map(str, failures))
