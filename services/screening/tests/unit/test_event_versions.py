"""Screening's events read at their current version: what the upcasters of issue 14 keep."""

from __future__ import annotations

from ddr_contracts.catalog import REGISTRY
from ddr_contracts.screening import VettingDecided


def test_a_v1_vetting_decision_reads_as_v2_with_its_allegation_reference() -> None:
    v1 = {
        "person_id": "p-1", "decision_id": "d-1", "status": "held", "source": "list_check", "list_version": 3,
        "allegation_ref": "HR-2019-0042", "reason_code": "on_vetting_list", "reason": None,
    }  # fmt: skip

    model, data = REGISTRY.upcast("ddr.screening.VettingDecided.v1", v1)
    event = model.model_validate(data)

    assert isinstance(event, VettingDecided)
    assert (event.version, event.allegation_ref) == (2, "HR-2019-0042")


def test_a_v2_vetting_decision_seals_its_allegation_reference() -> None:
    """Issue 14: VettingDecided kept allegation_ref in clear, on Kafka for ever, beyond an erasure's reach."""
    assert {"allegation_ref", "reason"} <= VettingDecided.personal_fields()
