"""The screening case on its own: decisions in, events out, no I/O."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from ddr_runtime.kernel import AlreadyDone, BusinessTimeRefused, Recording, RuleViolated
from ddr_screening.domain.case import AgeEvidence, Ruling, ScreeningCase
from ddr_screening.domain.events import (
    AgeAssessed,
    BenefitsHeld,
    BenefitsReleased,
    ChildIdentified,
    ScreeningCaseOpened,
    ScreeningOutcomeDecided,
)
from ddr_screening.domain.policy import ScreeningPolicy
from ddr_screening.domain.rules import RULES_2015, RULES_2019, EligibilityFacts, evaluate
from ddr_screening.domain.values import VettingListEntry

NOW = datetime(2019, 11, 4, 9, 0, tzinfo=UTC)
LATER = Recording(now=NOW + timedelta(hours=2))  # commands recorded two hours after registration
POLICY = ScreeningPolicy()
RULES = (RULES_2015, RULES_2019)


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
    case = ScreeningCase()
    case.open(opened(**overrides), NOW, POLICY)
    case.check_vetting_list(1, entry, NOW)
    case.settle(RULES)
    return case


def events(case: ScreeningCase) -> list[Any]:
    return [change.event for change in case.pending]


def outcomes(case: ScreeningCase) -> list[ScreeningOutcomeDecided]:
    return [e for e in events(case) if isinstance(e, ScreeningOutcomeDecided)]


def assess(case: ScreeningCase, evidence: AgeEvidence, on: Any = None) -> str:
    return case.assess_age(evidence, on, LATER, POLICY)


def examine(case: ScreeningCase, result: Any, details: str | None = None, on: Any = None) -> str:
    return case.examine(result, details, on, LATER)


def last_assessment(case: ScreeningCase) -> AgeAssessed:
    return next(e for e in reversed(events(case)) if isinstance(e, AgeAssessed))


def test_a_sixteen_year_old_is_separated_at_once_with_a_48_hour_deadline() -> None:
    case = open_case(birth_kind="exact", birth_year=2003, youngest_age=16)
    child = next(e for e in events(case) if isinstance(e, ChildIdentified))
    assert child.handover_deadline == NOW + timedelta(hours=48)
    assert [o.track for o in outcomes(case)] == ["child_protection"]
    assert case.restricted


def test_a_child_stays_in_child_protection_despite_vetting_adult_document_and_medical_attempts() -> None:
    allegation = VettingListEntry(person_id="p-1", allegation_ref="HR-9", status="alleged")
    case = open_case(allegation, birth_kind="exact", birth_year=2003, youngest_age=16)
    assert not any(isinstance(e, BenefitsHeld) for e in events(case))  # nothing held stands in a child's way
    effect = assess(case, AgeEvidence("document", None, NOW.date() - timedelta(days=3), 19))
    assert effect == "child_determination_kept"
    assert last_assessment(case).document_suspect
    with pytest.raises(RuleViolated, match="child"):
        examine(case, "fit")
    with pytest.raises(RuleViolated):
        case.decide_vetting("cleared", "cleared", None, None, LATER)
    case.settle(RULES)
    assert [o.track for o in outcomes(case)] == ["child_protection"]


def test_year_only_birth_counts_as_the_youngest_possible_age() -> None:
    case = open_case(birth_kind="year", birth_year=2001, youngest_age=17)
    assert case.child


def test_unknown_age_is_held_back_from_every_track_until_assessed() -> None:
    case = open_case(birth_kind="unknown", birth_year=None, youngest_age=None)
    assert case.age_pending
    assert case.restricted
    assert not outcomes(case)
    examine(case, "fit")
    case.settle(RULES)
    assert not outcomes(case)
    assert assess(case, AgeEvidence("medical", 25)) == "adult_confirmed"
    case.settle(RULES)
    assert [o.track for o in outcomes(case)] == ["integration"]


def test_a_suspect_document_does_not_make_a_possible_child_an_adult() -> None:
    case = open_case(birth_kind="unknown", birth_year=None, youngest_age=None)
    effect = assess(case, AgeEvidence("document", None, NOW.date() - timedelta(days=5), 22))
    assert effect == "still_undetermined"
    assert case.age_pending
    effect = assess(case, AgeEvidence("medical", 15))
    assert effect == "child_identified"
    assert case.child


def test_fit_goes_to_integration_unfit_to_reinsertion_temporarily_unfit_waits() -> None:
    fit, unfit, waiting = open_case(), open_case(), open_case()
    examine(fit, "fit", "ok")
    examine(unfit, "unfit", "knee")
    examine(waiting, "temporarily_unfit", "malaria")
    for case in (fit, unfit, waiting):
        case.settle(RULES)
    assert [o.track for o in outcomes(fit)] == ["integration"]
    assert [(o.track, o.reason_code) for o in outcomes(unfit)] == [("reinsertion", "medically_unfit")]
    assert outcomes(waiting) == []


def test_re_examination_is_limited_and_a_fit_result_supersedes_the_unfit_outcome() -> None:
    case = open_case()
    examine(case, "unfit")
    case.settle(RULES)
    with pytest.raises(RuleViolated, match="re-examination"):
        examine(case, "fit")
    for _ in range(POLICY.max_re_examinations):
        case.request_re_examination("officer", None, None, LATER, POLICY)
        examine(case, "unfit")
    with pytest.raises(RuleViolated) as refused:
        case.request_re_examination("officer", None, None, LATER, POLICY)
    assert refused.value.rule == "re-examination-limit"
    assert len(case.examinations) == 3


def test_an_overturned_unfit_decision_moves_the_person_and_names_what_it_supersedes() -> None:
    case = open_case()
    unfit = examine(case, "unfit")
    case.settle(RULES)
    first = outcomes(case)[0]
    appeal = case.lodge_appeal(unfit, "officer", "second opinion", None, LATER)
    case.decide_appeal(appeal, Ruling(True, "fit", "panel"), None, LATER, POLICY)
    case.settle(RULES)
    second = outcomes(case)[1]
    assert (first.track, second.track) == ("reinsertion", "integration")
    assert second.supersedes_decision_id == first.decision_id
    assert second.previous_track == "reinsertion"
    assert second.by_appeal


def test_a_vetting_hold_holds_benefits_and_clearing_releases_them() -> None:
    case = open_case(VettingListEntry(person_id="p-1", allegation_ref="HR-1", status="alleged"))
    assert any(isinstance(e, BenefitsHeld) for e in events(case))
    examine(case, "fit")
    case.settle(RULES)
    assert [o.track for o in outcomes(case)] == ["integration"]
    case.decide_vetting("cleared", "allegation_unfounded", None, None, LATER)
    assert isinstance(events(case)[-1], BenefitsReleased)
    case.check_vetting_list(
        2, VettingListEntry(person_id="p-1", allegation_ref="HR-1", status="alleged"), NOW
    )
    assert not case.held  # an allegation already cleared does not hold again


def test_revocation_on_new_evidence_supersedes_the_outcome_with_not_eligible() -> None:
    case = open_case()
    examine(case, "fit")
    case.settle(RULES)
    case.check_vetting_list(
        2, VettingListEntry(person_id="p-1", allegation_ref="HR-7", status="substantiated"), NOW
    )
    assert case.held
    case.decide_vetting("excluded", "grave_crime_substantiated", None, None, LATER)
    case.settle(RULES)
    assert [o.track for o in outcomes(case)] == ["integration", "not_eligible"]


def test_a_child_determination_is_never_overturned_on_appeal() -> None:
    case = open_case(birth_kind="exact", birth_year=2003, youngest_age=16)
    appeal = case.lodge_appeal(case.child_decision_id or "", "officer", None, None, LATER)
    with pytest.raises(RuleViolated, match="child"):
        case.decide_appeal(appeal, Ruling(True, "child", "panel"), None, LATER, POLICY)


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
    case.take_pending()
    examine(case, "fit")
    case.take_pending()
    assert case.track_under(RULES_2019) == ("integration", "eligible_fit")
    assert case.track_under(RULES_2015) == ("reinsertion", "category_reinsertion")
    assert case.pending == []


def test_a_merged_duplicate_leaves_its_track_but_a_child_never_does() -> None:
    adult, child = open_case(), open_case(birth_kind="exact", birth_year=2004, youngest_age=15)
    for case in (adult, child):
        if not case.child:
            examine(case, "fit")
        case.settle(RULES)
        case.merge_into("p-2", NOW)
        case.settle(RULES)
    assert [o.track for o in outcomes(adult)] == ["integration", "not_eligible"]
    assert [o.track for o in outcomes(child)] == ["child_protection"]


def test_a_document_issued_days_before_registration_is_flagged() -> None:
    case = open_case()
    assess(case, AgeEvidence("document", None, date(2019, 11, 1), 30))
    assert last_assessment(case).document_suspect
    assess(case, AgeEvidence("document", None, date(2010, 1, 1), 30))
    assert not last_assessment(case).document_suspect


# -- business time ---------------------------------------------------------------------------------------------

LATE = Recording(now=NOW + timedelta(days=12))  # within the back-recording window


def at_of(case: ScreeningCase, kind: type[Any]) -> datetime | None:
    return next(c.at for c in reversed(case.pending) if isinstance(c.event, kind))


def test_a_child_found_by_an_assessment_is_due_for_handover_48_hours_after_the_assessment_day() -> None:
    case = open_case(birth_kind="unknown", birth_year=None, youngest_age=None)
    assessed_on = (NOW + timedelta(days=3)).date()

    case.assess_age(AgeEvidence("medical", 15), assessed_on, LATE, POLICY)

    child = next(e for e in events(case) if isinstance(e, ChildIdentified))
    assert child.identified_at == datetime(2019, 11, 7, tzinfo=UTC)
    assert child.handover_deadline == datetime(2019, 11, 9, tzinfo=UTC)
    assert case.handover_overdue(LATE.now)


def test_a_re_examination_dated_before_the_examination_is_refused_naming_both_dates() -> None:
    case = open_case()
    case.examine("temporarily_unfit", None, (NOW + timedelta(days=10)).date(), LATE)

    with pytest.raises(BusinessTimeRefused) as refused:
        case.examine("fit", None, (NOW + timedelta(days=9)).date(), LATE)

    assert refused.value.rule == "occurred-before-dependency"
    assert refused.value.figures["not_before"] == "2019-11-14T00:00:00Z"
    assert refused.value.figures["depends_on"] == "the previous examination"


def test_an_appeal_decided_before_it_was_lodged_is_refused() -> None:
    case = open_case()
    unfit = case.examine("unfit", None, (NOW + timedelta(days=1)).date(), LATE)
    appeal = case.lodge_appeal(unfit, "officer", None, (NOW + timedelta(days=5)).date(), LATE)

    with pytest.raises(BusinessTimeRefused) as refused:
        case.decide_appeal(
            appeal, Ruling(True, "fit", "panel"), (NOW + timedelta(days=4)).date(), LATE, POLICY
        )

    assert refused.value.figures["depends_on"] == "the appeal"


def test_the_outcome_is_decided_as_of_the_latest_fact_it_follows_from() -> None:
    case = open_case(weapon_handed_over=False)
    case.record_handling_test(True, (NOW + timedelta(days=6)).date(), LATE)
    case.examine("fit", None, (NOW + timedelta(days=2)).date(), LATE)

    case.settle(RULES)

    assert [o.track for o in outcomes(case)] == ["integration"]
    assert at_of(case, ScreeningOutcomeDecided) == datetime(2019, 11, 10, tzinfo=UTC)


def test_eligibility_follows_the_rule_set_in_force_on_the_day_of_the_decision() -> None:
    case = ScreeningCase()
    registered = datetime(2019, 3, 1, 9, 0, tzinfo=UTC)  # under the 2015 criteria: cadres to reinsertion
    case.open(opened(category="civilian_cadre", registered_on=registered.date()), registered, POLICY)

    case.settle(RULES)

    assert (case.rule_version, case.eligibility) == ("2015", "reinsertion")
    assert [o.track for o in outcomes(case)] == ["reinsertion"]


def test_what_registration_tells_later_reaches_the_case_no_earlier_than_it_opened() -> None:
    case = open_case(weapon_handed_over=False)

    case.note_weapon("w-1", "R-1", NOW - timedelta(days=2))

    assert at_of(case, type(events(case)[-1])) == NOW


def test_a_second_handover_of_the_same_child_is_already_done() -> None:
    case = open_case(birth_kind="exact", birth_year=2003, youngest_age=16)
    case.record_handover("UNICEF Gao", None, None, LATER)

    with pytest.raises(AlreadyDone):
        case.record_handover("UNICEF Gao", None, None, LATER)
