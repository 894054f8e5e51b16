"""The CVR domain's rules, without I/O."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from ddr_contracts.cvr import CommitteeDecided, ProjectApproved, ProjectSubmitted
from ddr_cvr.adapters.projection import Counters
from ddr_cvr.domain.errors import RuleViolated
from ddr_cvr.domain.participants import Enrolment, Participant, targets_against_actuals
from ddr_cvr.domain.partners import Partner
from ddr_cvr.domain.policy import CvrPolicy
from ddr_cvr.domain.projects import Decision, Project, ProjectDraft, Visit

POLICY = CvrPolicy()
ON = date(2022, 1, 10)
MEMBERS = ("a", "b")


def ngo(partner_id: str) -> Partner:
    return Partner.register_ngo(partner_id, partner_id, ("Mopti",), ON)


def draft(**overrides: Any) -> ProjectDraft:
    values: dict[str, Any] = {
        "title": "t",
        "project_type": "vocational_training",
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


def test_a_single_ngo_project_above_its_cap_is_refused_with_the_cap() -> None:
    with pytest.raises(RuleViolated, match=r"cap of USD 100,000\.00 for a single NGO") as refused:
        Project.submit("p", ngo("a"), draft(budget=Decimal(120_000)), POLICY, ON)
    assert refused.value.rule == "budget-cap"


def test_a_consortium_is_capped_at_300000_and_caps_are_configuration() -> None:
    consortium = Partner.form_consortium("c", "c", "a", [ngo("a"), ngo("b")], (), ON)
    project = Project.submit("p", consortium, draft(budget=Decimal(300_000)), POLICY, ON)
    submitted = project.pending[0]
    assert isinstance(submitted, ProjectSubmitted)
    assert (submitted.cap_usd, submitted.ngo_ids) == (Decimal(300_000), ("a", "b"))
    with pytest.raises(RuleViolated, match=r"300,000\.00 for a consortium"):
        Project.submit("q", consortium, draft(budget=Decimal("300000.01")), POLICY, ON)
    old_cap = CvrPolicy(single_ngo_cap_usd=Decimal(50_000))
    with pytest.raises(RuleViolated, match=r"50,000\.00"):
        Project.submit("r", ngo("a"), draft(budget=Decimal(60_000)), old_cap, ON)


def test_a_consortium_has_two_or_three_ngos_under_a_lead_among_them() -> None:
    with pytest.raises(RuleViolated, match="2 to 3"):
        Partner.form_consortium("c", "c", "a", [ngo("a")], (), ON)
    with pytest.raises(RuleViolated, match="2 to 3"):
        Partner.form_consortium("c", "c", "a", [ngo(x) for x in "abcd"], (), ON)
    with pytest.raises(RuleViolated, match="lead"):
        Partner.form_consortium("c", "c", "z", [ngo("a"), ngo("b")], (), ON)


def test_duration_is_at_most_one_year() -> None:
    with pytest.raises(RuleViolated, match="at most one year"):
        Project.submit("p", ngo("a"), draft(duration_months=13), POLICY, ON)


def test_committees_decide_in_order_with_a_quorum_and_local_review_vets() -> None:
    project = Project.submit("p", ngo("a"), draft(), POLICY, ON)
    with pytest.raises(RuleViolated, match="not awaiting"):
        project.decide(Decision("national_appraisal", ON, MEMBERS, "cleared"), POLICY)
    with pytest.raises(RuleViolated, match="members"):
        project.decide(
            Decision("local_review", ON, ("a",), "cleared", human_rights_vetting="cleared"), POLICY
        )
    with pytest.raises(RuleViolated, match="vetting"):
        project.decide(
            Decision("local_review", ON, MEMBERS, "cleared", human_rights_vetting="concerns"), POLICY
        )
    project.decide(Decision("local_review", ON, MEMBERS, "cleared", human_rights_vetting="cleared"), POLICY)
    project.decide(Decision("regional_appraisal", ON, MEMBERS, "cleared"), POLICY)
    project.decide(
        Decision("national_appraisal", date(2022, 2, 1), MEMBERS, "cleared", ("rapport mensuel",)), POLICY
    )
    assert project.status == "approved"
    assert isinstance(project.pending[-2], CommitteeDecided)
    assert project.pending[-2].conditions == ("rapport mensuel",)
    assert isinstance(project.pending[-1], ProjectApproved)


def test_water_and_construction_need_a_favourable_technical_assessment() -> None:
    for kind in ("solar_water", "infrastructure_rehabilitation"):
        project = Project.submit("p", ngo("a"), draft(project_type=kind), POLICY, ON)
        project.decide(
            Decision("local_review", ON, MEMBERS, "cleared", human_rights_vetting="cleared"), POLICY
        )
        with pytest.raises(RuleViolated, match="technical assessment"):
            project.decide(Decision("regional_appraisal", ON, MEMBERS, "cleared"), POLICY)
        project.record_technical_assessment("DNH", "ref", ON, False, ())
        with pytest.raises(RuleViolated, match="technical assessment"):
            project.decide(Decision("regional_appraisal", ON, MEMBERS, "cleared"), POLICY)
        project.record_technical_assessment("DNH", "ref-2", ON, True, ())
        project.decide(Decision("regional_appraisal", ON, MEMBERS, "cleared"), POLICY)


def test_an_insecure_area_visit_stands_in_only_with_report_and_testimony() -> None:
    project = Project.submit("p", ngo("a"), draft(), POLICY, ON)
    with pytest.raises(RuleViolated, match="follows completion"):
        project.record_visit(Visit("on_site", ON, "ok"))
    project.decide(Decision("local_review", ON, MEMBERS, "cleared", human_rights_vetting="cleared"), POLICY)
    project.decide(Decision("regional_appraisal", ON, MEMBERS, "cleared"), POLICY)
    project.decide(Decision("national_appraisal", ON, MEMBERS, "cleared"), POLICY)
    project.complete(date(2022, 10, 1))
    with pytest.raises(RuleViolated, match="testimony"):
        project.record_visit(Visit("remote_insecure", date(2023, 10, 1), "ok", "mines", None, 0))
    project.record_visit(Visit("remote_insecure", date(2023, 10, 1), "ok", "mines", "RAP-1", 3))


def test_an_ex_combatant_participant_needs_the_registration_link_and_a_community_member_has_none() -> None:
    with pytest.raises(RuleViolated, match="registration id"):
        Participant.enrol("x", "p", "a", Enrolment("ex_combatant", "M", ON))
    with pytest.raises(RuleViolated, match="no registration id"):
        Participant.enrol("x", "p", "a", Enrolment("community", "M", ON, person_id="person-1"))


def test_targets_against_actuals_for_forty_participants_ten_ex_combatants() -> None:
    shares = targets_against_actuals(60, 50, participants=40, ex_combatants=10, women=20)
    assert (shares.ex_combatants.target_percent, shares.ex_combatants.actual_percent) == (60.0, 25.0)
    assert (shares.community.target_percent, shares.community.actual_percent) == (40.0, 75.0)
    assert shares.women.actual_percent == 50.0
    assert targets_against_actuals(60, 50, 0, 0, 0).ex_combatants.actual_percent is None


def test_figures_take_the_larger_of_recorded_counts_and_named_participants_and_only_once_approved() -> None:
    counters = Counters(None, 5_000_000, 40, 25, 10, 300, 10, 900, 400)
    assert counters.figures()["projects"] == 0
    counters.approved_on = ON
    figures = counters.figures()
    assert (figures["projects"], figures["amount_usd_cents"]) == (1, 5_000_000)
    assert (figures["direct"], figures["direct_women"], figures["indirect"]) == (300, 25, 900)
