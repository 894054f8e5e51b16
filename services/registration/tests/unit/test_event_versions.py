"""Registration's events read at their current version: what the upcasters of issue 14 keep and drop."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from ddr_contracts.catalog import REGISTRY
from ddr_contracts.registration import (
    ListRowsChecked,
    PersonalDataErased,
    PersonPreRegistered,
    WeaponHandedOver,
)


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


def v1_hand_over() -> dict[str, Any]:
    return {
        "weapon_id": "w-1", "person_id": "p-1", "movement": "MNLA", "kind": "weapon", "type": "AK-47",
        "calibre": "7.62x39", "serial": "SN-1", "quantity": 1, "condition": "bon", "tag": "T-1",
        "receipt_number": "RCPT-1", "custodian": "CTS Kidal", "serial_status": "present", "programme_mark": None,
    }  # fmt: skip


def test_a_v2_hand_over_seals_the_serial() -> None:
    """Issue 14, item 3: WeaponHandedOver kept the serial in clear, beyond the reach of an erasure."""
    assert "serial" in WeaponHandedOver.personal_fields()


def test_a_v1_hand_over_reads_as_v2_with_its_serial() -> None:
    model, data = REGISTRY.upcast("ddr.registration.WeaponHandedOver.v1", v1_hand_over())
    event = model.model_validate(data)

    assert isinstance(event, WeaponHandedOver)
    assert event.serial == "SN-1"


def test_a_v1_repeated_serial_flag_is_read_without_its_serial() -> None:
    """Issue 14, item 3: WeaponSerialDuplicateFlagged repeated the serial in clear."""
    v1 = {"weapon_id": "w-2", "person_id": "p-2", "serial": "SN-1", "earlier_weapon_ids": ["w-1"]}

    model, data = REGISTRY.upcast("ddr.registration.WeaponSerialDuplicateFlagged.v1", v1)

    assert model.model_validate(data).model_dump(mode="json") == {
        "weapon_id": "w-2", "person_id": "p-2", "earlier_weapon_ids": ["w-1"]
    }  # fmt: skip


def test_a_v1_erasure_keeps_no_free_text_authority() -> None:
    """Issue 14, item 3: PersonalDataErased.authority was free text in clear (it may name people)."""
    v1 = {"person_id": "p-1", "reason_code": "protection_risk", "authority": "asked by Aminata Traoré"}

    model, data = REGISTRY.upcast("ddr.registration.PersonalDataErased.v1", v1)
    event = model.model_validate(data)

    assert isinstance(event, PersonalDataErased)
    assert (event.authority, event.authorised_by) == (None, None)


def test_a_v1_erasure_keeps_an_authority_that_is_a_register_reference() -> None:
    v1 = {"person_id": "p-1", "reason_code": "legal_obligation", "authority": "TGI/BKO/2025/17"}

    model, data = REGISTRY.upcast("ddr.registration.PersonalDataErased.v1", v1)

    assert model.model_validate(data).authority == "TGI/BKO/2025/17"  # type: ignore[attr-defined]


def test_a_v2_erasure_refuses_free_text_as_its_authority() -> None:
    """Issue 14, item 3: the stored erasure holds no free text that can name a person."""
    with pytest.raises(ValidationError):
        PersonalDataErased(
            person_id="p-1", reason_code="protection_risk", authority="asked by Aminata Traoré"
        )
