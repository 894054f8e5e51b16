"""Issue 14 in pathway, over HTTP with events from the real broker: a child's path and
every forbidden one answer exactly like a missing one, a step shows each role only what it may see, child
counts never show fewer than 5 to donors however ``known_on`` is stepped."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from ddr_contracts.screening import MedicalExamined, VettingDecided
from ddr_runtime.auth.roles import Role
from ddr_runtime.config import Settings
from ddr_testkit.upstream import UpstreamService

pytestmark = [pytest.mark.kafka]

Wait = Callable[..., Awaitable[None]]


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    # One backend is enough here: what is checked is who sees what (the records of reads, which do cross the
    # database, are checked on both backends in test_pathway_api).
    return f"sqlite+aiosqlite:///{tmp_path / 'pathway.sqlite'}"


def answer(response: httpx.Response) -> tuple[int, str, Any]:
    """What tells one answer from another, but for the request's own URL and trace id."""
    body = {k: v for k, v in response.json().items() if k not in ("instance", "trace_id")}
    return response.status_code, response.headers["content-type"], body


async def visible_to(api: Any, person: str) -> bool:
    status: int = (await api.get(f"/paths/{person}")).status_code
    return status == 200


async def test_a_childs_path_answers_exactly_like_a_missing_one_to_every_role_but_child_protection(
    pathway: Any, settings: Settings, events: Any, wait: Wait
) -> None:
    """Finding 5 (issue 14): pathway's path showed a "restricted" stage with dates for a child."""
    child, missing = events.person(), events.person()
    async with UpstreamService("registration", settings) as registration:
        await registration.emit(
            child, events.pre_registered(child, birth_year=2008), occurred_at=events.at("2020-01-01")
        )
    await wait(lambda: visible_to(pathway.child_protection, child), "the child's path")

    for api in (pathway.officer, pathway.auditor, pathway.liaison("MNLA")):
        for params in ({}, {"as_of": "2020-06-30"}, {"known_on": datetime.now(UTC).isoformat()}):
            assert answer(await api.get(f"/paths/{child}", **params)) == answer(
                await api.get(f"/paths/{missing}", **params)
            )
    assert (await pathway.child_protection.get(f"/paths/{child}")).json()["stage"] == "pre_registered"


async def test_a_forbidden_path_answers_like_a_missing_one_and_only_the_read_record_keeps_why(
    pathway: Any, settings: Settings, events: Any, wait: Wait
) -> None:
    """Finding 15 (issue 14): /paths answered 403 for an existing id and 404 for a missing one, and named the
    reason."""
    person, missing = events.person(), events.person()
    async with UpstreamService("registration", settings) as registration:
        await registration.emit(person, events.pre_registered(person, region="Kidal", movement="GATIA"))
    await wait(lambda: visible_to(pathway.auditor, person), "the path")
    outside = pathway.as_("officer-timbuktu", Role.CNDDR_OFFICER, regions=["Timbuktu"])

    callers = [
        (outside, 404),
        (pathway.liaison("MNLA"), 404),
        (pathway.child_protection, 404),
        (pathway.donor, 403),
    ]
    for api, status in callers:
        existing = answer(await api.get(f"/paths/{person}"))
        assert existing == answer(await api.get(f"/paths/{missing}"))
        assert existing[0] == status
        assert "region" not in str(existing[2])
        assert "movement" not in str(existing[2])
    reads = (await pathway.auditor.get(f"/paths/{person}/reads")).json()
    assert {(r["viewer"], r["reason_code"]) for r in reads} >= {
        ("officer-timbuktu", "outside_region"),
        ("liaison-MNLA", "other_movement"),
        ("cp-1", "not_a_child"),
        ("donor-1", "role_not_allowed"),
    }


