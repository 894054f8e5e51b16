"""The registration aggregates: each checks a rule, then records an event (pure Python, no I/O)."""

from __future__ import annotations

from datetime import date

import pytest

from ddr_registration.domain.ddr_id import ALPHABET, is_valid_ddr_id, new_ddr_id
from ddr_registration.domain.duplicates import DuplicateCase
from ddr_registration.domain.events import (
    DuplicateMadeCertain,
    PersonDetailsCorrected,
    PersonPreRegistered,
    WeaponFlaggedForTracing,
    WeaponHandedOver,
    WeaponSerialDuplicateFlagged,
)
from ddr_registration.domain.identity import Reason
from ddr_registration.domain.lists import CertifiedList, list_id_of
from ddr_registration.domain.members import BirthDate, Category, ListedMember, Sex
from ddr_registration.domain.movements import Movement
from ddr_registration.domain.persons import Correction, Person
from ddr_registration.domain.weapons import HandOver, MarkRegister, Weapon, normalise_serial
from ddr_runtime.kernel import AlreadyDone, BackRecording, Recording, RuleViolated

HISTORY = Recording(authority=BackRecording("records_officer", "migrated from the 2018 registers"))


def member(**overrides: object) -> ListedMember:
    values: dict[str, object] = {
        "movement_ref": "MNLA-0001",
        "full_name": "Fatoumata Walet Mohamed",
        "full_name_arabic": None,
        "sex": Sex.F,
        "birth": BirthDate.year_only(1990),
        "category": Category.ASSOCIATED_WOMAN,
        "region": "Kidal",
        "cercle": "Kidal",
        "commune": "Kidal",
        "rank": None,
        "armed": False,
    }
    values.update(overrides)
    return ListedMember(**values)  # type: ignore[arg-type]


def stored(person: Person) -> Person:
    """The person as a later command finds it: pending events stored."""
    again = Person()
    again.replay([change.event for change in person.pending])
    return again


def test_a_ddr_id_carries_a_valid_check_character() -> None:
    assert all(is_valid_ddr_id(new_ddr_id()) for _ in range(200))


def test_a_single_mistyped_character_of_a_ddr_id_is_caught() -> None:
    ddr_id = new_ddr_id(lambda: "7K3M9Q2XAB")
    position = len("DDR-") + 2
    for replacement in ALPHABET:
        if replacement != ddr_id[position]:
            typo = ddr_id[:position] + replacement + ddr_id[position + 1 :]
            assert not is_valid_ddr_id(typo)


def test_ddr_ids_are_random_not_sequential() -> None:
    assert len({new_ddr_id() for _ in range(500)}) == 500


def test_a_woman_is_pre_registered_as_an_individual_with_her_own_record() -> None:
    person = Person.pre_register("p-1", "list-1", 1, "MNLA", member())
    (change,) = person.pending
    event = change.event
    assert isinstance(event, PersonPreRegistered)
    assert (event.person_id, event.sex, event.category, event.birth_year) == (
        "p-1",
        "F",
        "associated_woman",
        1990,
    )
    assert event.birth_date is None


def test_a_correction_without_a_reason_is_refused() -> None:
    person = stored(Person.pre_register("p-1", "list-1", 1, "MNLA", member()))
    with pytest.raises(RuleViolated) as refused:
        person.correct(Correction(full_name="Fatouma Walet Mohamed"), "  ")
    assert refused.value.rule == "correction-needs-reason"


def test_a_correction_records_only_the_details_it_changes_with_its_reason() -> None:
    person = stored(Person.pre_register("p-1", "list-1", 1, "MNLA", member()))
    person.correct(
        Correction(birth_kind="exact", birth_date=date(1990, 3, 1), birth_year=1990), "birth certificate"
    )
    (change,) = person.pending
    event = change.event
    assert isinstance(event, PersonDetailsCorrected)
    assert event.corrected_fields == ("birth_kind", "birth_date", "birth_year")
    assert event.reason == "birth certificate"
    assert event.full_name is None


def test_a_person_is_registered_once() -> None:
    person = stored(Person.pre_register("p-1", "list-1", 1, "MNLA", member()))
    person.register("DDR-X", "hash", "Gao")
    with pytest.raises(AlreadyDone) as refused:
        person.register("DDR-Y", "hash", "Gao")
    assert refused.value.rule == "registered-once"


