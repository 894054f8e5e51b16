"""The scenario's registration stage through the public API, on the in-process platform."""

from __future__ import annotations

import pytest

from tests.e2e.platform import Platform
from tests.e2e.scenario import (
    Outcome,
    Progress,
    Shape,
    movements_and_coalitions,
    register_biometrically,
    submit_certified_lists,
)

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]


async def test_lists_are_certified_and_people_registered(platform: Platform) -> None:
    shape = Shape(registered=30, finally_unfit=5, children=2, seed=7)
    await movements_and_coalitions(platform)
    await submit_certified_lists(platform, shape, Progress())
    outcome = Outcome()
    registered = await register_biometrically(platform, shape, Progress(), outcome)
    assert len(registered) == 30
    assert len(outcome.children) == 2
