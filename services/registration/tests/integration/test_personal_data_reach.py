"""Issue 14's findings on what registration keeps and shows of a person (1, 2, 6, 7): nothing personal in clear
where an erasure cannot reach it, stored answers that replay no erased data, and histories filtered by what
the caller may see."""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy import text as sql
from sqlalchemy.ext.asyncio import create_async_engine

from ddr_registration.adapters.list_files import COLUMNS
from ddr_registration.bootstrap import build_app
from ddr_runtime.auth.roles import Role
from ddr_runtime.auth.tokens import TokenVerifier
from ddr_runtime.config import Settings
from ddr_runtime.http.idempotency import idempotency_keys
from ddr_testkit.services import Api, Caller, caller_of, running

from .support import liaison, list_file, member, merged_pair, movement, persons_of, upload

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]

ERASE = {"reason_code": "data_subject_request", "authority": "CNDDR-2024-12"}


def etag(response: httpx.Response) -> dict[str, str]:
    return {"If-Match": response.headers["ETag"]}


async def test_a_liaison_sees_no_step_of_another_movements_record_merged_into_their_persons_history(
    officer: Api, caller: Caller, tmp_path: Path
) -> None:
    """Issue 14, finding 6: after a merge, liaison A's /persons/{id}/history showed movement B's reference,
    names, father and commune."""
    survivor, absorbed = await merged_pair(officer, tmp_path)

    seen = await liaison(caller, "HCUA").get(f"/persons/{survivor}/history")

    assert seen.status_code == 200, seen.text
    assert {entry["person_id"] for entry in seen.json()} == {survivor}
    text = json.dumps(seen.json())
    for leaked in ("A-CANARY-3", "Intalla Ag Attaher", absorbed, '"MAA"'):
        assert leaked not in text
    # The CNDDR, who may see both records, still reads both histories as one.
    full = (await officer.get(f"/persons/{survivor}/history")).json()
    assert {entry["person_id"] for entry in full} == {survivor, absorbed}
    assert "A-CANARY-3" in json.dumps(full)


async def test_erasing_a_merged_persons_surviving_record_erases_the_record_merged_into_it(
    officer: Api, tmp_path: Path
) -> None:
    """Issue 14, finding 7: erasure must reach every copy, merged records included."""
    survivor, absorbed = await merged_pair(officer, tmp_path)
    before = await officer.get(f"/persons/{survivor}")

    erased = await officer.post(f"/persons/{survivor}/erasure", ERASE, **etag(before))

    assert erased.status_code == 200, erased.text
    record = (await officer.get(f"/persons/{absorbed}")).json()
    assert (record["full_name"], record["father_name"], record["movement_ref"]) == (
        None,
        None,
        f"erased:{absorbed}",
    )


async def test_a_correction_replayed_after_the_persons_erasure_returns_no_name(
    app: FastAPI, officer: Api, tmp_path: Path
) -> None:
    """Issue 14, finding 2: a correction replayed after the person's erasure returned her name and her
    father's from the stored idempotent answer."""
    await movement(officer, "MNLA")
    await upload(officer, list_file(tmp_path, [member("M-1", "Fatouma Walet Intalla")]), "MNLA")
    (person,) = await persons_of(officer, movement="MNLA")
    path = f"/persons/{person['person_id']}"
    body = {"full_name": "Fatoumata Walet Canary", "father_name": "Intalla Ag Canary", "reason": "ID card"}
    headers = {"If-Match": f'"{person["version"]}"', "Idempotency-Key": "correct-fatouma"}
    corrected = await officer.post(f"{path}/corrections", body, **headers)
    assert corrected.status_code == 200, corrected.text
    assert (await officer.get(path)).json()["full_name"] == "Fatoumata Walet Canary"
    erased = await officer.post(f"{path}/erasure", ERASE, **etag(corrected))
    assert erased.status_code == 200, erased.text

    replayed = await officer.post(f"{path}/corrections", body, **headers)

    assert replayed.headers.get("Idempotent-Replayed") == "true"
    assert "Canary" not in replayed.text
    async with app.state.runtime.engine.connect() as conn:
        stored = (await conn.execute(select(idempotency_keys))).all()
    assert stored
    assert all("Canary" not in json.dumps([*row._mapping.values()], default=str) for row in stored)