def test_a_merged_record_refuses_corrections() -> None:
    person = stored(Person.pre_register("p-1", "list-1", 1, "MNLA", member()))
    person.merge_into("p-2", "case-1")
    with pytest.raises(RuleViolated) as refused:
        person.correct(Correction(region="Gao"), "moved")
    assert refused.value.rule == "merged-record-is-closed"


def test_a_merge_keeps_the_survivor_one_of_the_pair() -> None:
    case = DuplicateCase.suspect("c-1", "p-1", "p-2", score=0.9, certain=False, reasons=NAMES_ALIKE)
    with pytest.raises(RuleViolated):
        case.resolve("merged", "p-3")
    case.resolve("merged", "p-2")
    assert case.absorbed_person_id == "p-1"
    with pytest.raises(RuleViolated):
        case.resolve("distinct", None)


NAMES_ALIKE = (Reason("name_similarity", 0.92), Reason("birth_year_same"))
SAME_BIOMETRIC = (Reason("biometric_same"),)


def case_on_file(case_id: str, other: str, *outcome: str) -> DuplicateCase:
    """A case of p-1 and ``other`` as a later command finds it: suspected on names, then resolved if told."""
    suspected = DuplicateCase.suspect(case_id, "p-1", other, score=0.7, certain=False, reasons=NAMES_ALIKE)
    if outcome:
        suspected.resolve(outcome[0], other if outcome[0] == "merged" else None)  # type: ignore[arg-type]
    found = DuplicateCase()
    found.replay([change.event for change in suspected.pending])
    return found


def test_a_suspected_duplicate_is_made_certain_by_a_shared_biometric() -> None:
    case = case_on_file("c-1", "p-2")

    assert case.make_certain(SAME_BIOMETRIC)

    (change,) = case.pending
    event = change.event
    assert isinstance(event, DuplicateMadeCertain)
    assert (event.reopened, [r.kind for r in event.reasons]) == (False, ["biometric_same"])
    assert (case.certain, case.outcome) == (True, None)


def test_a_duplicate_judged_distinct_is_reopened_when_a_biometric_proves_it() -> None:
    case = case_on_file("c-1", "p-2", "distinct")

    assert case.make_certain(SAME_BIOMETRIC)

    (change,) = case.pending
    event = change.event
    assert isinstance(event, DuplicateMadeCertain)
    assert event.reopened
    assert case.outcome is None
    case.resolve("merged", "p-2")  # the CNDDR can now merge them


def test_a_case_already_certain_or_merged_is_not_made_certain_again() -> None:
    certain = DuplicateCase()
    certain.replay(
        change.event
        for change in DuplicateCase.suspect(
            "c-1", "p-1", "p-2", score=1.0, certain=True, reasons=SAME_BIOMETRIC
        ).pending
    )
    merged = case_on_file("c-2", "p-3", "merged")

    assert not certain.make_certain(SAME_BIOMETRIC)
    assert not merged.make_certain(SAME_BIOMETRIC)
    assert certain.pending == merged.pending == []


def test_a_list_version_is_endorsed_only_after_the_movement_certified_it() -> None:
    certified = CertifiedList()
    certified.submit_version(list_id_of("MNLA"), "MNLA", "sha", total=1, accepted=1, rejected=0)
    with pytest.raises(RuleViolated) as refused:
        certified.endorse(1, "CTS")
    assert refused.value.rule == "certify-before-endorsing"
    certified.certify(1)
    certified.endorse(1, "CTS")
    certified.endorse(1, "CNDDR")
    with pytest.raises(AlreadyDone) as again:
        certified.endorse(1, "CTS")
    assert again.value.rule == "endorsed-once"


def test_a_superseded_list_version_stays_but_cannot_be_certified() -> None:
    certified = CertifiedList()
    certified.submit_version("l", "MNLA", "sha-1", total=1, accepted=1, rejected=0)
    certified.submit_version("l", "MNLA", "sha-2", total=2, accepted=2, rejected=0)
    assert sorted(certified.versions) == [1, 2]
    with pytest.raises(RuleViolated) as refused:
        certified.certify(1)
    assert refused.value.rule == "version-superseded"


