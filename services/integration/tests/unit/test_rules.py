"""Quotas, rank rules, cohorts and a candidate's path as pure rules."""

from __future__ import annotations

from datetime import date

import pytest

from ddr_integration.domain.candidates import (
    Person,
    ensure_can_accept,
    on_screening_outcome,
    overlaps_reinsertion,
)
from ddr_integration.domain.cohorts import Cohort, add_months, ensure_room
from ddr_integration.domain.errors import RuleViolated
from ddr_integration.domain.quotas import Quota, check_room, quotas_for
from ddr_integration.domain.ranks import DECREE_2019, Rule, RuleSet, allocate, rules_in_force, validate_rules

DAY = date(2022, 3, 1)


def test_the_most_specific_quota_is_recorded_and_every_covering_quota_must_have_room() -> None:
    offer = Quota("2022-offer", None, date(2022, 1, 1), date(2023, 12, 31), 26_000, 10)
    year = Quota("2022", None, date(2022, 1, 1), date(2022, 12, 31), 13_000, 13_000)
    own = Quota("2022-MNLA", "MNLA", date(2022, 1, 1), date(2022, 12, 31), 2_000, 5)
    other = Quota("2022-GATIA", "GATIA", date(2022, 1, 1), date(2022, 12, 31), 2_000, 0)
    applicable = quotas_for([offer, year, own, other], "MNLA", DAY)
    assert [q.quota_id for q in applicable] == ["2022-MNLA", "2022", "2022-offer"]
    with pytest.raises(RuleViolated) as refused:
        check_room(applicable, "MNLA", DAY)
    assert refused.value.figures == {"quota_id": "2022", "used": 13_000, "limit": 13_000}
    assert refused.value.capacity


def test_no_open_quota_refuses() -> None:
    with pytest.raises(RuleViolated) as refused:
        check_room([], "MNLA", DAY)
    assert refused.value.rule == "no_quota_open"


def test_ranks_follow_the_first_matching_rule_of_the_version_in_force() -> None:
    assert allocate(DECREE_2019, "colonel", 16, "officer_school").rank == "lieutenant_colonel"
    captain = allocate(DECREE_2019, "capitaine", 8, "basic_military")
    assert (captain.rank, captain.command_function, captain.holds_command) == (
        "capitaine",
        "company_commander",
        True,
    )
    assert allocate(DECREE_2019, "combattant", 0, "none").rank == "soldat_2e_classe"
    later = RuleSet("2024", "amended", date(2024, 1, 1), (Rule((), 0, (), "caporal", "none"),))
    assert rules_in_force([DECREE_2019, later], date(2023, 6, 1)).version == DECREE_2019.version
    assert rules_in_force([DECREE_2019, later], date(2024, 6, 1)).version == "2024"


def test_a_rule_set_must_decide_for_everyone() -> None:
    with pytest.raises(RuleViolated):
        validate_rules([Rule(("colonel",), 10, (), "commandant", "battalion_deputy")])


def test_a_full_cohort_refuses_with_its_figures_and_training_lasts_three_months() -> None:
    kati = Cohort("kati-1", "Kati", 250, date(2022, 4, 1), add_months(date(2022, 4, 1), 3), 250)
    assert kati.ends_on == date(2022, 7, 1)
    with pytest.raises(RuleViolated) as refused:
        ensure_room(kati)
    assert refused.value.figures == {"cohort_id": "kati-1", "enrolled": 250, "capacity": 250}


def test_child_protection_ends_the_candidacy_whatever_the_order() -> None:
    child = Person("p1", child_protection=True)
    assert on_screening_outcome(child, "integration") == "ignore"
    with pytest.raises(RuleViolated):
        ensure_can_accept(Person("p1", child_protection=True, status="received"))
    assert on_screening_outcome(Person("p1", status="accepted"), "child_protection") == "withdraw"
    assert (
        on_screening_outcome(
            Person("p1", status="accepted", placed=True, service_status="serving"), "reinsertion"
        )
        == "discharge"
    )


def test_a_reinsertion_enrolment_overlaps_an_active_member_or_one_discharged_later() -> None:
    serving = Person("p1", status="accepted", placed=True, service_status="serving")
    assert overlaps_reinsertion(serving, date(2023, 2, 1))
    discharged = Person(
        "p1", status="accepted", placed=True, service_status="discharged", service_since=date(2023, 2, 1)
    )
    assert not overlaps_reinsertion(discharged, date(2023, 2, 1))
    assert overlaps_reinsertion(discharged, date(2023, 1, 15))
