"""A budget line of one funding source: what was allotted, received, committed, released and disbursed.

Its state comes from its own events only. Two balances never go negative: the allotment not yet committed
(a commitment is made when a package is granted) and the cash received but not yet disbursed (each tranche
is paid from it). Offices deciding at once on one line append after the same version: one of them is decided
again on the line as the other left it, so a balance is never spent twice.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from ddr_reinsertion.domain.events import (
    BudgetLineOpened,
    CommitmentReleased,
    FundsCommitted,
    FundsDisbursed,
    FundsReceived,
    LineEvent,
)
from ddr_runtime.kernel import Aggregate, AlreadyDone, RuleViolated

ZERO = Decimal(0)


class BudgetLine(Aggregate[LineEvent]):
    def __init__(self) -> None:
        super().__init__()
        self.line_id = ""
        self.funding_source = ""
        self.currency = ""
        self.allotted = ZERO
        self.received = ZERO
        self.committed = ZERO
        self.released = ZERO
        self.disbursed = ZERO
        self.opened_at: datetime | None = None

    @property
    def uncommitted(self) -> Decimal:
        return self.allotted - (self.committed - self.released)

    @property
    def cash(self) -> Decimal:
        return self.received - self.disbursed

    @classmethod
    def open(cls, line: BudgetLineOpened, at: datetime) -> BudgetLine:
        if line.allotted <= 0:
            raise RuleViolated(
                "allotted", "a budget line's allotment must be positive", figures={"field": "allotted"}
            )
        opened = cls()
        opened.record(line, at=at)
        return opened

    def check_new(self) -> None:
        if self.version:
            raise AlreadyDone("budget_line_exists", f"budget line {self.line_id} already exists")

    def receive(self, amount: Decimal, reference: str, received: datetime) -> None:
        if amount <= 0:
            raise RuleViolated("amount", "an amount received must be positive", figures={"field": "amount"})
        if self.received + amount > self.allotted:
            raise RuleViolated(
                "receipts_exceed_allotment",
                "more cash than the line's allotment",
                figures={
                    "allotted": str(self.allotted),
                    "received": str(self.received),
                    "amount": str(amount),
                },
            )
        self.record(FundsReceived(self.line_id, amount, reference, received.date()), at=received)

    def commit(self, commitment_id: str, amount: Decimal, currency: str, at: datetime | None) -> None:
        if currency != self.currency:
            raise RuleViolated(
                "currency_mismatch",
                f"the package is in {currency}, the line in {self.currency}",
                figures={"package_currency": currency, "line_currency": self.currency},
            )
        if amount > self.uncommitted:
            raise RuleViolated(
                "insufficient_allotment",
                f"the line {self.line_id} has {self.uncommitted} {self.currency} left to commit, {amount} asked",
                figures={"uncommitted": str(self.uncommitted), "asked": str(amount), "line_id": self.line_id},
            )
        self.record(FundsCommitted(self.line_id, commitment_id, amount), at=at)

    def release(self, commitment_id: str, amount: Decimal, at: datetime | None) -> None:
        if amount > 0:
            self.record(CommitmentReleased(self.line_id, commitment_id, amount), at=at)

    def disburse(
        self, commitment_id: str, disbursement_id: str, amount: Decimal, at: datetime | None
    ) -> None:
        if amount > self.cash:
            raise RuleViolated(
                "insufficient_funds",
                f"the line {self.line_id} holds {self.cash} {self.currency} in cash, {amount} asked",
                figures={"cash": str(self.cash), "asked": str(amount), "line_id": self.line_id},
            )
        self.record(FundsDisbursed(self.line_id, commitment_id, disbursement_id, amount), at=at)

    def apply(self, event: LineEvent) -> None:
        if isinstance(event, BudgetLineOpened):
            self.line_id, self.funding_source = event.line_id, event.funding_source
            self.currency, self.allotted, self.opened_at = event.currency, event.allotted, self.at
        elif isinstance(event, FundsReceived):
            self.received += event.amount
        elif isinstance(event, FundsCommitted):
            self.committed += event.amount
        elif isinstance(event, CommitmentReleased):
            self.released += event.amount
        else:
            self.disbursed += event.amount
