"""One person's path: the steps in business order, the stage they are in, how long each stage took, and
what is overdue. Built from facts, so the same events in any arrival order give the same path."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict

from ddr_pathway.domain.facts import Fact, as_utc
from ddr_pathway.domain.state import PersonState, ordered

CHILD_HANDOVER_LIMIT = timedelta(hours=48)
"""IDDRS 5.20: a separated child is handed to civilian child protection within 48 hours."""


class Step(BaseModel):
    model_config = ConfigDict(frozen=True)

    event_id: str
    type: str
    service: str
    person_id: str  # the record it was about (an absorbed duplicate's id after a merge)
    occurred_at: datetime
    valid_from: datetime
    recorded_at: datetime
    actor: str
    reason_code: str | None = None
    rule_version: str | None = None
    summary: dict[str, Any]


class StageSpan(BaseModel):
    model_config = ConfigDict(frozen=True)

    stage: str
    since: datetime
    until: datetime | None  # None: the current stage
    days: float


class Overdue(BaseModel):
    model_config = ConfigDict(frozen=True)

    item: str
    due_at: datetime
    overdue_days: float


class PersonPath(BaseModel):
    """The full path, for callers who may see everything about the person."""

    model_config = ConfigDict(frozen=True)

    person_id: str
    stage: str
    merged_into: str | None
    absorbed: list[str]
    movement: str | None
    region: str | None
    stages: list[StageSpan]
    overdue: list[Overdue]
    steps: list[Step]


class StageOnlyPath(BaseModel):
    """What a movement liaison (or anyone held to stage only) sees: where the person is, nothing of why."""

    model_config = ConfigDict(frozen=True)

    person_id: str
    stage: str
    movement: str | None
    stages: list[StageSpan]


def _step(fact: Fact) -> Step:
    return Step(
        event_id=fact.event_id,
        type=fact.type,
        service=fact.service,
        person_id=fact.person_id or fact.subject,
        occurred_at=fact.occurred_at,
        valid_from=fact.valid_from,
        recorded_at=fact.recorded_at,
        actor=fact.actor,
        reason_code=fact.reason_code,
        rule_version=fact.rule_version,
        summary=json.loads(fact.summary) if fact.summary else {},
    )


def _public_stage(stage: str) -> str:
    """A track's stage without its reason (a child's record shows as restricted)."""
    return "restricted" if stage.startswith("child_protection") else stage


def build_path(
    person_id: str, facts: Iterable[Fact], *, absorbed: Sequence[str] = (), now: datetime
) -> PersonPath:
    """The path of ``person_id`` from its facts and those of the persons it absorbed."""
    now = as_utc(now)
    steps = ordered(facts)
    state = PersonState()
    spans: list[tuple[str, datetime]] = []
    for fact in steps:
        if fact.kind == "merge" and fact.person_id != person_id:
            continue  # the absorbed record's own merge event is history, not this person's stage
        state.apply(fact)
        stage = state.stage()
        if stage == "unknown":
            continue
        if not spans or spans[-1][0] != stage:
            spans.append((stage, fact.valid_from))
    stages = [
        StageSpan(
            stage=stage,
            since=since,
            until=spans[i + 1][1] if i + 1 < len(spans) else None,
            days=round(((spans[i + 1][1] if i + 1 < len(spans) else now) - since).total_seconds() / 86400, 2),
        )
        for i, (stage, since) in enumerate(spans)
    ]
    movement = state.attribute("movement")
    region = state.attribute("region")
    return PersonPath(
        person_id=person_id,
        stage=state.stage(),
        merged_into=state.merged_into,
        absorbed=sorted(absorbed),
        movement=str(movement) if movement is not None else None,
        region=str(region) if region is not None else None,
        stages=stages,
        overdue=_overdue(steps, state, now),
        steps=[_step(f) for f in steps],
    )


def stage_only(path: PersonPath) -> StageOnlyPath:
    return StageOnlyPath(
        person_id=path.person_id,
        stage=_public_stage(path.stage),
        movement=path.movement,
        stages=[s.model_copy(update={"stage": _public_stage(s.stage)}) for s in path.stages],
    )


def _overdue(steps: Sequence[Fact], state: PersonState, now: datetime) -> list[Overdue]:
    items: list[Overdue] = []
    separated = state.child_identified_at
    if separated is None and state.track == "child_protection":
        separated = next(
            f.valid_from for f in steps if f.kind == "screening" and f.value == "child_protection"
        )
    if separated is not None and state.child_handed_over_at is None:
        due = _stated_deadline(steps) or separated + CHILD_HANDOVER_LIMIT
        if now > due:
            items.append(
                Overdue(
                    item="child_handover",
                    due_at=due,
                    overdue_days=round((now - due).total_seconds() / 86400, 2),
                )
            )
    return items


def _stated_deadline(steps: Sequence[Fact]) -> datetime | None:
    for fact in steps:
        if fact.kind == "child":
            deadline = json.loads(fact.summary).get("handover_deadline") if fact.summary else None
            if isinstance(deadline, str):
                try:
                    return as_utc(datetime.fromisoformat(deadline))
                except ValueError:
                    return None
    return None
