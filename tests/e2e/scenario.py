"""The accelerated DDR of the report, driven through the services' public APIs, stage by stage.

Shaped like the report's figures: the movements of the two signatory coalitions and the CMI submit certified
lists; 2,300 combatants are registered biometrically and hand over their weapons; screening separates the
children, finds 535 medically unfit after re-examinations, and sends 1,765 to integration into four units under
the rule of thirds and the unfit to socio-economic reinsertion; CVR projects run beside it; in late 2023 about
163 members of the Gao unit desert. ``Shape`` scales it down for the end-to-end test.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import zip_longest
from pathlib import Path
from typing import Any, TypeVar

from ddr_registration.adapters.list_files import ListFileWriter
from ddr_registration.domain.members import Category
from ddr_registration.simulate.caseload import CaseloadRow, generate_caseload
from ddr_runtime.auth.roles import Role
from tests.e2e.platform import Caller, Platform, eventually

T = TypeVar("T")

COALITIONS: dict[str, tuple[str, ...]] = {
    "CMA": ("MNLA", "HCUA", "MAA-CMA"),
    "Platform": ("GATIA", "CMFPR", "CPA", "MAA-Platform"),
}
COALITION_SINCE = date(2014, 6, 1)
REGISTRATION_SITES = ("Gao", "Timbuktu", "Kidal")


@dataclass(frozen=True)
class Shape:
    """How big the run is. The defaults are the report's accelerated DDR."""

    registered: int = 2_300
    finally_unfit: int = 535
    children: int = 12
    seed: int = 2018
    movements: tuple[str, ...] = ("MNLA", "HCUA", "MAA-CMA", "GATIA", "CMFPR", "CPA", "MAA-Platform")
    concurrency: int = 8


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
    unfit: list[str] = field(default_factory=list)
    deserters: list[str] = field(default_factory=list)
    tracks: dict[str, list[str]] = field(default_factory=dict)  # screening's outcome: track -> person ids


async def bounded(items: Iterable[T], work: Callable[[T], Awaitable[None]], limit: int) -> None:
    """Run ``work`` over ``items`` with at most ``limit`` calls in flight."""
    gate = asyncio.Semaphore(limit)

    async def one(item: T) -> None:
        async with gate:
            await work(item)

    await asyncio.gather(*(one(item) for item in items))


# -- registration -----------------------------------------------------------------------------------------


async def movements_and_coalitions(platform: Platform) -> None:
    officer = platform.party("cnddr-officer", Role.CNDDR_OFFICER)
    historian = platform.party("cnddr-records", Role.CNDDR_OFFICER, Role.RECORDS_OFFICER)
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
            # Membership since 2014 is history recorded late: a records officer records it, with a reason.
            await historian.call(
                "registration",
                "POST",
                f"/movements/{movement}/coalitions",
                json={"coalition": coalition, "since": COALITION_SINCE.isoformat()},
                headers={
                    "If-Match": await historian.etag("registration", f"/movements/{movement}"),
                    "Back-Recording-Reason": "coalition memberships as agreed before the programme",
                },
            )


async def submit_certified_lists(platform: Platform, shape: Shape, progress: Progress) -> None:
    """Each movement's list: generated (synthetic people), uploaded by its liaison, certified, endorsed."""
    rows = _rows_with_children(shape)
    cts = platform.party("cts-officer", Role.CTS_OFFICER)
    cnddr = platform.party("cnddr-officer", Role.CNDDR_OFFICER)
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
            liaison = platform.party(f"liaison-{movement}", Role.MOVEMENT_LIAISON, movement=movement)
            report = await liaison.call(
                "registration",
                "POST",
                "/lists",
                params={"movement": movement},
                files={"file": (writer.path.name, writer.path.read_bytes(), "text/csv")},
            )
            list_id, number = report["list_id"], report["list_version"]
            await _certify_and_endorse(liaison, cts, cnddr, list_id, number)
            progress.report("lists", done, len(writers))


