"""Reference data as versioned events: eligibility rule sets and the vetting list; and the what-if of a rule set.

A new vetting list version re-checks every open case it names (a new allegation holds benefits, even after
the outcome: the revocation path) and clears cases never checked before.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ddr_runtime.auth.roles import Principal
from ddr_runtime.eventstore.ports import AggregateSession, Causation
from ddr_screening.domain.case import ScreeningCase
from ddr_screening.domain.reference import VETTING_LIST_STREAM, PublishedRuleSet, VettingList, rule_set_stream
from ddr_screening.domain.rules import DEFAULT_RULE_SETS, RuleSet
from ddr_screening.domain.values import VettingListEntry
from ddr_screening.service_layer.access import visible_cases
from ddr_screening.service_layer.cases import save_cases
from ddr_screening.service_layer.service import Context, Screening

DEFAULTS = Causation("screening-defaults")


async def _publish_rule_set(session: AggregateSession, rules: RuleSet, causation: Causation) -> int:
    stream = rule_set_stream(rules.rule_version)
    published = await session.load(stream, PublishedRuleSet)
    published.publish(rules)
    return await session.save(published, stream, stream, causation)


async def publish_rule_set(scr: Screening, rules: RuleSet, ctx: Context) -> int:
    """A new version of the criteria; a version is published once (AlreadyDone otherwise)."""
    return await scr.unit.run(lambda session: _publish_rule_set(session, rules, ctx.causation))


async def publish_default_rule_sets(scr: Screening) -> None:
    """At a store's first start: the criteria of 2015 and 2019, so that a new deployment decides at once."""

    async def work(session: AggregateSession) -> None:
        for rules in DEFAULT_RULE_SETS:
            published = await session.load(rule_set_stream(rules.rule_version), PublishedRuleSet)
            if published.rules is None:
                await _publish_rule_set(session, rules, DEFAULTS)

    await scr.unit.run(work)


async def publish_vetting_list(
    scr: Screening, entries: Sequence[VettingListEntry], source_ref: str, ctx: Context
) -> int:
    """Store the next version of the list and re-check the cases it concerns; the new version number."""

    async def work(session: AggregateSession) -> int:
        published = await session.load(VETTING_LIST_STREAM, VettingList)
        version = published.publish(entries, source_ref)
        await session.save(published, VETTING_LIST_STREAM, VETTING_LIST_STREAM, ctx.causation)
        named = {entry.person_id: entry for entry in entries}
        cases = await session.load_many(await scr.reference.cases_to_recheck(session, named), ScreeningCase)
        rule_sets = await scr.reference.rule_sets(session)
        for person_id, case in cases.items():
            case.check_vetting_list(version, named.get(person_id), ctx.recording.now)
            case.settle(rule_sets)
        await save_cases(session, cases.values(), ctx.causation)
        return version

    return await scr.unit.run(work)


@dataclass(frozen=True)
class WhatIf:
    rule_version: str
    cases_evaluated: int
    unchanged: int
    changes: dict[str, int]  # "from->to": count
    changed_cases: list[dict[str, Any]]


def case_from_row(row: Mapping[str, Any]) -> ScreeningCase:
    """A case as its read-model row shows it, enough to evaluate rules over it (a what-if); not for saving."""
    case = ScreeningCase()
    case.opened = True
    for name in (
        "person_id", "ddr_id", "movement", "category", "sex", "region", "cercle", "rank", "armed", "birth_year",
        "child", "verified_member", "weapon_handed_over", "handling_test_passed", "chose_reinsertion",
        "vetting", "merged_into", "track", "rule_version", "eligibility",
    ):  # fmt: skip
        setattr(case, name, row[name])
    case.eligibility_reasons = tuple(row["eligibility_reasons"] or ())
    case.age_assessed = not row["age_pending"]
    case.medical_override = row["medical"]
    return case


async def what_if(scr: Screening, principal: Principal, proposed: RuleSet, *, sample: int = 100) -> WhatIf:
    """Each open adult's case within the caller's remit (its ``regions`` claim, whatever the request says)
    evaluated under ``proposed``: what its track would become. Writes nothing."""
    changes: Counter[str] = Counter()
    changed_cases: list[dict[str, Any]] = []
    evaluated = 0
    async for row in scr.reads.unrestricted_open_cases(visible_cases(principal)):
        evaluated += 1
        decided = case_from_row(row).track_under(proposed)
        now = decided[0] if decided else None
        if now == row["track"]:
            continue
        changes[f"{row['track'] or 'undecided'}->{now or 'undecided'}"] += 1
        if len(changed_cases) < sample:
            changed_cases.append(
                {
                    "person_id": row["person_id"],
                    "region": row["region"],
                    "movement": row["movement"],
                    "track": row["track"],
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
