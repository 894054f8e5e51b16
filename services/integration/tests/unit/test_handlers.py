"""The main command handlers and policies on a unit of work in memory: load, decide, save with the expected
versions, nothing recorded when refused. No database, no broker."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

import pytest

from ddr_integration.domain.candidates import Outcome, ServiceEntry
from ddr_integration.domain.events import (
    CandidateAccepted,
    CandidateReceived,
    CoalitionJoinNoted,
    CohortOpened,
    CohortSeatsTaken,
    MemberAssigned,
    MemberStruckOff,
    QuotaPlacesTaken,
    QuotaSet,
    RankAllocated,
    ServiceStatusChanged,
    TraineeEnrolled,
    TrainingOutcomeRecorded,
    UnitEstablished,
)
from ddr_integration.service_layer import candidacy, cohorts, policies, service_record, units
from ddr_integration.service_layer.context import Integration
from ddr_runtime.auth.roles import Principal, Role
from ddr_runtime.eventstore.errors import ConcurrencyConflict
from ddr_runtime.eventstore.ports import BulkRefused, Causation, CommandContext
from ddr_runtime.kernel import BackRecording, Recording, RuleViolated
from ddr_testkit.fakes import FakeUnitOfWork

OUTCOME_AT = datetime(2022, 3, 1, 9, tzinfo=UTC)
DAY = date(2022, 3, 1)
AUTHORITY = BackRecording("records_officer", "migrated from the NIC's registers")
COMMAND = CommandContext(
    Principal("nic-1", "NIC officer", frozenset({Role.NIC_OFFICER, Role.RECORDS_OFFICER})),
    Recording(authority=AUTHORITY),
    Causation("nic-1", back_recording=AUTHORITY),
)


class NoViews:
    """The read model is not needed by the handlers tested here."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"the handler asked the read model for {name}")


@pytest.fixture
def unit() -> FakeUnitOfWork:
    return FakeUnitOfWork()


@pytest.fixture
def integ(unit: FakeUnitOfWork) -> Integration:
    return Integration(runner=unit, views=NoViews())


def quota_of(unit: FakeUnitOfWork, limit: int) -> None:
    unit.given("quotas", QuotaSet("2022", None, date(2022, 1, 1), date(2022, 12, 31), limit, "d", "r"))


def accepted(unit: FakeUnitOfWork, person_id: str, movement: str = "MNLA") -> None:
    unit.given(
        f"person-{person_id}",
        CandidateReceived(person_id, movement, "combatant", "reconstituted_forces", "combattant", "d", DAY),
        CandidateAccepted(person_id, movement, "reconstituted_forces", "2022", "d", DAY),
        at=OUTCOME_AT,
    )


def trained(unit: FakeUnitOfWork, person_id: str, movement: str = "MNLA") -> None:
    accepted(unit, person_id, movement)
    unit.given(
        f"person-{person_id}",
        RankAllocated(person_id, "v", "combattant", 1, "none", "soldat", "none", None, date(2022, 4, 1)),
        TraineeEnrolled("kati-1", person_id, date(2022, 4, 1)),
        TrainingOutcomeRecorded("kati-1", person_id, "completed", date(2022, 6, 30)),
        at=datetime(2022, 6, 30, tzinfo=UTC),
    )


def outcome_of(person_id: str) -> policies.ScreeningDecided:
    return policies.ScreeningDecided(
        person_id, Outcome(f"d-{person_id}", "integration", "MNLA", "combatant", "combattant"), OUTCOME_AT
    )


async def learn(unit: FakeUnitOfWork, facts: Sequence[policies.PersonFact]) -> None:
    async with unit.transaction() as session:
        await policies.learn(session, facts, Causation("integration-policy"))


async def test_a_first_integration_outcome_makes_a_candidate_accepted_under_the_quota(
    unit: FakeUnitOfWork,
) -> None:
    quota_of(unit, 10)

    await learn(unit, [outcome_of("p1")])

    assert [type(e).__name__ for e in unit.events("person-p1")] == ["CandidateReceived", "CandidateAccepted"]
    assert unit.events("quotas") == [QuotaPlacesTaken("2022", ("p1",), DAY)]
    assert {c.at for c in unit.committed} == {OUTCOME_AT}


