"""The accelerated DDR of the report, driven through the services' public APIs, on the report's own timeline.

Shaped like the report's figures: the movements of the two signatory coalitions submit certified lists in
2018; from the launch on 6 November 2018, 2,300 combatants are registered biometrically (1,423 by the end of
2018) and hand over their weapons; screening separates the children, finds 535 medically unfit after
re-examinations, and sends 1,765 to integration: three-month cohorts at Kati from January 2019, four units
formed in the order Gao, Timbuktu, Ménaka, Kidal under the rule of thirds; the unfit go to socio-economic
reinsertion in 2020-2021; CVR projects run 2021-2023; in October 2023 about 163 members desert the Gao unit
and the CMA members leave the Kidal unit. ``Shape`` scales it down for the end-to-end test.

Every fact is recorded with the day it happened (:mod:`tests.e2e.timeline` plans them all first), years
after the fact: each party that records it is also a records officer and says why (Back-Recording-Reason).
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from ddr_registration.adapters.list_files import ListFileWriter
from ddr_registration.domain.members import Category
from ddr_registration.simulate.caseload import CaseloadRow, generate_caseload
from ddr_runtime.auth.roles import Role
from tests.e2e import timeline
from tests.e2e.platform import Caller, Platform, ScenarioError, eventually
from tests.e2e.timeline import Adult, Plan

COALITIONS: dict[str, tuple[str, ...]] = {
    "CMA": ("MNLA", "HCUA", "MAA-CMA"),
    "Platform": ("GATIA", "CMFPR", "CPA", "MAA-Platform"),
}
COALITION_OF = {movement: coalition for coalition, members in COALITIONS.items() for movement in members}
COALITION_SINCE = date(2014, 6, 1)
REGISTRATION_SITES = ("Gao", "Timbuktu", "Kidal")
HISTORY = "the accelerated DDR's records of 2018-2023, entered from the CNDDR's and MINUSMA's files"
"""Why the demo records the past: every party that records a fact older than the window says so."""
BULK = 1000  # items in one bulk upload
ALL = {"atomic": "true"}  # the demo's uploads are all valid: one refusal is a defect of the scenario, loudly


@dataclass(frozen=True)
class Shape:
    """How big the run is. The defaults are the report's accelerated DDR."""

    registered: int = 2_300
    finally_unfit: int = 535
    children: int = 12
    seed: int = 2018
    movements: tuple[str, ...] = ("MNLA", "HCUA", "MAA-CMA", "GATIA", "CMFPR", "CPA", "MAA-Platform")


@dataclass
class Progress:
    """Where the run stands; the demo prints it, the test ignores it."""

    report: Callable[[str, int, int], None] = field(default=lambda _stage, _done, _total: None)


@dataclass
class Outcome:
    """What the run did, for the funnel check and the demo's closing words."""

    persons: dict[str, dict[str, Any]] = field(default_factory=dict)  # person id -> listed row summary
    registered: list[str] = field(default_factory=list)
    children: list[str] = field(default_factory=list)
    tracks: dict[str, list[str]] = field(default_factory=dict)  # screening's outcome: track -> person ids
    list_rows: int = 0
    phases: dict[str, float] = field(default_factory=dict)  # step of the run -> seconds it took (wall time)

    @asynccontextmanager
    async def timed(self, phase: str) -> AsyncIterator[None]:
        started = time.monotonic()
        try:
            yield
        finally:
            self.phases[phase] = time.monotonic() - started


def day(on: date) -> str:
    return on.isoformat()


# -- registration -----------------------------------------------------------------------------------------


async def movements_and_coalitions(platform: Platform) -> None:
    officer = platform.party("cnddr-officer", Role.CNDDR_OFFICER, back_recording=HISTORY)
    existing = {m["code"] for m in await officer.get("registration", "/movements")}
    for coalition, members in COALITIONS.items():
        if coalition not in existing:
            await officer.post(
                "registration",
                "/movements",
                {"code": coalition, "display_name": coalition, "kind": "coalition"},
            )
        for movement in members:
            if movement in existing:
                continue
            await officer.post("registration", "/movements", {"code": movement, "display_name": movement})
            await officer.change(
                "registration",
                f"/movements/{movement}",
                f"/movements/{movement}/coalitions",
                {"coalition": coalition, "since": day(COALITION_SINCE)},
            )


async def submit_certified_lists(
    platform: Platform, shape: Shape, progress: Progress, outcome: Outcome
) -> None:
    """Each movement's list: generated (synthetic people), submitted by its liaison before the launch (its
    members pre-registered that day), certified by the movement, endorsed by the CTS then the CNDDR."""
    rows = _rows_with_children(shape)
    cts = platform.party("cts-officer", Role.CTS_OFFICER, back_recording=HISTORY)
    cnddr = platform.party("cnddr-officer", Role.CNDDR_OFFICER, back_recording=HISTORY)
    with tempfile.TemporaryDirectory(prefix="ddr-demo-lists-") as folder:
        writers: dict[str, ListFileWriter] = {}
        try:
            for row in rows:
                if row.movement not in writers:
                    writers[row.movement] = ListFileWriter(Path(folder) / f"{row.movement}.csv").__enter__()
                writers[row.movement].write(row.member)
        finally:
            for writer in writers.values():
                writer.__exit__(None, None, None)
        for done, (movement, writer) in enumerate(sorted(writers.items()), start=1):
            liaison = platform.party(
                f"liaison-{movement}", Role.MOVEMENT_LIAISON, movement=movement, back_recording=HISTORY
            )
            report = await liaison.call(
                "registration",
                "POST",
                "/lists",
                params={"movement": movement, "on": day(timeline.LISTS_SUBMITTED_ON)},
                files={"file": (writer.path.name, writer.path.read_bytes(), "text/csv")},
            )
            outcome.list_rows += int(report["rows_pre_registered"]) + int(report["rows_already_listed"])
            list_id, number = report["list_id"], report["list_version"]
            await _certify_and_endorse(liaison, cts, cnddr, list_id, number)
            progress.report("lists", done, len(writers))


