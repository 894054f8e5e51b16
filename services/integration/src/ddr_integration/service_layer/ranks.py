"""Rank harmonisation: publishing rule versions, allocating ranks, disputes and their decisions."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from ddr_contracts.events import DomainEvent
from ddr_contracts.integration import (
    RankAllocated,
    RankDisputed,
    RankDisputeDecided,
    RankRule,
    RankRulesPublished,
)
from ddr_integration.adapters import readmodel as rm
from ddr_integration.adapters.tables import rank_disputes, rank_rules
from ddr_integration.domain.candidates import ensure_can_allocate_rank
from ddr_integration.domain.errors import AlreadyExists, RuleViolated, UnknownRecord
from ddr_integration.domain.ranks import Rule, RuleSet, allocate, rules_in_force, validate_rules
from ddr_integration.service_layer.unit import Integration, person_stream
from ddr_runtime.eventstore.errors import ConcurrencyConflict
from ddr_runtime.eventstore.store import Causation


@dataclass(frozen=True)
class RankRequest:
    person_id: str
    years_of_service: int
    qualification: str
    effective_on: date


async def publish_rules(integ: Integration, rule_set: RuleSet, cause: Causation) -> None:
    validate_rules(rule_set.rules)

    async def work(conn: AsyncConnection) -> None:
        existing = await conn.scalar(
            select(rank_rules.c.rule_version).where(rank_rules.c.rule_version == rule_set.version)
        )
        if existing is not None:
            raise AlreadyExists("rank rule version", rule_set.version)
        event = RankRulesPublished(
            rule_version=rule_set.version,
            decree_ref=rule_set.decree_ref,
            effective_from=rule_set.effective_from,
            rules=[
                RankRule(
                    movement_ranks=list(r.movement_ranks),
                    min_years=r.min_years,
                    qualifications=list(r.qualifications),
                    rank=r.rank,
                    command_function=r.command_function,
                )
                for r in rule_set.rules
            ],
        )
        try:
            await integ.append(
                conn,
                f"rank-rules-{rule_set.version}",
                0,
                [(event, rule_set.version, rule_set.effective_from)],
                cause,
            )
        except ConcurrencyConflict:
            raise AlreadyExists("rank rule version", rule_set.version) from None
        await conn.execute(
            insert(rank_rules).values(
                rule_version=rule_set.version,
                decree_ref=rule_set.decree_ref,
                effective_from=rule_set.effective_from,
                rules=[r.model_dump(mode="json") for r in event.rules],
            )
        )

    await integ.run(work, retries=0)


def rule_set_from(version: str, decree_ref: str, effective_from: date, rules: Sequence[Rule]) -> RuleSet:
    return RuleSet(version, decree_ref, effective_from, tuple(rules))


async def allocate_ranks(
    integ: Integration, requests: Sequence[RankRequest], cause: Causation
) -> dict[str, tuple[str, str]]:
    """Allocate each person's rank and command function under the rules in force on the request's date.

    One allocation order is one decision listing many members (as a ministerial order does): its events go
    on a stream of their own, ``rank-order-<id>``, each with the person as subject.
    """
    if not requests or len({r.person_id for r in requests}) != len(requests):
        raise RuleViolated("rank_allocations", "name each person once")

    async def work(conn: AsyncConnection) -> dict[str, tuple[str, str]]:
        rule_sets = await rm.all_rule_sets(conn)
        known = await rm.load_people(conn, [r.person_id for r in requests])
        result: dict[str, tuple[str, str]] = {}
        in_force: dict[date, RuleSet] = {}
        events: list[tuple[DomainEvent, str, date]] = []
        updates = []
        for request in requests:
            if request.person_id not in known:
                raise UnknownRecord("person", request.person_id)
            person, _ = known[request.person_id]
            ensure_can_allocate_rank(person)
            if request.effective_on not in in_force:
                in_force[request.effective_on] = rules_in_force(rule_sets, request.effective_on)
            allocation = allocate(
                in_force[request.effective_on],
                person.movement_rank,
                request.years_of_service,
                request.qualification,
            )
            event = RankAllocated(
                person_id=person.person_id,
                rule_version=allocation.rule_version,
                movement_rank=person.movement_rank,
                years_of_service=request.years_of_service,
                qualification=request.qualification,
                rank=allocation.rank,
                command_function=allocation.command_function,
                by_dispute_id=None,
                effective_on=request.effective_on,
            )
            events.append((event, person.person_id, request.effective_on))
            updates.append(
                {
                    "person_id": person.person_id,
                    "rank": allocation.rank,
                    "command_function": allocation.command_function,
                    "rank_rule_version": allocation.rule_version,
                }
            )
            result[person.person_id] = (allocation.rank, allocation.command_function)
        await integ.append(conn, f"rank-order-{uuid.uuid4()}", 0, events, cause)
        await rm.update_people_grouped(conn, updates)
        return result

    return await integ.run(work)


async def dispute_rank(
    integ: Integration,
    person_id: str,
    claimed_rank: str,
    claimed_command_function: str,
    grounds_code: str,
    on: date,
    cause: Causation,
) -> str:
    dispute_id = str(uuid.uuid4())

    async def work(conn: AsyncConnection) -> str:
        found = (await rm.load_people(conn, [person_id])).get(person_id)
        if found is None:
            raise UnknownRecord("person", person_id)
        person, version = found
        if person.rank is None:
            raise RuleViolated("rank_not_allocated", "only an allocated rank can be disputed")
        event = RankDisputed(
            person_id=person_id,
            dispute_id=dispute_id,
            allocated_rank=person.rank,
            claimed_rank=claimed_rank,
            claimed_command_function=claimed_command_function,
            grounds_code=grounds_code,
            effective_on=on,
        )
        version = await integ.append(conn, person_stream(person_id), version, [(event, person_id, on)], cause)
        await rm.update_person(conn, person_id, version=version)
        await conn.execute(
            insert(rank_disputes).values(
                dispute_id=dispute_id,
                person_id=person_id,
                allocated_rank=person.rank,
                claimed_rank=claimed_rank,
                claimed_command_function=claimed_command_function,
                grounds_code=grounds_code,
                status="open",
                raised_on=on,
            )
        )
        return dispute_id

    return await integ.run(work)


async def decide_dispute(
    integ: Integration, dispute_id: str, outcome: str, decision_ref: str, on: date, cause: Causation
) -> None:
    if outcome not in ("upheld", "rejected"):
        raise RuleViolated("outcome", "a dispute is upheld or rejected")

    async def work(conn: AsyncConnection) -> None:
        dispute = (
            await conn.execute(select(rank_disputes).where(rank_disputes.c.dispute_id == dispute_id))
        ).first()
        if dispute is None:
            raise UnknownRecord("rank dispute", dispute_id)
        if dispute.status != "open":
            raise RuleViolated(
                "dispute_decided", "the dispute is already decided", {"status": dispute.status}
            )
        person, version = (await rm.load_people(conn, [dispute.person_id]))[dispute.person_id]
        events: list[tuple[RankDisputeDecided | RankAllocated, str, date]] = [
            (
                RankDisputeDecided(
                    person_id=person.person_id,
                    dispute_id=dispute_id,
                    outcome=outcome,
                    decision_ref=decision_ref,
                    effective_on=on,
                ),
                person.person_id,
                on,
            )
        ]
        changes: dict[str, object] = {}
        if outcome == "upheld":
            events.append(
                (
                    RankAllocated(
                        person_id=person.person_id,
                        rule_version=None,
                        movement_rank=person.movement_rank,
                        years_of_service=0,
                        qualification="none",
                        rank=dispute.claimed_rank,
                        command_function=dispute.claimed_command_function,
                        by_dispute_id=dispute_id,
                        effective_on=on,
                    ),
                    person.person_id,
                    on,
                )
            )
            changes = {
                "rank": dispute.claimed_rank,
                "command_function": dispute.claimed_command_function,
                "rank_rule_version": None,
            }
        version = await integ.append(conn, person_stream(person.person_id), version, list(events), cause)
        await rm.update_person(conn, person.person_id, version=version, **changes)
        await conn.execute(
            update(rank_disputes)
            .where(rank_disputes.c.dispute_id == dispute_id)
            .values(status=outcome, decision_ref=decision_ref, decided_on=on)
        )

    await integ.run(work)
