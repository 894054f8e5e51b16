"""The report's own timeline, planned before anything is recorded: who registers on which day, who is examined
and found fit or unfit, who trains in which cohort at Kati, which unit each member joins, who deserts, who
is enrolled in reinsertion and which CVR projects run when; and the figures all that implies as of any date.

Pure: no service is called here. The scenario records what the plan says through the public APIs, each fact
with its business date (back-recorded by records officers with a reason), and the end-to-end test compares
what the services answer as of a date with what :meth:`Plan.figures` and :meth:`Plan.thirds` say.

The figures follow the one rule of who sees children (``ddr_runtime.auth.visibility``, issue 14): children's
records count in no figure but ``child_protection``, which child protection reads exactly and every other
reader through ``disclose_count`` (none below 5, else rounded down to 5); so do the vetting holds
(``benefits_held``) outside vetting.

The report's dates (UN report, section 3.3; docs of the domain): the accelerated DDR was launched on
6 November 2018 and registered 1,423 combatants by the end of 2018, the rest of its 2,300 in 2019; the
medically fit trained three months at the Kati camp (250 places), from January 2019, then joined the
reconstituted units, formed in the order Gao, Timbuktu, Ménaka, Kidal; the ranks follow decree 0874/P-RM of
30 October 2019 (before it, trainees held a provisional grade, reclassified under the decree); the unfit
went to socio-economic reinsertion (2020-2021); CVR projects ran 2021-2023; in the fall of 2023 about 163
members deserted the Gao unit (15 October here) and the CMA members of the Kidal unit left it (31 October).
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from ddr_runtime.auth.roles import Principal, Role
from ddr_runtime.auth.visibility import disclose_count, sees_children, sees_vetting_detail

LAUNCH = date(2018, 11, 6)
REGISTERED_BY_END_OF_2018 = 1_423  # of the report's 2,300: scaled for smaller runs
REPORT_REGISTERED = 2_300
REPORT_FIT = 1_765
LAST_REGISTRATION = date(2019, 3, 29)  # the 2019 registrations, before the second cohort's roll
FIRST_2019_REGISTRATION = date(2019, 1, 14)
LISTS_SUBMITTED_ON = date(2018, 10, 1)  # the movements' lists, certified and endorsed before the launch
AGES_AS_OF = date(2017, 11, 6)
"""The caseload generator draws ages as of this day, a year before the launch: whoever is listed as an adult
is one on any registration day, even when only a birth year is known (which counts as 31 December)."""

ADULT_AGE = 18
EXAMINED_AFTER = timedelta(days=2)  # the medical examination, two days after the registration
RE_EXAMINATION_REQUESTED_AFTER = timedelta(days=7)  # a disputed result, a week after the examination
RE_EXAMINED_AFTER = timedelta(days=21)  # the second examination of a disputed result
TREATED_FOR = timedelta(days=28)  # a temporarily unfit person is examined again after treatment
CHILD_HANDED_OVER_AFTER = timedelta(days=1)  # within the 48 hours of IDDRS 5.20

QUOTA_DECIDED_ON = date(2018, 11, 5)
QUOTA_PERIOD = (LAUNCH, date(2020, 12, 31))
QUOTA_LIMIT = 3_000  # the objective of 3,000 troops (Security Council resolution 2480 (2019))

INTERIM_RANKS_FROM = LAUNCH
DECREE = date(2019, 10, 30)  # décret n°0874/P-RM du 30 octobre 2019
KATI_CAPACITY = 250
COHORT_DAYS = 91  # three months, counting the first day as day 1
FIRST_COHORT_STARTS = date(2019, 1, 7)
ROLL_BEFORE_START = timedelta(days=3)  # the cohort's roll (and each trainee's grade), three days before
DEPLOYED_AFTER_TRAINING = timedelta(days=14)

UNITS: tuple[tuple[str, str, str, str], ...] = (
    # (unit id, name, kind, location), in the order they were formed
    ("BATFAR-Gao", "Bataillon des forces armées reconstituées, Gao", "battalion", "Gao"),
    ("BATFAR-Tombouctou", "Bataillon des forces armées reconstituées, Tombouctou", "battalion", "Tombouctou"),
    ("Compagnie-Menaka", "Compagnie des forces armées reconstituées, Ménaka", "company", "Ménaka"),
    ("BATFAR-Kidal", "Bataillon des forces armées reconstituées, Kidal", "battalion", "Kidal"),
)
OTHER_UNITS = "autres-unites"
COALITIONS = ("CMA", "Platform")
ARMED_FORCES = "armed_forces"
COMMAND_POST_EVERY = 25  # one command post for each 25 members of a party

GAO_DESERTIONS_ON = date(2023, 10, 15)
GAO_DESERTERS = 163  # "a good number from Gao (estimated at 163)"
KIDAL_CMA_LEFT_ON = date(2023, 10, 31)

REINSERTION_PACKAGE_FROM = date(2020, 1, 1)
BUDGET_LINE_OPENED_ON = date(2020, 1, 2)
FUNDS_RECEIVED_ON = date(2020, 1, 15)
REINSERTION_WAVES = (
    date(2020, 2, 3),
    date(2020, 5, 4),
    date(2020, 9, 7),
    date(2021, 2, 1),
    date(2021, 5, 3),
)
CVR_SUBMISSIONS = (date(2021, 1, 11), date(2021, 7, 5), date(2022, 1, 10), date(2022, 7, 4))
CVR_EX_COMBATANTS_PER_PROJECT = 2
CVR_COMMUNITY_PER_PROJECT = 18
CVR_MONTHS = 10
CVR_DIRECT, CVR_DIRECT_WOMEN, CVR_INDIRECT, CVR_INDIRECT_WOMEN = 400, 210, 1_600, 820

FIGURE_DATES = (date(2018, 12, 31), date(2020, 6, 30), date(2023, 11, 30))
THIRDS_DATES = (date(2023, 9, 30), date(2023, 11, 30))


def possibly_minor(birth_kind: str, birth_year: int | None, birth_date: str | None, on: date) -> bool:
    """Whether a listed person may be under 18 on ``on``, with the benefit of the doubt screening gives (a
    year alone counts as born on 31 December): lists hide minors among their combatants, and whoever
    registers one sees a child separated, not a combatant screened."""
    if birth_kind == "exact" and birth_date:
        born = date.fromisoformat(birth_date)
    elif birth_kind in ("exact", "year") and birth_year is not None:
        born = date(birth_year, 12, 31)
    else:
        return False  # unknown: an age assessment decides (the demo's finds an adult)
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day)) < ADULT_AGE


class PlanError(ValueError):
    """The plan cannot keep a rule it promises (a trainee enrolled before being accepted, too few members)."""


@dataclass(frozen=True)
class Adult:
    """A registered adult as the plan needs them: their id and their movement's coalition."""

    person_id: str
    coalition: str