def _rows_with_children(shape: Shape) -> list[CaseloadRow]:
    """Synthetic lists of armed members, asked of the generator with the combatants and the children the
    scenario needs: the generator lists as many rows as that takes, for any seed. Ages are drawn as of a
    year before the launch, so an adult is an adult on whichever day of 2018-2019 they register."""
    caseload = generate_caseload(
        shape.registered,
        shape.seed,
        duplicate_share=0.0,
        armed_share=1.0,
        minor_share=0.02,
        movements=shape.movements,
        # Some listed combatants are minors (about 2 %): they are separated, so the lists hold more.
        at_least={
            Category.COMBATANT: shape.registered + shape.registered // 20 + 5,
            Category.CHILD: shape.children,
        },
        registration_day=timeline.AGES_AS_OF,
    )
    return list(caseload.rows())


async def _certify_and_endorse(
    liaison: Caller, cts: Caller, cnddr: Caller, list_id: str, number: int
) -> None:
    submitted = timeline.LISTS_SUBMITTED_ON
    for caller, path, body in (
        (liaison, "certification", {"on": day(submitted + timedelta(days=7))}),
        (cts, "endorsements", {"body": "CTS", "on": day(submitted + timedelta(days=14))}),
        (cnddr, "endorsements", {"body": "CNDDR", "on": day(submitted + timedelta(days=21))}),
    ):
        await caller.change(
            "registration", f"/lists/{list_id}", f"/lists/{list_id}/versions/{number}/{path}", body
        )


async def pre_registered_persons(caller: Caller) -> list[dict[str, Any]]:
    """Every record of registration's ``GET /persons`` that ``caller`` may see."""
    found: list[dict[str, Any]] = []
    offset = 0
    while True:
        page = await caller.get("registration", "/persons", offset=offset, limit=500)
        found.extend(page)
        if len(page) < 500:
            return found
        offset += 500


async def choose_and_plan(platform: Platform, shape: Shape, outcome: Outcome) -> Plan:
    """Who registers (the armed combatants up to ``shape.registered``, and the listed children), and the
    plan of everything that happens to them. A CNDDR officer sees the adults' records only; children's
    records are child protection's to see (the one rule of issue 14), so the children are chosen there."""
    officer = platform.party("cnddr-officer", Role.CNDDR_OFFICER)
    child_protection = platform.party("unicef-child-protection", Role.CHILD_PROTECTION)
    persons = sorted(await pre_registered_persons(officer), key=lambda p: str(p["person_id"]))  # lists mixed
    childrens = sorted(await pre_registered_persons(child_protection), key=lambda p: str(p["person_id"]))
    both = {p["person_id"] for p in persons} & {p["person_id"] for p in childrens}
    if both:
        raise ScenarioError(f"{len(both)} records shown both to a CNDDR officer and as children's records")
    children = [p for p in childrens if p.get("category") == "child"][: shape.children]
    if len(children) < shape.children:
        raise ScenarioError(f"the lists hold {len(children)} children, not {shape.children}")
    # The accelerated DDR registered armed combatants; the other listed members stay pre-registered.
    adults = [
        p
        for p in persons
        if p.get("category") == "combatant"
        and p.get("armed")
        and not timeline.possibly_minor(
            p["birth_kind"], p.get("birth_year"), p.get("birth_date"), timeline.LAUNCH
        )
    ][: shape.registered]
    if len(adults) < shape.registered:
        raise ScenarioError(f"the lists hold {len(adults)} adult armed combatants, not {shape.registered}")
    outcome.persons.update({p["person_id"]: p for p in (*adults, *children)})
    outcome.registered = [p["person_id"] for p in adults]
    outcome.children = [p["person_id"] for p in children]
    return timeline.plan(
        [Adult(p["person_id"], COALITION_OF[p["movement"]]) for p in adults],
        outcome.children,
        finally_unfit=shape.finally_unfit,
        seed=shape.seed,
        list_rows=outcome.list_rows,
        pre_registered=len(persons),
        child_records=len(childrens),
    )


