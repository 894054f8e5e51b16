"""Command handlers: load the case, let the domain decide, settle the outcome, save with the expected version.

Every decision states when it happened (``on``: a day or an instant, ``None`` for now); the domain checks it
against the fact it depends on and the kernel's rules of business time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from ddr_runtime.eventstore.ports import AggregateSession
from ddr_screening.domain.case import AgeEvidence, Day, Ruling, ScreeningCase
from ddr_screening.domain.values import AgeEffect, MedicalResult, VettingStatus
from ddr_screening.service_layer.access import Act
from ddr_screening.service_layer.cases import case_to_act_on, case_to_appeal_on, save_case
from ddr_screening.service_layer.service import Context, Screening

T = TypeVar("T")


@dataclass(frozen=True)
class Decided(Generic[T]):
    """What a command decided (a decision id, an effect...) and the case's version after it."""

    result: T
    version: int


@dataclass(frozen=True)
class Examination:
    person_id: str
    result: MedicalResult
    details: str | None = None
    on: Day = None


@dataclass(frozen=True)
class AgeAssessment:
    person_id: str
    evidence: AgeEvidence
    on: Day = None


@dataclass(frozen=True)
class HandlingTest:
    person_id: str
    passed: bool
    on: Day = None


async def on_case(
    scr: Screening,
    person_id: str,
    decide: Callable[[ScreeningCase], T],
    ctx: Context,
    expected_version: int | None = None,
    act: Act = "screen",
) -> Decided[T]:
    """Load the case, check the caller may ``act`` on it, ``decide`` on it, settle the outcome that follows,
    save: one command, one transaction."""

    async def work(session: AggregateSession) -> Decided[T]:
        case = await case_to_act_on(session, person_id, ctx.principal, act)
        result = decide(case)
        case.settle(await scr.reference.rule_sets(session))
        return Decided(result, await save_case(session, case, ctx.causation, expected_version))

    return await scr.unit.run(work)


async def examine(
    scr: Screening, exam: Examination, ctx: Context, expected: int | None = None
) -> Decided[str]:
    """A medical result; an outcome it changes after a requested re-examination is marked by appeal."""
    return await on_case(
        scr,
        exam.person_id,
        lambda case: case.examine(exam.result, exam.details, exam.on, ctx.recording),
        ctx,
        expected,
    )


async def request_re_examination(
    scr: Screening, person_id: str, reason: str | None, on: Day, ctx: Context, expected: int | None = None
) -> Decided[str]:
    return await on_case(
        scr,
        person_id,
        lambda case: case.request_re_examination(ctx.causation.actor, reason, on, ctx.recording, scr.policy),
        ctx,
        expected,
    )


async def assess_age(
    scr: Screening, item: AgeAssessment, ctx: Context, expected: int | None = None
) -> Decided[AgeEffect]:
    return await on_case(
        scr,
        item.person_id,
        lambda case: case.assess_age(item.evidence, item.on, ctx.recording, scr.policy),
        ctx,
        expected,
        act="assess_age",
    )


async def hand_over(
    scr: Screening,
    person_id: str,
    receiving_actor: str,
    note: str | None,
    on: Day,
    ctx: Context,
    expected: int | None = None,
) -> Decided[None]:
    return await on_case(
        scr,
        person_id,
        lambda case: case.record_handover(receiving_actor, note, on, ctx.recording),
        ctx,
        expected,
        act="protect",
    )


async def decide_vetting(
    scr: Screening,
    person_id: str,
    status: VettingStatus,
    reason_code: str,
    reason: str | None,
    on: Day,
    ctx: Context,
    expected: int | None = None,
) -> Decided[str]:
    return await on_case(
        scr,
        person_id,
        lambda case: case.decide_vetting(status, reason_code, reason, on, ctx.recording),
        ctx,
        expected,
    )


async def decide_membership(
    scr: Screening,
    person_id: str,
    verified: bool,
    reason_code: str,
    reason: str | None,
    on: Day,
    ctx: Context,
    expected: int | None = None,
) -> Decided[str]:
    return await on_case(
        scr,
        person_id,
        lambda case: case.decide_membership(verified, reason_code, reason, on, ctx.recording),
        ctx,
        expected,
    )


async def record_handling_test(
    scr: Screening, test: HandlingTest, ctx: Context, expected: int | None = None
) -> Decided[str]:
    return await on_case(
        scr,
        test.person_id,
        lambda case: case.record_handling_test(test.passed, test.on, ctx.recording),
        ctx,
        expected,
    )


async def choose_reinsertion(
    scr: Screening, person_id: str, on: Day, ctx: Context, expected: int | None = None
) -> Decided[str]:
    """The person's choice, under the rule set in force the day it was made."""

    async def work(session: AggregateSession) -> Decided[str]:
        case = await case_to_act_on(session, person_id, ctx.principal, "screen")
        rule_sets = await scr.reference.rule_sets(session)
        decision = case.choose_reinsertion(rule_sets, on, ctx.recording)
        case.settle(rule_sets)
        return Decided(decision, await save_case(session, case, ctx.causation, expected))

    return await scr.unit.run(work)


async def lodge_appeal(
    scr: Screening,
    person_id: str,
    decision_id: str,
    reason: str | None,
    on: Day,
    ctx: Context,
    expected: int | None = None,
) -> Decided[str]:
    """An appeal of a decision: of an age decision by child protection, of any other by a screening officer
    (checked on the case, in the command's transaction, before anything is decided)."""

    async def work(session: AggregateSession) -> Decided[str]:
        case = await case_to_appeal_on(
            session, person_id, ctx.principal, lambda c: c.decision_kind(decision_id)
        )
        appeal_id = case.lodge_appeal(decision_id, ctx.causation.actor, reason, on, ctx.recording)
        case.settle(await scr.reference.rule_sets(session))
        return Decided(appeal_id, await save_case(session, case, ctx.causation, expected))

    return await scr.unit.run(work)


async def decide_appeal(
    scr: Screening,
    person_id: str,
    appeal_id: str,
    ruling: Ruling,
    on: Day,
    ctx: Context,
    expected: int | None = None,
) -> Decided[None]:
    """The appeal's decision, by the role the appeal belongs to; an outcome it changes supersedes the earlier
    one, marked by appeal."""

    async def work(session: AggregateSession) -> Decided[None]:
        case = await case_to_appeal_on(session, person_id, ctx.principal, lambda c: c.appeal_kind(appeal_id))
        case.decide_appeal(appeal_id, ruling, on, ctx.recording, scr.policy)
        case.settle(await scr.reference.rule_sets(session))
        return Decided(None, await save_case(session, case, ctx.causation, expected))

    return await scr.unit.run(work)
