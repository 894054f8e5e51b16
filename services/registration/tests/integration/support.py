"""Helpers of the registration service's integration tests: list files, uploads, movements, people."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import httpx

from ddr_registration.adapters.list_files import write_list_file
from ddr_registration.domain.members import BirthDate, Category, ListedMember, Sex, WeaponHandedOver
from ddr_runtime.auth.roles import Role
from ddr_testkit.services import Api, Caller


def liaison(caller: Caller, movement: str) -> Api:
    return caller(Role.MOVEMENT_LIAISON, subject=f"liaison-{movement}", movement=movement)


async def upload(
    api: Api, path: Path, movement: str, *, reason: str | None = None, **params: Any
) -> httpx.Response:
    """POST a list file to ``/lists`` for ``movement`` (``reason``: a Back-Recording-Reason)."""
    headers = {**api.headers, **({"Back-Recording-Reason": reason} if reason else {})}
    with path.open("rb") as handle:
        return await api.client.post(
            "/lists",
            params={"movement": movement, **params},
            files={"file": (path.name, handle.read(), "application/octet-stream")},
            headers=headers,
        )


def member(ref: str, name: str, **overrides: Any) -> ListedMember:
    values: dict[str, Any] = {
        "movement_ref": ref,
        "full_name": name,
        "full_name_arabic": None,
        "sex": Sex.M,
        "birth": BirthDate.year_only(1988),
        "category": Category.COMBATANT,
        "region": "Kidal",
        "cercle": "Kidal",
        "commune": "Anefis",
        "rank": "sergent",
        "armed": True,
        "weapons": (WeaponHandedOver(kind="AK-47", calibre="7.62x39", serial=f"SN-{ref}", condition="bon"),),
    }
    values.update(overrides)
    return ListedMember(**values)


async def movement(officer: Api, code: str, kind: str = "movement") -> None:
    response = await officer.post(
        "/movements", {"code": code, "display_name": f"{code} movement", "kind": kind}
    )
    assert response.status_code == 201, response.text


def list_file(tmp_path: Path, members: list[ListedMember], suffix: str = ".csv") -> Path:
    path = tmp_path / f"list-{uuid.uuid4().hex[:8]}{suffix}"
    write_list_file(path, members)
    return path


async def persons_of(api: Api, **params: Any) -> list[dict[str, Any]]:
    """The people ``api`` sees, filtered; by name through ``POST /persons/search`` (names stay out of URLs)."""
    if "name" in params:
        response = await api.post("/persons/search", params)
    else:
        response = await api.get("/persons", **params)
    assert response.status_code == 200, response.text
    result: list[dict[str, Any]] = response.json()
    return result


async def merged_pair(officer: Api, tmp_path: Path) -> tuple[str, str]:
    """The same man listed by HCUA (H-7) and by MAA (A-CANARY-3, with his father and commune), merged into
    HCUA's record: (survivor, absorbed)."""
    await movement(officer, "HCUA")
    await movement(officer, "MAA")
    same = {"birth": BirthDate.year_only(1979), "commune": "Tessalit", "cercle": "Tessalit"}
    await upload(officer, list_file(tmp_path, [member("H-7", "Alghabass Ag Intalla", **same)]), "HCUA")
    listed = await upload(
        officer,
        list_file(
            tmp_path, [member("A-CANARY-3", "Alghabass Ag Intalla", father_name="Intalla Ag Attaher", **same)]
        ),
        "MAA",
    )
    assert listed.json()["duplicates_suspected"] == 1, listed.text
    (case,) = (await officer.get("/duplicates")).json()
    survivor = case["person_id"] if case["movement"] == "HCUA" else case["other_person_id"]
    absorbed = case["other_person_id"] if survivor == case["person_id"] else case["person_id"]
    resolved = await officer.post(
        f"/duplicates/{case['case_id']}/resolution",
        {"outcome": "merged", "surviving_person_id": survivor},
        **{"If-Match": f'"{case["version"]}"'},
    )
    assert resolved.status_code == 200, resolved.text
    return survivor, absorbed
