"""The package catalogue: what a package version entitles a person to, and the timetable of its benefits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from ddr_reinsertion.domain.errors import RuleViolated

PACKAGE_KINDS = (
    "vocational_training",
    "income_generating_activity",
    "agriculture",
    "livestock",
    "small_trade",
    "transport",
    "education",
)
CASELOADS = ("ex_combatant", "faga")
CONDITIONS = ("training_attended", "follow_up_visit")


@dataclass(frozen=True)
class Tranche:
    number: int
    share_percent: int
    due_after_days: int
    condition: str | None = None


@dataclass(frozen=True)
class PackageTerms:
    """One version of a package. Amounts are whole units of ``currency``."""

    package_id: str
    package_version: int
    kind: str
    title: str
    caseloads: tuple[str, ...]
    currency: str
    base_amount: int
    category_supplements: dict[str, int]
    rank_supplements: dict[str, int]
    per_dependant_amount: int
    max_dependants: int
    tranches: tuple[Tranche, ...]
    follow_up_after_days: tuple[int, ...]
    effective_on: date

    def validate(self) -> None:
        """Refuse terms that cannot be paid as written."""
        if self.kind not in PACKAGE_KINDS:
            raise RuleViolated("package_kind", f"kind must be one of {', '.join(PACKAGE_KINDS)}")
        if not self.caseloads or any(c not in CASELOADS for c in self.caseloads):
            raise RuleViolated("caseloads", f"caseloads must be a non-empty subset of {', '.join(CASELOADS)}")
        amounts = [self.base_amount, self.per_dependant_amount, self.max_dependants]
        amounts += [*self.category_supplements.values(), *self.rank_supplements.values()]
        if self.base_amount <= 0 or any(a < 0 for a in amounts):
            raise RuleViolated("amounts", "the base amount must be positive and no supplement negative")
        numbers = [t.number for t in self.tranches]
        if numbers != list(range(1, len(numbers) + 1)):
            raise RuleViolated("tranches", "tranches must be numbered 1, 2, 3... in order")
        if sum(t.share_percent for t in self.tranches) != 100 or any(
            t.share_percent <= 0 for t in self.tranches
        ):
            raise RuleViolated("tranches", "tranche shares must be positive and add up to 100 percent")
        days = [t.due_after_days for t in self.tranches]
        if any(d < 0 for d in days) or days != sorted(days):
            raise RuleViolated("tranches", "tranches must fall due in order, on or after enrolment")
        if any(t.condition is not None and t.condition not in CONDITIONS for t in self.tranches):
            raise RuleViolated("tranches", f"a tranche condition must be one of {', '.join(CONDITIONS)}")
        if any(d <= 0 for d in self.follow_up_after_days) or list(self.follow_up_after_days) != sorted(
            self.follow_up_after_days
        ):
            raise RuleViolated("follow_up_after_days", "follow-up visits fall due after enrolment, in order")
        if any(t.condition == "follow_up_visit" for t in self.tranches) and not self.follow_up_after_days:
            raise RuleViolated(
                "follow_up_after_days", "a tranche waits for a follow-up visit none is planned"
            )

    def entitlement(self, category: str, rank: str, dependants: int) -> int:
        """The amount a person of ``category`` and ``rank`` with ``dependants`` dependants is granted."""
        counted = min(max(dependants, 0), self.max_dependants)
        return (
            self.base_amount
            + self.category_supplements.get(category, 0)
            + self.rank_supplements.get(rank, 0)
            + self.per_dependant_amount * counted
        )

    def timetable(self, amount: int, start: date) -> list[PlannedTranche]:
        """Tranche amounts (the last takes the rounding rest) and due dates from ``start``."""
        planned: list[PlannedTranche] = []
        paid_so_far = 0
        for tranche in self.tranches:
            is_last = tranche.number == len(self.tranches)
            share = amount - paid_so_far if is_last else amount * tranche.share_percent // 100
            paid_so_far += share
            planned.append(
                PlannedTranche(
                    tranche.number, share, start + timedelta(days=tranche.due_after_days), tranche.condition
                )
            )
        return planned

    def visits_due(self, start: date) -> list[date]:
        return [start + timedelta(days=d) for d in self.follow_up_after_days]

    def admits(self, caseload: str) -> bool:
        return caseload in self.caseloads


@dataclass(frozen=True)
class PlannedTranche:
    number: int
    amount: int
    due_on: date
    condition: str | None
