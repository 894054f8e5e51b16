"""Schemathesis over cvr's OpenAPI document, in process, with a token per role (issue 14): no server error,
no answer off its documented status, content type, headers or schema."""

from __future__ import annotations

import pytest

from ddr_cvr.bootstrap import build_app
from ddr_runtime.auth.roles import Role
from ddr_testkit.fuzz import Callers, fuzz_test

pytestmark = [pytest.mark.kafka]

CALLERS: Callers = {
    Role.CVR_PARTNER: {"partner": "ong-1"},
    Role.COMMITTEE_MEMBER: {"regions": ["Gao"]},
    Role.CNDDR_OFFICER: {"regions": ["Gao"]},
    Role.DONOR: {},
    Role.AUDITOR: {},
    Role.OPERATOR: {},
}


test_cvr_answers_every_generated_request_as_its_document_says = fuzz_test("cvr", build_app, CALLERS)
