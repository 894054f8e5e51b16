"""Integration's contract: v1 candidacy events read with the region they never kept as unknown."""

from __future__ import annotations

import pytest

from ddr_contracts.catalog import REGISTRY


@pytest.mark.parametrize("name", ["CandidateReceived", "ScreeningOutcomeNoted"])
def test_a_v1_event_reads_with_no_region(name: str) -> None:
    v1 = {
        "person_id": "p-1",
        "movement": "MNLA",
        "category": "combatant",
        "movement_rank": "combattant",
        "effective_on": "2022-03-01",
        **(
            {"path": "reconstituted_forces", "screening_decision_id": "d-1"}
            if name == "CandidateReceived"
            else {"decision_id": "d-1", "track": "integration"}
        ),
    }

    model, data = REGISTRY.upcast(f"ddr.integration.{name}.v1", v1)

    assert model.model_validate(data).region is None  # type: ignore[attr-defined]
