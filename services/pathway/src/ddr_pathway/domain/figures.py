"""Programme figures from the facts that held at a business date, as known at a record time.

:func:`compute_figures` takes the facts recorded by ``known_on`` (any business time) and counts what held by the
end of ``as_of``: a person's steps in causal order, each from the time it holds from (never before its causes:
an acceptance dated before the decision it rests on counts from the decision's date), and the programme's own
facts (lists, coalitions, projects) from their business time. It reads non-personal fields only, so a
pseudonymised or erased history gives the same figures.

Children's records (:mod:`ddr_pathway.domain.children`, as known now) count in no figure but
``child_protection``, and a reader outside child protection sees that count, and the vetting holds
(``benefits_held``) unless they see vetting detail, only as ``disclose`` shows it (suppressed below 5, rounded
down to a multiple of 5): no cell, no difference between two cells and none between two dates (``known_on``
stepped record by record) tells a small number of children, nor one child leaving the adult counts.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from ddr_pathway.domain.facts import Fact, start_of
from ddr_pathway.domain.state import PersonState, fold

FILTERS = ("movement", "coalition", "region", "sex", "age_group", "category", "track")


class UnknownFilter(ValueError):
    def __init__(self, name: str) -> None:
        super().__init__(f"unknown filter {name!r}; filters are {', '.join(FILTERS)}")
        self.name = name


class TrackCounts(BaseModel):
    model_config = ConfigDict(frozen=True)

    active: int = 0
    completed: int = 0
    deserted: int = 0
    discharged: int = 0
    withdrawn: int = 0


class Funnel(BaseModel):
    """Persons who reached each step (a later step implies the earlier ones) and where the tracks stand."""

    model_config = ConfigDict(frozen=True)

    listed: int | None = (
        None  # rows on the latest version of each certified list (not split by person fields)
    )
    pre_registered: int = 0
    registered: int = 0
    screened: int = 0
    disarmed: int = 0  # handed a weapon over (a receipt in the weapons register)
    integration: TrackCounts = TrackCounts()
    reinsertion: TrackCounts = TrackCounts()
    cvr: int = 0
    child_protection: int | None = None  # children's records (counted nowhere else); None: fewer than 5
    not_eligible: int = 0
    waiting_for_track: int = 0
    benefits_held: int | None = None  # held for vetting; None: fewer than 5 (outside vetting)


class WaitingTime(BaseModel):
    """Days between two steps, over the persons who made both by the date."""

    model_config = ConfigDict(frozen=True)

    persons: int = 0
    median_days: float | None = None
    p90_days: float | None = None
    max_days: float | None = None


class CvrTotals(BaseModel):
    model_config = ConfigDict(frozen=True)

    projects_approved: int = 0
    budget_usd: Decimal = Decimal(0)
    projects_completed: int = 0
    direct_beneficiaries: int = 0
    direct_beneficiaries_women: int = 0
    participants: int = 0
    ex_combatant_participants: int = 0


class ProgrammeFigures(BaseModel):
    """Every figure of the programme as of a business date, as known at a record time."""

    model_config = ConfigDict(frozen=True)

    as_of: date
    known_on: datetime | None
    filters: dict[str, str] = Field(default_factory=dict)
    funnel: Funnel
    by_movement: dict[str, Funnel]
    by_coalition: dict[str, Funnel]
    by_region: dict[str, Funnel]
    by_sex: dict[str, Funnel]
    by_age_group: dict[str, Funnel]
    by_category: dict[str, Funnel]
    by_track: dict[str, Funnel]
    waiting: dict[str, WaitingTime]
    cvr: CvrTotals


def age_group(birth_year: int | None, as_of: date) -> str:
    if birth_year is None:
        return "unknown"
    age = as_of.year - birth_year
    if age < 18:
        return "under_18"
    for upper, label in ((24, "18_24"), (34, "25_34"), (44, "35_44")):
        if age <= upper:
            return label
    return "45_plus"


def check_filters(filters: Mapping[str, str | None]) -> dict[str, str]:
    for name in filters:
        if name not in FILTERS:
            raise UnknownFilter(name)
    return {k: v for k, v in filters.items() if v is not None}


def canonical_ids(merges: Iterable[Fact]) -> dict[str, str]:
    """Absorbed person -> the survivor that stands for them now (chains followed, cycles refused)."""
    into = {m.person_id or m.subject: m.value for m in sorted(merges, key=Fact.sort_key) if m.value}
    resolved: dict[str, str] = {}
    for start in into:
        seen = {start}
        current = start
        while current in into and into[current] not in seen:
            current = into[current] or current
            seen.add(current)
        resolved[start] = current
    return resolved


Disclose = Callable[[int], int | None]


def exact(n: int) -> int | None:
    return n


@dataclass(frozen=True)
class Disclosure:
    """How the protected counts are shown to one reader: exactly, or through a small-count rule."""

    children: Disclose = exact
    vetting: Disclose = exact


EXACT = Disclosure()
"""Every count as it is (what the offline replay and its auditors print)."""


class _Counter:
    def __init__(self) -> None:
        self.pre_registered = 0
        self.registered = 0
        self.screened = 0
        self.disarmed = 0
        self.tracks: dict[str, dict[str, int]] = {"integration": {}, "reinsertion": {}}
        self.cvr = 0
        self.child_protection = 0
        self.not_eligible = 0
        self.waiting = 0
        self.held = 0
        self.children = 0
        self.adults = 0
        self.listed: int | None = None

    def add(self, state: PersonState, *, child: bool = False) -> None:
        if child:
            self.children += 1
            return
        self.adults += 1
        level = state.level()
        self.pre_registered += level >= 1
        self.registered += level >= 2
        self.screened += level >= 3
        self.disarmed += state.disarmed_at is not None
        for track, status in (("integration", state.integration), ("reinsertion", state.reinsertion)):
            if status:
                self.tracks[track][status] = self.tracks[track].get(status, 0) + 1
        stage = state.stage()
        self.cvr += state.track == "cvr" or bool(state.cvr_projects)
        self.not_eligible += stage == "not_eligible"
        self.waiting += stage.startswith("screened:")
        self.held += state.held

    def shown(self, disclosure: Disclosure) -> bool:
        """Whether the cell appears at all: not when only children are in it and their count is withheld
        (the cell's name would tell that a child is there)."""
        return bool(self.adults or self.listed) or disclosure.children(self.children) is not None

    def funnel(self, disclosure: Disclosure) -> Funnel:
        return Funnel(
            listed=self.listed,
            pre_registered=self.pre_registered,
            registered=self.registered,
            screened=self.screened,
            disarmed=self.disarmed,
            integration=TrackCounts(**self.tracks["integration"]),
            reinsertion=TrackCounts(**self.tracks["reinsertion"]),
            cvr=self.cvr,
            child_protection=disclosure.children(self.children),
            not_eligible=self.not_eligible,
            waiting_for_track=self.waiting,
            benefits_held=disclosure.vetting(self.held),
        )


def _days(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None or end < start:
        return None
    return round((end - start).total_seconds() / 86400, 2)


def _waiting(values: list[float]) -> WaitingTime:
    if not values:
        return WaitingTime()
    ordered_values = sorted(values)
    p90 = ordered_values[min(len(ordered_values) - 1, int(0.9 * len(ordered_values)))]
    return WaitingTime(
        persons=len(values),
        median_days=round(statistics.median(ordered_values), 2),
        p90_days=p90,
        max_days=ordered_values[-1],
    )


def compute_figures(
    facts: Iterable[Fact],
    merges: Iterable[Fact],
    *,
    as_of: date,
    known_on: datetime | None,
    filters: Mapping[str, str | None] | None = None,
    children: AbstractSet[str] = frozenset(),
    disclosure: Disclosure = EXACT,
) -> ProgrammeFigures:
    """Figures as of the end of ``as_of`` from ``facts`` (those recorded by ``known_on``, of any business
    time: a cause dated later must be seen to hold its effect back) and the merges known by ``known_on``.

    A merge corrects identity for all business time: once known, the absorbed person's facts count as the
    survivor's, so a duplicate is counted once in every figure computed as known after the merge.
    """
    wanted = check_filters(filters or {})
    survivor = canonical_ids(merges)
    end = start_of(as_of + timedelta(days=1))
    known = _Known.of(facts, survivor, end)
    coalitions = {movement: _coalition(items) for movement, items in known.by_movement.items()}

    total = _Counter()
    breakdowns: dict[str, dict[str, _Counter]] = {name: defaultdict(_Counter) for name in FILTERS}
    waits: dict[str, list[float]] = defaultdict(list)
    for person, items in known.by_person.items():
        state = fold(items, before=end)
        if not state.steps:
            continue
        dimensions = _dimensions(state, coalitions, as_of)
        if any(dimensions[name] != value for name, value in wanted.items()):
            continue
        child = person in children
        total.add(state, child=child)
        for name, value in dimensions.items():
            breakdowns[name][value].add(state, child=child)
        if not child:
            _collect_waits(state, waits)

    if not set(wanted) - {"movement", "coalition"}:  # lists count rows, not people: no person filter applies
        _count_listed(known.lists, coalitions, wanted, total, breakdowns)

    def table(name: str) -> dict[str, Funnel]:
        return {
            value: counter.funnel(disclosure)
            for value, counter in sorted(breakdowns[name].items())
            if counter.shown(disclosure)
        }

    return ProgrammeFigures(
        as_of=as_of,
        known_on=known_on,
        filters=wanted,
        funnel=total.funnel(disclosure),
        by_movement=table("movement"),
        by_coalition=table("coalition"),
        by_region=table("region"),
        by_sex=table("sex"),
        by_age_group=table("age_group"),
        by_category=table("category"),
        by_track=table("track"),
        waiting={name: _waiting(values) for name, values in sorted(waits.items())},
        cvr=_cvr_totals(known.projects, known.participants),
    )


@dataclass
class _Known:
    """The facts sorted for counting: each person's (all of them: a later cause holds an effect back), and
    the programme's own facts in force by the end of the day (coalitions, lists' latest versions, CVR)."""

    by_person: dict[str, list[Fact]] = field(default_factory=lambda: defaultdict(list))
    by_movement: dict[str, list[Fact]] = field(default_factory=lambda: defaultdict(list))
    lists: dict[str, Fact] = field(default_factory=dict)
    projects: dict[str, dict[str, Fact]] = field(default_factory=lambda: defaultdict(dict))
    participants: list[Fact] = field(default_factory=list)

    @classmethod
    def of(cls, facts: Iterable[Fact], survivor: Mapping[str, str], end: datetime) -> _Known:
        known = cls()
        for fact in facts:
            if fact.person_id and fact.kind != "merge":
                known.by_person[survivor.get(fact.person_id, fact.person_id)].append(fact)
            if fact.valid_from >= end:
                continue
            if fact.kind == "coalition" and fact.movement:
                known.by_movement[fact.movement].append(fact)
            elif fact.kind == "list" and fact.value:
                current = known.lists.get(fact.value)
                if current is None or fact.sort_key() > current.sort_key():
                    known.lists[fact.value] = fact
            elif fact.kind in ("cvr_project", "cvr_counts", "cvr_completed") and fact.value:
                current = known.projects[fact.value].get(fact.kind)
                if current is None or fact.sort_key() > current.sort_key():
                    known.projects[fact.value][fact.kind] = fact
            if fact.kind == "cvr_participant":
                known.participants.append(fact)
        return known


def _count_listed(
    lists: Mapping[str, Fact],
    coalitions: Mapping[str, str | None],
    wanted: Mapping[str, str],
    total: _Counter,
    breakdowns: dict[str, dict[str, _Counter]],
) -> None:
    """Listed rows from each list's latest version, in total and by movement and coalition."""
    listed_by: dict[str, dict[str, int]] = {"movement": defaultdict(int), "coalition": defaultdict(int)}
    total.listed = 0
    for fact in lists.values():
        movement = fact.movement or "unknown"
        coalition = coalitions.get(movement) or "none"
        if wanted.get("movement", movement) != movement or wanted.get("coalition", coalition) != coalition:
            continue
        rows = fact.number or 0
        total.listed += rows
        listed_by["movement"][movement] += rows
        listed_by["coalition"][coalition] += rows
    for name, counts in listed_by.items():
        for value, rows in counts.items():
            breakdowns[name][value].listed = rows


def _coalition(facts: list[Fact]) -> str | None:
    coalition: str | None = None
    for fact in sorted(facts, key=Fact.sort_key):
        coalition = fact.value  # a join names the coalition; a departure holds None
    return coalition


def _dimensions(state: PersonState, coalitions: Mapping[str, str | None], as_of: date) -> dict[str, str]:
    movement = str(state.attribute("movement") or "unknown")
    birth_year = state.attribute("birth_year")
    return {
        "movement": movement,
        "coalition": coalitions.get(movement) or "none",
        "region": str(state.attribute("region") or "unknown"),
        "sex": str(state.attribute("sex") or "unknown"),
        "age_group": age_group(birth_year if isinstance(birth_year, int) else None, as_of),
        "category": str(state.attribute("category") or "unknown"),
        "track": state.latest_track or state.track or "none",
    }


def _collect_waits(state: PersonState, waits: dict[str, list[float]]) -> None:
    pairs = (
        (
            "pre_registration_to_registration",
            state.reached.get("pre_registered"),
            state.reached.get("registered"),
        ),
        ("registration_to_screening", state.reached.get("registered"), state.reached.get("screened")),
        (
            "screening_to_track",
            state.reached.get("screened"),
            min(state.track_started.values()) if state.track_started else None,
        ),
    )
    for name, start, end in pairs:
        days = _days(start, end)
        if days is not None:
            waits[name].append(days)


def _cvr_totals(projects: Mapping[str, Mapping[str, Fact]], participants: list[Fact]) -> CvrTotals:
    approved = [p["cvr_project"] for p in projects.values() if "cvr_project" in p]
    counts = [p["cvr_counts"] for p in projects.values() if "cvr_counts" in p]
    return CvrTotals(
        projects_approved=len(approved),
        budget_usd=sum((Decimal(f.amount or 0) for f in approved), Decimal(0)),
        projects_completed=sum(1 for p in projects.values() if "cvr_completed" in p),
        direct_beneficiaries=sum(f.number or 0 for f in counts),
        direct_beneficiaries_women=sum(int(f.amount or 0) for f in counts),
        participants=len({f.subject for f in participants}),
        ex_combatant_participants=len({f.subject for f in participants if f.category == "ex_combatant"}),
    )