@dataclass(frozen=True)
class Examination:
    person_id: str
    result: str  # fit, unfit, temporarily_unfit
    on: date


@dataclass(frozen=True)
class Cohort:
    cohort_id: str
    starts_on: date
    members: tuple[str, ...]

    @property
    def ends_on(self) -> date:
        """The last day of training (day 91), when the outcomes are recorded."""
        return self.starts_on + timedelta(days=COHORT_DAYS - 1)

    @property
    def roll_on(self) -> date:
        return self.starts_on - ROLL_BEFORE_START


@dataclass(frozen=True)
class Unit:
    unit_id: str
    name: str
    kind: str
    location: str
    formed_on: date
    members: Mapping[str, tuple[str, ...]]  # coalition -> person ids, command posts first
    command_posts: int  # per party
    thirds_applies: bool = True

    @property
    def per_party(self) -> int:
        return len(self.members[COALITIONS[0]]) if self.thirds_applies else 0

    def all_members(self) -> list[str]:
        return [p for people in self.members.values() for p in people]


@dataclass(frozen=True)
class Desertion:
    on: date
    unit_id: str
    person_ids: tuple[str, ...]


@dataclass(frozen=True)
class CvrProject:
    index: int
    submitted_on: date
    ex_combatants: tuple[str, ...]

    @property
    def analysed_on(self) -> date:
        return self.submitted_on + timedelta(days=2)

    @property
    def reviews(self) -> tuple[tuple[str, date], ...]:
        return (
            ("local_review", self.submitted_on + timedelta(days=5)),
            ("regional_appraisal", self.submitted_on + timedelta(days=10)),
            ("national_appraisal", self.submitted_on + timedelta(days=17)),
        )

    @property
    def approved_on(self) -> date:
        return self.reviews[-1][1]

    @property
    def starts_on(self) -> date:
        return self.submitted_on + timedelta(days=21)

    @property
    def enrolled_on(self) -> date:
        return self.submitted_on + timedelta(days=23)

    @property
    def completed_on(self) -> date:
        return self.starts_on + timedelta(days=30 * CVR_MONTHS)

    @property
    def handed_over_on(self) -> date:
        return self.completed_on + timedelta(days=15)


