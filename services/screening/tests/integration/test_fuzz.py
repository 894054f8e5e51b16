"""Schemathesis over screening's OpenAPI document, in process, with a token per role (issue 14): no server
error, no answer off its documented status, content type, headers or schema."""

from __future__ import annotations

import pytest

from ddr_runtime.auth.roles import Role
from ddr_screening.bootstrap import build_app
from ddr_testkit.fuzz import Callers, fuzz_test

pytestmark = [pytest.mark.kafka]

GAO = {"regions": ["Gao"]}
CALLERS: Callers = {
    Role.SCREENING_OFFICER: GAO,
    Role.EXAMINER: GAO,
    Role.VETTING_OFFICER: GAO,
    Role.CHILD_PROTECTION: GAO,
    Role.AUDITOR: {},
    Role.MOVEMENT_LIAISON: {"movement": "MNLA"},
    Role.OPERATOR: {},
    Role.DONOR: {},
}

test_screening_answers_every_generated_request_as_its_document_says = fuzz_test(
    "screening", build_app, CALLERS, max_examples=5
)