def _rows_with_children(shape: Shape) -> list[CaseloadRow]:
    """Synthetic lists of armed members, asked of the generator with the combatants and the children the
    scenario needs: the generator lists as many rows as that takes, for any seed."""
    caseload = generate_caseload(
        shape.registered,
        shape.seed,
        duplicate_share=0.0,
        armed_share=1.0,
        minor_share=0.02,
        movements=shape.movements,
        at_least={Category.COMBATANT: shape.registered, Category.CHILD: shape.children},
    )
    return list(caseload.rows())


async def _certify_and_endorse(
    liaison: Caller, cts: Caller, cnddr: Caller, list_id: str, number: int
) -> None:
    for caller, path, body in (
        (liaison, f"/lists/{list_id}/versions/{number}/certification", None),
        (cts, f"/lists/{list_id}/versions/{number}/endorsements", {"body": "CTS"}),
        (cnddr, f"/lists/{list_id}/versions/{number}/endorsements", {"body": "CNDDR"}),
    ):
        await caller.change("registration", f"/lists/{list_id}", path, body)


async def pre_registered_persons(platform: Platform) -> list[dict[str, Any]]:
    officer = platform.party("cnddr-officer", Role.CNDDR_OFFICER)
    found: list[dict[str, Any]] = []
    offset = 0
    while True:
        page = await officer.get("registration", "/persons", offset=offset, limit=500)
        found.extend(page)
        if len(page) < 500:
            return found
        offset += 500