@dataclass
class Plan:
    """Every dated fact of the run, and the figures they imply."""

    registered_on: dict[str, date]  # adults and children
    children: tuple[str, ...]  # the children registered (then separated and handed over)
    first_examinations: tuple[Examination, ...]
    re_examination_requests: tuple[tuple[str, date], ...]
    second_examinations: tuple[Examination, ...]
    integrated: tuple[str, ...]  # finally fit
    unfit: tuple[str, ...]  # finally unfit: reinsertion
    cohorts: tuple[Cohort, ...]
    units: tuple[Unit, ...]  # the four reconstituted units, then (if any) the other units
    desertions: tuple[Desertion, ...]
    reinsertion_waves: tuple[tuple[date, tuple[str, ...]], ...]
    cvr_projects: tuple[CvrProject, ...]
    list_rows: int = 0
    pre_registered: int = 0  # adults' records on the lists (children's are counted apart)
    child_records: int = 0  # children's records on the lists, the registered children among them
    outcomes: dict[str, list[tuple[date, str]]] = field(default_factory=dict)

    # -- when things happened ---------------------------------------------------------------------------

    def examined_on(self, person_id: str) -> date:
        """The first examination's day (other dated screening facts of a person fall on or before it)."""
        return self.registered_on[person_id] + EXAMINED_AFTER

    def accepted_on(self, person_id: str) -> date:
        """The day the person's final outcome sent them to integration (accepted that day: the quota is open)."""
        return self.outcomes[person_id][-1][0]

    def reclassified(self) -> tuple[str, ...]:
        """Members who trained under a provisional grade, reclassified on the decree's day."""
        return tuple(p for c in self.cohorts if c.roll_on < DECREE for p in c.members)

    def cohort_of(self) -> dict[str, Cohort]:
        return {p: c for c in self.cohorts for p in c.members}

    # -- the figures --------------------------------------------------------------------------------------

    def figures(self, as_of: date, reader: Role = Role.CNDDR_OFFICER) -> dict[str, Any]:
        """Pathway's funnel as of the end of ``as_of`` as ``reader`` sees it, and its CVR totals.

        Children's records (all of them listed on the lists' day) count in no figure but ``child_protection``:
        exact for child protection, through ``disclose_count`` for anyone else; nobody is held for vetting,
        which a reader outside vetting sees as ``disclose_count(0)``."""
        # the rule reads roles only; a movement and a partner let any role (a liaison's, a partner's) be asked
        principal = Principal(
            subject=f"reader-{reader}", name=str(reader), roles=frozenset({reader}), movement="-", partner="-"
        )
        children_shown = exact if sees_children(principal) else disclose_count
        vetting_shown = exact if sees_vetting_detail(principal) else disclose_count
        children = set(self.children)
        registered = [p for p, on in self.registered_on.items() if on <= as_of and p not in children]
        deserted_on = {p: d.on for d in self.desertions for p in d.person_ids}
        enrolled_on = {p: on for on, people in self.reinsertion_waves for p in people}
        funnel: Counter[str] = Counter()
        integration: Counter[str] = Counter()
        reinsertion: Counter[str] = Counter()
        for person in registered:
            funnel["registered"] += 1
            funnel["disarmed"] += 1
            decided = [track for on, track in self.outcomes.get(person, []) if on <= as_of]
            if not decided:
                continue
            funnel["screened"] += 1
            track = decided[-1]
            if track == "integration":
                # accepted at the outcome (the quota is open), deserted or serving
                gone = deserted_on.get(person)
                integration["deserted" if gone is not None and gone <= as_of else "active"] += 1
            elif person in enrolled_on and enrolled_on[person] <= as_of:
                reinsertion["active"] += 1
            else:
                funnel["waiting_for_track"] += 1
        cvr_people = {
            p for project in self.cvr_projects if project.enrolled_on <= as_of for p in project.ex_combatants
        }
        child_records = self.child_records if as_of >= LISTS_SUBMITTED_ON else 0
        return {
            "funnel": {
                "listed": self.list_rows,
                "pre_registered": self.pre_registered,
                "registered": funnel["registered"],
                "disarmed": funnel["disarmed"],
                "screened": funnel["screened"],
                "child_protection": children_shown(child_records),
                "not_eligible": 0,
                "waiting_for_track": funnel["waiting_for_track"],
                "benefits_held": vetting_shown(0),
                "integration": _track_counts(integration),
                "reinsertion": _track_counts(reinsertion),
                "cvr": len(cvr_people),
            },
            "cvr": self.cvr_totals(as_of),
        }

    def cvr_totals(self, as_of: date) -> dict[str, Any]:
        approved = [p for p in self.cvr_projects if p.approved_on <= as_of]
        enrolled = [p for p in self.cvr_projects if p.enrolled_on <= as_of]
        completed = [p for p in self.cvr_projects if p.completed_on <= as_of]
        return {
            "projects_approved": len(approved),
            "budget_usd": sum(CVR_BUDGETS[p.index] for p in approved),
            "projects_completed": len(completed),
            "direct_beneficiaries": CVR_DIRECT * len(completed),
            "direct_beneficiaries_women": CVR_DIRECT_WOMEN * len(completed),
            "participants": (CVR_EX_COMBATANTS_PER_PROJECT + CVR_COMMUNITY_PER_PROJECT) * len(enrolled),
            "ex_combatant_participants": sum(len(p.ex_combatants) for p in enrolled),
        }

    def thirds(self, as_of: date) -> dict[str, dict[str, dict[str, int]]]:
        """Each reconstituted unit's strength and command posts by party as of the end of ``as_of``."""
        gone = {p for d in self.desertions if d.on <= as_of for p in d.person_ids}
        found: dict[str, dict[str, dict[str, int]]] = {}
        for unit in self.units:
            if not unit.thirds_applies or unit.formed_on > as_of:
                continue
            strength = {ARMED_FORCES: unit.per_party}
            posts = {ARMED_FORCES: unit.command_posts}
            for coalition in COALITIONS:
                people = unit.members[coalition]
                strength[coalition] = sum(p not in gone for p in people)
                posts[coalition] = sum(p not in gone for p in people[: unit.command_posts])
            found[unit.unit_id] = {"strength": strength, "command_posts": posts}
        return found


