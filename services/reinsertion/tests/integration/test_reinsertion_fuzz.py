"""Schemathesis over reinsertion's OpenAPI document, in process, with a token per role (issue 14): no server error,
no answer off its documented status, content type, headers or schema."""

from __future__ import annotations

import pytest

from ddr_reinsertion.bootstrap import build_app
from ddr_runtime.auth.roles import Role
from ddr_testkit.fuzz import Callers, fuzz_test

pytestmark = [pytest.mark.kafka]

CALLERS: Callers = {
    Role.REINSERTION_OFFICER: {"regions": ["Gao"]},
    Role.FINANCE_OFFICER: {},
    Role.CNDDR_OFFICER: {"regions": ["Gao"]},
    Role.DONOR: {},
    Role.AUDITOR: {},
    Role.OPERATOR: {},
}


test_reinsertion_answers_every_generated_request_as_its_document_says = fuzz_test(
    "reinsertion", build_app, CALLERS
)
