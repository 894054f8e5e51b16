"""A budget line not kept warm is loaded from its running balance in the read model (the row the projection
writes in the transaction that stores the line's events) and the events after it, not replayed from its first
event; it decides exactly as the replayed line, and never lets a balance be spent twice."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from decimal import Decimal

import pytest

from ddr_reinsertion.adapters.snapshots import LineSnapshots
from ddr_reinsertion.domain import commands as c
from ddr_reinsertion.domain.ledger import BudgetLine
from ddr_reinsertion.service_layer import handlers
from ddr_reinsertion.service_layer.desk import Desk, line_stream
from ddr_runtime.eventstore.store import Causation
from ddr_runtime.eventstore.unit import UnitOfWork
from ddr_runtime.kernel import Recording, RuleViolated

from .conftest import Service, enrolment, setup_catalogue_and_line, volunteers

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]

CAUSE = Causation(actor="finance-1")
PAST = Recording(window=timedelta(days=36_500))  # the scenario is dated 2020
STATE = (
    "line_id",
    "funding_source",
    "currency",
    "allotted",
    "received",
    "committed",
    "released",
    "disbursed",
)


def state(line: BudgetLine) -> tuple[object, ...]:
    return (*(getattr(line, name) for name in STATE), line.opened_at, line.version)


async def both_ways(unit: UnitOfWork) -> tuple[BudgetLine, BudgetLine]:
    """The line from its running balance, and replayed from its first event, in one transaction."""
    async with unit.transaction() as session:
        loaded = (await LineSnapshots(line_stream).load_lines(session, ["wb-2020"]))["wb-2020"]
        replayed = await session.load(line_stream("wb-2020"), BudgetLine)
    return loaded, replayed


async def enrolled(service: Service, people: list[str]) -> None:
    await volunteers(service, "r", people)
    answer = await service.officer.ok(
        "/enrolments", {"enrolments": [{**enrolment(dependants=0), "person_id": p} for p in people]}
    )
    assert (answer["recorded"], answer["refused"]) == (len(people), 0)


async def test_a_line_loaded_from_its_running_balance_equals_the_line_replayed(service: Service) -> None:
    await setup_catalogue_and_line(service, allotted=10_000_000, received=1_000_000)
    await enrolled(service, ["P-a", "P-b"])
    unit: UnitOfWork = service.app.state.desk.unit

    loaded, replayed = await both_ways(unit)

    assert state(loaded) == state(replayed)
    assert (loaded.version, loaded.committed, loaded.opened_at) == (4, Decimal(800_000), replayed.opened_at)
    assert loaded.opened_at is not None


async def test_a_running_balance_behind_the_stream_is_brought_up_to_date_with_the_events_after_it(
    service: Service,
) -> None:
    await setup_catalogue_and_line(service, allotted=10_000_000, received=1_000_000)
    live: UnitOfWork = service.app.state.desk.unit
    # Funds received through a unit of work that projects nothing: the row stays at the version before.
    unprojected = UnitOfWork(live.store, translation=live.translation)
    receipt = c.ReceiveFunds("wb-2020", Decimal(500_000), "DA-2", date(2020, 2, 1))
    await handlers.receive_funds(Desk(unprojected), receipt, PAST, CAUSE)

    loaded, replayed = await both_ways(live)

    assert state(loaded) == state(replayed)
    assert (loaded.version, loaded.received) == (3, Decimal(1_500_000))


async def test_two_desks_loading_the_line_from_its_balance_never_spend_the_same_cash(
    service: Service,
) -> None:
    # Cash for exactly one first tranche (200,000) of the two beneficiaries' packages.
    await setup_catalogue_and_line(service, allotted=10_000_000, received=200_000)
    await enrolled(service, ["P-a", "P-b"])
    unit: UnitOfWork = service.app.state.desk.unit
    offices = [Desk(unit, lines=LineSnapshots(line_stream)) for _ in range(2)]  # nothing kept warm

    answers = await asyncio.gather(
        *(
            handlers.disburse_one(
                desk, c.Disburse(f"req-{p}", p, 1, "Gao", date(2020, 3, 2)), PAST, CAUSE, frozenset()
            )
            for desk, p in zip(offices, ["P-a", "P-b"], strict=True)
        ),
        return_exceptions=True,
    )

    refused = [a for a in answers if isinstance(a, RuleViolated)]
    assert [a.rule for a in refused] == ["insufficient_funds"]
    assert len([a for a in answers if not isinstance(a, BaseException)]) == 1
    line = await service.finance.read("/budget-lines/wb-2020")
    assert (line["disbursed"], line["cash"]) == ("200000", "0")