async def test_outcomes_beyond_the_quota_are_deferred_with_the_quotas_figures(unit: FakeUnitOfWork) -> None:
    quota_of(unit, 1)

    await learn(unit, [outcome_of("p1"), outcome_of("p2")])

    deferred = unit.events("person-p2")[-1]
    assert (deferred.reason_code, deferred.used, deferred.limit) == ("quota_exhausted", 1, 1)
    assert unit.events("quotas") == [QuotaPlacesTaken("2022", ("p1",), DAY)]


async def test_an_acceptance_on_a_stale_version_of_the_record_is_a_conflict(
    unit: FakeUnitOfWork, integ: Integration
) -> None:
    quota_of(unit, 10)
    unit.given(
        "person-p1",
        CandidateReceived("p1", "MNLA", "combatant", "reconstituted_forces", "combattant", "d", DAY),
        at=OUTCOME_AT,
    )
    unit.retries = 0

    with pytest.raises(ConcurrencyConflict):
        await candidacy.accept_candidate(integ, "p1", date(2022, 3, 2), COMMAND, expected=0)

    assert unit.committed == []


async def test_an_enrolment_beyond_capacity_refuses_that_trainee_and_records_the_others(
    unit: FakeUnitOfWork, integ: Integration
) -> None:
    unit.given("cohort-kati-1", CohortOpened("kati-1", "Kati", 2, date(2022, 4, 1), date(2022, 6, 30)))
    for pid in ("p1", "p2", "p3"):
        accepted(unit, pid)
        unit.given(
            f"person-{pid}",
            RankAllocated(pid, "v", "combattant", 1, "none", "soldat", "none", None, DAY),
            at=OUTCOME_AT,
        )

    outcomes = await cohorts.enrol(integ, "kati-1", ["p1", "p2", "p3"], date(2022, 4, 1), COMMAND)

    assert [(o.status, o.rule) for o in outcomes] == [
        ("recorded", None),
        ("recorded", None),
        ("refused", "cohort_full"),
    ]
    assert unit.events("cohort-kati-1") == [CohortSeatsTaken("kati-1", 2, date(2022, 4, 1))]
    assert unit.events("person-p3") == []


async def test_an_atomic_enrolment_with_a_refused_trainee_records_nothing(
    unit: FakeUnitOfWork, integ: Integration
) -> None:
    unit.given("cohort-kati-1", CohortOpened("kati-1", "Kati", 250, date(2022, 4, 1), date(2022, 6, 30)))
    accepted(unit, "p1")  # no rank yet

    with pytest.raises(BulkRefused) as refused:
        await cohorts.enrol(integ, "kati-1", ["p1"], date(2022, 4, 1), COMMAND, atomic=True)

    assert refused.value.outcomes[0].rule == "rank_not_allocated"
    assert unit.committed == []


async def test_an_assignment_breaking_the_rule_of_thirds_records_nothing(
    unit: FakeUnitOfWork, integ: Integration
) -> None:
    unit.given("unit-gao", UnitEstablished("gao", "BATFAR Gao", "battalion", "Gao", 300, True, 0.02))
    unit.given("coalitions", CoalitionJoinNoted("MNLA", "CMA", date(2015, 6, 20)))
    for pid in ("p1", "p2", "p3"):
        trained(unit, pid)

    with pytest.raises(RuleViolated) as refused:
        await units.assign(
            integ, "gao", [units.Assignment(p) for p in ("p1", "p2", "p3")], date(2022, 7, 1), COMMAND
        )

    assert refused.value.rule == "rule_of_thirds_strength"
    assert unit.committed == []


async def test_a_desertion_strikes_the_member_off_the_units_strength_in_the_same_decision(
    unit: FakeUnitOfWork, integ: Integration
) -> None:
    unit.given(
        "unit-gao",
        UnitEstablished("gao", "BATFAR Gao", "battalion", "Gao", 300, False, 0.02),
        MemberAssigned("gao", "p1", "MNLA", "MNLA", False, date(2022, 7, 1)),
    )
    trained(unit, "p1")
    unit.given(
        "person-p1",
        ServiceStatusChanged("p1", "gao", "serving", date(2022, 7, 1)),
        at=datetime(2022, 7, 1, tzinfo=UTC),
    )

    outcomes = await service_record.record_entries(
        integ, [ServiceEntry("p1", "deserted", date(2023, 10, 15))], COMMAND
    )

    assert [o.status for o in outcomes] == ["recorded"]
    assert unit.events("person-p1") == [ServiceStatusChanged("p1", "gao", "deserted", date(2023, 10, 15))]
    assert unit.events("unit-gao") == [MemberStruckOff("gao", "p1", "deserted", date(2023, 10, 15))]
