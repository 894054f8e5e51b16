"""CVR's contract events: a submission recorded as v1 (targets as percents) reads as v2 (targets as counts)."""

from __future__ import annotations

from typing import Any

from ddr_contracts.catalog import REGISTRY
from ddr_contracts.cvr import ProjectSubmitted


def submitted_v1(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "project_id": "p1",
        "partner_id": "ong-1",
        "partner_kind": "ngo",
        "ngo_ids": ["ong-1"],
        "revision": 0,
        "title": "Jardins maraîchers",
        "project_type": "agriculture_and_gardening",
        "region": "Mopti",
        "cercle": "Bandiagara",
        "commune": "Bandiagara",
        "location": "Bandiagara",
        "budget": "45000.00",
        "currency": "USD",
        "budget_usd": "45000.00",
        "cap_usd": "100000.00",
        "duration_months": 9,
        "planned_start": "2019-03-01",
        "armed_groups_active": True,
        "ex_combatant_target_percent": 60,
        "women_target_percent": 52,
        "direct_beneficiaries_target": 833,
        "submitted_on": "2019-01-10",
    }
    data.update(overrides)
    return data


def test_a_v1_submission_reads_with_its_percent_targets_as_counts_of_its_beneficiaries_target() -> None:
    model, data = REGISTRY.upcast("ddr.cvr.ProjectSubmitted.v1", submitted_v1())
    event = model.model_validate(data)

    assert model is ProjectSubmitted
    assert isinstance(event, ProjectSubmitted)
    # 52 % of 833 is 433.16 women; 60 % is 499.8 ex-combatants: whole people, halves rounded up.
    assert (event.women_target, event.ex_combatants_target, event.programme) == (433, 500, None)


def test_a_v1_half_person_target_rounds_up() -> None:
    v1 = submitted_v1(direct_beneficiaries_target=25, women_target_percent=50, ex_combatant_target_percent=10)
    _, data = REGISTRY.upcast("ddr.cvr.ProjectSubmitted.v1", v1)

    assert (data["women_target"], data["ex_combatants_target"]) == (13, 3)  # 12.5 and 2.5


def test_a_v1_withdrawal_reads_without_the_reason_it_stored_in_clear() -> None:
    """Issue 14, finding 7: the CVR withdrawal reason was stored in clear; v2 seals it, v1's is dropped."""
    v1 = {
        "participant_id": "m-1",
        "project_id": "p-1",
        "person_id": None,
        "withdrawn_on": "2022-03-01",
        "reason": "menacée par son ancien groupe",
    }

    model, data = REGISTRY.upcast("ddr.cvr.ParticipantWithdrawn.v1", v1)

    assert model.model_validate(data).model_dump()["reason"] is None
    assert "reason" in model.personal_fields()