def in_turn_by_movement(persons: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The persons taken in turn from each movement: the lists arrive one movement after another, so the
    first listed would all come from the first movements (and one coalition would have no one to integrate)."""
    by_movement: dict[str, list[dict[str, Any]]] = {}
    for person in persons:
        by_movement.setdefault(person["movement"], []).append(person)
    return [p for turn in zip_longest(*by_movement.values()) for p in turn if p is not None]


async def register_biometrically(
    platform: Platform, shape: Shape, progress: Progress, outcome: Outcome
) -> list[str]:
    """Biometric registration of the adults up to ``shape.registered``, and of every listed child; each
    registered adult hands over the weapon their list declared."""
    officer = platform.party("cnddr-officer", Role.CNDDR_OFFICER)
    persons = await pre_registered_persons(platform)
    children = [p for p in persons if p.get("category") == "child"][: shape.children]
    # The accelerated DDR registered armed combatants; the other listed members stay pre-registered.
    adults = in_turn_by_movement([p for p in persons if p.get("category") == "combatant" and p.get("armed")])[
        : shape.registered
    ]
    chosen = [*adults, *children]
    done = 0

    async def register(person: dict[str, Any]) -> None:
        nonlocal done
        person_id = person["person_id"]
        await officer.change(
            "registration",
            f"/persons/{person_id}",
            f"/persons/{person_id}/registration",
            {
                "biometric_reference": f"bio-{person_id}",
                "site": REGISTRATION_SITES[done % len(REGISTRATION_SITES)],
            },
        )
        if person.get("category") != "child":
            await officer.post(
                "registration",
                "/weapons",
                {
                    "person_id": person_id,
                    "type": "AK-47",
                    "calibre": "7.62x39",
                    "serial": f"SN-{person_id[:8]}",
                    "condition": "serviceable",
                    "tag": f"TAG-{person_id[:8]}",
                    "custodian": "MINUSMA DDR section, Gao",
                },
            )
        done += 1
        if done % 50 == 0 or done == len(chosen):
            progress.report("registration", done, len(chosen))

    await bounded(chosen, register, shape.concurrency)
    outcome.persons.update({p["person_id"]: p for p in chosen})
    outcome.registered = [p["person_id"] for p in adults]
    outcome.children = [p["person_id"] for p in children]
    return outcome.registered


# -- screening --------------------------------------------------------------------------------------------

ALL = {"atomic": "true"}  # the demo's uploads are all valid: one refusal is a defect of the scenario, loudly


async def screening(platform: Platform, shape: Shape, progress: Progress, outcome: Outcome) -> None:
    """Cases open from the registration events; child protection takes the children; examiners find the
    unfit, some of them contested and re-examined, until ``shape.finally_unfit`` remain unfit."""
    officer = platform.party("screening-officer", Role.SCREENING_OFFICER)
    examiner = platform.party("medical-examiner", Role.EXAMINER)
    child_protection = platform.party("unicef-child-protection", Role.CHILD_PROTECTION)
    expected = len(outcome.registered) + len(outcome.children)

    async def all_open() -> int | None:
        cases = int((await officer.get("screening", "/figures"))["cases"])
        progress.report("screening cases", cases, expected)
        return cases if cases >= expected else None

    await eventually(all_open, what=f"{expected} screening cases", within=600)
    for done, child in enumerate(outcome.children, start=1):
        await child_protection.post(
            "screening",
            f"/cases/{child}/handover",
            {"receiving_actor": "UNICEF-led child protection task force, Gao"},
        )
        progress.report("children handed over", done, len(outcome.children))

    adults = sorted(outcome.registered)
    extra = max(1, shape.finally_unfit // 35)  # found fit again on re-examination
    unfit = adults[: shape.finally_unfit + extra]
    temporary = adults[len(unfit) : len(unfit) + 2 * extra]
    first = (
        [{"person_id": p, "result": "unfit", "details": "disability recorded by the examiner"} for p in unfit]
        + [{"person_id": p, "result": "temporarily_unfit", "details": "under treatment"} for p in temporary]
        + [{"person_id": p, "result": "fit"} for p in adults[len(unfit) + len(temporary) :]]
    )
    for start in range(0, len(first), 1000):
        await examiner.post(
            "screening", "/examinations/bulk", {"items": first[start : start + 1000]}, params=ALL
        )
        progress.report("examinations", min(start + 1000, len(first)), len(first))
    contested = unfit[: 2 * extra]
    for person_id in contested:
        await officer.post(
            "screening", f"/cases/{person_id}/re-examination-requests", {"reason": "examination disputed"}
        )
    second = (
        [{"person_id": p, "result": "fit"} for p in contested[:extra]]
        + [{"person_id": p, "result": "unfit"} for p in contested[extra:]]
        + [{"person_id": p, "result": "fit"} for p in temporary]
    )
    await examiner.post("screening", "/examinations/bulk", {"items": second}, params=ALL)
    await _clear_pending_queues(platform)

    async def decided() -> dict[str, int] | None:
        by_track: dict[str, int] = (await officer.get("screening", "/figures"))["by_track"]
        progress.report("screening outcomes", expected - by_track.get("undecided", 0), expected)
        return by_track if not by_track.get("undecided") else None

    await eventually(decided, what="every screening outcome", within=300)
    outcome.tracks = {
        track: await _outcomes(officer, track)
        for track in ("integration", "reinsertion", "not_eligible", "cvr")
    }
    outcome.unfit = outcome.tracks["reinsertion"]


async def _clear_pending_queues(platform: Platform) -> None:
    """What else holds a decision: an unknown age (assessed by child protection), no weapon handed over (a
    handling test), an examination still due (someone who became eligible after an assessment)."""
    child_protection = platform.party("unicef-child-protection", Role.CHILD_PROTECTION)
    officer = platform.party("screening-officer", Role.SCREENING_OFFICER)
    examiner = platform.party("medical-examiner", Role.EXAMINER)
    for _ in range(3):
        ages = (await child_protection.get("screening", "/queues/age_assessment", limit=1000))["items"]
        if ages:
            await child_protection.post(
                "screening",
                "/age-assessments/bulk",
                {
                    "items": [
                        {"person_id": c["person_id"], "method": "medical", "youngest_age": 24} for c in ages
                    ]
                },
                params=ALL,
            )
        weapons = (await officer.get("screening", "/queues/weapon", limit=1000))["items"]
        if weapons:
            await officer.post(
                "screening",
                "/handling-tests/bulk",
                {"items": [{"person_id": c["person_id"], "passed": True} for c in weapons]},
                params=ALL,
            )
        due = (await examiner.get("screening", "/queues/medical", limit=1000))["items"]
        if due:
            await examiner.post(
                "screening",
                "/examinations/bulk",
                {"items": [{"person_id": c["person_id"], "result": "fit"} for c in due]},
                params=ALL,
            )
        if not (ages or weapons or due):
            return


async def _outcomes(officer: Caller, track: str) -> list[str]:
    found: list[str] = []
    while True:
        page = await officer.get("screening", "/outcomes", track=track, offset=len(found), limit=1000)
        found.extend(item["person_id"] for item in page)
        if len(page) < 1000:
            return found


# -- integration ------------------------------------------------------------------------------------------

COALITION_OF = {movement: coalition for coalition, members in COALITIONS.items() for movement in members}
UNITS: tuple[tuple[str, str, str, str], ...] = (
    # (unit id, name, kind, location): the report's four reconstituted units
    ("BATFAR-Gao", "Bataillon des forces armées reconstituées, Gao", "battalion", "Gao"),
    ("BATFAR-Tombouctou", "Bataillon des forces armées reconstituées, Tombouctou", "battalion", "Tombouctou"),
    ("BATFAR-Kidal", "Bataillon des forces armées reconstituées, Kidal", "battalion", "Kidal"),
    ("Compagnie-Menaka", "Compagnie des forces armées reconstituées, Ménaka", "company", "Ménaka"),
)
KATI_CAPACITY = 250
DESERTERS_FROM_GAO = 163


@dataclass(frozen=True)
class Schedule:
    """Business dates of the integration track. Screening decides today and no fact may be dated in the
    future, so until the demo follows the report's own timeline (back-recorded from 2018), the whole track
    happens today: one-day cohorts at Kati, units formed and the desertions recorded the same day."""

    accepted_on: date
    trained_on: date
    assigned_on: date
    deserted_on: date
    shown_on: date

    @classmethod
    def from_today(cls, today: date) -> Schedule:
        return cls(today, today, today, today, today)


async def integration_offer(platform: Platform, schedule: Schedule) -> None:
    """Before screening decides: the integration places on offer (the 2019 figure, 10,000) and the rank
    harmonisation rules of the 2019 decree, so candidates are accepted as their outcomes arrive."""
    nic = platform.party("nic-officer", Role.NIC_OFFICER)
    await nic.post(
        "integration",
        "/quotas",
        {
            "quota_id": f"offer-{schedule.accepted_on.year}",
            "period_start": (schedule.accepted_on - timedelta(days=30)).isoformat(),
            "period_end": (schedule.accepted_on + timedelta(days=365)).isoformat(),
            "limit": 10_000,
            "decision_ref": "accord de Bamako, volet intégration",
            "reason": "integration places offered to the signatory movements",
        },
    )
    await nic.post(
        "integration",
        "/rank-rules",
        {
            "rule_version": "decree-0874-2019",
            "decree_ref": "Décret n°0874/P-RM du 30 octobre 2019",
            "effective_from": "2019-10-30",
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


async def integration(
    platform: Platform, shape: Shape, progress: Progress, outcome: Outcome, schedule: Schedule
) -> dict[str, Any]:
    """Quota, rank harmonisation, training at Kati, assignment to the four units under the rule of thirds
    (each unit's armed forces contingent recorded by the defence liaison), then the late desertions at Gao."""
    nic = platform.party("nic-officer", Role.NIC_OFFICER)
    mod = platform.party("mod-liaison", Role.MOD_LIAISON)
    fit = sorted(outcome.tracks["integration"])

    async def all_arrived() -> dict[str, int] | None:
        statuses: dict[str, int] = (await nic.get("integration", "/figures"))["candidates_by_status_now"]
        progress.report("integration candidates", sum(statuses.values()), len(fit))
        return statuses if sum(statuses.values()) >= len(fit) else None

    await eventually(all_arrived, what=f"{len(fit)} integration candidates", within=600)
    # Anyone deferred (e.g. arrived while no quota was open) is accepted by the commission's decision.
    deferred = await nic.get("integration", "/candidates", status="deferred", limit=1000)
    for candidate in deferred["items"]:
        await nic.post(
            "integration",
            f"/candidates/{candidate['person_id']}/acceptance",
            {"effective_on": schedule.accepted_on.isoformat()},
        )

    async def all_accepted() -> int | None:
        statuses = (await nic.get("integration", "/figures"))["candidates_by_status_now"]
        accepted = int(statuses.get("accepted", 0))
        progress.report("integration accepted", accepted, len(fit))
        return accepted if accepted >= len(fit) else None

    await eventually(all_accepted, what=f"{len(fit)} integration candidates accepted", within=600)
    for start in range(0, len(fit), 2000):
        await nic.post(
            "integration",
            "/rank-allocations",
            {
                "entries": [
                    {"person_id": p, "years_of_service": 4, "qualification": "basic_military"}
                    for p in fit[start : start + 2000]
                ],
                "effective_on": schedule.accepted_on.isoformat(),
            },
        )
    cohorts = [fit[i : i + KATI_CAPACITY] for i in range(0, len(fit), KATI_CAPACITY)]
    for number, members in enumerate(cohorts, start=1):
        cohort_id = f"kati-{schedule.accepted_on.year}-{number:02d}"
        await nic.post(
            "integration",
            "/cohorts",
            {
                "cohort_id": cohort_id,
                "camp": "Kati",
                "capacity": KATI_CAPACITY,
                "starts_on": schedule.accepted_on.isoformat(),
                "duration_days": (schedule.trained_on - schedule.accepted_on).days + 1,
            },
        )
        await nic.post(
            "integration",
            f"/cohorts/{cohort_id}/enrolments",
            {"person_ids": members, "effective_on": schedule.accepted_on.isoformat()},
        )
        cohort = await nic.get("integration", f"/cohorts/{cohort_id}")
        await nic.post(
            "integration",
            f"/cohorts/{cohort_id}/outcomes",
            {
                "outcomes": [{"person_id": p, "outcome": "completed"} for p in members],
                "effective_on": cohort["ends_on"],
            },
        )
        progress.report("trained at Kati", min(number * KATI_CAPACITY, len(fit)), len(fit))

    by_coalition: dict[str, list[str]] = {"CMA": [], "Platform": []}
    for person_id in fit:
        by_coalition[COALITION_OF[outcome.persons[person_id]["movement"]]].append(person_id)
    per_party = min(len(v) for v in by_coalition.values()) // len(UNITS)
    gao_members: list[str] = []
    for index, (unit_id, name, kind, location) in enumerate(UNITS):
        parties = {
            party: people[index * per_party : (index + 1) * per_party]
            for party, people in by_coalition.items()
        }
        posts = max(1, per_party // 25)
        await nic.post(
            "integration",
            "/units",
            {
                "unit_id": unit_id,
                "display_name": name,
                "kind": kind,
                "location": location,
                "establishment": per_party * 3 + 30,
            },
        )
        await mod.post(
            "integration",
            f"/units/{unit_id}/armed-forces-contingent",
            {"strength": per_party, "command_posts": posts, "effective_on": schedule.assigned_on.isoformat()},
        )
        assignments = [
            {"person_id": p, "command_post": n < posts}
            for people in parties.values()
            for n, p in enumerate(people)
        ]
        await nic.post(
            "integration",
            f"/units/{unit_id}/assignments",
            {"assignments": assignments, "effective_on": schedule.assigned_on.isoformat()},
        )
        if unit_id == "BATFAR-Gao":
            gao_members = parties["CMA"]
        progress.report("units formed", index + 1, len(UNITS))
    # The larger coalition's remaining members serve in other units, outside the thirds.
    leftover = [p for people in by_coalition.values() for p in people[len(UNITS) * per_party :]]
    if leftover:
        await nic.post(
            "integration",
            "/units",
            {
                "unit_id": "autres-unites",
                "display_name": "Other units of the defence forces",
                "kind": "other",
                "location": "Bamako",
                "establishment": len(leftover),
                "thirds_applies": False,
            },
        )
        await nic.post(
            "integration",
            "/units/autres-unites/assignments",
            {
                "assignments": [{"person_id": p} for p in leftover],
                "effective_on": schedule.assigned_on.isoformat(),
            },
        )
    deserters = gao_members[: min(len(gao_members), max(1, DESERTERS_FROM_GAO * len(fit) // 1_765))]
    outcome.deserters = deserters
    await nic.post(
        "integration",
        "/service-records",
        {
            "entries": [{"person_id": p, "status": "deserted"} for p in deserters],
            "effective_on": schedule.deserted_on.isoformat(),
        },
    )
    composition: dict[str, Any] = await nic.get(
        "integration", "/units/BATFAR-Gao/composition", as_of=schedule.shown_on.isoformat()
    )
    return composition


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
    "effective_on": "2020-01-01",
}


async def reinsertion(
    platform: Platform, progress: Progress, outcome: Outcome, schedule: Schedule
) -> dict[str, Any]:
    """The medically unfit arrive from screening; each is counselled, chooses a package funded by the World
    Bank line, and is paid a first tranche."""
    officer = platform.party("reinsertion-officer", Role.REINSERTION_OFFICER)
    finance = platform.party("finance-officer", Role.FINANCE_OFFICER)
    await officer.call("reinsertion", "POST", "/packages", json=REINSERTION_PACKAGE, expect=(201, 409))
    line_id = f"wb-{schedule.accepted_on.year}"
    await finance.call(
        "reinsertion",
        "POST",
        "/budget-lines",
        json={
            "line_id": line_id,
            "funding_source": "World Bank",
            "title": "IDA grant to the CNDDR, reinsertion",
            "currency": "XOF",
            "allotted": 2_400_000_000,
            "opened_on": schedule.accepted_on.isoformat(),
        },
        expect=(201, 409),
    )
    await finance.post(
        "reinsertion",
        f"/budget-lines/{line_id}/receipts",
        {"amount": 1_200_000_000, "reference": "DA-1", "received_on": schedule.accepted_on.isoformat()},
    )
    unfit = sorted(outcome.unfit)

    async def all_waiting() -> int | None:
        waiting = await officer.get("reinsertion", "/beneficiaries", stage="waiting", limit=5000)
        progress.report("reinsertion arrivals", len(waiting), len(unfit))
        return len(waiting) if len(waiting) >= len(unfit) else None

    await eventually(all_waiting, what=f"{len(unfit)} reinsertion beneficiaries", within=600)
    for start in range(0, len(unfit), 500):
        batch = unfit[start : start + 500]
        await officer.post(
            "reinsertion",
            "/enrolments",
            {
                "enrolments": [
                    {
                        "person_id": p,
                        "package_id": "agri-livestock",
                        "line_id": line_id,
                        "skills": ["élevage"],
                        "literacy": "basic",
                        "area_of_return": outcome.persons[p]["region"],
                        "dependants": n % 5,
                        "enrolled_on": schedule.accepted_on.isoformat(),
                    }
                    for n, p in enumerate(batch)
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
                        "paid_on": schedule.accepted_on.isoformat(),
                    }
                    for p in batch
                ]
            },
        )
        progress.report("reinsertion enrolled and paid", min(start + 500, len(unfit)), len(unfit))
    line: dict[str, Any] = await finance.get("reinsertion", f"/budget-lines/{line_id}")
    return line


# -- community violence reduction -------------------------------------------------------------------------

CVR_PROJECTS: tuple[tuple[str, str, str, str, int], ...] = (
    # (type, region, cercle, commune, budget in USD)
    ("vocational_training", "Gao", "Gao", "Gao", 85_000),
    ("income_generating_activity", "Tombouctou", "Tombouctou", "Tombouctou", 60_000),
    ("agriculture_and_gardening", "Mopti", "Mopti", "Sévaré", 95_000),
    ("lighting_and_security", "Ménaka", "Ménaka", "Ménaka", 250_000),
)
CVR_HISTORY = {"Back-Recording-Reason": "the CVR unit's project files, recorded after the fact"}
"""CVR's dates are history: its parties hold the records officer's role and say why they record it late."""


async def enrol_until_linked(runner: Caller, project_id: str, participants: list[dict[str, Any]]) -> None:
    """Enrol with participant ids chosen here, so that a retry enrols nobody twice; retried until CVR has
    learnt of the registered ex-combatants from the registration topic."""

    async def enrolled() -> bool | None:
        answer = await runner.post(
            "cvr", f"/projects/{project_id}/participants", {"participants": participants}, headers=CVR_HISTORY
        )
        refused = [item for item in answer["items"] if item["status"] == "refused"]
        if any(item["rule"] != "participant-enrolled" for item in refused):
            return None
        return True

    await eventually(
        enrolled, what=f"the participants of CVR project {project_id} to be enrolled", within=120
    )


async def cvr_projects(
    platform: Platform, outcome: Outcome, progress: Progress, ex_combatants: Sequence[str]
) -> list[str]:
    """Local NGOs and a consortium run projects through local review and regional then national appraisal;
    community members and a few registered ex-combatants take part; the projects complete and are handed over."""
    officer = platform.party("cnddr-officer", Role.CNDDR_OFFICER, Role.RECORDS_OFFICER)
    committee = platform.party("committee-member", Role.COMMITTEE_MEMBER, Role.RECORDS_OFFICER)
    for ngo in ("ngo-tassaght", "ngo-aden", "ngo-kondo", "ngo-ir-ganda"):
        await officer.call(
            "cvr",
            "POST",
            "/partners/ngos",
            json={"partner_id": ngo, "display_name": ngo, "registered_on": "2015-01-15"},
            headers=CVR_HISTORY,
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
        headers=CVR_HISTORY,
        expect=(201, 409),
    )
    partners = ("ngo-tassaght", "ngo-aden", "ngo-kondo", "consortium-menaka")
    projects: list[str] = []
    for index, ((kind, region, cercle, commune, budget), partner) in enumerate(
        zip(CVR_PROJECTS, partners, strict=True)
    ):
        runner = platform.party(f"partner-{partner}", Role.CVR_PARTNER, Role.RECORDS_OFFICER, partner=partner)
        project = await runner.post(
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
                "duration_months": 10,
                "planned_start": "2020-02-01",
                "armed_groups_active": True,
                "direct_beneficiaries_target": 400,
                "submitted_on": "2020-01-10",
            },
            headers=CVR_HISTORY,
        )
        project_id = project["project_id"]
        await officer.post(
            "cvr",
            f"/projects/{project_id}/risk-analysis",
            {
                "analysed_on": "2020-01-12",
                "political": "medium",
                "fiduciary": "low",
                "legal": "low",
                "reputational": "medium",
                "mitigation": "community leaders on the steering committee; payments by mobile money",
            },
            headers=CVR_HISTORY,
        )
        for step, (name, day) in enumerate(
            (
                ("local_review", "2020-01-15"),
                ("regional_appraisal", "2020-01-20"),
                ("national_appraisal", "2020-01-27"),
            )
        ):
            await committee.post(
                "cvr",
                f"/projects/{project_id}/decisions",
                {
                    "committee": name,
                    "decided_on": day,
                    "members_present": ["CNDDR", "MINUSMA CVR", "regional governor's office"],
                    "outcome": "cleared",
                    "human_rights_vetting": "cleared" if step == 0 else "not_applicable",
                },
                headers=CVR_HISTORY,
            )
        linked = list(ex_combatants[index * 2 : index * 2 + 2])
        participants = [
            {"category": "ex_combatant", "sex": "M", "enrolled_on": "2020-02-03", "person_id": person_id}
            for person_id in linked
        ] + [
            {"category": "community", "sex": "F" if n % 2 else "M", "enrolled_on": "2020-02-03"}
            for n in range(18)
        ]
        for n, participant in enumerate(participants):
            participant["participant_id"] = f"{project_id}-{n:02d}"
        await enrol_until_linked(runner, project_id, participants)
        await runner.post(
            "cvr",
            f"/projects/{project_id}/beneficiary-counts",
            {
                "counted_on": "2020-11-30",
                "direct": 400,
                "direct_women": 210,
                "indirect": 1600,
                "indirect_women": 820,
            },
            headers=CVR_HISTORY,
        )
        await officer.post(
            "cvr",
            f"/projects/{project_id}/tranches",
            {"amount": str(budget), "currency": "USD", "paid_on": "2020-02-01"},
            headers=CVR_HISTORY,
        )
        await officer.post(
            "cvr", f"/projects/{project_id}/completion", {"completed_on": "2020-11-30"}, headers=CVR_HISTORY
        )
        await officer.post(
            "cvr",
            f"/projects/{project_id}/handover",
            {"handed_over_on": "2020-12-15", "handed_over_to": f"commune of {commune}"},
            headers=CVR_HISTORY,
        )
        projects.append(project_id)
        progress.report("cvr projects", index + 1, len(CVR_PROJECTS))
    return projects


# -- the whole run ----------------------------------------------------------------------------------------


@dataclass
class Result:
    outcome: Outcome
    schedule: Schedule
    figures: dict[str, Any]
    sample_path: dict[str, Any]
    gao: dict[str, Any]
    ledger: dict[str, Any]


async def run(platform: Platform, shape: Shape, progress: Progress) -> Result:
    """The whole accelerated DDR, through the public APIs, then the programme as pathway sees it."""
    schedule = Schedule.from_today(date.today())
    outcome = Outcome()
    await movements_and_coalitions(platform)
    await submit_certified_lists(platform, shape, progress)
    await register_biometrically(platform, shape, progress, outcome)
    await integration_offer(platform, schedule)
    await screening(platform, shape, progress, outcome)
    gao = await integration(platform, shape, progress, outcome, schedule)
    ledger = await reinsertion(platform, progress, outcome, schedule)
    await cvr_projects(platform, outcome, progress, outcome.registered[:8])
    auditor = platform.party("auditor", Role.AUDITOR)
    expected_integrated = len(outcome.tracks["integration"])

    async def caught_up() -> dict[str, Any] | None:
        figures: dict[str, Any] = await auditor.get(
            "pathway", "/figures", as_of=schedule.shown_on.isoformat()
        )
        funnel = figures["funnel"]
        in_tracks = sum(funnel["integration"].values()) + sum(funnel["reinsertion"].values())
        progress.report("pathway caught up", in_tracks, len(outcome.registered))
        done = funnel["registered"] >= len(outcome.registered) and in_tracks >= expected_integrated + len(
            outcome.unfit
        )
        return figures if done and funnel["integration"]["deserted"] > 0 else None

    figures = await eventually(caught_up, what="pathway to project every event", within=600)
    deserter_path: dict[str, Any] = await auditor.get("pathway", f"/paths/{outcome.deserters[0]}")
    return Result(outcome, schedule, figures, deserter_path, gao, ledger)


# -- what the demo shows ----------------------------------------------------------------------------------


def funnel_rows(figures: dict[str, Any]) -> list[tuple[str, int]]:
    """The programme funnel as (stage, people) rows, from pathway's figures."""
    funnel = figures["funnel"]
    rows: list[tuple[str, int]] = [
        ("listed (latest certified lists)", funnel.get("listed") or 0),
        ("pre-registered", funnel["pre_registered"]),
        ("registered (biometric)", funnel["registered"]),
        ("disarmed (weapon handed over)", funnel["disarmed"]),
        ("screened", funnel["screened"]),
        ("children separated and handed over", funnel["child_protection"]),
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
