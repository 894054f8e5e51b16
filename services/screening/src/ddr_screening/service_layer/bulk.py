"""Bulk decisions (an examiners' upload, a day's age assessments): many people, one transaction, one append.

Every case the batch names is loaded in one read; each item is decided on its case in the batch's order (a
person may appear twice: an examination, then a re-examination); the valid ones are saved in one statement
for all their streams. By default each refused item is answered with its rule and the others are recorded,
so a field team's batch goes through whatever one person's case became meanwhile; ``atomic`` records every
item or none (:class:`BulkRefused`, naming each refusal). Retrying a batch with its ``Idempotency-Key``
replays the first answer and records nothing again.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Protocol, TypeVar

from ddr_runtime.eventstore.ports import AggregateSession, BulkRefused, ItemOutcome, refusal
from ddr_runtime.kernel import Change, DomainError, UnknownRecord
from ddr_screening.domain.case import ScreeningCase
from ddr_screening.domain.events import CaseEvent
from ddr_screening.domain.rules import RuleSet
from ddr_screening.domain.values import AgeEffect
from ddr_screening.service_layer.access import Act
from ddr_screening.service_layer.cases import may_act_on, save_cases
from ddr_screening.service_layer.handlers import AgeAssessment, Examination, HandlingTest
from ddr_screening.service_layer.service import Context, Screening

T = TypeVar("T")


class Item(Protocol):
    @property
    def person_id(self) -> str: ...


I = TypeVar("I", bound=Item)  # noqa: E741 - an item of a bulk command


async def decide_each(
    scr: Screening,
    items: Sequence[I],
    decide: Callable[[ScreeningCase, I], T],
    ctx: Context,
    *,
    atomic: bool = False,
    act: Act = "screen",
) -> list[ItemOutcome[T]]:
    """Each item decided on its case, settled, and the changed cases saved at once; every item's outcome.

    Each item is first checked against the caller's remit (``act`` on that case, as it stands in this
    transaction): an item the caller may not act on is refused exactly like an unknown case and changes
    nothing."""

    async def work(session: AggregateSession) -> list[ItemOutcome[T]]:
        cases = await session.load_many([item.person_id for item in items], ScreeningCase)
        rule_sets = await scr.reference.rule_sets(session)
        outcomes = [
            await _decide_one(
                session,
                cases,
                index,
                item,
                decide,
                rule_sets,
                lambda case: may_act_on(case, ctx.principal, act),
            )
            for index, item in enumerate(items)
        ]
        if atomic and any(outcome.status == "refused" for outcome in outcomes):
            raise BulkRefused(outcomes)
        await save_cases(session, cases.values(), ctx.causation)
        return outcomes

    return await scr.unit.run(work)


async def _decide_one(
    session: AggregateSession,
    cases: dict[str, ScreeningCase],
    index: int,
    item: I,
    decide: Callable[[ScreeningCase, I], T],
    rule_sets: Sequence[RuleSet],
    allowed: Callable[[ScreeningCase], bool],
) -> ItemOutcome[T]:
    case = cases[item.person_id]
    before = list(case.pending)
    try:
        if not case.opened or not allowed(case):
            raise UnknownRecord("case", item.person_id)
        result = decide(case, item)
        case.settle(rule_sets)
    except DomainError as error:
        if len(case.pending) != len(before):  # refused after a change: back to the case before this item
            cases[item.person_id] = await _restored(session, item.person_id, before)
        return dataclasses.replace(refusal(index, error), key=item.person_id)
    return ItemOutcome(index, "recorded", result, key=item.person_id)


async def _restored(
    session: AggregateSession, person_id: str, pending: Sequence[Change[CaseEvent]]
) -> ScreeningCase:
    case = await session.load(person_id, ScreeningCase)
    for change in pending:
        case.record(change.event, at=change.at, subject=change.subject)
    return case


async def record_examinations(
    scr: Screening, items: Sequence[Examination], ctx: Context, *, atomic: bool = False
) -> list[ItemOutcome[str]]:
    """Medical results; an outcome changed by a re-examination is marked by appeal."""
    return await decide_each(
        scr,
        items,
        lambda case, exam: case.examine(exam.result, exam.details, exam.on, ctx.recording),
        ctx,
        atomic=atomic,
    )


async def assess_ages(
    scr: Screening, items: Sequence[AgeAssessment], ctx: Context, *, atomic: bool = False
) -> list[ItemOutcome[AgeEffect]]:
    return await decide_each(
        scr,
        items,
        lambda case, item: case.assess_age(item.evidence, item.on, ctx.recording, scr.policy),
        ctx,
        atomic=atomic,
        act="assess_age",
    )


async def record_handling_tests(
    scr: Screening, items: Sequence[HandlingTest], ctx: Context, *, atomic: bool = False
) -> list[ItemOutcome[str]]:
    return await decide_each(
        scr,
        items,
        lambda case, test: case.record_handling_test(test.passed, test.on, ctx.recording),
        ctx,
        atomic=atomic,
    )
