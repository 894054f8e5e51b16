"""The screening case on its own: decisions in, events out, no I/O."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from ddr_contracts.screening import (
    BenefitsHeld,
    BenefitsReleased,
    ChildIdentified,
    ScreeningCaseOpened,
    ScreeningOutcomeDecided,
    VettingListEntry,
)
from ddr_screening.domain.case import ScreeningCase
from ddr_screening.domain.errors import RuleViolated
from ddr_screening.domain.policy import ScreeningPolicy
from ddr_screening.domain.rules import RULES_2015, RULES_2019, EligibilityFacts, evaluate

NOW = datetime(2019, 11, 4, 9, 0, tzinfo=UTC)
POLICY = ScreeningPolicy()


def opened(**overrides: Any) -> ScreeningCaseOpened:
    values: dict[str, Any] = {
        "person_id": "p-1",
        "ddr_id": "DDR-1",
        "movement": "MNLA",
        "category": "combatant",
        "sex": "M",
        "region": "Kidal",
        "cercle": "Kidal",
        "rank": "sergent",
        "armed": True,
        "birth_kind": "year",
        "birth_year": 1990,
        "youngest_age": 28,
        "weapon_handed_over": True,
        "registered_on": NOW.date(),
    }
    values.update(overrides)
    return ScreeningCaseOpened(**values)


def open_case(entry: VettingListEntry | None = None, **overrides: Any) -> ScreeningCase:
    case = ScreeningCase(person_id="p-1")
    case.open(opened(**overrides), NOW, POLICY)
    case.check_vetting_list(1, entry)
    case.settle(RULES_2019)
    return case


def outcomes(case: ScreeningCase) -> list[ScreeningOutcomeDecided]:
    return [e for e in case.pending if isinstance(e, ScreeningOutcomeDecided)]


def test_a_sixteen_year_old_is_separated_at_once_with_a_48_hour_deadline() -> None:
    case = open_case(birth_kind="exact", birth_year=2003, youngest_age=16)
    child = next(e for e in case.pending if isinstance(e, ChildIdentified))
    assert child.handover_deadline == NOW + timedelta(hours=48)
    assert [o.track for o in outcomes(case)] == ["child_protection"]
    assert case.restricted


def test_a_child_stays_in_child_protection_despite_vetting_adult_document_and_medical_attempts() -> None:
    allegation = VettingListEntry(person_id="p-1", allegation_ref="HR-9", status="alleged")
    case = open_case(allegation, birth_kind="exact", birth_year=2003, youngest_age=16)
    assert not any(isinstance(e, BenefitsHeld) for e in case.pending)  # nothing held stands in a child's way
    effect = case.assess_age("document", None, NOW.date() - timedelta(days=3), 19, None, NOW, POLICY)
    assert effect == "child_determination_kept"
    assert case.pending[-1].document_suspect  # type: ignore[attr-defined]
    with pytest.raises(RuleViolated, match="child"):
        case.examine("fit", None)
    with pytest.raises(RuleViolated):
        case.decide_vetting("cleared", "cleared", None)
    case.settle(RULES_2019)
    assert [o.track for o in outcomes(case)] == ["child_protection"]


def test_year_only_birth_counts_as_the_youngest_possible_age() -> None:
    case = open_case(birth_kind="year", birth_year=2001, youngest_age=17)
    assert case.child


def test_unknown_age_is_held_back_from_every_track_until_assessed() -> None:
    case = open_case(birth_kind="unknown", birth_year=None, youngest_age=None)
    assert case.age_pending
    assert case.restricted
    assert not outcomes(case)
    case.examine("fit", None)
    case.settle(RULES_2019)
    assert not outcomes(case)
    assert case.assess_age("medical", 25, None, None, None, NOW, POLICY) == "adult_confirmed"
    case.settle(RULES_2019)
    assert [o.track for o in outcomes(case)] == ["integration"]


def test_a_suspect_document_does_not_make_a_possible_child_an_adult() -> None:
    case = open_case(birth_kind="unknown", birth_year=None, youngest_age=None)
    effect = case.assess_age("document", None, NOW.date() - timedelta(days=5), 22, None, NOW, POLICY)
    assert effect == "still_undetermined"
    assert case.age_pending
    effect = case.assess_age("medical", 15, None, None, None, NOW, POLICY)
    assert effect == "child_identified"
    assert case.child


def test_fit_goes_to_integration_unfit_to_reinsertion_temporarily_unfit_waits() -> None:
    fit, unfit, waiting = open_case(), open_case(), open_case()
    fit.examine("fit", "ok")
    unfit.examine("unfit", "knee")
    waiting.examine("temporarily_unfit", "malaria")
    for case in (fit, unfit, waiting):
        case.settle(RULES_2019)
    assert [o.track for o in outcomes(fit)] == ["integration"]
    assert [(o.track, o.reason_code) for o in outcomes(unfit)] == [("reinsertion", "medically_unfit")]
    assert outcomes(waiting) == []


def test_re_examination_is_limited_and_a_fit_result_supersedes_the_unfit_outcome() -> None:
    case = open_case()
    case.examine("unfit", None)
    case.settle(RULES_2019)
    with pytest.raises(RuleViolated, match="re-examination"):
        case.examine("fit", None)
    for _ in range(POLICY.max_re_examinations):
        case.request_re_examination("officer", None, POLICY)
        case.examine("unfit", None)
    with pytest.raises(RuleViolated) as refused:
        case.request_re_examination("officer", None, POLICY)
    assert refused.value.rule == "re-examination-limit"
    assert len(case.examinations) == 3


def test_an_overturned_unfit_decision_moves_the_person_and_names_what_it_supersedes() -> None:
    case = open_case()
    unfit = case.examine("unfit", None)
    case.settle(RULES_2019)
    first = outcomes(case)[0]
    appeal = case.lodge_appeal(unfit, "officer", "second opinion")
    case.decide_appeal(appeal, True, "fit", "panel", None, NOW, POLICY)
    case.settle(RULES_2019)
    second = outcomes(case)[1]
    assert (first.track, second.track) == ("reinsertion", "integration")
    assert second.supersedes_decision_id == first.decision_id
    assert second.previous_track == "reinsertion"
    assert second.by_appeal


def test_a_vetting_hold_holds_benefits_and_clearing_releases_them() -> None:
    case = open_case(VettingListEntry(person_id="p-1", allegation_ref="HR-1", status="alleged"))
    assert any(isinstance(e, BenefitsHeld) for e in case.pending)
    case.examine("fit", None)
    case.settle(RULES_2019)
    assert [o.track for o in outcomes(case)] == ["integration"]
    case.decide_vetting("cleared", "allegation_unfounded", None)
    assert isinstance(case.pending[-1], BenefitsReleased)
    case.check_vetting_list(2, VettingListEntry(person_id="p-1", allegation_ref="HR-1", status="alleged"))
    assert not case.held  # an allegation already cleared does not hold again


def test_revocation_on_new_evidence_supersedes_the_outcome_with_not_eligible() -> None:
    case = open_case()
    case.examine("fit", None)
    case.settle(RULES_2019)
    case.check_vetting_list(
        2, VettingListEntry(person_id="p-1", allegation_ref="HR-7", status="substantiated")
    )
    assert case.held
    case.decide_vetting("excluded", "grave_crime_substantiated", None)
    case.settle(RULES_2019)
    assert [o.track for o in outcomes(case)] == ["integration", "not_eligible"]


def test_a_child_determination_is_never_overturned_on_appeal() -> None:
    case = open_case(birth_kind="exact", birth_year=2003, youngest_age=16)
    appeal = case.lodge_appeal(case.child_decision_id or "", "officer", None)
    with pytest.raises(RuleViolated, match="child"):
        case.decide_appeal(appeal, True, "child", "panel", None, NOW, POLICY)


def test_rule_versions_differ_on_the_handling_test_and_civilian_cadres() -> None:
    cadre = EligibilityFacts("MNLA", "civilian_cadre", True, True, True, None)
    assert evaluate(RULES_2015, cadre)[0] == "reinsertion"
    assert evaluate(RULES_2019, cadre)[0] == "integration"
    no_weapon = EligibilityFacts("MNLA", "combatant", True, True, False, None)
    assert evaluate(RULES_2019, no_weapon) == ("pending", ("weapon_or_handling_test_pending",))
    unarmed = EligibilityFacts("MNLA", "combatant", False, True, False, None)
    assert evaluate(RULES_2019, unarmed) == ("reinsertion", ("unarmed",))


def test_track_under_a_proposed_rule_set_records_nothing() -> None:
    case = open_case(category="civilian_cadre")
    case.pending.clear()
    case.examine("fit", None)
    case.pending.clear()
    assert case.track_under(RULES_2019) == ("integration", "eligible_fit")
    assert case.track_under(RULES_2015) == ("reinsertion", "category_reinsertion")
    assert case.pending == []


def test_a_merged_duplicate_leaves_its_track_but_a_child_never_does() -> None:
    adult, child = open_case(), open_case(birth_kind="exact", birth_year=2004, youngest_age=15)
    for case in (adult, child):
        case.examine("fit", None) if not case.child else None
        case.settle(RULES_2019)
        case.merge_into("p-2")
        case.settle(RULES_2019)
    assert [o.track for o in outcomes(adult)] == ["integration", "not_eligible"]
    assert [o.track for o in outcomes(child)] == ["child_protection"]


def test_a_document_issued_days_before_registration_is_flagged() -> None:
    case = open_case()
    case.assess_age("document", None, date(2019, 11, 1), 30, None, NOW, POLICY)
    assert case.pending[-1].document_suspect  # type: ignore[attr-defined]
    case.assess_age("document", None, date(2010, 1, 1), 30, None, NOW, POLICY)
    assert not case.pending[-1].document_suspect  # type: ignore[attr-defined]
