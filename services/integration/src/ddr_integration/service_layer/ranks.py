"""Rank harmonisation: publishing rule versions, allocating ranks (an order lists many members), disputes and
their decisions."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from ddr_integration.domain.candidates import Candidate, person_stream
from ddr_integration.domain.rank_rules import RANK_RULES_STREAM, RankRuleBook
from ddr_integration.domain.ranks import RuleSet
from ddr_integration.service_layer.bulk import decide_each, settle
from ddr_integration.service_layer.context import (
    Integration,
    ensure_candidate,
    load_candidate,
    load_candidates,
    saving,
)
from ddr_runtime.eventstore.ports import AggregateSession, CommandContext, ItemOutcome
from ddr_runtime.kernel import Recording, UnknownRecord


@dataclass(frozen=True)
class RankRequest:
    person_id: str
    years_of_service: int
    qualification: str


async def publish_rules(
    integ: Integration, rule_set: RuleSet, published_on: date | None, command: CommandContext
) -> None:
    at = command.recording.moment(published_on)

    async def work(session: AggregateSession) -> None:
        book = await session.load(RANK_RULES_STREAM, RankRuleBook)
        book.publish(rule_set, at)
        await session.save(book, RANK_RULES_STREAM, RANK_RULES_STREAM, command.causation)

    await integ.runner.run(work)


def _allocate(
    rules: RankRuleBook, candidate: Candidate, request: RankRequest, on: date | None, recording: Recording
) -> dict[str, str]:
    allocation = candidate.allocate_rank(
        rules, request.years_of_service, request.qualification, on, recording
    )
    return {"rank": allocation.rank, "command_function": allocation.command_function}


async def allocate_rank(
    integ: Integration,
    request: RankRequest,
    on: date | None,
    command: CommandContext,
    expected: int | None,
) -> int:
    """One person's rank; their record's new version."""

    async def work(session: AggregateSession) -> int:
        rules = await session.load(RANK_RULES_STREAM, RankRuleBook)
        candidate = await load_candidate(session, request.person_id, command.principal, expected)
        _allocate(rules, candidate, request, on, command.recording)
        return await session.save(
            candidate, person_stream(request.person_id), request.person_id, command.causation
        )

    return await integ.runner.run(work)


async def allocate_ranks(
    integ: Integration,
    requests: Sequence[RankRequest],
    on: date | None,
    command: CommandContext,
    *,
    atomic: bool = False,
) -> list[ItemOutcome[dict[str, str]]]:
    """An allocation order: each person's rank and command function under the rules in force on its date."""

    async def work(session: AggregateSession) -> list[ItemOutcome[dict[str, str]]]:
        rules = await session.load(RANK_RULES_STREAM, RankRuleBook)
        people = await load_candidates(session, [r.person_id for r in requests])

        def allocate(request: RankRequest) -> dict[str, str]:
            candidate = ensure_candidate(people[request.person_id], command.principal)
            return _allocate(rules, candidate, request, on, command.recording)

        outcomes = decide_each(requests, allocate, key=lambda r: r.person_id)
        settle(outcomes, atomic=atomic)
        await session.save_many(saving(people), command.causation)
        return outcomes

    return await integ.runner.run(work)


async def dispute_rank(
    integ: Integration,
    person_id: str,
    claim: tuple[str, str, str],
    on: date | None,
    command: CommandContext,
) -> str:
    """Raise a dispute over the person's rank: ``claim`` is (rank, command function, grounds code)."""
    dispute_id = str(uuid.uuid4())

    async def work(session: AggregateSession) -> str:
        candidate = await load_candidate(session, person_id, command.principal)
        candidate.dispute_rank(dispute_id, *claim, on, command.recording)
        await session.save(candidate, person_stream(person_id), person_id, command.causation)
        return dispute_id

    return await integ.runner.run(work)


async def decide_dispute(
    integ: Integration,
    dispute_id: str,
    outcome: str,
    decision_ref: str,
    on: date | None,
    command: CommandContext,
) -> None:
    person_id = await integ.views.disputed_person(dispute_id)
    if person_id is None:
        raise UnknownRecord("rank_dispute", dispute_id)

    async def work(session: AggregateSession) -> None:
        candidate = await load_candidate(session, person_id, command.principal)
        candidate.decide_dispute(dispute_id, outcome, decision_ref, on, command.recording)
        await session.save(candidate, person_stream(person_id), person_id, command.causation)

    await integ.runner.run(work)