async def register_biometrically(platform: Platform, progress: Progress, plan: Plan) -> None:
    """Biometric registration in the order of the days the sites registered people (each item of a bulk
    upload carries its own day), each adult handing over the weapon their list declared the same day.

    Children are registered by the CNDDR's child protection focal point (a CNDDR officer who also holds child
    protection): only child protection sees a child's record, and only a CNDDR officer registers."""
    officer = platform.party("cnddr-officer", Role.CNDDR_OFFICER, back_recording=HISTORY)
    focal_point = platform.party(
        "cnddr-child-protection-focal-point",
        Role.CNDDR_OFFICER,
        Role.CHILD_PROTECTION,
        back_recording=HISTORY,
    )
    children = set(plan.children)
    chosen = sorted(plan.registered_on, key=lambda p: (plan.registered_on[p], p))
    for start in range(0, len(chosen), BULK):
        people = chosen[start : start + BULK]
        items = [
            {
                "person_id": person_id,
                "biometric_reference": f"bio-{person_id}",
                "site": REGISTRATION_SITES[(start + n) % len(REGISTRATION_SITES)],
                "on": day(plan.registered_on[person_id]),
            }
            for n, person_id in enumerate(people)
        ]
        for registrar, mine in (
            (officer, [i for i in items if i["person_id"] not in children]),
            (focal_point, [i for i in items if i["person_id"] in children]),
        ):
            if mine:
                await registrar.post("registration", "/registrations/bulk", mine, params=ALL)
        weapons = [
            {
                "person_id": person_id,
                "type": "AK-47",
                "calibre": "7.62x39",
                "serial": f"SN-{person_id[:8]}",
                "condition": "serviceable",
                "tag": f"TAG-{person_id[:8]}",
                "custodian": "MINUSMA DDR section, Gao",
                "on": day(plan.registered_on[person_id]),
            }
            for person_id in people
            if person_id not in children
        ]
        if weapons:
            await officer.post("registration", "/weapons/bulk", weapons, params=ALL)
        progress.report("registration", start + len(people), len(chosen))


# -- screening --------------------------------------------------------------------------------------------


async def screening(platform: Platform, progress: Progress, outcome: Outcome, plan: Plan) -> None:
    """Cases open from the registration events; child protection takes each child the next day; examiners
    find the unfit, some of them contested and re-examined, as the plan says, each on its day."""
    officer = platform.party("screening-officer", Role.SCREENING_OFFICER, back_recording=HISTORY)
    examiner = platform.party("medical-examiner", Role.EXAMINER, back_recording=HISTORY)
    child_protection = platform.party(
        "unicef-child-protection", Role.CHILD_PROTECTION, back_recording=HISTORY
    )
    children = set(plan.children)
    expected = len(plan.registered_on) - len(children)

    async def all_open() -> int | None:
        # An adult whose age is unknown is a possible child: their case is child protection's alone (left out
        # of the officer's count) until child protection assesses the age; then it counts among the adults'.
        await _assess_ages(child_protection, plan)
        cases = int((await officer.get("screening", "/figures"))["cases"])
        progress.report("screening cases", min(cases, expected), expected)
        return cases if cases >= expected else None

    await eventually(all_open, what=f"{expected} screening cases", within=600)
    for done, child in enumerate(plan.children, start=1):
        handover = {
            "receiving_actor": "UNICEF-led child protection task force, Gao",
            "handed_over_at": day(plan.registered_on[child] + timeline.CHILD_HANDED_OVER_AFTER),
        }

        async def handed_over(child: str = child, handover: dict[str, str] = handover) -> bool:
            # a child's case answers 404 until screening has opened it from the registration event
            await child_protection.post("screening", f"/cases/{child}/handover", handover)
            return True

        await eventually(handed_over, what=f"the handover of a child's case ({done})", within=600)
        progress.report("children handed over", done, len(plan.children))

    first = [
        {"person_id": e.person_id, "result": e.result, "examined_on": day(e.on)}
        | ({"details": "disability recorded by the examiner"} if e.result == "unfit" else {})
        for e in plan.first_examinations
    ]
    for start in range(0, len(first), 1000):
        await examiner.post(
            "screening", "/examinations/bulk", {"items": first[start : start + 1000]}, params=ALL
        )
        progress.report("examinations", min(start + 1000, len(first)), len(first))
    for person_id, requested in plan.re_examination_requests:
        await officer.post(
            "screening",
            f"/cases/{person_id}/re-examination-requests",
            {"reason": "examination disputed", "requested_on": day(requested)},
        )
    second = [
        {"person_id": e.person_id, "result": e.result, "examined_on": day(e.on)}
        for e in plan.second_examinations
    ]
    await examiner.post("screening", "/examinations/bulk", {"items": second}, params=ALL)
    await _clear_pending_queues(platform, plan)

    async def decided() -> dict[str, int] | None:
        by_track: dict[str, int] = (await officer.get("screening", "/figures"))["by_track"]
        progress.report("screening outcomes", expected - by_track.get("undecided", 0), expected)
        return by_track if not by_track.get("undecided") else None

    await eventually(decided, what="every screening outcome", within=300)
    outcome.tracks = {
        track: await _outcomes(officer, track)
        for track in ("integration", "reinsertion", "not_eligible", "cvr")
    }
    planned = {"integration": sorted(plan.integrated), "reinsertion": sorted(plan.unfit)}
    found = {track: sorted(outcome.tracks[track]) for track in planned}
    if found != planned:
        raise ScenarioError(
            "screening decided other tracks than planned: "
            + ", ".join(f"{t}: {len(found[t])} (planned {len(planned[t])})" for t in planned)
        )


