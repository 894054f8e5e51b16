"""The command handlers on a unit of work in memory (no database, no broker): what each saves, and where."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from ddr_reinsertion.domain import commands as c
from ddr_reinsertion.domain.catalogue import PackageTerms
from ddr_reinsertion.domain.events import (
    BeneficiaryEnrolled,
    BeneficiaryExited,
    BudgetLineOpened,
    CommitmentReleased,
    CounsellingProfileRecorded,
    FollowUpVisitRecorded,
    FundsCommitted,
    FundsDisbursed,
    FundsReceived,
    PackageGranted,
    PackageVersionPublished,
    ScreeningOutcomeNoted,
    TrancheDisbursed,
)
from ddr_reinsertion.domain.values import TrancheTerms
from ddr_reinsertion.service_layer import handlers
from ddr_reinsertion.service_layer.desk import Desk
from ddr_runtime.eventstore.store import Causation
from ddr_runtime.kernel import Recording, RuleViolated
from ddr_testkit.fakes import FakeUnitOfWork

AT = datetime(2020, 2, 10, tzinfo=UTC)
RECORDING = Recording(now=datetime(2020, 12, 1, tzinfo=UTC), window=timedelta(days=3650))
CAUSE = Causation("officer-1")
D = Decimal
PACKAGE = PackageVersionPublished(
    "iga", 1, "income_generating_activity", "AGR", ("ex_combatant",), "USD", D("1500.00"), {}, {}, D(0), 0,
    (TrancheTerms(1, 0, D("500.00")), TrancheTerms(2, 0, D("500.00")), TrancheTerms(3, 0, D("500.00"))),
    (), date(2020, 1, 1),
)  # fmt: skip


@pytest.fixture
def unit() -> FakeUnitOfWork:
    fake = FakeUnitOfWork()
    fake.given("package-iga", PACKAGE, at=AT)
    fake.given(
        "budget-line-wb",
        BudgetLineOpened("wb", "World Bank", "IDA", "USD", D(10_000), date(2020, 1, 15)),
        FundsReceived("wb", D(1_000), "DA-1", date(2020, 1, 20)),
        at=AT,
    )
    fake.given(
        "beneficiary-P-1",
        ScreeningOutcomeNoted("P-1", "d-1", "reinsertion", "Gao", "F", "combatant", "CMA", "soldat"),
        at=AT,
    )
    return fake


def enrol(person_id: str = "P-1") -> c.Enrol:
    return c.Enrol(person_id, "iga", None, "wb", ("couture",), "basic", "Gao", 0, date(2020, 3, 1))


async def test_enrolment_records_the_person_and_commits_the_amount_on_the_line(unit: FakeUnitOfWork) -> None:
    (outcome,) = await handlers.enrol(Desk(unit, warm=None), [enrol()], RECORDING, CAUSE)

    assert outcome.status == "recorded"
    person = unit.events("beneficiary-P-1")
    assert [type(e) for e in person] == [BeneficiaryEnrolled, CounsellingProfileRecorded, PackageGranted]
    assert [t.amount for t in person[2].tranches] == [D("500.00")] * 3
    (committed,) = unit.events("budget-line-wb")
    assert (type(committed), committed.amount) == (FundsCommitted, D("1500.00"))


async def test_a_refused_enrolment_records_nothing_on_the_person_or_the_line(unit: FakeUnitOfWork) -> None:
    unit.given(
        "budget-line-small", BudgetLineOpened("small", "Donor", "X", "USD", D(100), date(2020, 1, 15)), at=AT
    )
    item = c.Enrol("P-1", "iga", None, "small", (), "basic", "Gao", 0, date(2020, 3, 1))

    (outcome,) = await handlers.enrol(Desk(unit, warm=None), [item], RECORDING, CAUSE)

    assert (outcome.status, outcome.rule) == ("refused", "insufficient_allotment")
    assert unit.committed == []


async def test_a_payment_debits_the_line_and_marks_the_tranche_paid(unit: FakeUnitOfWork) -> None:
    desk = Desk(unit, warm=None)
    await handlers.enrol(desk, [enrol()], RECORDING, CAUSE)

    paid = await handlers.disburse_one(
        desk, c.Disburse("req-1", "P-1", 1, "Gao", date(2020, 3, 2)), RECORDING, CAUSE, frozenset()
    )
    again = await handlers.disburse_one(
        desk, c.Disburse("req-1", "P-1", 1, "Gao", date(2020, 3, 2)), RECORDING, CAUSE, frozenset()
    )

    assert (paid.amount, paid.replayed, again.replayed) == (D("500.00"), False, True)
    assert [type(e) for e in unit.events("budget-line-wb")] == [FundsCommitted, FundsDisbursed]
    assert [type(e) for e in unit.events("beneficiary-P-1")][-1] == TrancheDisbursed


async def test_a_dropout_visit_ends_participation_and_releases_the_unpaid_rest(unit: FakeUnitOfWork) -> None:
    desk = Desk(unit, warm=None)
    await handlers.enrol(desk, [enrol()], RECORDING, CAUSE)
    await handlers.disburse_one(
        desk, c.Disburse("req-1", "P-1", 1, "Gao", date(2020, 3, 2)), RECORDING, CAUSE, frozenset()
    )

    await handlers.record_visit(
        desk, c.RecordVisit("P-1", "v-1", "dropped_out", date(2020, 5, 1)), RECORDING, CAUSE, frozenset()
    )

    assert [type(e) for e in unit.events("beneficiary-P-1")][-2:] == [
        FollowUpVisitRecorded,
        BeneficiaryExited,
    ]
    released = unit.events("budget-line-wb")[-1]
    assert (type(released), released.amount) == (CommitmentReleased, D("1000.00"))


async def test_a_package_whose_tranches_miss_the_base_amount_is_not_published(unit: FakeUnitOfWork) -> None:
    terms = PackageTerms(
        "short", 0, "transport", "Moto", ("ex_combatant",), "USD", D("1500.00"), {}, {}, D(0), 0,
        (TrancheTerms(1, 0, D("1000.00")), TrancheTerms(2, 0, D("499.99"))), (), date(2020, 1, 1),
    )  # fmt: skip

    with pytest.raises(RuleViolated) as refused:
        await handlers.publish_package(Desk(unit, warm=None), terms, CAUSE)

    assert (refused.value.rule, refused.value.figures["total"]) == ("tranches", "1499.99")
    assert unit.committed == []
