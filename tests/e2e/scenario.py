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
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

from ddr_registration.adapters.list_files import ListFileWriter
from ddr_registration.simulate.caseload import Caseload, generate_caseload
from ddr_runtime.auth.roles import Role
from tests.e2e.platform import Caller, Platform, eventually

T = TypeVar("T")

COALITIONS: dict[str, tuple[str, ...]] = {
    "CMA": ("MNLA", "HCUA", "MAA-CMA"),
    "Platform": ("GATIA", "CMFPR", "CPA", "MAA-Platform"),
}
COALITION_SINCE = date(2014, 6, 1)


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
                {"coalition": coalition, "since": COALITION_SINCE.isoformat()},
            )


async def submit_certified_lists(platform: Platform, shape: Shape, progress: Progress) -> Outcome:
    """Each movement's list: generated (synthetic people), uploaded by its liaison, certified, endorsed."""
    caseload = _caseload_with_children(shape)
    cts = platform.party("cts-officer", Role.CTS_OFFICER)
    cnddr = platform.party("cnddr-officer", Role.CNDDR_OFFICER)
    with tempfile.TemporaryDirectory(prefix="ddr-demo-lists-") as folder:
        writers: dict[str, ListFileWriter] = {}
        try:
            for row in caseload.rows():
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
    return Outcome()


def _caseload_with_children(shape: Shape) -> Caseload:
    """Synthetic lists of armed members with at least ``shape.children`` children among them (the next seed
    is tried until there are: the generator draws minors at random)."""
    size = shape.registered + shape.children * 6
    for attempt in range(50):
        caseload = generate_caseload(
            size,
            shape.seed + attempt,
            duplicate_share=0.0,
            armed_share=1.0,
            minor_share=min(0.5, shape.children * 3 / size),
            movements=shape.movements,
        )
        rows = list(caseload.rows())
        children = sum(1 for row in rows if row.member.category == "child")
        if children >= shape.children and len(rows) - children >= shape.registered:
            return caseload
    raise RuntimeError(f"no seed from {shape.seed} gave {shape.children} children")


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


async def register_biometrically(
    platform: Platform, shape: Shape, progress: Progress, outcome: Outcome
) -> list[str]:
    """Biometric registration of the adults up to ``shape.registered``, and of every listed child; each
    registered adult hands over the weapon their list declared."""
    officer = platform.party("cnddr-officer", Role.CNDDR_OFFICER)
    persons = await pre_registered_persons(platform)
    children = [p for p in persons if p.get("category") == "child"][: shape.children]
    adults = [p for p in persons if p.get("category") != "child"][: shape.registered]
    chosen = [*adults, *children]
    done = 0

    async def register(person: dict[str, Any]) -> None:
        nonlocal done
        person_id = person["person_id"]
        await officer.change(
            "registration",
            f"/persons/{person_id}",
            f"/persons/{person_id}/registration",
            {"biometric_reference": f"bio-{person_id}"},
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


async def wait_for_screening_cases(platform: Platform, expected: Sequence[str]) -> None:
    """Screening opens a case for each registered person when their registration event arrives."""
    officer = platform.party("screening-officer", Role.SCREENING_OFFICER)
    missing = list(expected)

    async def all_open() -> bool | None:
        nonlocal missing
        still: list[str] = []
        for person_id in missing:
            response = await officer.request("screening", "GET", f"/cases/{person_id}")
            if response.status_code != 200:
                still.append(person_id)
        missing = still
        return True if not missing else None

    await eventually(all_open, what=f"screening cases for {len(expected)} registered people", within=300)
