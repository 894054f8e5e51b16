"""Training cohorts: opening, enrolment up to capacity, and each trainee's outcome."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from ddr_integration.domain.cohorts import Cohort, CohortPlan, cohort_stream
from ddr_integration.service_layer.bulk import decide_each, settle
from ddr_integration.service_layer.context import (
    Integration,
    ensure_candidate,
    load_candidates,
    load_cohort,
    saving,
)
from ddr_runtime.eventstore.ports import AggregateSession, CommandContext, ItemOutcome


async def open_cohort(
    integ: Integration, plan: CohortPlan, opened_on: date | None, command: CommandContext
) -> None:
    at = command.recording.moment(opened_on)

    async def work(session: AggregateSession) -> None:
        cohort = await session.load(cohort_stream(plan.cohort_id), Cohort)
        cohort.open(plan, at)
        await session.save(cohort, cohort_stream(plan.cohort_id), plan.cohort_id, command.causation, 0)

    await integ.runner.run(work)


async def enrol(
    integ: Integration,
    cohort_id: str,
    person_ids: Sequence[str],
    on: date | None,
    command: CommandContext,
    *,
    atomic: bool = False,
) -> list[ItemOutcome[None]]:
    """Enrol trainees, each refused once the cohort is full (or for their own record's rules)."""

    async def work(session: AggregateSession) -> list[ItemOutcome[None]]:
        cohort = await load_cohort(session, cohort_id)
        people = await load_candidates(session, person_ids)

        def enrol_one(person_id: str) -> None:
            ensure_candidate(people[person_id], command.principal).enrol(cohort, on, command.recording)

        outcomes = decide_each(person_ids, enrol_one, key=lambda pid: pid)
        settle(outcomes, atomic=atomic)
        await session.save_many(
            saving([(cohort, cohort_stream(cohort_id), cohort_id)], people), command.causation
        )
        return outcomes

    return await integ.runner.run(work)


async def record_outcomes(
    integ: Integration,
    cohort_id: str,
    outcomes: Sequence[tuple[str, str]],
    on: date | None,
    command: CommandContext,
    *,
    atomic: bool = False,
) -> list[ItemOutcome[None]]:
    """Record (person id, outcome) pairs: completed (from the cohort's last day), failed or absent."""

    async def work(session: AggregateSession) -> list[ItemOutcome[None]]:
        cohort = await load_cohort(session, cohort_id)
        people = await load_candidates(session, [pid for pid, _ in outcomes])

        def record(item: tuple[str, str]) -> None:
            person_id, outcome = item
            ensure_candidate(people[person_id], command.principal).record_training(
                cohort, outcome, on, command.recording
            )

        answers = decide_each(outcomes, record, key=lambda item: item[0])
        settle(answers, atomic=atomic)
        await session.save_many(saving(people), command.causation)
        return answers

    return await integ.runner.run(work)
