"""The kernel domains import: aggregates, refusals, business time, and the translation of domain events."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest

from ddr_contracts.events import PERSONAL, DomainEvent
from ddr_runtime.eventstore.translation import EventMap, UntranslatedEvent
from ddr_runtime.kernel import (
    Aggregate,
    BackRecording,
    BusinessTimeRefused,
    Recording,
    RuleViolated,
    start_of_day,
)

NOW = datetime(2026, 12, 1, 15, 30, tzinfo=UTC)
REGISTERED = datetime(2018, 11, 6, 9, 15, tzinfo=UTC)
OFFICER = BackRecording("records_officer", "migrated from the 2018 registers")


def test_a_fact_in_the_future_is_refused_naming_both_times() -> None:
    with pytest.raises(BusinessTimeRefused) as refused:
        Recording(now=NOW).moment(NOW + timedelta(days=1))

    assert refused.value.rule == "occurred-in-future"
    assert refused.value.figures == {
        "occurred_at": "2026-12-02T15:30:00Z",
        "recorded_at": "2026-12-01T15:30:00Z",
    }


def test_a_few_minutes_of_device_clock_skew_are_tolerated() -> None:
    assert Recording(now=NOW).moment(NOW + timedelta(minutes=2)) == NOW + timedelta(minutes=2)


def test_a_fact_before_the_fact_it_depends_on_is_refused_naming_it() -> None:
    recording = Recording(now=NOW, authority=OFFICER)

    with pytest.raises(BusinessTimeRefused) as refused:
        recording.moment(date(2018, 11, 5), after=REGISTERED, after_what="the registration")

    assert refused.value.rule == "occurred-before-dependency"
    assert refused.value.figures["not_before"] == "2018-11-06T09:15:00Z"
    assert refused.value.figures["depends_on"] == "the registration"


def test_a_date_only_fact_on_its_dependencys_day_happens_just_after_it() -> None:
    moment = Recording(now=NOW, authority=OFFICER).moment(date(2018, 11, 6), after=REGISTERED)

    assert moment == REGISTERED


def test_a_date_only_fact_without_a_dependency_that_day_starts_the_day() -> None:
    moment = Recording(now=NOW, authority=OFFICER).moment(date(2018, 11, 7), after=REGISTERED)

    assert moment == start_of_day(date(2018, 11, 7))


def test_back_recording_beyond_the_window_needs_the_authority() -> None:
    with pytest.raises(BusinessTimeRefused) as refused:
        Recording(now=NOW, window=timedelta(days=14)).moment(date(2026, 11, 1))

    assert refused.value.rule == "back-recording-not-authorised"
    assert refused.value.figures["window_days"] == 14


def test_back_recording_within_the_window_needs_no_authority() -> None:
    assert Recording(now=NOW).moment(date(2026, 11, 25)) == start_of_day(date(2026, 11, 25))


def test_back_recording_with_the_authority_is_accepted() -> None:
    assert Recording(now=NOW, authority=OFFICER).moment(date(2018, 11, 6)) == start_of_day(date(2018, 11, 6))


def test_no_business_time_means_the_moment_of_recording() -> None:
    assert Recording(now=NOW).moment(None) == NOW


def test_a_business_time_refusal_is_a_rule_violation() -> None:
    assert issubclass(BusinessTimeRefused, RuleViolated)


# -- aggregates -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Opened:
    case_id: str


@dataclass(frozen=True)
class Noted:
    case_id: str
    text: str


class Case(Aggregate[Opened | Noted]):
    def __init__(self) -> None:
        super().__init__()
        self.notes: list[str] = []
        self.open = False
        self.opened_at: datetime | None = None

    def note(self, text: str, at: datetime) -> None:
        if not self.open:
            raise RuleViolated("case-not-open", "no case to note on")
        self.record(Noted("c1", text), at=at)

    def apply(self, event: Opened | Noted) -> None:
        if isinstance(event, Opened):
            self.open = True
            self.opened_at = self.at
        else:
            self.notes.append(event.text)


def test_replay_counts_versions_and_gives_each_event_its_business_time() -> None:
    case = Case()

    case.replay([(Opened("c1"), REGISTERED), (Noted("c1", "first"), NOW)])

    assert case.version == 2
    assert case.opened_at == REGISTERED
    assert case.notes == ["first"]


def test_recorded_events_are_pending_with_their_business_time_until_taken() -> None:
    case = Case()
    case.replay([Opened("c1")])

    case.note("second", at=NOW)
    pending = case.take_pending()

    assert [(change.event, change.at) for change in pending] == [(Noted("c1", "second"), NOW)]
    assert case.take_pending() == []
    assert case.version == 1


def test_a_command_that_breaks_a_rule_records_nothing() -> None:
    case = Case()

    with pytest.raises(RuleViolated):
        case.note("orphan", at=NOW)

    assert case.pending == []


# -- translation ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Place:
    region: str
    cercle: str


@dataclass(frozen=True)
class PersonListed:
    person_id: str
    full_name: str | None
    places: tuple[Place, ...]
    born: date


class PlaceModel(DomainEvent):
    name = "ddr.kernel-test.Place"
    region: str
    cercle: str


class PersonListedContract(DomainEvent):
    name = "ddr.kernel-test.PersonListed"
    person_id: str
    full_name: str | None = PERSONAL
    places: tuple[PlaceModel, ...]
    born: date


def test_a_domain_event_translates_to_its_contract_and_back_with_nested_values() -> None:
    events = EventMap([(PersonListed, PersonListedContract)])
    listed = PersonListed("p1", "Aminata Traoré", (Place("Gao", "Ansongo"),), date(1990, 1, 2))

    contract = events.to_contract(listed)

    assert isinstance(contract, PersonListedContract)
    assert contract.places[0].cercle == "Ansongo"
    assert events.from_contract(contract) == listed


def test_a_domain_event_without_a_contract_is_refused() -> None:
    with pytest.raises(UntranslatedEvent):
        EventMap([]).to_contract(Opened("c1"))


# -- the fake unit of work of handler unit tests ---------------------------------------------------------


async def test_the_fake_unit_of_work_keeps_versions_and_rolls_back_a_refused_command() -> None:
    from ddr_runtime.eventstore.errors import ConcurrencyConflict
    from ddr_runtime.eventstore.store import Causation
    from ddr_runtime.eventstore.unit import Session
    from ddr_testkit.fakes import FakeUnitOfWork

    unit = FakeUnitOfWork()
    unit.given("case-c1", Opened("c1"), at=REGISTERED)

    async def note(session: Session) -> int:
        case = await session.load("case-c1", Case)
        case.note("seen", at=NOW)
        return await session.save(case, "case-c1", "c1", Causation("officer"))

    async def stale(session: Session) -> int:
        case = await session.load("case-c1", Case)
        case.note("late", at=NOW)
        return await session.save(case, "case-c1", "c1", Causation("officer"), expected_version=1)

    assert await unit.run(note) == 2
    unit.retries = 0
    with pytest.raises(ConcurrencyConflict):
        await unit.run(stale)
    assert unit.events("case-c1") == [Noted("c1", "seen")]
