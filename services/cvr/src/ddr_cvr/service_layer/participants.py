"""Enrolment of a project's participants (in batches, answered item by item) and their withdrawal.

Each participant has a stream of its own whose subject is the participant id (their name and telephone are
sealed under their own key). An ex-combatant's ``person_id`` must be a person registration announced: it is
resolved through merges to the surviving record, on the registered persons CVR noted in its own history (a
partner's link is not: it must give the current id). A person unknown, merged (for a partner) or a child is
refused with one answer, the same for all, so that a partner learns nothing from probing ids.
A batch is decided item by item in one transaction and its participants start their streams in one append:
by default the valid ones are enrolled and each refused one is answered with its rule; ``atomic`` enrols
all or none. Ids chosen by the client make a retry safe: a participant already enrolled is answered
``participant-enrolled`` and never enrolled twice.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import date
from typing import Any

from ddr_cvr.domain.participants import Enrolment, Participant, participant_stream
from ddr_cvr.domain.persons import RegisteredPerson, missing_link, registered_person_stream, survivor
from ddr_cvr.domain.projects import Project, project_stream
from ddr_cvr.service_layer.access import check_may_act
from ddr_runtime.auth.roles import Principal, Role
from ddr_runtime.auth.visibility import sees_children
from ddr_runtime.eventstore.ports import (
    AggregateSession,
    BulkRefused,
    Causation,
    CommandContext,
    CommandRunner,
    ItemOutcome,
    refusal,
)
from ddr_runtime.kernel import Aggregate, DomainError, RuleViolated, UnknownRecord

Resolution = str | DomainError
"""The surviving person's id, or why the link is refused."""


async def resolve_persons(
    session: AggregateSession, person_ids: Iterable[str], *, follow_merges: bool = True
) -> dict[str, Resolution]:
    """Each person id resolved through its merges, loading the registered persons a chain needs in bulk.
    Unknown, a child, or (``follow_merges`` off) merged: one refusal, the same for all three."""
    wanted = set(person_ids)
    known: dict[str, RegisteredPerson] = {}
    while missing := {link for p in wanted if (link := missing_link(p, known)) is not None}:
        streams = {registered_person_stream(person): person for person in missing}
        loaded = await session.load_many(list(streams), RegisteredPerson)
        known.update({person: loaded[stream] for stream, person in streams.items()})
    resolved: dict[str, Resolution] = {}
    for person_id in wanted:
        try:
            resolved[person_id] = survivor(person_id, known, follow_merges=follow_merges)
        except DomainError as error:
            resolved[person_id] = error
    return resolved


async def enrol_participants(
    unit: CommandRunner,
    command: CommandContext,
    project_id: str,
    enrolments: Sequence[Enrolment],
    *,
    atomic: bool = False,
) -> list[ItemOutcome[str]]:
    """Each enrolment's outcome, in order; a recorded one's result is the participant id."""
    ids = [enrolment.participant_id or str(uuid.uuid4()) for enrolment in enrolments]

    async def work(session: AggregateSession) -> list[ItemOutcome[str]]:
        project = await session.load_existing(project_stream(project_id), Project, "project", project_id)
        check_may_act(command.principal, project)
        if not project.accepts_participants:
            raise RuleViolated("project-open", f"the project is {project.status}: no new participants")
        chosen = [participant_stream(e.participant_id) for e in enrolments if e.participant_id]
        enrolled = await session.load_many(chosen, Participant)
        # A partner links the current registration id only: following a merge would show it whom the record
        # was merged into. An officer's link follows merges to the survivor.
        persons = await resolve_persons(
            session,
            (e.person_id for e in enrolments if e.person_id),
            follow_merges=Role.CVR_PARTNER not in command.principal.roles,
        )
        outcomes: list[ItemOutcome[str]] = []
        new: list[tuple[Aggregate[Any], str, str]] = []
        for index, (participant_id, enrolment) in enumerate(zip(ids, enrolments, strict=True)):
            stream = participant_stream(participant_id)
            try:
                if (earlier := enrolled.get(stream)) is not None and (earlier.version or earlier.pending):
                    earlier.refuse_another_enrolment()
                participant = Participant.enrol(
                    participant_id,
                    project_id,
                    project.partner_id,
                    _linked(enrolment, persons),
                    command.recording,
                    project.submitted_at,
                )
            except DomainError as error:
                outcomes.append(refusal(index, error))
                continue
            enrolled[stream] = participant
            new.append((participant, stream, participant_id))
            outcomes.append(ItemOutcome(index, "recorded", participant_id))
        if atomic and len(new) < len(outcomes):
            raise BulkRefused(outcomes)
        await session.save_many(new, command.causation)
        return outcomes

    return await unit.run(work)


def _linked(enrolment: Enrolment, persons: dict[str, Resolution]) -> Enrolment:
    """The enrolment with its person resolved to the survivor of any merge (refused if unknown)."""
    if enrolment.person_id is None or enrolment.category == "community":
        return enrolment  # a community member's link is refused alike, whoever the id names
    resolved = persons[enrolment.person_id]
    if isinstance(resolved, DomainError):
        raise resolved
    return replace(enrolment, person_id=resolved)


async def participant_project(session: AggregateSession, participant_id: str) -> Participant:
    participant = await session.load(participant_stream(participant_id), Participant)
    if not participant.version:
        raise UnknownRecord("participant", participant_id)
    return participant


async def check_not_a_hidden_child(
    session: AggregateSession, principal: Principal, participant: Participant
) -> None:
    """A participant linked to a person CVR noted as a child answers every role but child protection as one
    that does not exist (404 ``participant``), decided in the command's own transaction."""
    if participant.person_id is None or sees_children(principal):
        return
    stream = registered_person_stream(participant.person_id)
    person = (await session.load_many([stream], RegisteredPerson))[stream]
    if person.child:
        raise UnknownRecord("participant", participant.participant_id)


async def withdraw_participant(
    unit: CommandRunner, command: CommandContext, participant_id: str, withdrawn_on: date, reason: str
) -> int:
    async def work(session: AggregateSession) -> int:
        participant = await participant_project(session, participant_id)
        project_id = participant.project_id
        project = await session.load_existing(project_stream(project_id), Project, "project", project_id)
        check_may_act(command.principal, project)
        await check_not_a_hidden_child(session, command.principal, participant)
        participant.withdraw(withdrawn_on, reason, command.recording)
        stream = participant_stream(participant_id)
        return await session.save(participant, stream, participant_id, command.causation)

    return await unit.run(work)


async def erase_participants(
    session: AggregateSession,
    participant_ids: Sequence[str],
    reason_code: str,
    person_id: str | None,
    causation: Causation,
) -> list[str]:
    """Record the erasure of each participant (once) in one append; the ids whose keys the caller must shred
    now (every one asked for: shredding again is harmless, and a retry must finish what a failure left)."""
    streams = {participant_stream(p): p for p in participant_ids}
    loaded = await session.load_many(list(streams), Participant)
    changed: list[tuple[Aggregate[Any], str, str]] = []
    for stream, participant in loaded.items():
        if not participant.version:
            continue
        participant.erase(reason_code, person_id)
        if participant.pending:
            changed.append((participant, stream, streams[stream]))
    await session.save_many(changed, causation)
    return [streams[stream] for stream, participant in loaded.items() if participant.version]