async def _clear_pending_queues(platform: Platform, plan: Plan) -> None:
    """What else holds a decision: an unknown age (assessed by child protection), no weapon handed over (a
    handling test), an examination still due; each dated before the person's examination, so the outcome
    stays the examination's."""
    child_protection = platform.party(
        "unicef-child-protection", Role.CHILD_PROTECTION, back_recording=HISTORY
    )
    officer = platform.party("screening-officer", Role.SCREENING_OFFICER, back_recording=HISTORY)
    examiner = platform.party("medical-examiner", Role.EXAMINER, back_recording=HISTORY)

    def next_day(person_id: str) -> str:
        return day(plan.registered_on[person_id] + timedelta(days=1))

    for _ in range(3):
        ages = await _assess_ages(child_protection, plan)
        weapons = (await officer.get("screening", "/queues/weapon", limit=1000))["items"]
        if weapons:
            await officer.post(
                "screening",
                "/handling-tests/bulk",
                {
                    "items": [
                        {"person_id": c["person_id"], "passed": True, "tested_on": next_day(c["person_id"])}
                        for c in weapons
                    ]
                },
                params=ALL,
            )
        due = (await examiner.get("screening", "/queues/medical", limit=1000))["items"]
        if due:
            await examiner.post(
                "screening",
                "/examinations/bulk",
                {
                    "items": [
                        {
                            "person_id": c["person_id"],
                            "result": "fit",
                            "examined_on": day(plan.examined_on(c["person_id"])),
                        }
                        for c in due
                    ]
                },
                params=ALL,
            )
        if not (ages or weapons or due):
            return


async def _assess_ages(child_protection: Caller, plan: Plan) -> list[dict[str, Any]]:
    """Child protection assesses the age of every case waiting for it (the demo's are adults), dated the day
    after the registration; the cases assessed."""
    ages: list[dict[str, Any]] = (
        await child_protection.get("screening", "/queues/age_assessment", limit=1000)
    )["items"]
    if ages:
        await child_protection.post(
            "screening",
            "/age-assessments/bulk",
            {
                "items": [
                    {
                        "person_id": c["person_id"],
                        "method": "medical",
                        "youngest_age": 24,
                        "assessed_on": day(plan.registered_on[c["person_id"]] + timedelta(days=1)),
                    }
                    for c in ages
                ]
            },
            params=ALL,
        )
    return ages


async def _outcomes(officer: Caller, track: str) -> list[str]:
    found: list[str] = []
    while True:
        page = await officer.get("screening", "/outcomes", track=track, offset=len(found), limit=1000)
        found.extend(item["person_id"] for item in page)
        if len(page) < 1000:
            return found


# -- integration ------------------------------------------------------------------------------------------

PROVISIONAL_GRADES = "provisional-2018"
DECREE_RULES = "decree-0874-2019"


async def integration_offer(platform: Platform) -> None:
    """Before screening decides: the integration places on offer (the objective of 3,000 troops), the
    provisional training grades of the launch and the rank harmonisation rules of the 2019 decree, so
    candidates are accepted as their outcomes arrive."""
    nic = platform.party("nic-officer", Role.NIC_OFFICER, back_recording=HISTORY)
    start, end = timeline.QUOTA_PERIOD
    await nic.post(
        "integration",
        "/quotas",
        {
            "quota_id": "accelerated-ddr",
            "period_start": day(start),
            "period_end": day(end),
            "limit": timeline.QUOTA_LIMIT,
            "decision_ref": "accord de Bamako, volet intégration; résolution 2480 (2019)",
            "reason": "integration places offered to the signatory movements for the accelerated DDR",
            "decided_on": day(timeline.QUOTA_DECIDED_ON),
        },
    )
    await nic.post(
        "integration",
        "/rank-rules",
        {
            "rule_version": PROVISIONAL_GRADES,
            "decree_ref": "Commission nationale d'intégration: grade provisoire des stagiaires de Kati",
            "effective_from": day(timeline.INTERIM_RANKS_FROM),
            "published_on": day(timeline.INTERIM_RANKS_FROM),
            "rules": [{"min_years": 0, "rank": "soldat de 2e classe", "command_function": "aucune"}],
        },
    )
    await nic.post(
        "integration",
        "/rank-rules",
        {
            "rule_version": DECREE_RULES,
            "decree_ref": "Décret n°0874/P-RM du 30 octobre 2019",
            "effective_from": day(timeline.DECREE),
            "published_on": day(timeline.DECREE),
            "rules": [
                {
                    "movement_ranks": ["colonel", "commandant", "capitaine"],
                    "min_years": 5,
                    "qualifications": [],
                    "rank": "lieutenant",
                    "command_function": "chef de section",
                },
                {
                    "movement_ranks": ["lieutenant", "adjudant", "sergent"],
                    "min_years": 3,
                    "qualifications": [],
                    "rank": "sergent",
                    "command_function": "chef de groupe",
                },
                {"min_years": 0, "rank": "soldat de 2e classe", "command_function": "aucune"},
            ],
        },
    )