def test_only_a_coalition_takes_members_and_membership_ends_after_it_began() -> None:
    mnla = Movement.register("MNLA", "Mouvement national de libération de l'Azawad", "movement")
    hcua = Movement.register("HCUA", "Haut conseil pour l'unité de l'Azawad", "movement")
    cma = Movement.register("CMA", "Coordination des mouvements de l'Azawad", "coalition")
    with pytest.raises(RuleViolated):
        mnla.join(hcua, date(2014, 10, 28), recording=HISTORY)
    mnla.join(cma, date(2014, 10, 28), recording=HISTORY)
    with pytest.raises(RuleViolated) as early:
        mnla.leave("CMA", date(2013, 1, 1), recording=HISTORY)
    mnla.leave("CMA", date(2024, 1, 1), recording=HISTORY)
    assert early.value.rule == "occurred-before-dependency"
    assert mnla.coalitions == {}


def item(serial: str | None = "AK-1234") -> HandOver:
    return HandOver("weapon", "AK-47", "7.62x39", serial, 1, "serviceable", "TAG-1", "CTS depot Gao")


def test_a_serial_already_handed_over_is_flagged() -> None:
    weapon = Weapon.hand_over("w-2", "p-1", "MNLA", item("ak 1234"), "R-2", ("w-1",))
    flags = [c.event for c in weapon.pending if isinstance(c.event, WeaponSerialDuplicateFlagged)]
    assert [f.earlier_weapon_ids for f in flags] == [("w-1",)]
    assert normalise_serial("ak 1234") == normalise_serial("AK-1234")


def test_a_weapon_without_a_serial_is_received_under_the_programmes_mark_and_flagged_for_tracing() -> None:
    filed_off = HandOver("weapon", "AK-47", "7.62x39", None, 1, "worn", "TAG-1", "CTS depot Gao", "filed_off")
    mark = MarkRegister().issue("w-1", "p-1")

    weapon = Weapon.hand_over("w-1", "p-1", "MNLA", filed_off, "R-1", (), programme_mark=mark)

    handed, traced = (change.event for change in weapon.pending)
    assert isinstance(handed, WeaponHandedOver)
    assert (handed.serial, handed.serial_status, handed.programme_mark) == (
        None,
        "filed_off",
        "ML-DDR-000001",
    )
    assert traced == WeaponFlaggedForTracing(
        weapon_id="w-1", person_id="p-1", serial_status="filed_off", programme_mark="ML-DDR-000001"
    )


def test_a_weapon_without_a_serial_or_a_reason_is_recorded_as_having_none() -> None:
    assert item(None).checked_serial_status() == "absent"
    assert item("AK-1234").checked_serial_status() == "present"


def test_a_serial_given_for_a_weapon_said_to_have_none_is_refused() -> None:
    contradiction = HandOver("weapon", "AK-47", "7.62x39", "AK-1", 1, "worn", "TAG-1", "CTS Gao", "filed_off")

    with pytest.raises(RuleViolated) as refused:
        contradiction.checked_serial_status()

    assert refused.value.rule == "serial-status"


def test_programme_marks_are_issued_in_sequence() -> None:
    marks = MarkRegister()
    marks.replay([change.event for change in _issued(3).pending])

    assert marks.issue("w-4", "p-4") == "ML-DDR-000004"


def _issued(count: int) -> MarkRegister:
    marks = MarkRegister()
    for n in range(1, count + 1):
        marks.issue(f"w-{n}", f"p-{n}")
    return marks


def test_a_custody_transfer_needs_both_signatures_and_the_current_holder() -> None:
    weapon = Weapon.hand_over("w-1", "p-1", "MNLA", item(), "R-1", ())
    with pytest.raises(RuleViolated):
        weapon.transfer("CTS depot Gao", "MINUSMA armoury", "officer-1", "")
    with pytest.raises(RuleViolated):
        weapon.transfer("somewhere else", "MINUSMA armoury", "officer-1", "officer-2")
    weapon.transfer("CTS depot Gao", "MINUSMA armoury", "officer-1", "officer-2")
    assert weapon.custodian == "MINUSMA armoury"
