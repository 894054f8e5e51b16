"""Schemathesis over integration's OpenAPI document, in process, with a token per role (issue 14): no server error,
no answer off its documented status, content type, headers or schema."""

from __future__ import annotations

import pytest

from ddr_integration.bootstrap import build_app
from ddr_runtime.auth.roles import Role
from ddr_testkit.fuzz import Callers, fuzz_test

pytestmark = [pytest.mark.kafka]

CALLERS: Callers = {
    Role.NIC_OFFICER: {"regions": ["Gao"]},
    Role.MOD_LIAISON: {},
    Role.CTS_OFFICER: {},
    Role.MOVEMENT_LIAISON: {"movement": "MNLA"},
    Role.AUDITOR: {},
    Role.OPERATOR: {},
}


test_integration_answers_every_generated_request_as_its_document_says = fuzz_test(
    "integration", build_app, CALLERS
)