async def integration(platform: Platform, progress: Progress, plan: Plan) -> None:
    """Training at Kati cohort after cohort (each trainee graded at the cohort's roll, the provisional
    grades reclassified under the decree on its day), the units formed in order under the rule of thirds
    (each unit's armed forces contingent recorded by the defence liaison), then the desertions of 2023."""
    nic = platform.party("nic-officer", Role.NIC_OFFICER, back_recording=HISTORY)
    mod = platform.party("mod-liaison", Role.MOD_LIAISON, back_recording=HISTORY)
    fit = len(plan.integrated)

    async def all_arrived() -> dict[str, int] | None:
        statuses: dict[str, int] = (await nic.get("integration", "/figures"))["candidates_by_status_now"]
        progress.report("integration candidates", sum(statuses.values()), fit)
        return statuses if sum(statuses.values()) >= fit else None

    await eventually(all_arrived, what=f"{fit} integration candidates", within=600)
    # Anyone deferred (e.g. arrived while no quota was open) is accepted by the commission's decision.
    deferred = await nic.get("integration", "/candidates", status="deferred", limit=1000)
    for candidate in deferred["items"]:
        person_id = candidate["person_id"]
        await nic.post(
            "integration",
            f"/candidates/{person_id}/acceptance",
            {"effective_on": day(plan.accepted_on(person_id))},
        )

    async def all_accepted() -> int | None:
        statuses = (await nic.get("integration", "/figures"))["candidates_by_status_now"]
        accepted = int(statuses.get("accepted", 0))
        progress.report("integration accepted", accepted, fit)
        return accepted if accepted >= fit else None

    await eventually(all_accepted, what=f"{fit} integration candidates accepted", within=600)
    reclassified = list(plan.reclassified())
    trained = 0
    for cohort in plan.cohorts:
        if reclassified and cohort.roll_on >= timeline.DECREE:
            await _allocate_ranks(nic, reclassified, timeline.DECREE)
            reclassified = []
        await _allocate_ranks(nic, list(cohort.members), cohort.roll_on)
        await nic.post(
            "integration",
            "/cohorts",
            {
                "cohort_id": cohort.cohort_id,
                "camp": "Kati",
                "capacity": timeline.KATI_CAPACITY,
                "starts_on": day(cohort.starts_on),
                "duration_days": timeline.COHORT_DAYS,
                "opened_on": day(cohort.roll_on),
            },
        )
        await nic.post(
            "integration",
            f"/cohorts/{cohort.cohort_id}/enrolments",
            {"person_ids": list(cohort.members), "effective_on": day(cohort.starts_on)},
            params=ALL,
        )
        await nic.post(
            "integration",
            f"/cohorts/{cohort.cohort_id}/outcomes",
            {
                "outcomes": [{"person_id": p, "outcome": "completed"} for p in cohort.members],
                "effective_on": day(cohort.ends_on),
            },
            params=ALL,
        )
        trained += len(cohort.members)
        progress.report("trained at Kati", trained, fit)
    if reclassified:
        await _allocate_ranks(nic, reclassified, timeline.DECREE)

    for index, unit in enumerate(plan.units, start=1):
        await nic.post(
            "integration",
            "/units",
            {
                "unit_id": unit.unit_id,
                "display_name": unit.name,
                "kind": unit.kind,
                "location": unit.location,
                "establishment": unit.per_party * 3 + 30 if unit.thirds_applies else len(unit.all_members()),
                "thirds_applies": unit.thirds_applies,
                "established_on": day(unit.formed_on),
            },
        )
        if unit.thirds_applies:
            await mod.post(
                "integration",
                f"/units/{unit.unit_id}/armed-forces-contingent",
                {
                    "strength": unit.per_party,
                    "command_posts": unit.command_posts,
                    "effective_on": day(unit.formed_on),
                },
            )
        assignments = [
            {"person_id": p, "command_post": n < unit.command_posts}
            for people in unit.members.values()
            for n, p in enumerate(people)
        ]
        await nic.post(
            "integration",
            f"/units/{unit.unit_id}/assignments",
            {"assignments": assignments, "effective_on": day(unit.formed_on)},
            params=ALL,
        )
        progress.report("units formed", index, len(plan.units))
    for desertion in plan.desertions:
        await nic.post(
            "integration",
            "/service-records",
            {
                "entries": [{"person_id": p, "status": "deserted"} for p in desertion.person_ids],
                "effective_on": day(desertion.on),
            },
            params=ALL,
        )


async def _allocate_ranks(nic: Caller, people: Sequence[str], on: date) -> None:
    for start in range(0, len(people), 2000):
        await nic.post(
            "integration",
            "/rank-allocations",
            {
                "entries": [
                    {"person_id": p, "years_of_service": 4, "qualification": "basic_military"}
                    for p in people[start : start + 2000]
                ],
                "effective_on": day(on),
            },
            params=ALL,
        )


# -- reinsertion ------------------------------------------------------------------------------------------

REINSERTION_PACKAGE: dict[str, Any] = {
    "package_id": "agri-livestock",
    "kind": "livestock",
    "title": "Élevage (petits ruminants)",
    "caseloads": ["ex_combatant"],
    "currency": "XOF",
    "base_amount": 450_000,
    "per_dependant_amount": 10_000,
    "max_dependants": 4,
    "tranches": [
        {"number": 1, "share_percent": 50, "due_after_days": 0},
        {"number": 2, "share_percent": 30, "due_after_days": 60, "condition": "training_attended"},
        {"number": 3, "share_percent": 20, "due_after_days": 120, "condition": "follow_up_visit"},
    ],
    "follow_up_after_days": [90, 180],
    "effective_on": day(timeline.REINSERTION_PACKAGE_FROM),
}
BUDGET_LINE = "wb-ida-2020"