def write_csv_with_a_refused_value(path: Path, ref: str) -> None:
    row = {
        "movement_ref": ref,
        "full_name": "Hamma Ould Mahmoud",
        "sex": "Zorglub",
        "birth_date": "1985",
        "category": "combatant",
        "region": "Gao",
        "cercle": "Gao",
        "commune": "Gao",
        "armed": "non",
    }
    lines = [",".join(COLUMNS), ",".join(row.get(column, "") for column in COLUMNS)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


async def upload_once(officer: Api, path: Path, key: str, **params: str) -> httpx.Response:
    with path.open("rb") as handle:
        return await officer.client.post(
            "/lists",
            params={"movement": "CMFPR", **params},
            files={"file": (path.name, handle.read(), "text/csv")},
            headers={**officer.headers, "Idempotency-Key": key},
        )


async def test_a_list_uploads_answer_keeps_no_value_of_a_refused_row(
    app: FastAPI, officer: Api, tmp_path: Path
) -> None:
    """Issue 14, finding 2: a list upload's stored answer kept refused rows' values."""
    await movement(officer, "CMFPR")
    imported, refused = tmp_path / "imported.csv", tmp_path / "refused.csv"
    write_csv_with_a_refused_value(imported, "C-1")
    write_csv_with_a_refused_value(refused, "C-2")

    answered = await upload_once(officer, imported, "upload-1")
    whole = await upload_once(officer, refused, "upload-2", reject_whole="true")

    assert answered.status_code == 201, answered.text
    assert [(p["line"], p["column"]) for p in answered.json()["problems"]] == [(2, "sex")]
    assert whole.status_code == 422, whole.text
    async with app.state.runtime.engine.connect() as conn:
        stored = (await conn.execute(select(idempotency_keys))).all()
    assert len(stored) == 2
    for text in (
        answered.text,
        whole.text,
        *(json.dumps([*r._mapping.values()], default=str) for r in stored),
    ):
        assert "Zorglub" not in text
    # The uploader still reads the value at fault in the list's report.
    report = (await officer.get(f"/lists/{answered.json()['list_id']}/versions/1/report")).json()
    assert "Zorglub" in report[0]["reason"]


@asynccontextmanager
async def held_horizon(settings: Settings) -> AsyncIterator[None]:
    """On PostgreSQL, a transaction with an id of its own held open while the block runs: every event
    committed meanwhile stays above the server's horizon (not yet final in the store's global order)."""
    if not settings.store_url().startswith("postgresql"):
        yield
        return
    engine = create_async_engine(settings.store_url())
    try:
        async with engine.connect() as conn:
            await conn.execute(sql("SELECT pg_current_xact_id()"))
            yield
            await conn.rollback()
    finally:
        await engine.dispose()


async def test_another_registration_process_stops_matching_against_a_person_erased_by_this_one(
    app: FastAPI,
    officer: Api,
    settings: Settings,
    token_verifier: TokenVerifier,
    issuer: Any,
    tmp_path: Path,
) -> None:
    """Issue 14, finding 7: other registration processes kept erased names in their in-memory index. On
    PostgreSQL a transaction held open elsewhere on the server keeps the erasure out of the global order the
    other process's index follows, as any busy server may a while: the upload must not match her even so."""
    await movement(officer, "MNLA")
    await upload(officer, list_file(tmp_path, [member("M-1", "Mohamed Ag Intalla")]), "MNLA")
    (person,) = await persons_of(officer, movement="MNLA")
    other = build_app(settings, token_verifier=token_verifier, biometric_key=os.urandom(32))
    async with (
        running(other),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=other), base_url="http://registration") as client,
    ):
        there = caller_of(client, issuer)(Role.CNDDR_OFFICER, subject="cnddr-officer-2")
        assert person["person_id"] in other.state.registration.index
        async with held_horizon(settings):
            erased = await officer.post(
                f"/persons/{person['person_id']}/erasure", ERASE, **{"If-Match": f'"{person["version"]}"'}
            )
            assert erased.status_code == 200, erased.text

            listed = await upload(there, list_file(tmp_path, [member("M-2", "Muhammad Ag Intallah")]), "MNLA")

        assert listed.status_code == 201, listed.text
        assert listed.json()["duplicates_suspected"] == 0
        assert person["person_id"] not in other.state.registration.index
