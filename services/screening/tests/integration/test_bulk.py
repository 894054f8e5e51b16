"""Bulk uploads through the API: item by item by default (each refusal names its item and rule), all or nothing
with ``?atomic=true``, and safe to retry with the same ``Idempotency-Key``."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from ddr_contracts.registration import PersonMergedInto
from ddr_runtime.auth.roles import Role
from ddr_testkit.services import Api

from .conftest import Env
from .support import case_of, eventually, register

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]


async def two_cases_one_merged_meanwhile(env: Env) -> tuple[str, str]:
    """Two registered people; the second found a duplicate of the first (its case merged) meanwhile."""
    kept, merged = str(uuid.uuid4()), str(uuid.uuid4())
    for person in (kept, merged):
        await register(env.registration, person)
    officer = env.as_role(Role.SCREENING_OFFICER)
    await case_of(officer, kept)
    await case_of(officer, merged)
    await env.registration.emit(
        merged, PersonMergedInto(person_id=merged, into_person_id=kept, case_id="dup-1")
    )

    async def is_merged() -> bool:
        return bool((await officer.get(f"/cases/{merged}")).json()["merged_into"] == kept)

    await eventually(is_merged)
    return kept, merged


async def post_atomic(caller: Api, path: str, body: Any) -> httpx.Response:
    return await caller.client.post(path, params={"atomic": "true"}, json=body, headers=caller.headers)


async def test_a_bulk_upload_records_the_valid_items_and_names_each_refused_one(env: Env) -> None:
    kept, merged = await two_cases_one_merged_meanwhile(env)
    stranger = str(uuid.uuid4())
    examiner = env.as_role(Role.EXAMINER)

    answer = await examiner.ok(
        "/examinations/bulk",
        {"items": [{"person_id": p, "result": "fit"} for p in (kept, merged, stranger)]},
    )

    assert (answer["recorded"], answer["refused"]) == (1, 2)
    assert [(i["index"], i["key"], i["status"], i["rule"]) for i in answer["items"]] == [
        (0, kept, "recorded", None),
        (1, merged, "refused", "case-merged"),
        (2, stranger, "refused", "unknown-case"),
    ]
    assert answer["items"][0]["result"] is not None  # the examination's decision id
    assert (await examiner.get(f"/cases/{kept}")).json()["track"] == "integration"
    assert (await examiner.get(f"/cases/{merged}")).json()["examinations"] == 0


async def test_an_atomic_bulk_upload_with_a_refused_item_records_nothing_and_names_it(env: Env) -> None:
    kept, merged = await two_cases_one_merged_meanwhile(env)
    examiner = env.as_role(Role.EXAMINER)

    refused = await post_atomic(
        examiner, "/examinations/bulk", {"items": [{"person_id": p, "result": "fit"} for p in (kept, merged)]}
    )

    assert refused.status_code == 422
    assert refused.json()["errors"] == [
        {"field": "body.items[1]", "message": "case-merged: this case was merged into another person's"}
    ]
    assert [(i["key"], i["status"]) for i in refused.json()["items"]] == [
        (kept, "recorded"),
        (merged, "refused"),
    ]
    assert (await examiner.get(f"/cases/{kept}")).json()["examinations"] == 0


async def test_a_bulk_upload_retried_with_its_idempotency_key_replays_the_answer_and_records_nothing_again(
    env: Env,
) -> None:
    people = [str(uuid.uuid4()) for _ in range(3)]
    for person in people:
        await register(env.registration, person)
    officer = env.as_role(Role.SCREENING_OFFICER)
    for person in people:
        await case_of(officer, person)
    upload = {"items": [{"person_id": p, "result": "temporarily_unfit"} for p in people]}
    examiner = env.as_role(Role.EXAMINER)

    first = await examiner.post("/examinations/bulk", upload, idempotency_key="upload-7")
    again = await examiner.post("/examinations/bulk", upload, idempotency_key="upload-7")

    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    for person in people:
        assert (await examiner.get(f"/cases/{person}")).json()["examinations"] == 1


async def test_each_item_of_a_bulk_upload_is_checked_against_its_own_dates(env: Env) -> None:
    registered = datetime(2019, 11, 4, 9, 30, tzinfo=UTC)
    early, late = str(uuid.uuid4()), str(uuid.uuid4())
    await register(env.registration, early, at=registered)
    await register(env.registration, late, at=registered + timedelta(days=3))
    officer = env.as_role(Role.SCREENING_OFFICER)
    await case_of(officer, early)
    await case_of(officer, late)
    examiner = env.as_role(Role.EXAMINER, Role.RECORDS_OFFICER)
    examined_on = "2019-11-05"

    answer = await examiner.ok(
        "/examinations/bulk",
        {"items": [{"person_id": p, "result": "fit", "examined_on": examined_on} for p in (early, late)]},
        back_recording_reason="the Gao examiners' 2019 register",
    )

    assert [(i["key"], i["status"], i["rule"]) for i in answer["items"]] == [
        (early, "recorded", None),
        (late, "refused", "occurred-before-dependency"),
    ]
    assert answer["items"][1]["figures"]["not_before"] == "2019-11-07T09:30:00Z"
