"""The CVR domain's rules, without I/O."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from ddr_cvr.adapters.figures import Counters
from ddr_cvr.domain.events import CommitteeDecided, ProjectApproved, ProjectSubmitted
from ddr_cvr.domain.participants import Enrolment, Participant, targets_against_actuals
from ddr_cvr.domain.partners import Partner
from ddr_cvr.domain.persons import RegisteredPerson, missing_link, survivor
from ddr_cvr.domain.policy import CvrPolicy
from ddr_cvr.domain.projects import Decision, Project, ProjectDraft, TechnicalAssessment, Visit
from ddr_runtime.kernel import BackRecording, BusinessTimeRefused, Recording, RuleViolated, UnknownRecord

POLICY = CvrPolicy()
ON = date(2022, 1, 10)
MEMBERS = ("a", "b")
HISTORY = Recording(
    now=datetime(2024, 1, 1, tzinfo=UTC), authority=BackRecording("records_officer", "migrated registers")
)


def ngo(partner_id: str, on: date = date(2015, 1, 1)) -> Partner:
    return Partner.register_ngo(partner_id, partner_id, ("Mopti",), on, HISTORY)


def draft(**overrides: Any) -> ProjectDraft:
    values: dict[str, Any] = {
        "title": "t",
        "project_type": "vocational_training",
        "programme": "crp",
        "region": "Mopti",
        "cercle": "Mopti",
        "commune": "Sio",
        "location": "Sévaré",
        "budget": Decimal(80_000),
        "currency": "USD",
        "duration_months": 12,
        "planned_start": ON,
        "armed_groups_active": False,
        "direct_beneficiaries_target": 100,
    }
    values.update(overrides)
    return ProjectDraft(**values)


def submitted(**overrides: Any) -> Project:
    return Project.submit("p", ngo("a"), draft(**overrides), POLICY, ON, HISTORY)


def cleared(committee: str, on: date = ON, **more: Any) -> Decision:
    vetting = "cleared" if committee == "local_review" else "not_applicable"
    return Decision(committee, on, MEMBERS, "cleared", human_rights_vetting=vetting, **more)  # type: ignore[arg-type]


def approved(on: date = ON) -> Project:
    project = submitted()
    for committee in ("local_review", "regional_appraisal", "national_appraisal"):
        project.decide(cleared(committee, on), POLICY, HISTORY)
    return project


def test_a_single_ngo_project_above_its_cap_is_refused_with_the_cap() -> None:
    with pytest.raises(RuleViolated, match=r"cap of USD 100,000\.00 for a single NGO") as refused:
        submitted(budget=Decimal(120_000))
    assert refused.value.rule == "budget-cap"


def test_a_consortium_is_capped_at_300000_and_caps_are_configuration() -> None:
    consortium = Partner.form_consortium("c", "c", "a", [ngo("a"), ngo("b")], (), ON, HISTORY)
    project = Project.submit("p", consortium, draft(budget=Decimal(300_000)), POLICY, ON, HISTORY)
    event = project.pending[0].event
    assert isinstance(event, ProjectSubmitted)
    assert (event.cap_usd, event.ngo_ids) == (Decimal(300_000), ("a", "b"))
    with pytest.raises(RuleViolated, match=r"300,000\.00 for a consortium"):
        Project.submit("q", consortium, draft(budget=Decimal("300000.01")), POLICY, ON, HISTORY)
    old_cap = CvrPolicy(single_ngo_cap_usd=Decimal(50_000))
    with pytest.raises(RuleViolated, match=r"50,000\.00"):
        Project.submit("r", ngo("a"), draft(budget=Decimal(60_000)), old_cap, ON, HISTORY)


def test_a_consortium_has_two_or_three_ngos_under_a_lead_among_them() -> None:
    with pytest.raises(RuleViolated, match="2 to 3"):
        Partner.form_consortium("c", "c", "a", [ngo("a")], (), ON, HISTORY)
    with pytest.raises(RuleViolated, match="2 to 3"):
        Partner.form_consortium("c", "c", "a", [ngo(x) for x in "abcd"], (), ON, HISTORY)
    with pytest.raises(RuleViolated, match="lead"):
        Partner.form_consortium("c", "c", "z", [ngo("a"), ngo("b")], (), ON, HISTORY)


def test_duration_is_at_most_one_year() -> None:
    with pytest.raises(RuleViolated, match="at most one year"):
        submitted(duration_months=13)


def test_targets_are_counts_a_percent_is_turned_into_one_and_the_policy_gives_the_default() -> None:
    counted = submitted(direct_beneficiaries_target=833, women_target=433).pending[0].event
    by_percent = (
        submitted(direct_beneficiaries_target=833, women_target_percent=Decimal("52.5")).pending[0].event
    )
    assert isinstance(counted, ProjectSubmitted)
    assert isinstance(by_percent, ProjectSubmitted)
    assert (counted.women_target, counted.ex_combatants_target) == (433, 500)  # 60 % of 833 = 499.8
    assert by_percent.women_target == 437  # 437.325
    with pytest.raises(RuleViolated, match="not both"):
        submitted(women_target=1, women_target_percent=Decimal(1))
    with pytest.raises(RuleViolated, match="among the 100 direct beneficiaries"):
        submitted(ex_combatants_target=101)


def test_a_project_belongs_to_one_of_the_configured_programmes() -> None:
    with pytest.raises(RuleViolated, match="crp, northern") as refused:
        submitted(programme="southern")
    assert refused.value.rule == "unknown-programme"
    other = CvrPolicy(programmes={"southern": "Sikasso pilot"})
    assert Project.submit("p", ngo("a"), draft(programme="southern"), other, ON, HISTORY).version == 0


def test_committees_decide_in_order_with_a_quorum_and_local_review_vets() -> None:
    project = submitted()
    with pytest.raises(RuleViolated, match="not awaiting"):
        project.decide(cleared("national_appraisal"), POLICY, HISTORY)
    with pytest.raises(RuleViolated, match="members"):
        project.decide(
            Decision("local_review", ON, ("a",), "cleared", human_rights_vetting="cleared"), POLICY, HISTORY
        )
    with pytest.raises(RuleViolated, match="vetting"):
        project.decide(
            Decision("local_review", ON, MEMBERS, "cleared", human_rights_vetting="concerns"), POLICY, HISTORY
        )
    project.decide(cleared("local_review"), POLICY, HISTORY)
    project.decide(cleared("regional_appraisal"), POLICY, HISTORY)
    project.decide(
        cleared("national_appraisal", date(2022, 2, 1), conditions=("rapport mensuel",)), POLICY, HISTORY
    )
    assert project.status == "approved"
    decided, approval = project.pending[-2].event, project.pending[-1].event
    assert isinstance(decided, CommitteeDecided)
    assert decided.conditions == ("rapport mensuel",)
    assert isinstance(approval, ProjectApproved)
    assert project.pending[-1].at == datetime(2022, 2, 1, tzinfo=UTC)


def test_water_and_construction_need_a_favourable_technical_assessment() -> None:
    for kind in ("solar_water", "infrastructure_rehabilitation"):
        project = submitted(project_type=kind)
        project.decide(cleared("local_review"), POLICY, HISTORY)
        with pytest.raises(RuleViolated, match="technical assessment"):
            project.decide(cleared("regional_appraisal"), POLICY, HISTORY)
        project.record_technical_assessment(TechnicalAssessment("DNH", "ref", ON, False), HISTORY)
        with pytest.raises(RuleViolated, match="technical assessment"):
            project.decide(cleared("regional_appraisal"), POLICY, HISTORY)
        project.record_technical_assessment(TechnicalAssessment("DNH", "ref-2", ON, True), HISTORY)
        project.decide(cleared("regional_appraisal"), POLICY, HISTORY)


def test_a_clearance_comes_after_the_technical_assessment_it_relies_on() -> None:
    project = submitted(project_type="solar_water")
    project.decide(cleared("local_review"), POLICY, HISTORY)
    project.record_technical_assessment(TechnicalAssessment("DNH", "ref", date(2022, 1, 20), True), HISTORY)
    with pytest.raises(BusinessTimeRefused) as refused:
        project.decide(cleared("regional_appraisal", date(2022, 1, 19)), POLICY, HISTORY)
    assert refused.value.figures["depends_on"] == "the technical assessment"


def test_an_insecure_area_visit_stands_in_only_with_report_and_testimony() -> None:
    project = approved()
    with pytest.raises(RuleViolated, match="follows completion"):
        project.record_visit(Visit("on_site", ON, "ok"), HISTORY)
    project.complete(date(2022, 10, 1), HISTORY)
    with pytest.raises(RuleViolated, match="testimony"):
        project.record_visit(Visit("remote_insecure", date(2023, 10, 1), "ok", "mines", None, 0), HISTORY)
    project.record_visit(Visit("remote_insecure", date(2023, 10, 1), "ok", "mines", "RAP-1", 3), HISTORY)


def test_a_same_day_fact_is_placed_just_after_the_one_it_depends_on() -> None:
    project = approved(on=date(2022, 3, 1))
    project.complete(date(2022, 3, 1), HISTORY)
    assert project.pending[-1].at == project.approved_at


def test_an_ex_combatant_participant_needs_the_registration_link_and_a_community_member_has_none() -> None:
    submitted_at = datetime(2022, 1, 10, tzinfo=UTC)
    with pytest.raises(RuleViolated, match="registration id"):
        Participant.enrol("x", "p", "a", Enrolment("ex_combatant", "M", ON), HISTORY, submitted_at)
    with pytest.raises(RuleViolated, match="no registration id"):
        Participant.enrol(
            "x", "p", "a", Enrolment("community", "M", ON, person_id="p-1"), HISTORY, submitted_at
        )


def test_targets_against_actuals_for_forty_participants_ten_ex_combatants() -> None:
    shares = targets_against_actuals(400, 240, 200, participants=40, ex_combatants=10, women=20)
    assert (shares.ex_combatants.target, shares.ex_combatants.target_percent) == (240, 60.0)
    assert (shares.ex_combatants.actual, shares.ex_combatants.actual_percent) == (10, 25.0)
    assert (shares.community.target, shares.community.actual_percent) == (160, 75.0)
    assert shares.women.actual_percent == 50.0
    nobody = targets_against_actuals(0, 0, 0, participants=0, ex_combatants=0, women=0)
    assert (nobody.ex_combatants.actual_percent, nobody.ex_combatants.target_percent) == (None, None)


def test_a_merged_person_resolves_to_the_survivor_and_an_unannounced_one_is_unknown() -> None:
    old, new = RegisteredPerson(), RegisteredPerson()
    old.note_registration("old", "PersonPreRegistered")
    old.note_merge("old", "new")
    assert missing_link("old", {"old": old}) == "new"
    new.note_registration("new", "PersonRegistered")
    assert survivor("old", {"old": old, "new": new}) == "new"
    with pytest.raises(UnknownRecord):
        survivor("ghost", {"ghost": RegisteredPerson()})


def test_figures_take_the_larger_of_recorded_counts_and_named_participants_and_only_once_approved() -> None:
    counters = Counters(None, 5_000_000, 400, 200, 240, 40, 25, 10, 300, 10, 900, 400)
    assert counters.figures()["projects"] == 0
    counters.approved_on = ON
    figures = counters.figures()
    assert (figures["projects"], figures["amount_usd_cents"]) == (1, 5_000_000)
    assert (figures["direct"], figures["direct_women"], figures["indirect"]) == (300, 25, 900)
    assert (figures["target_direct"], figures["target_women"], figures["target_ex_combatants"]) == (
        400,
        200,
        240,
    )