CVR_BUDGETS = (85_000, 60_000, 95_000, 250_000)


def exact(n: int) -> int | None:
    return n


def _track_counts(counts: Counter[str]) -> dict[str, int]:
    return {
        status: counts[status] for status in ("active", "completed", "deserted", "discharged", "withdrawn")
    }


# -- planning --------------------------------------------------------------------------------------------


def working_days(first: date, last: date) -> list[date]:
    days = (first + timedelta(days=n) for n in range((last - first).days + 1))
    return [day for day in days if day.weekday() < 5]


def spread(people: Sequence[str], days: Sequence[date]) -> dict[str, date]:
    """``people`` over ``days`` in order, as evenly as whole people allow."""
    return {person: days[n * len(days) // len(people)] for n, person in enumerate(people)} if people else {}


def registered_in_2018(registered: int) -> int:
    """The report's 1,423 of 2,300, scaled to the run's size."""
    return round(registered * REGISTERED_BY_END_OF_2018 / REPORT_REGISTERED)


def plan(
    adults: Sequence[Adult],
    children: Sequence[str],
    *,
    finally_unfit: int,
    seed: int,
    list_rows: int = 0,
    pre_registered: int = 0,
    child_records: int | None = None,
) -> Plan:
    """The whole run's dated facts for ``adults`` (in the order they present themselves) and ``children``;
    ``child_records``: the children's records on the lists (by default, the registered children alone)."""
    if finally_unfit >= len(adults):
        raise PlanError(f"{finally_unfit} unfit of {len(adults)} registered leaves nobody to integrate")
    ids = [a.person_id for a in adults]
    coalition = {a.person_id: a.coalition for a in adults}
    early = registered_in_2018(len(adults))
    registered_on = spread(ids[:early], working_days(LAUNCH, date(2018, 12, 28)))
    later = _interleave(ids[early:], list(children))
    registered_on |= spread(later, working_days(FIRST_2019_REGISTRATION, LAST_REGISTRATION))

    first, requests, second, unfit = _medical(ids, registered_on, finally_unfit, seed)
    outcomes = _outcomes(first, second)
    integrated = tuple(p for p in ids if outcomes[p][-1][1] == "integration")
    accepted_on = {p: outcomes[p][-1][0] for p in integrated}

    units_members = _units_members(integrated, coalition, accepted_on)
    cohorts = _cohorts(integrated, accepted_on, units_members)
    units = _units(units_members, cohorts)
    desertions = _desertions(units, len(integrated))
    unfit_sorted = tuple(sorted(unfit))
    waves = _waves(unfit_sorted)
    projects = tuple(
        CvrProject(
            n,
            submitted,
            unfit_sorted[n * CVR_EX_COMBATANTS_PER_PROJECT : (n + 1) * CVR_EX_COMBATANTS_PER_PROJECT],
        )
        for n, submitted in enumerate(CVR_SUBMISSIONS)
    )
    return Plan(
        registered_on=registered_on,
        children=tuple(children),
        first_examinations=first,
        re_examination_requests=requests,
        second_examinations=second,
        integrated=integrated,
        unfit=unfit_sorted,
        cohorts=cohorts,
        units=units,
        desertions=desertions,
        reinsertion_waves=waves,
        cvr_projects=projects,
        list_rows=list_rows,
        pre_registered=pre_registered,
        child_records=len(children) if child_records is None else child_records,
        outcomes=outcomes,
    )


def _interleave(adults: list[str], children: list[str]) -> list[str]:
    """The children among the 2019 registrations, evenly (child protection screened each site)."""
    if not children:
        return adults
    step = max(1, len(adults) // len(children))
    merged: list[str] = []
    pending = list(children)
    for n, person in enumerate(adults):
        if pending and n % step == 0:
            merged.append(pending.pop(0))
        merged.append(person)
    return merged + pending


def _medical(
    ids: Sequence[str], registered_on: Mapping[str, date], finally_unfit: int, seed: int
) -> tuple[tuple[Examination, ...], tuple[tuple[str, date], ...], tuple[Examination, ...], list[str]]:
    """Examiners find some unfit, some of them disputed and re-examined (half found fit again), and some
    temporarily unfit (fit after treatment), so that ``finally_unfit`` remain unfit."""
    extra = max(1, finally_unfit // 35)  # found fit again on re-examination
    drawn = random.Random(f"medical-{seed}").sample(list(ids), len(ids))
    unfit = drawn[: finally_unfit + extra]
    temporary = drawn[len(unfit) : len(unfit) + 2 * extra]
    if len(unfit) + len(temporary) > len(ids):
        raise PlanError("too few registered for the unfit and the re-examined")
    result = (
        dict.fromkeys(ids, "fit")
        | dict.fromkeys(unfit, "unfit")
        | dict.fromkeys(temporary, "temporarily_unfit")
    )
    examined = {p: registered_on[p] + EXAMINED_AFTER for p in ids}
    first = tuple(Examination(p, result[p], examined[p]) for p in ids)
    contested = sorted(unfit)[: 2 * extra]
    found_fit = set(contested[:extra])
    requests = tuple((p, examined[p] + RE_EXAMINATION_REQUESTED_AFTER) for p in contested)
    second = tuple(
        Examination(p, "fit" if p in found_fit else "unfit", examined[p] + RE_EXAMINED_AFTER)
        for p in contested
    ) + tuple(Examination(p, "fit", examined[p] + TREATED_FOR) for p in sorted(temporary))
    return first, requests, second, [p for p in unfit if p not in found_fit]


def _outcomes(
    first: Iterable[Examination], second: Iterable[Examination]
) -> dict[str, list[tuple[date, str]]]:
    """Each adult's screening outcomes in order: (day, track); a temporary unfitness decides nothing."""
    track = {"fit": "integration", "unfit": "reinsertion"}
    outcomes: dict[str, list[tuple[date, str]]] = {}
    for exam in [*first, *second]:
        if exam.result in track:
            decided = outcomes.setdefault(exam.person_id, [])
            if not decided or decided[-1][1] != track[exam.result]:
                decided.append((exam.on, track[exam.result]))
    return outcomes


def _units_members(
    integrated: Sequence[str], coalition: Mapping[str, str], accepted_on: Mapping[str, date]
) -> list[dict[str, list[str]]]:
    """Each reconstituted unit takes the same number of each coalition's members, the earliest accepted
    first; the larger coalition's remaining members serve in other units (last)."""
    by_coalition: dict[str, list[str]] = {c: [] for c in COALITIONS}
    for person in sorted(integrated, key=lambda p: (accepted_on[p], p)):
        by_coalition[coalition[person]].append(person)
    per_party = min(len(people) for people in by_coalition.values()) // len(UNITS)
    if per_party < 1:
        raise PlanError(f"too few members of each coalition for {len(UNITS)} units: {by_coalition}")
    members = [
        {c: people[n * per_party : (n + 1) * per_party] for c, people in by_coalition.items()}
        for n in range(len(UNITS))
    ]
    members.append({c: people[len(UNITS) * per_party :] for c, people in by_coalition.items()})
    return members


def _cohorts(
    integrated: Sequence[str], accepted_on: Mapping[str, date], units: Sequence[Mapping[str, list[str]]]
) -> tuple[Cohort, ...]:
    """Three-month cohorts at Kati, one after another (never more than the camp's 250 at once): each takes,
    of those accepted by its roll, the members of the earliest unit first."""
    priority = {p: (n, accepted_on[p], p) for n, unit in enumerate(units) for ps in unit.values() for p in ps}
    waiting = sorted(integrated, key=priority.__getitem__)
    cohorts: list[Cohort] = []
    starts = FIRST_COHORT_STARTS
    while waiting:
        roll = starts - ROLL_BEFORE_START
        ready = [p for p in waiting if accepted_on[p] <= roll][:KATI_CAPACITY]
        if ready:
            cohorts.append(Cohort(f"kati-{starts.year}-{len(cohorts) + 1:02d}", starts, tuple(ready)))
            taken = set(ready)
            waiting = [p for p in waiting if p not in taken]
        starts += timedelta(days=COHORT_DAYS)
    return tuple(cohorts)


def _units(members: Sequence[Mapping[str, list[str]]], cohorts: Sequence[Cohort]) -> tuple[Unit, ...]:
    """A unit is formed once all its members have trained, and after the unit before it."""
    trained_on = {p: c.ends_on for c in cohorts for p in c.members}
    units: list[Unit] = []
    previous: date | None = None
    for n, people in enumerate(members):
        everyone = [p for ps in people.values() for p in ps]
        if not everyone:
            continue
        formed = max(trained_on[p] for p in everyone) + DEPLOYED_AFTER_TRAINING
        if previous is not None and formed <= previous:
            formed = previous + timedelta(days=1)
        previous = formed
        if n < len(UNITS):
            unit_id, name, kind, location = UNITS[n]
            per_party = len(people[COALITIONS[0]])
            posts = max(1, per_party // COMMAND_POST_EVERY)
            units.append(
                Unit(unit_id, name, kind, location, formed, {c: tuple(people[c]) for c in COALITIONS}, posts)
            )
        else:
            units.append(
                Unit(
                    OTHER_UNITS,
                    "Other units of the defence forces",
                    "other",
                    "Bamako",
                    formed,
                    {c: tuple(people[c]) for c in COALITIONS},
                    0,
                    thirds_applies=False,
                )
            )
    return tuple(units)


def _desertions(units: Sequence[Unit], integrated: int) -> tuple[Desertion, ...]:
    """About 163 of the Gao unit's CMA members (scaled to the run; never its command posts), then every CMA
    member of the Kidal unit."""
    by_id = {u.unit_id: u for u in units}
    gao, kidal = by_id["BATFAR-Gao"], by_id["BATFAR-Kidal"]
    ranks = gao.members["CMA"][gao.command_posts :]
    wanted = max(1, round(GAO_DESERTERS * integrated / REPORT_FIT))
    return (
        Desertion(GAO_DESERTIONS_ON, gao.unit_id, tuple(ranks[:wanted])),
        Desertion(KIDAL_CMA_LEFT_ON, kidal.unit_id, kidal.members["CMA"]),
    )


def _waves(unfit: Sequence[str]) -> tuple[tuple[date, tuple[str, ...]], ...]:
    """The unfit enrolled in reinsertion in five waves over 2020 and 2021."""
    count = len(REINSERTION_WAVES)
    waves = tuple(
        (on, tuple(unfit[n * len(unfit) // count : (n + 1) * len(unfit) // count]))
        for n, on in enumerate(REINSERTION_WAVES)
    )
    return tuple(wave for wave in waves if wave[1])
