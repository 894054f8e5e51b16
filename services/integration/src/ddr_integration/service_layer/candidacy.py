"""Candidacy: a screening outcome makes a candidate; acceptance under quota; withdrawal and discharge when a
later outcome supersedes it; holds and reinsertion enrolment keep a person from being accepted."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from sqlalchemy.ext.asyncio import AsyncConnection

from ddr_contracts.integration import (
    CandidateAcceptanceDeferred,
    CandidateAccepted,
    CandidateReceived,
    CandidateWithdrawn,
    DualEnrolmentDetected,
)
from ddr_contracts.screening import ScreeningOutcomeDecided
from ddr_integration.adapters import readmodel as rm
from ddr_integration.domain.candidates import (
    Person,
    ensure_can_accept,
    on_screening_outcome,
    overlaps_reinsertion,
)
from ddr_integration.domain.errors import RuleViolated, UnknownRecord
from ddr_integration.domain.paths import path_for
from ddr_integration.domain.quotas import Quota, check_room, quotas_for
from ddr_integration.service_layer.service_record import change_service_status
from ddr_integration.service_layer.unit import Integration, person_stream
from ddr_runtime.eventstore.store import Causation

DEFERRABLE = frozenset({"quota_exhausted", "no_quota_open", "benefits_held", "reinsertion_beneficiary"})
CLEARED_CANDIDACY = {
    "status": "received",
    "deferral_reason": None,
    "accepted_on": None,
    "ended_on": None,
    "quota_id": None,
    "rank": None,
    "command_function": None,
    "rank_rule_version": None,
    "cohort_id": None,
    "training_outcome": None,
    "unit_id": None,
    "command_post": False,
    "placed": False,
    "placement": None,
    "service_status": None,
    "service_since": None,
}


async def load_person(conn: AsyncConnection, person_id: str) -> tuple[Person, int]:
    found = (await rm.load_people(conn, [person_id])).get(person_id)
    if found is None:
        raise UnknownRecord("person", person_id)
    return found


async def known_person(conn: AsyncConnection, person_id: str) -> tuple[Person, int]:
    await rm.ensure_person(conn, person_id)
    return await load_person(conn, person_id)


async def on_outcome(
    integ: Integration, conn: AsyncConnection, outcome: ScreeningOutcomeDecided, on: date, cause: Causation
) -> None:
    person, version = await known_person(conn, outcome.person_id)
    action = on_screening_outcome(person, outcome.track)
    facts = {
        "movement": outcome.movement,
        "category": outcome.category,
        "movement_rank": outcome.rank,
        "screening_track": outcome.track,
        "screening_decision_id": outcome.decision_id,
        "child_protection": person.child_protection or outcome.track == "child_protection",
    }
    await rm.update_person(conn, person.person_id, **facts)
    person, version = await load_person(conn, person.person_id)
    if action == "receive":
        path = path_for(outcome.category)
        version = await integ.append(
            conn,
            person_stream(person.person_id),
            version,
            [
                (
                    CandidateReceived(
                        person_id=person.person_id,
                        movement=outcome.movement,
                        category=outcome.category,
                        path=path,
                        movement_rank=outcome.rank,
                        screening_decision_id=outcome.decision_id,
                        effective_on=on,
                    ),
                    person.person_id,
                    on,
                )
            ],
            cause,
        )
        received = {**CLEARED_CANDIDACY, "path": path, "received_on": on, "version": version}
        await rm.update_person(conn, person.person_id, **received)
        person, version = await load_person(conn, person.person_id)
        await accept(integ, conn, person, version, on, cause, strict=False)
    elif action == "withdraw":
        reason = "child_protection" if outcome.track == "child_protection" else "screening_superseded"
        await withdraw(integ, conn, person, version, on, reason, cause)
    elif action == "discharge":
        await change_service_status(
            integ,
            conn,
            person,
            version,
            "discharged",
            on,
            cause,
            discharge_kind="other",
            referred_to_reinsertion=outcome.track == "reinsertion",
            enforce_transition=False,
        )


async def accept(
    integ: Integration,
    conn: AsyncConnection,
    person: Person,
    version: int,
    on: date,
    cause: Causation,
    *,
    strict: bool,
) -> bool:
    """Accept the candidate under the quotas covering them on ``on``. ``strict`` (a person's request): a
    refusal raises with the figures. Otherwise (a policy): the refusal is recorded as a deferral."""
    pid = person.person_id
    try:
        ensure_can_accept(person)
        applicable = quotas_for(await rm.all_quotas(conn), person.movement, on)
        chosen = check_room(applicable, person.movement, on)
        await _take_places(conn, applicable, pid)
    except RuleViolated as refusal:
        if strict or refusal.rule not in DEFERRABLE:
            if strict:
                raise
            return False
        if person.status != "deferred" or person.deferral_reason != refusal.rule:
            version = await integ.append(
                conn,
                person_stream(pid),
                version,
                [
                    (
                        CandidateAcceptanceDeferred(
                            person_id=pid,
                            reason_code=refusal.rule,
                            quota_id=refusal.figures.get("quota_id"),
                            used=refusal.figures.get("used"),
                            limit=refusal.figures.get("limit"),
                            effective_on=on,
                        ),
                        pid,
                        on,
                    )
                ],
                cause,
            )
            await rm.update_person(
                conn, pid, status="deferred", deferral_reason=refusal.rule, version=version
            )
        return False
    version = await integ.append(
        conn,
        person_stream(pid),
        version,
        [
            (
                CandidateAccepted(
                    person_id=pid,
                    movement=person.movement,
                    path=person.path or "reconstituted_forces",
                    quota_id=chosen.quota_id,
                    screening_decision_id=person.screening_decision_id or "",
                    effective_on=on,
                ),
                pid,
                on,
            )
        ],
        cause,
    )
    await rm.update_person(
        conn,
        pid,
        status="accepted",
        accepted_on=on,
        quota_id=chosen.quota_id,
        deferral_reason=None,
        version=version,
    )
    return True


async def _take_places(conn: AsyncConnection, applicable: list[Quota], person_id: str) -> None:
    full = await rm.take_places(conn, applicable, person_id)
    if full is not None:  # taken by a concurrent acceptance since the figures were read
        raise RuleViolated(
            "quota_exhausted",
            f"quota {full.quota_id} is exhausted: {full.used} of {full.limit} places used",
            {"quota_id": full.quota_id, "used": full.used, "limit": full.limit},
            capacity=True,
        )


async def withdraw(
    integ: Integration,
    conn: AsyncConnection,
    person: Person,
    version: int,
    on: date,
    reason: str,
    cause: Causation,
) -> None:
    pid = person.person_id
    version = await integ.append(
        conn,
        person_stream(pid),
        version,
        [(CandidateWithdrawn(person_id=pid, reason_code=reason, effective_on=on), pid, on)],
        cause,
    )
    if person.status == "accepted":
        await rm.release_places(conn, pid)
    if person.cohort_id is not None and person.training_outcome is None:
        await rm.leave_cohort(conn, person.cohort_id, pid, on)
    await rm.update_person(
        conn,
        pid,
        status="withdrawn",
        ended_on=on,
        deferral_reason=None,
        training_outcome=None,
        version=version,
    )


async def on_hold(
    integ: Integration,
    conn: AsyncConnection,
    person_id: str,
    decision_id: str,
    reason: str,
    held: bool,
    on: date,
    cause: Causation,
) -> None:
    await rm.ensure_person(conn, person_id)
    still_held = await rm.set_hold(conn, person_id, decision_id, reason, held)
    await rm.update_person(conn, person_id, held=still_held)
    person, version = await load_person(conn, person_id)
    if not still_held and person.status == "deferred" and person.deferral_reason == "benefits_held":
        await accept(integ, conn, person, version, on, cause, strict=False)


async def on_reinsertion(
    integ: Integration,
    conn: AsyncConnection,
    person_id: str,
    enrolled: bool,
    on: date,
    cause: Causation,
) -> None:
    person, version = await known_person(conn, person_id)
    if enrolled:
        if overlaps_reinsertion(person, on):
            version = await integ.append(
                conn,
                person_stream(person_id),
                version,
                [
                    (
                        DualEnrolmentDetected(
                            person_id=person_id,
                            integration_status=person.service_status or person.status,
                            reinsertion_effective_on=on,
                        ),
                        person_id,
                        on,
                    )
                ],
                cause,
            )
            await rm.update_person(conn, person_id, dual_enrolment=True, version=version)
        await rm.update_person(conn, person_id, reinsertion_active=True)
        return
    await rm.update_person(conn, person_id, reinsertion_active=False)
    person = replace(person, reinsertion_active=False)
    if person.status == "deferred" and person.deferral_reason == "reinsertion_beneficiary":
        await accept(integ, conn, person, version, on, cause, strict=False)


async def accept_candidate(integ: Integration, person_id: str, on: date, cause: Causation) -> None:
    """An officer's acceptance: refused with the figures when a rule or a quota stands in the way."""

    async def work(conn: AsyncConnection) -> None:
        person, version = await load_person(conn, person_id)
        await accept(integ, conn, person, version, on, cause, strict=True)

    await integ.run(work)
