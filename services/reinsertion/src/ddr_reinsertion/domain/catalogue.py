"""The package catalogue: what a package version entitles a person to, and the timetable of its benefits.

Money is counted in money: tranches are amounts of the package's currency that add up to the base amount
exactly (the person's supplements are paid with the first tranche), or, as a convenience, shares in percent
that add up to 100, each rounded down to the precision of the entitlement and the last taking the rest: the
timetable always adds up to the entitlement to the last unit.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import ROUND_DOWN, Decimal

from ddr_reinsertion.domain.events import PackageVersionPublished
from ddr_reinsertion.domain.values import PlannedTranche, TrancheTerms
from ddr_runtime.kernel import Aggregate, RuleViolated, UnknownRecord

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
HUNDRED = Decimal(100)


def _refuse(field: str, detail: str, **figures: object) -> RuleViolated:
    return RuleViolated(field, detail, figures={"field": field, **figures})


@dataclass(frozen=True)
class PackageTerms:
    """One version of a package (``package_version`` 0 until published)."""

    package_id: str
    package_version: int
    kind: str
    title: str
    caseloads: tuple[str, ...]
    currency: str
    base_amount: Decimal
    category_supplements: dict[str, Decimal]
    rank_supplements: dict[str, Decimal]
    per_dependant_amount: Decimal
    max_dependants: int
    tranches: tuple[TrancheTerms, ...]
    follow_up_after_days: tuple[int, ...]
    effective_on: date

    @property
    def by_amount(self) -> bool:
        return all(t.amount is not None for t in self.tranches)

    def validate(self) -> None:
        """Refuse terms that cannot be paid as written."""
        if self.kind not in PACKAGE_KINDS:
            raise _refuse("kind", f"kind must be one of {', '.join(PACKAGE_KINDS)}")
        if not self.caseloads or any(c not in CASELOADS for c in self.caseloads):
            raise _refuse("caseloads", f"caseloads must be a non-empty subset of {', '.join(CASELOADS)}")
        amounts = [self.base_amount, self.per_dependant_amount]
        amounts += [*self.category_supplements.values(), *self.rank_supplements.values()]
        if self.base_amount <= 0 or any(a < 0 for a in amounts) or self.max_dependants < 0:
            raise _refuse("amounts", "the base amount must be positive and no supplement negative")
        self._validate_tranches()
        days = list(self.follow_up_after_days)
        if any(d <= 0 for d in days) or days != sorted(days):
            raise _refuse("follow_up_after_days", "follow-up visits fall due after enrolment, in order")
        if any(t.condition == "follow_up_visit" for t in self.tranches) and not days:
            raise _refuse("follow_up_after_days", "a tranche waits for a follow-up visit none is planned")

    def _validate_tranches(self) -> None:
        tranches = self.tranches
        if [t.number for t in tranches] != list(range(1, len(tranches) + 1)):
            raise _refuse("tranches", "tranches must be numbered 1, 2, 3... in order")
        if any((t.amount is None) == (t.share_percent is None) for t in tranches):
            raise _refuse("tranches", "each tranche gives either an amount or a share in percent")
        if not (self.by_amount or all(t.share_percent is not None for t in tranches)):
            raise _refuse("tranches", "give every tranche as an amount, or every tranche as a share")
        if self.by_amount:
            total = sum((t.amount or Decimal(0) for t in tranches), Decimal(0))
            if any((t.amount or 0) <= 0 for t in tranches) or total != self.base_amount:
                raise _refuse(
                    "tranches",
                    f"tranche amounts must be positive and add up to the base amount exactly "
                    f"({total} given, {self.base_amount} {self.currency} due)",
                    total=str(total),
                    base_amount=str(self.base_amount),
                )
        else:
            shares = sum((t.share_percent or Decimal(0) for t in tranches), Decimal(0))
            if shares != HUNDRED:
                raise _refuse(
                    "tranches",
                    f"tranche shares must add up to 100 percent ({shares} given)",
                    total=str(shares),
                )
        days = [t.due_after_days for t in tranches]
        if any(d < 0 for d in days) or days != sorted(days):
            raise _refuse("tranches", "tranches must fall due in order, on or after enrolment")
        if any(t.condition is not None and t.condition not in CONDITIONS for t in tranches):
            raise _refuse("tranches", f"a tranche condition must be one of {', '.join(CONDITIONS)}")

    def entitlement(self, category: str, rank: str, dependants: int) -> Decimal:
        """The amount a person of ``category`` and ``rank`` with ``dependants`` dependants is granted."""
        return self.base_amount + self.supplements(category, rank, dependants)

    def supplements(self, category: str, rank: str, dependants: int) -> Decimal:
        counted = min(max(dependants, 0), self.max_dependants)
        return (
            self.category_supplements.get(category, Decimal(0))
            + self.rank_supplements.get(rank, Decimal(0))
            + self.per_dependant_amount * counted
        )

    def timetable(self, amount: Decimal, start: date) -> list[PlannedTranche]:
        """Tranche amounts adding up to ``amount`` exactly, and their due dates from ``start``."""
        if self.by_amount:
            extra = amount - self.base_amount
            shares = [(t.amount or Decimal(0)) + (extra if t.number == 1 else 0) for t in self.tranches]
        else:
            unit = Decimal(1).scaleb(min(amount.as_tuple().exponent, 0))  # type: ignore[arg-type]
            shares = [
                (amount * (t.share_percent or Decimal(0)) / HUNDRED).quantize(unit, rounding=ROUND_DOWN)
                for t in self.tranches[:-1]
            ]
            shares.append(amount - sum(shares, Decimal(0)))
        return [
            PlannedTranche(t.number, share, start + timedelta(days=t.due_after_days), t.condition)
            for t, share in zip(self.tranches, shares, strict=True)
        ]

    def visits_due(self, start: date) -> list[date]:
        return [start + timedelta(days=d) for d in self.follow_up_after_days]

    def admits(self, caseload: str) -> bool:
        return caseload in self.caseloads


def _terms(event: PackageVersionPublished) -> PackageTerms:
    return PackageTerms(
        package_id=event.package_id,
        package_version=event.package_version,
        kind=event.kind,
        title=event.title,
        caseloads=tuple(event.caseloads),
        currency=event.currency,
        base_amount=event.base_amount,
        category_supplements=dict(event.category_supplements),
        rank_supplements=dict(event.rank_supplements),
        per_dependant_amount=event.per_dependant_amount,
        max_dependants=event.max_dependants,
        tranches=tuple(event.tranches),
        follow_up_after_days=tuple(event.follow_up_after_days),
        effective_on=event.effective_on,
    )


class Package(Aggregate[PackageVersionPublished]):
    """A package of the catalogue and its published versions; enrolment takes the version in force."""

    def __init__(self) -> None:
        super().__init__()
        self.versions: list[PackageTerms] = []

    def publish(self, terms: PackageTerms) -> int:
        """Publish ``terms`` as the next version; its number."""
        terms.validate()
        version = len(self.versions) + 1
        published = replace(terms, package_version=version)
        self.record(
            PackageVersionPublished(
                package_id=published.package_id,
                package_version=version,
                kind=published.kind,
                title=published.title,
                caseloads=published.caseloads,
                currency=published.currency,
                base_amount=published.base_amount,
                category_supplements=published.category_supplements,
                rank_supplements=published.rank_supplements,
                per_dependant_amount=published.per_dependant_amount,
                max_dependants=published.max_dependants,
                tranches=published.tranches,
                follow_up_after_days=published.follow_up_after_days,
                effective_on=published.effective_on,
            )
        )
        return version

    def terms(self, package_id: str, version: int | None, on: date) -> PackageTerms:
        """Version ``version``, or the latest in force on ``on``."""
        chosen = [t for t in self.versions if version is None or t.package_version == version]
        if not chosen:
            raise UnknownRecord("package", package_id if version is None else f"{package_id} v{version}")
        in_force = [t for t in chosen if t.effective_on <= on]
        if not in_force:
            raise RuleViolated(
                "package_not_in_force",
                f"package {package_id} is not in force on {on.isoformat()}",
                figures={"package_id": package_id, "on": on.isoformat()},
            )
        return in_force[-1]

    def apply(self, event: PackageVersionPublished) -> None:
        self.versions.append(_terms(event))
