"""One person's path: the steps in causal order, the stage they are in, how long each stage took, and what
is overdue. Built from facts, so the same events in any arrival order give the same path."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict

from ddr_pathway.domain.disclosure import Sights, step_visible, visible_fields
from ddr_pathway.domain.facts import Fact, as_utc
from ddr_pathway.domain.order import Placed, causal_order
from ddr_pathway.domain.state import PersonState

CHILD_HANDOVER_LIMIT = timedelta(hours=48)
"""IDDRS 5.20: a separated child is handed to civilian child protection within 48 hours."""


class Step(BaseModel):
    model_config = ConfigDict(frozen=True)

    event_id: str
    type: str
    service: str
    person_id: str  # the record it was about (an absorbed duplicate's id after a merge)
    occurred_at: datetime
    valid_from: datetime  # the business time the event states
    holds_from: datetime  # valid_from, or the time its latest cause holds from when that is later
    recorded_at: datetime
    actor: str
    reason_code: str | None = None
    rule_version: str | None = None
    caused_by: str | None = None  # the event id it answered, when a service reacted to another's event
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


def _step(placed: Placed) -> Step:
    fact = placed.fact
    return Step(
        event_id=fact.event_id,
        type=fact.type,
        service=fact.service,
        person_id=fact.person_id or fact.subject,
        occurred_at=fact.occurred_at,
        valid_from=fact.valid_from,
        holds_from=placed.holds_from,
        recorded_at=fact.recorded_at,
        actor=fact.actor,
        reason_code=fact.reason_code,
        rule_version=fact.rule_version,
        caused_by=fact.causation_id,
        summary=json.loads(fact.summary) if fact.summary else {},
    )


def build_path(
    person_id: str,
    facts: Iterable[Fact],
    *,
    absorbed: Sequence[str] = (),
    now: datetime,
    before: datetime | None = None,
) -> PersonPath:
    """The path of ``person_id`` from its facts and those of the persons it absorbed; with ``before``, only
    the steps that hold before it (as of a date)."""
    now = as_utc(now)
    steps = [p for p in causal_order(facts) if before is None or p.holds_from < before]
    state = PersonState()
    spans: list[tuple[str, datetime]] = []
    for placed in steps:
        fact = placed.fact
        if fact.kind == "merge" and fact.person_id != person_id:
            continue  # the absorbed record's own merge event is history, not this person's stage
        state.apply(placed)
        stage = state.stage()
        if stage == "unknown":
            continue
        if not spans or spans[-1][0] != stage:
            # Unrelated steps of one day go by recording time, not by the hour they state: a stage never
            # starts before the one it follows.
            since = max(placed.holds_from, spans[-1][1]) if spans else placed.holds_from
            spans.append((stage, since))
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
        person_id=path.person_id, stage=path.stage, movement=path.movement, stages=list(path.stages)
    )


def disclosed(path: PersonPath, sights: Sights) -> PersonPath:
    """``path`` with only the steps, and the fields of each step, that a reader with ``sights`` may see
    (:mod:`ddr_pathway.domain.disclosure`); a step's cause is named only when that step is shown too."""
    shown = [s for s in path.steps if step_visible(s.type, s.summary, sights)]
    ids = {s.event_id for s in shown}
    steps = []
    for step in shown:
        envelope = visible_fields(
            step.type, {"reason_code": step.reason_code, "rule_version": step.rule_version}, sights
        )
        steps.append(
            step.model_copy(
                update={
                    "reason_code": envelope.get("reason_code"),
                    "rule_version": envelope.get("rule_version"),
                    "caused_by": step.caused_by if step.caused_by in ids else None,
                    "summary": visible_fields(step.type, step.summary, sights),
                }
            )
        )
    overdue = path.overdue if sights.child else []
    return path.model_copy(update={"steps": steps, "overdue": overdue})


def _overdue(steps: Sequence[Placed], state: PersonState, now: datetime) -> list[Overdue]:
    items: list[Overdue] = []
    separated = state.child_identified_at
    if separated is None and state.track == "child_protection":
        separated = next(
            p.holds_from for p in steps if p.fact.kind == "screening" and p.fact.value == "child_protection"
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


def _stated_deadline(steps: Sequence[Placed]) -> datetime | None:
    for fact in (p.fact for p in steps):
        if fact.kind == "child":
            deadline = json.loads(fact.summary).get("handover_deadline") if fact.summary else None
            if isinstance(deadline, str):
                try:
                    return as_utc(datetime.fromisoformat(deadline))
                except ValueError:
                    return None
    return None