async def test_an_officers_path_shows_no_medical_result_nor_allegation_and_an_auditors_does(
    pathway: Any, settings: Settings, events: Any, wait: Wait
) -> None:
    """Finding 11 (issue 14): a CNDDR officer's path view showed `temporarily_unfit` and `allegation_ref`."""
    person = events.person()
    async with (
        UpstreamService("registration", settings) as registration,
        UpstreamService("screening", settings) as screening,
    ):
        await registration.emit(person, events.pre_registered(person), occurred_at=events.at("2020-01-01"))
        await screening.emit(
            person,
            MedicalExamined(
                person_id=person,
                decision_id="d-med",
                examination_number=1,
                result="temporarily_unfit",
                re_examination=False,
                details=None,
            ),
            VettingDecided(
                person_id=person,
                decision_id="d-vet",
                status="held",
                source="list_check",
                list_version=3,
                allegation_ref="HR-2019-0042",
                reason_code="on_vetting_list",
                reason=None,
            ),
            occurred_at=events.at("2020-01-05"),
        )
    await wait(lambda: _steps(pathway.auditor, person, 3), "the three steps")

    officer = await pathway.officer.get(f"/paths/{person}")
    auditor = await pathway.auditor.get(f"/paths/{person}")

    assert officer.status_code == 200, officer.text
    assert [s["type"] for s in officer.json()["steps"]] == ["ddr.registration.PersonPreRegistered"]
    for detail in (
        "temporarily_unfit",
        "allegation_ref",
        "HR-2019-0042",
        "MedicalExamined",
        "VettingDecided",
    ):
        assert detail not in officer.text
    assert "temporarily_unfit" in auditor.text
    assert "VettingDecided" in auditor.text
    assert "HR-2019-0042" not in auditor.text  # sealed (VettingDecided v2): screening's case view shows it


async def _steps(api: Any, person: str, count: int) -> bool:
    response = await api.get(f"/paths/{person}")
    return response.status_code == 200 and len(response.json()["steps"]) >= count


async def test_stepping_known_on_child_by_child_never_shows_a_donor_fewer_than_five_children(
    pathway: Any, settings: Settings, events: Any, wait: Wait
) -> None:
    """Finding 5 (issue 14): child counts by movement, region, sex and age, stepped through `known_on`,
    reached a count of 1 for donors."""
    adult = events.person()
    children = [events.person() for _ in range(6)]
    known_on: list[str] = []
    async with UpstreamService("registration", settings) as registration:
        await registration.emit(
            adult, events.pre_registered(adult, region="Kidal"), occurred_at=events.at("2020-01-01")
        )
        await wait(lambda: visible_to(pathway.auditor, adult), "the adult")
        known_on.append(datetime.now(UTC).isoformat())
        for child in children:
            await registration.emit(
                child, events.pre_registered(child, region="Gao", birth_year=2008, sex="F"),
                occurred_at=events.at("2020-02-01"),
            )  # fmt: skip
            await wait(lambda c=child: visible_to(pathway.child_protection, c), "the child's path")
            known_on.append(datetime.now(UTC).isoformat())

    counts: list[Any] = []
    adults: set[tuple[int, int]] = set()
    for moment in known_on:
        response = await pathway.donor.get("/figures", as_of="2020-12-31", known_on=moment)
        assert response.status_code == 200, response.text
        figures = response.json()
        cells = [figures["funnel"]] + [
            cell for name, table in figures.items() if name.startswith("by_") for cell in table.values()
        ]
        counts += [cell["child_protection"] for cell in cells]
        adults.add((figures["funnel"]["pre_registered"], len(figures["by_region"])))

    assert set(counts) == {None, 5}
    assert adults == {(1, 1), (1, 2)}  # the adult alone; Gao appears once it holds 5 children
    assert len(known_on) == 7


async def test_an_offset_beyond_the_bound_is_a_422_naming_it(pathway: Any, events: Any) -> None:
    response = await pathway.auditor.get(f"/paths/{events.person()}/reads", offset="100000000000000000000")

    assert response.status_code == 422, response.text
    assert "offset" in response.text
