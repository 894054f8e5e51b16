"""Command handlers: load the cases, let the domain decide, settle the outcome, store, project; one transaction.

Every decision goes through :func:`on_cases`, for one person (an HTTP command) or thousands (a bulk upload):
a refusal of any one of them writes nothing and names the item at fault.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TypeVar

from ddr_contracts.screening import MedicalResult, VettingStatus
from ddr_runtime.eventstore.store import Causation
from ddr_screening.adapters.projections import project_cases
from ddr_screening.domain.case import ScreeningCase
from ddr_screening.domain.errors import DomainError, RuleViolated, UnknownRecord
from ddr_screening.service_layer.alerts import note_children
from ddr_screening.service_layer.unit import Screening

T = TypeVar("T")
Action = Callable[[ScreeningCase], T]


class BulkRefused(DomainError):
    """Some items of a bulk command were refused; nothing was written. ``items`` maps index to the reason."""

    def __init__(self, items: Mapping[int, DomainError]) -> None:
        super().__init__("bulk-item-refused", f"{len(items)} item(s) refused; nothing was recorded")
        self.items = dict(items)


async def on_cases(
    scr: Screening,
    actions: Sequence[tuple[str, Action[T]]],
    causation: Causation,
    *,
    by_appeal: bool = False,
    now: datetime | None = None,
) -> list[T]:
    """Run each ``(person_id, action)`` on its case, settle, store; every result, in order."""
    now = now or datetime.now(UTC)
    async with scr.transaction() as conn:
        loaded = await scr.cases.load_many(conn, [pid for pid, _ in actions])
        rules = await scr.rules_in_force(conn, now.date())
        results: list[T] = []
        refused: dict[int, DomainError] = {}
        for index, (pid, action) in enumerate(actions):
            case = loaded[pid]
            try:
                if not case.opened:
                    raise UnknownRecord("case", pid)
                results.append(action(case))
                case.settle(rules, by_appeal=by_appeal)
            except DomainError as error:
                if len(actions) == 1:
                    raise
                refused[index] = error
        if refused:
            raise BulkRefused(refused)
        changed = await scr.cases.save_many(conn, list(loaded.values()), lambda _pid: causation)
        await project_cases(conn, [case for case, _ in changed])
    note_children(changed)
    return results


async def on_case(
    scr: Screening, person_id: str, action: Action[T], causation: Causation, *, by_appeal: bool = False
) -> T:
    return (await on_cases(scr, [(person_id, action)], causation, by_appeal=by_appeal))[0]


@dataclass(frozen=True)
class Examination:
    person_id: str
    result: MedicalResult
    details: str | None = None


async def record_examinations(
    scr: Screening, items: Sequence[Examination], causation: Causation
) -> list[str]:
    """Medical results, one or a bulk upload; an outcome changed by a re-examination is marked by appeal."""

    def examine(item: Examination) -> Action[str]:
        return lambda case: case.examine(item.result, item.details)

    return await on_cases(scr, [(i.person_id, examine(i)) for i in items], causation)


async def request_re_examination(
    scr: Screening, person_id: str, reason: str | None, causation: Causation
) -> str:
    return await on_case(
        scr, person_id, lambda c: c.request_re_examination(causation.actor, reason, scr.policy), causation
    )


@dataclass(frozen=True)
class AgeAssessment:
    person_id: str
    method: str
    youngest_age: int | None = None
    document_issued_on: date | None = None
    documented_age: int | None = None
    note: str | None = None


async def assess_ages(scr: Screening, items: Sequence[AgeAssessment], causation: Causation) -> list[str]:
    now = datetime.now(UTC)

    def assess(item: AgeAssessment) -> Action[str]:
        return lambda case: case.assess_age(
            item.method,
            item.youngest_age,
            item.document_issued_on,
            item.documented_age,
            item.note,
            now,
            scr.policy,
        )

    return await on_cases(scr, [(i.person_id, assess(i)) for i in items], causation, now=now)


async def record_handover(
    scr: Screening,
    person_id: str,
    receiving_actor: str,
    at: datetime | None,
    note: str | None,
    causation: Causation,
) -> None:
    when = at or datetime.now(UTC)
    await on_case(scr, person_id, lambda c: c.record_handover(receiving_actor, when, note), causation)


async def decide_vetting(
    scr: Screening,
    person_id: str,
    status: VettingStatus,
    reason_code: str,
    reason: str | None,
    causation: Causation,
) -> str:
    return await on_case(scr, person_id, lambda c: c.decide_vetting(status, reason_code, reason), causation)


async def decide_membership(
    scr: Screening, person_id: str, verified: bool, reason_code: str, reason: str | None, causation: Causation
) -> str:
    return await on_case(
        scr, person_id, lambda c: c.decide_membership(verified, reason_code, reason), causation
    )


async def record_handling_tests(
    scr: Screening, items: Sequence[tuple[str, bool]], causation: Causation
) -> list[str]:
    def test(passed: bool) -> Action[str]:
        return lambda case: case.record_handling_test(passed)

    return await on_cases(scr, [(pid, test(passed)) for pid, passed in items], causation)


async def choose_reinsertion(scr: Screening, person_id: str, causation: Causation) -> str:
    async with scr.engine.connect() as conn:
        rules = await scr.rules_in_force(conn, datetime.now(UTC).date())
    if rules is None:
        raise RuleViolated("no-rule-set", "no eligibility rule set is in force")
    return await on_case(scr, person_id, lambda c: c.choose_reinsertion(rules), causation)


async def lodge_appeal(
    scr: Screening, person_id: str, decision_id: str, reason: str | None, causation: Causation
) -> str:
    return await on_case(
        scr, person_id, lambda c: c.lodge_appeal(decision_id, causation.actor, reason), causation
    )


async def decide_appeal(
    scr: Screening,
    person_id: str,
    appeal_id: str,
    overturned: bool,
    replacement: str | None,
    reason: str | None,
    causation: Causation,
) -> None:
    now = datetime.now(UTC)
    await on_case(
        scr,
        person_id,
        lambda c: c.decide_appeal(
            appeal_id, overturned, replacement, causation.actor, reason, now, scr.policy
        ),
        causation,
        by_appeal=True,
    )
