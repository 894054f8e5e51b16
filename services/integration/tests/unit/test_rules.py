"""Quotas, rank rules, cohorts and a candidate's path as pure rules, on aggregates replayed from events."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from ddr_integration.domain.candidates import Candidate, Outcome
from ddr_integration.domain.cohorts import Cohort, CohortPlan
from ddr_integration.domain.events import (
    CandidateAccepted,
    CandidateReceived,
    CohortOpened,
    CohortSeatsTaken,
    QuotaPlacesTaken,
    QuotaSet,
    ScreeningOutcomeNoted,
    ServiceStatusChanged,
)
from ddr_integration.domain.quotas import QuotaBook
from ddr_integration.domain.ranks import DECREE_2019, Rule, RuleSet, allocate, rules_in_force, validate_rules
from ddr_integration.domain.timing import Upstream
from ddr_runtime.kernel import LimitReached, Recording, RuleViolated

DAY = date(2022, 3, 1)
NOON = datetime(2022, 3, 1, 12, tzinfo=UTC)


def quota(quota_id: str, movement: str | None, start: date, end: date, limit: int) -> QuotaSet:
    return QuotaSet(quota_id, movement, start, end, limit, f"decision-{quota_id}", "offer")


def book(*quotas: QuotaSet, used: dict[str, int] | None = None) -> QuotaBook:
    history: list[object] = list(quotas)
    for quota_id, count in (used or {}).items():
        history.append(QuotaPlacesTaken(quota_id, tuple(f"p{i}" for i in range(count)), DAY))
    found = QuotaBook()
    found.replay(history)  # type: ignore[arg-type]
    return found


def candidate(*history: object, at: datetime = NOON) -> Candidate:
    found = Candidate("p1")
    found.replay([(event, at) for event in history])  # type: ignore[misc]
    return found


RECEIVED = CandidateReceived("p1", "MNLA", "combatant", "reconstituted_forces", "combattant", "d-1", DAY)
ACCEPTED = CandidateAccepted("p1", "MNLA", "reconstituted_forces", "2022", "d-1", DAY)
SERVING = ServiceStatusChanged("p1", "BATFAR-Gao", "serving", date(2022, 7, 1))


def test_the_most_specific_quota_is_recorded_and_every_covering_quota_must_have_room() -> None:
    quotas = book(
        quota("2022-offer", None, date(2022, 1, 1), date(2023, 12, 31), 26_000),
        quota("2022", None, date(2022, 1, 1), date(2022, 12, 31), 3),
        quota("2022-MNLA", "MNLA", date(2022, 1, 1), date(2022, 12, 31), 2_000),
        quota("2022-GATIA", "GATIA", date(2022, 1, 1), date(2022, 12, 31), 2_000),
        used={"2022": 3},
    )
    with pytest.raises(LimitReached) as refused:
        quotas.room_for("MNLA", DAY)
    assert refused.value.figures == {"quota_id": "2022", "used": 3, "limit": 3}


def test_places_reserved_by_one_decision_count_before_it_is_saved() -> None:
    quotas = book(quota("2022-MNLA", "MNLA", date(2022, 1, 1), date(2022, 12, 31), 1))
    applicable, chosen = quotas.room_for("MNLA", DAY)
    quotas.reserve(applicable, "p1", NOON)
    with pytest.raises(LimitReached):
        quotas.room_for("MNLA", DAY)
    assert chosen.quota_id == "2022-MNLA"
    assert [change.event for change in quotas.take_pending()] == [QuotaPlacesTaken("2022-MNLA", ("p1",), DAY)]


def test_no_open_quota_refuses() -> None:
    with pytest.raises(LimitReached) as refused:
        book().room_for("MNLA", DAY)
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


def test_a_91_day_cohort_ends_on_its_91st_day() -> None:
    plan = CohortPlan("kati-1", "Kati", 250, date(2019, 1, 7), 91)
    assert plan.ends_on == date(2019, 4, 7)


def test_a_full_cohort_refuses_with_its_figures() -> None:
    kati = Cohort()
    kati.replay(
        [
            CohortOpened("kati-1", "Kati", 250, date(2022, 4, 1), date(2022, 6, 30)),
            CohortSeatsTaken("kati-1", 250, date(2022, 4, 1)),
        ]
    )
    with pytest.raises(LimitReached) as refused:
        kati.reserve_seat(date(2022, 4, 2), NOON)
    assert refused.value.figures == {"cohort_id": "kati-1", "enrolled": 250, "capacity": 250}


def test_a_completed_training_is_recorded_from_the_cohorts_last_day() -> None:
    kati = Cohort()
    kati.replay([CohortOpened("kati-1", "Kati", 250, date(2022, 4, 1), date(2022, 6, 30))])
    with pytest.raises(RuleViolated) as refused:
        kati.ensure_outcome_date("completed", date(2022, 6, 29))
    kati.ensure_outcome_date("completed", date(2022, 6, 30))
    kati.ensure_outcome_date("failed", date(2022, 5, 1))
    assert refused.value.rule == "training_not_over"


def test_child_protection_ends_the_candidacy_whatever_the_order() -> None:
    child = candidate(ScreeningOutcomeNoted("p1", "d-0", "child_protection", "MNLA", "combatant", "", DAY))
    assert child.screening_action("integration") == "ignore"
    received_child = candidate(
        RECEIVED, ScreeningOutcomeNoted("p1", "d-2", "child_protection", "MNLA", "combatant", "", DAY)
    )
    with pytest.raises(RuleViolated) as refused:
        received_child.ensure_can_accept()
    assert refused.value.rule == "child_protection"
    assert candidate(RECEIVED, ACCEPTED).screening_action("child_protection") == "withdraw"
    assert candidate(RECEIVED, ACCEPTED, SERVING).screening_action("reinsertion") == "discharge"


def test_a_reinsertion_enrolment_overlaps_an_active_member_or_one_discharged_later() -> None:
    serving = candidate(RECEIVED, ACCEPTED, SERVING)
    assert serving.overlaps_reinsertion(date(2023, 2, 1))
    discharged = candidate(
        RECEIVED, ACCEPTED, SERVING, ServiceStatusChanged("p1", "BATFAR-Gao", "discharged", date(2023, 2, 1))
    )
    assert not discharged.overlaps_reinsertion(date(2023, 2, 1))
    assert discharged.overlaps_reinsertion(date(2023, 1, 15))


def test_a_policy_acceptance_is_placed_at_the_upstream_fact_or_just_after_the_outcome() -> None:
    received = candidate(RECEIVED, at=NOON)
    quotas = book(quota("2022", None, date(2022, 1, 1), date(2022, 12, 31), 10))

    accepted = received.accept(quotas, None, Upstream(datetime(2022, 3, 1, 8, tzinfo=UTC)), strict=False)

    assert accepted
    assert received.pending[-1].at == NOON


def test_an_officers_acceptance_before_the_screening_outcome_is_refused() -> None:
    received = candidate(RECEIVED, at=NOON)
    quotas = book(quota("2022", None, date(2022, 1, 1), date(2022, 12, 31), 10))
    recording = Recording(now=datetime(2022, 3, 5, tzinfo=UTC))

    with pytest.raises(RuleViolated) as refused:
        received.accept(quotas, date(2022, 2, 28), recording, strict=True)

    assert refused.value.rule == "occurred-before-dependency"
    assert refused.value.figures["depends_on"] == "the screening outcome"


def test_an_outcome_names_what_screening_decided() -> None:
    fresh = Candidate("p9")
    fresh.receive(Outcome("d-9", "integration", "GATIA", "civilian_cadre", "none"), Upstream(NOON))
    assert fresh.pending[0].event == CandidateReceived(
        "p9", "GATIA", "civilian_cadre", "civil_service", "none", "d-9", DAY
    )
