"""A budget line of one funding source: what was allotted, received, committed, released and disbursed.

Two balances can never go negative: the allotment not yet committed (commitments are made when a package is
granted) and the cash received but not yet disbursed (each tranche is paid from it).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from ddr_reinsertion.domain.errors import RuleViolated


@dataclass(frozen=True)
class BudgetLine:
    line_id: str
    funding_source: str
    currency: str
    allotted: int
    received: int = 0
    committed: int = 0
    released: int = 0
    disbursed: int = 0
    version: int = 0

    @property
    def uncommitted(self) -> int:
        return self.allotted - (self.committed - self.released)

    @property
    def cash(self) -> int:
        return self.received - self.disbursed

    def receive(self, amount: int) -> BudgetLine:
        if amount <= 0:
            raise RuleViolated("amount", "an amount received must be positive")
        if self.received + amount > self.allotted:
            raise RuleViolated("receipts_exceed_allotment", "more cash than the line's allotment")
        return replace(self, received=self.received + amount)

    def commit(self, amount: int, currency: str) -> BudgetLine:
        if currency != self.currency:
            raise RuleViolated(
                "currency_mismatch", f"the package is in {currency}, the line in {self.currency}"
            )
        if amount > self.uncommitted:
            raise RuleViolated(
                "insufficient_allotment", f"the line {self.line_id} has {self.uncommitted} left to commit"
            )
        return replace(self, committed=self.committed + amount)

    def release(self, amount: int) -> BudgetLine:
        return replace(self, released=self.released + amount)

    def disburse(self, amount: int) -> BudgetLine:
        if amount > self.cash:
            raise RuleViolated(
                "insufficient_funds", f"the line {self.line_id} holds {self.cash} in cash, {amount} asked"
            )
        return replace(self, disbursed=self.disbursed + amount)
