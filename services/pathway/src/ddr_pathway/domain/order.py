"""Causal order: a person's facts in the order they happened, never an effect before its cause.

Clocks cannot be trusted to order a path. A decision dated by day is recorded at noon of that day; services
record on their own clocks; a history is back-recorded years after it happened. So the order of a person's
facts is built from what each depends on, and the times only break ties:

- **dependencies**: the event that caused a fact (``causation_id``), the fact it refers to by a contract field
  (``refers_to`` against another fact's ``known_as``: an acceptance rests on its screening decision), and the
  person's registration, which every step of another service about that person rests on (screening,
  integration and reinsertion on the registration and the pre-registration; CVR, which takes any person known
  to registration, on the pre-registration);
- **holds from**: a fact holds from its own business time, or from the latest time one of its causes holds
  from, whichever is later. A step dated before its cause (a date-only decision at noon, a registration at
  18:04 the same day; or a date recorded wrong) holds only once its cause does, so figures as of a date never
  count an effect without its cause;
- **order**: by the business date a fact holds from; on one date, causes before effects, then by recording
  time, then by event id. On one date, a service's facts about a person also keep the order that service
  recorded them in (its own clock): an enrolment in a cohort, recorded after the acceptance it follows, is not
  put before the screening decision the acceptance rests on because another service's clock runs ahead. That
  order does not move a fact to another date: a correction recorded later about an earlier date stays there.

The result depends only on the set of facts, never on the order they arrived in.
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from itertools import pairwise

from ddr_pathway.domain.facts import Fact

REGISTRATION = "registration"
_RESTS_ON_REGISTRATION = frozenset({"screening", "integration", "reinsertion"})
_RESTS_ON_THE_RECORD = frozenset({"cvr"})


@dataclass(frozen=True)
class Placed:
    """A fact in its causal place: the business time it holds from (never before its causes hold)."""

    fact: Fact
    holds_from: datetime

    @property
    def holds_on(self) -> date:
        return self.holds_from.date()


def _position(fact: Fact) -> tuple[datetime, datetime, str]:
    """A fixed order to visit facts in, so the result never depends on arrival order."""
    return (fact.valid_from, fact.recorded_at, fact.event_id)


class _Graph:
    """Who depends on whom among one set of facts."""

    def __init__(self, facts: Sequence[Fact]) -> None:
        self.facts = facts
        by_id = {f.event_id: f for f in facts}
        by_key: dict[str, list[Fact]] = defaultdict(list)
        registration: dict[tuple[str, str], list[Fact]] = defaultdict(list)
        for fact in facts:
            if fact.known_as is not None:
                by_key[fact.known_as].append(fact)
            if fact.kind in ("pre_registered", "registered") and fact.person_id:
                registration[(fact.kind, fact.person_id)].append(fact)
        self.causes: dict[str, list[Fact]] = {}
        for fact in facts:
            found: list[Fact] = []
            if fact.causation_id is not None and fact.causation_id in by_id:
                found.append(by_id[fact.causation_id])
            if fact.refers_to is not None:
                found.extend(by_key.get(fact.refers_to, ()))
            if fact.person_id:
                for kind in _registration_kinds(fact):
                    found.extend(registration.get((kind, fact.person_id), ()))
            self.causes[fact.event_id] = [c for c in found if c.event_id != fact.event_id]
        # Each fact's predecessor in its own service's record of the same person.
        self.recorded_before: dict[str, Fact] = {}
        records: dict[tuple[str, str], list[Fact]] = defaultdict(list)
        for fact in facts:
            if fact.person_id:
                records[(fact.service, fact.person_id)].append(fact)
        for record in records.values():
            record.sort(key=lambda f: (f.recorded_at, f.event_id))
            for earlier, later in pairwise(record):
                self.recorded_before[later.event_id] = earlier

    def holds_from(self) -> dict[str, datetime]:
        """Each fact's own business time, raised to its causes'. A cycle (inconsistent references) is cut
        where the fixed visiting order meets it, the same way for every arrival order."""
        held: dict[str, datetime] = {}
        visiting: set[str] = set()
        for start in sorted(self.facts, key=_position):
            if start.event_id in held:
                continue
            stack: list[tuple[Fact, int]] = [(start, 0)]
            visiting.add(start.event_id)
            while stack:
                fact, next_cause = stack[-1]
                causes = self.causes[fact.event_id]
                if next_cause < len(causes):
                    stack[-1] = (fact, next_cause + 1)
                    cause = causes[next_cause]
                    if cause.event_id not in held and cause.event_id not in visiting:
                        visiting.add(cause.event_id)
                        stack.append((cause, 0))
                    continue
                stack.pop()
                visiting.discard(fact.event_id)
                held[fact.event_id] = max(
                    [fact.valid_from, *(held[c.event_id] for c in causes if c.event_id in held)]
                )
        return held


def _registration_kinds(fact: Fact) -> tuple[str, ...]:
    if fact.service in _RESTS_ON_REGISTRATION:
        return ("pre_registered", "registered")
    if fact.service in _RESTS_ON_THE_RECORD:
        return ("pre_registered",)
    if fact.service == REGISTRATION and fact.kind == "registered":
        return ("pre_registered",)
    return ()


def causal_order(facts: Iterable[Fact]) -> list[Placed]:
    """``facts`` (duplicates by event id dropped) in causal order, each with the time it holds from."""
    unique = sorted({f.event_id: f for f in facts}.values(), key=_position)
    graph = _Graph(unique)
    held = graph.holds_from()
    before: dict[str, set[str]] = {}
    for fact in unique:
        before[fact.event_id] = {c.event_id for c in graph.causes[fact.event_id]}
        earlier = graph.recorded_before.get(fact.event_id)
        if earlier is not None and held[earlier.event_id].date() == held[fact.event_id].date():
            before[fact.event_id].add(earlier.event_id)
    waiting = {event_id: len(ids) for event_id, ids in before.items()}
    effects: dict[str, list[Fact]] = defaultdict(list)
    for fact in unique:
        for cause_id in before[fact.event_id]:
            effects[cause_id].append(fact)

    def rank(fact: Fact) -> tuple[date, datetime, str]:
        return (held[fact.event_id].date(), fact.recorded_at, fact.event_id)

    ready = [(rank(f), f.event_id) for f in unique if waiting[f.event_id] == 0]
    heapq.heapify(ready)
    by_id = {f.event_id: f for f in unique}
    placed: list[Placed] = []
    done: set[str] = set()
    while len(placed) < len(unique):
        if not ready:  # only a cycle is left: release its earliest member
            stuck = min((f for f in unique if f.event_id not in done), key=rank)
            waiting[stuck.event_id] = 0
            heapq.heappush(ready, (rank(stuck), stuck.event_id))
        _, event_id = heapq.heappop(ready)
        if event_id in done:
            continue
        done.add(event_id)
        fact = by_id[event_id]
        placed.append(Placed(fact, held[event_id]))
        for effect in effects[event_id]:
            waiting[effect.event_id] -= 1
            if waiting[effect.event_id] == 0 and effect.event_id not in done:
                heapq.heappush(ready, (rank(effect), effect.event_id))
    return placed
