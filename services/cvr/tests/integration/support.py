"""What the CVR API tests share besides fixtures: bodies, partners, the committees' steps, waiting on Kafka."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from ddr_contracts.registration import PersonPreRegistered
from ddr_testkit.services import Api

MEMBERS = ["chair-1", "member-2", "member-3"]


def proposal(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": "Formation professionnelle des jeunes",
        "project_type": "vocational_training",
        "programme": "crp",
        "region": "Mopti",
        "cercle": "Mopti",
        "commune": "Sio",
        "location": "Sévaré",
        "budget": "80000",
        "currency": "USD",
        "duration_months": 9,
        "planned_start": "2022-03-01",
        "armed_groups_active": False,
        "direct_beneficiaries_target": 400,
        "submitted_on": "2022-01-10",
    }
    body.update(overrides)
    return body


async def ngo(officer: Api, partner_id: str, region: str = "Mopti", on: str = "2015-01-01") -> None:
    await officer.ok(
        "/partners/ngos",
        {
            "partner_id": partner_id,
            "display_name": f"ONG {partner_id}",
            "regions": [region],
            "registered_on": on,
        },
        201,
    )


def decision(committee: str, on: str, outcome: str = "cleared", **more: Any) -> dict[str, Any]:
    vetting = {"human_rights_vetting": "cleared"} if committee == "local_review" else {}
    return {
        "committee": committee,
        "decided_on": on,
        "members_present": MEMBERS,
        "outcome": outcome,
        **vetting,
        **more,
    }


async def approve(committee: Api, project_id: str, on: str = "2022-02-01") -> dict[str, Any]:
    """Local review (with vetting), regional then national appraisal, all cleared on ``on``."""
    answer: dict[str, Any] = {}
    for level in ("local_review", "regional_appraisal", "national_appraisal"):
        answer = await committee.ok(f"/projects/{project_id}/decisions", decision(level, on))
    return answer


async def eventually(check: Callable[[], Awaitable[bool]], seconds: float = 30.0) -> bool:
    deadline = time.monotonic() + seconds
    while True:
        result = await check()
        if result or time.monotonic() > deadline:
            return result
        await asyncio.sleep(0.2)


def pre_registered(person_id: str) -> PersonPreRegistered:
    return PersonPreRegistered(
        person_id=person_id,
        list_id="list-1",
        list_version=1,
        movement="CMA",
        movement_ref=person_id,
        category="combatant",
        sex="M",
        birth_kind="year",
        region="Mopti",
        cercle="Mopti",
        rank="",
        armed=True,
        birth_year=1990,
        full_name="Nom Secret",
        full_name_arabic=None,
        birth_date=None,
        commune=None,
        father_name=None,
        mother_name=None,
        birth_place=None,
    )