async def reinsertion(platform: Platform, progress: Progress, outcome: Outcome, plan: Plan) -> dict[str, Any]:
    """The medically unfit arrive from screening; in waves over 2020 and 2021 each is counselled, chooses a
    package funded by the World Bank line, and is paid a first tranche."""
    officer = platform.party("reinsertion-officer", Role.REINSERTION_OFFICER, back_recording=HISTORY)
    finance = platform.party("finance-officer", Role.FINANCE_OFFICER, back_recording=HISTORY)
    await officer.call("reinsertion", "POST", "/packages", json=REINSERTION_PACKAGE, expect=(201, 409))
    await finance.call(
        "reinsertion",
        "POST",
        "/budget-lines",
        json={
            "line_id": BUDGET_LINE,
            "funding_source": "World Bank",
            "title": "IDA grant to the CNDDR, reinsertion",
            "currency": "XOF",
            "allotted": 2_400_000_000,
            "opened_on": day(timeline.BUDGET_LINE_OPENED_ON),
        },
        expect=(201, 409),
    )
    await finance.post(
        "reinsertion",
        f"/budget-lines/{BUDGET_LINE}/receipts",
        {"amount": 1_200_000_000, "reference": "DA-1", "received_on": day(timeline.FUNDS_RECEIVED_ON)},
    )
    unfit = len(plan.unfit)

    async def all_waiting() -> int | None:
        waiting: list[dict[str, Any]] = []
        while True:  # pages of at most 1,000 (the runtime's bound on every list route)
            page = await officer.get(
                "reinsertion", "/beneficiaries", stage="waiting", offset=len(waiting), limit=1000
            )
            waiting.extend(page)
            if len(page) < 1000:
                break
        progress.report("reinsertion arrivals", len(waiting), unfit)
        return len(waiting) if len(waiting) >= unfit else None

    await eventually(all_waiting, what=f"{unfit} reinsertion beneficiaries", within=600)
    done = 0
    for on, people in plan.reinsertion_waves:
        await officer.post(
            "reinsertion",
            "/enrolments",
            {
                "enrolments": [
                    {
                        "person_id": p,
                        "package_id": REINSERTION_PACKAGE["package_id"],
                        "line_id": BUDGET_LINE,
                        "skills": ["élevage"],
                        "literacy": "basic",
                        "area_of_return": outcome.persons[p]["region"],
                        "dependants": n % 5,
                        "enrolled_on": day(on),
                    }
                    for n, p in enumerate(people)
                ]
            },
        )
        await finance.post(
            "reinsertion",
            "/disbursements/batch",
            {
                "disbursements": [
                    {
                        "request_id": f"first-tranche-{p}",
                        "person_id": p,
                        "tranche": 1,
                        "office": "Gao",
                        "paid_on": day(on),
                    }
                    for p in people
                ]
            },
        )
        done += len(people)
        progress.report("reinsertion enrolled and paid", done, unfit)
    line: dict[str, Any] = await finance.get("reinsertion", f"/budget-lines/{BUDGET_LINE}")
    return line


# -- community violence reduction -------------------------------------------------------------------------

CVR_PROJECTS: tuple[tuple[str, str, str, str], ...] = (
    # (type, region, cercle, commune); budgets in timeline.CVR_BUDGETS
    ("vocational_training", "Gao", "Gao", "Gao"),
    ("income_generating_activity", "Tombouctou", "Tombouctou", "Tombouctou"),
    ("agriculture_and_gardening", "Mopti", "Mopti", "Sévaré"),
    ("lighting_and_security", "Ménaka", "Ménaka", "Ménaka"),
)


async def enrol_until_linked(runner: Caller, project_id: str, participants: list[dict[str, Any]]) -> None:
    """Enrol with participant ids chosen here, so that a retry enrols nobody twice; retried until CVR has
    learnt of the registered ex-combatants from the registration topic."""

    async def enrolled() -> bool | None:
        answer = await runner.post(
            "cvr", f"/projects/{project_id}/participants", {"participants": participants}
        )
        refused = [item for item in answer["items"] if item["status"] == "refused"]
        if any(item["rule"] != "participant-enrolled" for item in refused):
            return None
        return True

    await eventually(
        enrolled, what=f"the participants of CVR project {project_id} to be enrolled", within=120
    )


