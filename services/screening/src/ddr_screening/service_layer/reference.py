"""Reference data as versioned events: eligibility rule sets and the vetting list; and the what-if of a rule set.

A new vetting list version re-checks every open case it names (a new allegation holds benefits, even after
the outcome: the revocation path) and clears cases never checked before.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import false, func, insert, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from ddr_contracts.screening import EligibilityRuleSetPublished, VettingListEntry, VettingListVersionPublished
from ddr_runtime.eventstore.store import Causation, NewEvent
from ddr_screening.adapters.projections import case_from_row, project_cases
from ddr_screening.adapters.tables import cases, rule_sets, vetting_entries, vetting_lists
from ddr_screening.domain.errors import RuleViolated
from ddr_screening.domain.rules import DEFAULT_RULE_SETS, RuleSet
from ddr_screening.service_layer.unit import Screening

VETTING_LIST_STREAM = "vetting-list"


def rule_set_stream(rule_version: str) -> str:
    return f"rule-set-{rule_version}"


def rule_set_body(rules: RuleSet) -> dict[str, Any]:
    body = dataclasses.asdict(rules)
    body["effective_from"] = rules.effective_from.isoformat()
    for name in ("integration_categories", "reinsertion_categories", "cvr_movements"):
        body[name] = list(body[name])
    return body


async def publish_rule_set(scr: Screening, rules: RuleSet, causation: Causation) -> None:
    """A new version of the criteria; a version number is published once (ConcurrencyConflict otherwise)."""
    async with scr.transaction() as conn:
        await _publish_rule_set(scr, conn, rules, causation)


async def _publish_rule_set(
    scr: Screening, conn: AsyncConnection, rules: RuleSet, causation: Causation
) -> None:
    event = EligibilityRuleSetPublished(**dataclasses.asdict(rules))
    stream = rule_set_stream(rules.rule_version)
    await scr.store.append(stream, 0, [NewEvent(event, stream)], causation, conn=conn)
    await conn.execute(
        insert(rule_sets).values(
            rule_version=rules.rule_version, effective_from=rules.effective_from, body=rule_set_body(rules)
        )
    )


async def publish_default_rule_sets(scr: Screening) -> None:
    """At a store's first start: the criteria of 2015 and 2019, so that a new deployment decides at once."""
    async with scr.transaction() as conn:
        if (await conn.execute(select(func.count()).select_from(rule_sets))).scalar_one():
            return
        for rules in DEFAULT_RULE_SETS:
            await _publish_rule_set(scr, conn, rules, Causation("screening-defaults"))


async def publish_vetting_list(
    scr: Screening, entries: Sequence[VettingListEntry], source_ref: str, causation: Causation
) -> int:
    """Store the next version of the list and re-check the cases it concerns; the new version number."""
    seen = [e.person_id for e in entries]
    if len(set(seen)) != len(seen):
        raise RuleViolated("duplicate-entry", "a person appears twice in the list; give one entry per person")
    async with scr.transaction() as conn:
        version = (await scr.vetting_list_version(conn) or 0) + 1
        event = VettingListVersionPublished(
            list_version=version, entry_count=len(entries), source_ref=source_ref, entries=tuple(entries)
        )
        await scr.store.append(
            VETTING_LIST_STREAM, version - 1, [NewEvent(event, VETTING_LIST_STREAM)], causation, conn=conn
        )
        await conn.execute(
            insert(vetting_lists).values(
                list_version=version,
                source_ref=source_ref,
                entries=len(entries),
                published_at=datetime.now(UTC),
            )
        )
        if entries:
            await conn.execute(
                insert(vetting_entries),
                [
                    {
                        "list_version": version,
                        "person_id": e.person_id,
                        "allegation_ref": e.allegation_ref,
                        "status": e.status,
                    }
                    for e in entries
                ],
            )
        named = {e.person_id: e for e in entries}
        unchecked = (
            (
                await conn.execute(
                    select(cases.c.person_id).where(
                        or_(
                            cases.c.vetting.is_(None),
                            cases.c.person_id.in_(list(named)) if named else false(),
                        )
                    )
                )
            )
            .scalars()
            .all()
        )
        loaded = await scr.cases.load_many(conn, unchecked)
        rules = await scr.rules_in_force(conn, datetime.now(UTC).date())
        for pid, case in loaded.items():
            case.check_vetting_list(version, named.get(pid))
            case.settle(rules)
        changed = await scr.cases.save_many(conn, list(loaded.values()), lambda _pid: causation)
        await project_cases(conn, [case for case, _ in changed])
    return version


@dataclass(frozen=True)
class WhatIf:
    rule_version: str
    cases_evaluated: int
    unchanged: int
    changes: dict[str, int]  # "from->to": count
    changed_cases: list[dict[str, Any]]


async def what_if(scr: Screening, proposed: RuleSet, *, sample: int = 100) -> WhatIf:
    """Each open, unrestricted case evaluated under ``proposed``: what its track would become. Writes nothing."""
    changes: Counter[str] = Counter()
    changed_cases: list[dict[str, Any]] = []
    evaluated = 0
    async with scr.engine.connect() as conn:
        result = await conn.stream(
            select(cases)
            .where(cases.c.restricted.is_(False), cases.c.merged_into.is_(None))
            .order_by(cases.c.person_id)
        )
        async for row in result:
            evaluated += 1
            case = case_from_row(row)
            decided = case.track_under(proposed)
            now = decided[0] if decided else None
            if now == row.track:
                continue
            key = f"{row.track or 'undecided'}->{now or 'undecided'}"
            changes[key] += 1
            if len(changed_cases) < sample:
                changed_cases.append(
                    {
                        "person_id": row.person_id,
                        "region": row.region,
                        "movement": row.movement,
                        "track": row.track,
                        "would_be": now,
                        "reason": decided[1] if decided else None,
                    }
                )
    return WhatIf(
        rule_version=proposed.rule_version,
        cases_evaluated=evaluated,
        unchanged=evaluated - sum(changes.values()),
        changes=dict(changes),
        changed_cases=changed_cases,
    )
