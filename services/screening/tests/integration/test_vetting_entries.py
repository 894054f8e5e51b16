"""The vetting list's entries in the read model: no allegation reference kept, an erased person's unreadable."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import inspect, select, text

from ddr_runtime.auth.roles import Role
from ddr_runtime.eventstore.ports import AggregateSession
from ddr_screening.adapters.tables import vetting_entries
from ddr_screening.bootstrap import prepare
from ddr_screening.domain.values import VettingListEntry

from .conftest import Env
from .support import eventually

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]


async def entries_of(env: Env, *person_ids: str) -> dict[str, VettingListEntry]:
    scr = env.app.state.screening

    async def read(session: AggregateSession) -> dict[str, VettingListEntry]:
        found: dict[str, VettingListEntry] = (await scr.reference.vetting_list(session, person_ids))[1]
        return found

    found: dict[str, VettingListEntry] = await scr.unit.run(read)
    return found


async def rebuild(env: Env) -> None:
    operator = env.as_role(Role.OPERATOR)
    assert (await operator.post("/read-model/rebuild")).status_code == 202

    async def finished() -> bool:
        return bool((await operator.get("/read-model/rebuild")).json()["status"] != "running")

    await eventually(finished)
    status = (await operator.get("/read-model/rebuild")).json()
    assert (status["status"], status["swapped"]) == ("done", True)


async def test_an_erased_persons_list_entry_reads_no_allegation_even_after_a_rebuild(env: Env) -> None:
    """Issue 14: scr_vetting_entries kept person -> allegation rows in clear, readable after an erasure."""
    kept, erased = str(uuid.uuid4()), str(uuid.uuid4())
    await env.as_role(Role.VETTING_OFFICER).ok(
        "/vetting-lists",
        {
            "source_ref": "HRDDP-9",
            "entries": [
                {"person_id": kept, "allegation_ref": "HR-KEPT-1", "status": "alleged"},
                {"person_id": erased, "allegation_ref": "HR-ERASED-2", "status": "substantiated"},
            ],
        },
        status=201,
    )
    await env.app.state.runtime.keystore.erase(erased)
    await rebuild(env)

    assert await entries_of(env, kept, erased) == {
        kept: VettingListEntry(kept, "HR-KEPT-1", "alleged"),
        erased: VettingListEntry(erased, None, "substantiated"),
    }
    async with env.app.state.runtime.engine.connect() as conn:
        rows = [dict(row._mapping) for row in await conn.execute(select(vetting_entries))]
    assert not any("HR-" in str(value) for row in rows for value in row.values()), rows


async def test_a_vetting_entries_table_of_the_earlier_shape_is_rebuilt_at_start_without_allegations(
    env: Env,
) -> None:
    """An upgrade: the table an earlier release made (``allegation_ref`` in clear) is made again from the
    history before anything reads it (``rebuild_if_outdated`` in ``prepare``)."""
    listed = str(uuid.uuid4())
    await env.as_role(Role.VETTING_OFFICER).ok(
        "/vetting-lists",
        {
            "source_ref": "HRDDP-10",
            "entries": [{"person_id": listed, "allegation_ref": "HR-OLD-3", "status": "alleged"}],
        },
        status=201,
    )
    engine = env.app.state.runtime.engine
    async with engine.begin() as conn:  # the column the earlier release kept, holding the reference in clear
        await conn.execute(text("ALTER TABLE scr_vetting_entries ADD COLUMN allegation_ref VARCHAR(100)"))
        await conn.execute(text("UPDATE scr_vetting_entries SET allegation_ref = 'HR-OLD-3'"))

    await prepare(env.app.state.screening, env.app.state.screening.unit)

    async with engine.connect() as conn:
        columns = await conn.run_sync(lambda sync: inspect(sync).get_columns("scr_vetting_entries"))
        rows = [dict(row._mapping) for row in await conn.execute(select(vetting_entries))]
    assert "allegation_ref" not in {column["name"] for column in columns}
    assert [row["person_id"] for row in rows] == [listed]
    assert await entries_of(env, listed) == {listed: VettingListEntry(listed, "HR-OLD-3", "alleged")}


async def test_reading_the_list_entries_of_people_with_no_key_makes_no_key(env: Env) -> None:
    """Issue 14 review: telling an erased person from one with no key yet (listed before registering) asked for
    a key to write with, one call per person, on a read path: the read made a key for each of them."""
    erased, unkeyed = str(uuid.uuid4()), [str(uuid.uuid4()) for _ in range(3)]
    await env.as_role(Role.VETTING_OFFICER).ok(
        "/vetting-lists",
        {
            "source_ref": "HRDDP-11",
            "entries": [
                {"person_id": person, "allegation_ref": f"HR-{n}", "status": "alleged"}
                for n, person in enumerate([erased, *unkeyed])
            ],
        },
        status=201,
    )
    keystore = env.app.state.runtime.keystore
    await keystore.erase(erased)

    found = await entries_of(env, erased, *unkeyed)

    assert found[erased] == VettingListEntry(erased, None, "alleged")
    assert [found[person].allegation_ref for person in unkeyed] == ["HR-1", "HR-2", "HR-3"]
    assert await keystore.keys_for_reading(unkeyed) == {}
    assert await keystore.erased([erased, *unkeyed]) == {erased}