async def cvr_projects(platform: Platform, progress: Progress, plan: Plan) -> list[str]:
    """Local NGOs and a consortium run projects through local review and regional then national appraisal,
    2021-2023; community members and a few former combatants of the reinsertion caseload take part; the
    projects complete and are handed over."""
    officer = platform.party("cnddr-officer", Role.CNDDR_OFFICER, back_recording=HISTORY)
    committee = platform.party("committee-member", Role.COMMITTEE_MEMBER, back_recording=HISTORY)
    for ngo in ("ngo-tassaght", "ngo-aden", "ngo-kondo", "ngo-ir-ganda"):
        await officer.call(
            "cvr",
            "POST",
            "/partners/ngos",
            json={"partner_id": ngo, "display_name": ngo, "registered_on": "2015-01-15"},
            expect=(201, 409),
        )
    await officer.call(
        "cvr",
        "POST",
        "/partners/consortia",
        json={
            "partner_id": "consortium-menaka",
            "display_name": "Consortium Ménaka",
            "lead_partner_id": "ngo-ir-ganda",
            "member_partner_ids": ["ngo-ir-ganda", "ngo-tassaght"],
            "registered_on": "2019-03-01",
        },
        expect=(201, 409),
    )
    partners = ("ngo-tassaght", "ngo-aden", "ngo-kondo", "consortium-menaka")
    projects: list[str] = []
    for project, (kind, region, cercle, commune), partner in zip(
        plan.cvr_projects, CVR_PROJECTS, partners, strict=True
    ):
        runner = platform.party(
            f"partner-{partner}", Role.CVR_PARTNER, partner=partner, back_recording=HISTORY
        )
        budget = timeline.CVR_BUDGETS[project.index]
        created = await runner.post(
            "cvr",
            "/projects",
            {
                "title": f"{kind.replace('_', ' ')} in {commune}",
                "project_type": kind,
                "programme": "crp" if region == "Mopti" else "northern",
                "region": region,
                "cercle": cercle,
                "commune": commune,
                "location": f"{commune} centre",
                "budget": str(budget),
                "currency": "USD",
                "duration_months": timeline.CVR_MONTHS,
                "planned_start": day(project.starts_on),
                "armed_groups_active": True,
                "direct_beneficiaries_target": timeline.CVR_DIRECT,
                "submitted_on": day(project.submitted_on),
            },
        )
        project_id = created["project_id"]
        await officer.post(
            "cvr",
            f"/projects/{project_id}/risk-analysis",
            {
                "analysed_on": day(project.analysed_on),
                "political": "medium",
                "fiduciary": "low",
                "legal": "low",
                "reputational": "medium",
                "mitigation": "community leaders on the steering committee; payments by mobile money",
            },
        )
        for step, (name, on) in enumerate(project.reviews):
            await committee.post(
                "cvr",
                f"/projects/{project_id}/decisions",
                {
                    "committee": name,
                    "decided_on": day(on),
                    "members_present": ["CNDDR", "MINUSMA CVR", "regional governor's office"],
                    "outcome": "cleared",
                    "human_rights_vetting": "cleared" if step == 0 else "not_applicable",
                },
            )
        await officer.post(
            "cvr",
            f"/projects/{project_id}/tranches",
            {"amount": str(budget), "currency": "USD", "paid_on": day(project.starts_on)},
        )
        participants = [
            {"category": "ex_combatant", "sex": "M", "enrolled_on": day(project.enrolled_on), "person_id": p}
            for p in project.ex_combatants
        ] + [
            {"category": "community", "sex": "F" if n % 2 else "M", "enrolled_on": day(project.enrolled_on)}
            for n in range(timeline.CVR_COMMUNITY_PER_PROJECT)
        ]
        for n, participant in enumerate(participants):
            participant["participant_id"] = f"{project_id}-{n:02d}"
        await enrol_until_linked(runner, project_id, participants)
        await runner.post(
            "cvr",
            f"/projects/{project_id}/beneficiary-counts",
            {
                "counted_on": day(project.completed_on),
                "direct": timeline.CVR_DIRECT,
                "direct_women": timeline.CVR_DIRECT_WOMEN,
                "indirect": timeline.CVR_INDIRECT,
                "indirect_women": timeline.CVR_INDIRECT_WOMEN,
            },
        )
        await officer.post(
            "cvr", f"/projects/{project_id}/completion", {"completed_on": day(project.completed_on)}
        )
        await officer.post(
            "cvr",
            f"/projects/{project_id}/handover",
            {"handed_over_on": day(project.handed_over_on), "handed_over_to": f"commune of {commune}"},
        )
        projects.append(project_id)
        progress.report("cvr projects", project.index + 1, len(plan.cvr_projects))
    return projects


# -- the whole run ----------------------------------------------------------------------------------------


FIGURE_READERS = (Role.CNDDR_OFFICER, Role.AUDITOR)
"""Who reads pathway's figures at the end: a commission's officer (children's and vetting counts through
``disclose_count``) and an auditor (vetting counts exact, children's through ``disclose_count``)."""


@dataclass
class Result:
    outcome: Outcome
    plan: Plan
    figures: dict[
        date, dict[str, Any]
    ]  # pathway's figures as of each of timeline.FIGURE_DATES, as the CNDDR sees them
    thirds: dict[date, dict[str, dict[str, dict[str, int]]]]  # integration's unit compositions
    sample_path: dict[str, Any]
    ledger: dict[str, Any]
    figures_by_reader: dict[Role, dict[date, dict[str, Any]]] = field(default_factory=dict)
    child_protection_figures: tuple[int, dict[str, Any] | None] = (0, None)
    """Pathway's ``GET /figures`` asked with a child protection token: the status and, if 200, the figures."""


async def run(platform: Platform, shape: Shape, progress: Progress) -> Result:
    """The whole accelerated DDR, through the public APIs, then the programme as pathway sees it."""
    outcome = Outcome()
    async with outcome.timed("movements and lists"):
        await movements_and_coalitions(platform)
        await submit_certified_lists(platform, shape, progress, outcome)
    async with outcome.timed("registration and weapons"):
        plan = await choose_and_plan(platform, shape, outcome)
        await register_biometrically(platform, progress, plan)
    async with outcome.timed("screening"):
        await integration_offer(platform)
        await screening(platform, progress, outcome, plan)
    async with outcome.timed("integration"):
        await integration(platform, progress, plan)
    async with outcome.timed("reinsertion"):
        ledger = await reinsertion(platform, progress, outcome, plan)
    async with outcome.timed("cvr"):
        await cvr_projects(platform, progress, plan)
    auditor = platform.party("auditor", Role.AUDITOR)
    officer = platform.party("cnddr-officer", Role.CNDDR_OFFICER)
    last = timeline.FIGURE_DATES[-1]
    expected = _settled(plan.figures(last))

    async def caught_up() -> dict[str, Any] | None:
        figures: dict[str, Any] = await officer.get("pathway", "/figures", as_of=day(last))
        progress.report("pathway caught up", _settled(figures), expected)
        return figures if _settled(figures) >= expected else None

    async with outcome.timed("pathway caught up"):
        await eventually(caught_up, what="pathway to project every event", within=600)
    async with outcome.timed("figures, thirds and a path read back"):
        by_reader = {
            role: {
                on: await platform.party(f"figures-{role}", role).get("pathway", "/figures", as_of=day(on))
                for on in timeline.FIGURE_DATES
            }
            for role in FIGURE_READERS
        }
        child_protection = platform.party("unicef-child-protection", Role.CHILD_PROTECTION)
        asked = await child_protection.request("pathway", "GET", "/figures", params={"as_of": day(last)})
        own = (asked.status_code, asked.json() if asked.status_code == 200 else None)
        thirds = {on: await unit_thirds(platform, plan, on) for on in timeline.THIRDS_DATES}
        deserter = plan.desertions[0].person_ids[0]
        deserter_path: dict[str, Any] = await auditor.get("pathway", f"/paths/{deserter}")
    return Result(
        outcome,
        plan,
        by_reader[Role.CNDDR_OFFICER],
        thirds,
        deserter_path,
        ledger,
        figures_by_reader=by_reader,
        child_protection_figures=own,
    )


