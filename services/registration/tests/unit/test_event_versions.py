"""Registration's events read at their current version: what the upcasters of issue 14 keep and drop."""

from __future__ import annotations

from typing import Any

from ddr_contracts.catalog import REGISTRY
from ddr_contracts.registration import ListRowsChecked, PersonPreRegistered


def v1_pre_registration() -> dict[str, Any]:
    return {
        "person_id": "p-1", "list_id": "l-1", "list_version": 1, "movement": "MNLA",
        "movement_ref": "MNLA-00042", "category": "combatant", "sex": "M", "birth_kind": "year",
        "region": "Kidal", "cercle": "Kidal", "rank": "", "armed": True, "birth_year": 1988,
        "declared_weapons": [{"type": "AK-47", "calibre": "7.62x39", "serial": "SN-1", "condition": "bon"}],
        "full_name": None, "full_name_arabic": None, "birth_date": None, "commune": None,
        "father_name": None, "mother_name": None, "birth_place": None,
    }  # fmt: skip


def test_a_v1_pre_registration_reads_as_v2_with_its_reference_and_weapons_and_no_line() -> None:
    model, data = REGISTRY.upcast("ddr.registration.PersonPreRegistered.v1", v1_pre_registration())
    event = model.model_validate(data)

    assert isinstance(event, PersonPreRegistered)
    assert (event.movement_ref, event.line) == ("MNLA-00042", None)
    assert [w.serial for w in event.declared_weapons or ()] == ["SN-1"]


def test_a_v2_pre_registration_seals_its_reference_and_declared_weapons() -> None:
    """Issue 14, finding 7: movement_ref and declared serials were in clear in PersonPreRegistered."""
    assert {"movement_ref", "declared_weapons"} <= PersonPreRegistered.personal_fields()


def test_a_v1_row_report_is_read_without_its_rows_references_and_serials() -> None:
    """Issue 14, finding 7: a list's row report kept every row's reference and serials in clear."""
    v1 = {
        "list_id": "l-1", "movement": "MNLA", "list_version": 2, "reasons": None,
        "rows": [
            {"line": 2, "status": "pre-registered", "movement_ref": "MNLA-00042", "person_id": "p-1",
             "column": None, "serials": ["SN-1"], "flags": ["serial-repeated"],
             "repeats": [{"serial": "SN-1", "list_id": "l-0", "movement": "GATIA", "list_version": 1, "line": 7}]},
        ],
    }  # fmt: skip

    model, data = REGISTRY.upcast("ddr.registration.ListRowsChecked.v1", v1)
    event = model.model_validate(data)

    assert isinstance(event, ListRowsChecked)
    assert event.model_dump(mode="json", exclude={"reasons"}) == {
        "list_id": "l-1", "movement": "MNLA", "list_version": 2,
        "rows": [
            {"line": 2, "status": "pre-registered", "person_id": "p-1", "column": None,
             "repeats": [{"list_id": "l-0", "movement": "GATIA", "list_version": 1, "line": 7}],
             "flags": ["serial-repeated"]},
        ],
    }  # fmt: skip
