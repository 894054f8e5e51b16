"""Training cohorts: opening, enrolment up to capacity, and each trainee's outcome."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date

from sqlalchemy import insert, update
from sqlalchemy.ext.asyncio import AsyncConnection

from ddr_contracts.integration import CohortOpened, TraineeEnrolled, TrainingOutcomeRecorded
from ddr_integration.adapters import readmodel as rm
from ddr_integration.adapters.tables import cohorts, people, trainees
from ddr_integration.domain.candidates import ensure_can_enrol, ensure_can_record_training
from ddr_integration.domain.cohorts import Cohort, ensure_outcome_date, ensure_room, validate_cohort
from ddr_integration.domain.errors import AlreadyExists, RuleViolated, UnknownRecord
from ddr_integration.service_layer.unit import Integration, cohort_stream
from ddr_runtime.eventstore.errors import ConcurrencyConflict
from ddr_runtime.eventstore.store import Causation

OUTCOMES = ("completed", "failed", "absent")


@dataclass(frozen=True)
class CohortData:
    cohort_id: str
    camp: str
    capacity: int
    starts_on: date
    ends_on: date


async def open_cohort(integ: Integration, data: CohortData, cause: Causation) -> None:
    validate_cohort(data.capacity, data.starts_on, data.ends_on)

    async def work(conn: AsyncConnection) -> None:
        if await rm.cohort_row(conn, data.cohort_id) is not None:
            raise AlreadyExists("cohort", data.cohort_id)
        event = CohortOpened(**data.__dict__)
        try:
            version = await integ.append(
                conn, cohort_stream(data.cohort_id), 0, [(event, data.cohort_id, data.starts_on)], cause
            )
        except ConcurrencyConflict:
            raise AlreadyExists("cohort", data.cohort_id) from None
        await conn.execute(insert(cohorts).values(version=version, enrolled=0, **data.__dict__))

    await integ.run(work, retries=0)


async def _cohort(conn: AsyncConnection, cohort_id: str) -> tuple[Cohort, int]:
    found = await rm.cohort_row(conn, cohort_id)
    if found is None:
        raise UnknownRecord("cohort", cohort_id)
    return found


async def enrol(
    integ: Integration, cohort_id: str, person_ids: Sequence[str], on: date, cause: Causation
) -> int:
    """Enrol trainees, all or nothing; refused once the cohort is at capacity. Returns the enrolled count."""
    if len(set(person_ids)) != len(person_ids) or not person_ids:
        raise RuleViolated("enrolments", "name each trainee once")

    async def work(conn: AsyncConnection) -> int:
        cohort, version = await _cohort(conn, cohort_id)
        if on > cohort.ends_on:
            raise RuleViolated(
                "enrolment_date", "the cohort's training is over", {"ends_on": cohort.ends_on.isoformat()}
            )
        known = await rm.load_people(conn, person_ids)
        for pid in person_ids:
            if pid not in known:
                raise UnknownRecord("person", pid)
            ensure_can_enrol(known[pid][0])
            ensure_room(cohort)
            cohort = replace(cohort, enrolled=cohort.enrolled + 1)
        events = [
            (TraineeEnrolled(cohort_id=cohort_id, person_id=pid, effective_on=on), pid, on)
            for pid in person_ids
        ]
        version = await integ.append(conn, cohort_stream(cohort_id), version, events, cause)
        await conn.execute(
            update(cohorts)
            .where(cohorts.c.cohort_id == cohort_id)
            .values(enrolled=cohort.enrolled, version=version)
        )
        await conn.execute(
            insert(trainees),
            [
                {
                    "cohort_id": cohort_id,
                    "person_id": pid,
                    "enrolled_on": on,
                    "outcome": None,
                    "outcome_on": None,
                }
                for pid in person_ids
            ],
        )
        await conn.execute(
            update(people)
            .where(people.c.person_id.in_(list(person_ids)))
            .values(cohort_id=cohort_id, training_outcome=None)
        )
        return cohort.enrolled

    return await integ.run(work)


async def record_outcomes(
    integ: Integration, cohort_id: str, outcomes: Sequence[tuple[str, str]], on: date, cause: Causation
) -> None:
    """Record (person id, outcome) pairs: completed, failed or absent, all or nothing."""
    if not outcomes:
        raise RuleViolated("outcomes", "nothing to record")

    async def work(conn: AsyncConnection) -> None:
        cohort, version = await _cohort(conn, cohort_id)
        known = await rm.load_people(conn, [p for p, _ in outcomes])
        for pid, outcome in outcomes:
            if outcome not in OUTCOMES:
                raise RuleViolated("outcome", f"a training outcome is one of {', '.join(OUTCOMES)}")
            if pid not in known:
                raise UnknownRecord("person", pid)
            ensure_can_record_training(known[pid][0], cohort_id)
            ensure_outcome_date(cohort, outcome, on)
        events = [
            (
                TrainingOutcomeRecorded(cohort_id=cohort_id, person_id=pid, outcome=outcome, effective_on=on),
                pid,
                on,
            )
            for pid, outcome in outcomes
        ]
        version = await integ.append(conn, cohort_stream(cohort_id), version, events, cause)
        await conn.execute(update(cohorts).where(cohorts.c.cohort_id == cohort_id).values(version=version))
        for outcome in sorted({o for _, o in outcomes}):  # one statement per outcome, not one per trainee
            ids = [pid for pid, o in outcomes if o == outcome]
            await conn.execute(
                update(trainees)
                .where(trainees.c.cohort_id == cohort_id, trainees.c.person_id.in_(ids))
                .values(outcome=outcome, outcome_on=on)
            )
            await conn.execute(
                update(people).where(people.c.person_id.in_(ids)).values(training_outcome=outcome)
            )

    await integ.run(work)