def _settled(figures: dict[str, Any]) -> int:
    """How much of the programme's end state figures show: every person's last step counted once, and the
    CVR projects' counts (projected from another topic, so they may arrive last)."""
    funnel, cvr = figures["funnel"], figures["cvr"]
    return int(
        funnel["registered"]
        + sum(funnel["integration"].values())
        + funnel["integration"]["deserted"]
        + sum(funnel["reinsertion"].values())
        + funnel["cvr"]
        + sum(int(value) for name, value in cvr.items() if name != "budget_usd")
    )


async def unit_thirds(platform: Platform, plan: Plan, on: date) -> dict[str, dict[str, dict[str, int]]]:
    """Each reconstituted unit's strength and command posts by party as of ``on``, as integration says."""
    nic = platform.party("nic-officer", Role.NIC_OFFICER)
    found: dict[str, dict[str, dict[str, int]]] = {}
    for unit in plan.units:
        if unit.thirds_applies and unit.formed_on <= on:
            composition = await nic.get("integration", f"/units/{unit.unit_id}/composition", as_of=day(on))
            found[unit.unit_id] = {
                "strength": composition["strength"],
                "command_posts": composition["command_posts"],
            }
    return found


def differences(result: Result) -> list[str]:
    """Where the services' figures differ from what the run says it created (empty: none)."""
    found: list[str] = []
    readers = result.figures_by_reader or {Role.CNDDR_OFFICER: result.figures}
    for reader, by_date in readers.items():
        for on, figures in by_date.items():
            expected = result.plan.figures(on, reader)
            for name, value in expected["funnel"].items():
                if name not in figures["funnel"] or figures["funnel"][name] != value:
                    found.append(
                        f"{on} funnel {name} ({reader}): pathway {figures['funnel'].get(name)}, created {value}"
                    )
            for name, value in expected["cvr"].items():
                if Decimal(str(figures["cvr"].get(name))) != Decimal(value):
                    found.append(
                        f"{on} cvr {name} ({reader}): pathway {figures['cvr'].get(name)}, created {value}"
                    )
    for on, thirds in result.thirds.items():
        if thirds != result.plan.thirds(on):
            found.append(f"{on} thirds: integration {thirds}, created {result.plan.thirds(on)}")
    return found


# -- what the demo shows ----------------------------------------------------------------------------------


CHILDREN_SHOWN = (
    "children's figures are shown only to child protection: children's records count in no other figure, "
    "and anyone else sees their number as none below 5, else rounded down to a multiple of 5"
)


def funnel_rows(figures: dict[str, Any]) -> list[tuple[str, int | None]]:
    """The programme funnel as (stage, people) rows, from pathway's figures (None: a count withheld)."""
    funnel = figures["funnel"]
    rows: list[tuple[str, int | None]] = [
        ("listed (rows of the latest certified lists)", funnel.get("listed") or 0),
        ("pre-registered (adults' records)", funnel["pre_registered"]),
        ("registered (biometric)", funnel["registered"]),
        ("disarmed (weapon handed over)", funnel["disarmed"]),
        ("screened", funnel["screened"]),
        ("children's records (child protection's to see)", funnel["child_protection"]),
        ("benefits held for vetting", funnel.get("benefits_held")),
    ]
    for track in ("integration", "reinsertion"):
        for status, count in funnel[track].items():
            if count:
                rows.append((f"{track}: {status}", count))
    rows.append(("CVR participants (ex-combatants)", funnel["cvr"]))
    rows.append(("waiting for a track", funnel["waiting_for_track"]))
    return rows


def where_next(platform_ports: dict[str, int]) -> list[str]:
    port = platform_ports.get
    return [
        f"API docs of each service: http://127.0.0.1:{port('registration')}/docs … :{port('pathway')}/docs",
        "a token for a role: uv run ddr token --role auditor (see `ddr token --help` for movement/partner/region)",
        f"figures as of a date: GET http://127.0.0.1:{port('pathway')}/figures?as_of=2020-06-30",
        "verify the whole history: uv run ddr audit verify; hand it over: uv run ddr audit export bundle.tar.gz",
        "rebuild the read models while serving: uv run ddr pathway replay start",
        "stop everything: make down",
    ]
