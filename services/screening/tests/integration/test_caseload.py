"""Accelerated DDR: 2,300 registered; 535 finally unfit after re-examinations; 1,765 integration, 535 reinsertion.

Registration events come over real Kafka from the registration service's own publisher; examination results
are fed through the bulk API as the examiners' upload would; every outcome is read back from Kafka.
"""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import UTC, datetime

import pytest

from ddr_runtime.auth.roles import Role

from .conftest import Env
from .support import eventually, of_type, register, topic_events

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]

REGISTERED = 2_300
FIT_FIRST = 1_700
TEMPORARILY_UNFIT = 80  # re-examined later: 50 fit, 30 unfit
UNFIT_FIRST = REGISTERED - FIT_FIRST - TEMPORARILY_UNFIT  # 520
CONTESTED = 100  # of the unfit, re-examined on request: 15 found fit
FINALLY_FIT = FIT_FIRST + 50 + 15  # 1,765
FINALLY_UNFIT = REGISTERED - FINALLY_FIT  # 535


async def test_2300_registered_with_535_finally_unfit_reconcile_to_1765_and_535(env: Env) -> None:
    officer = env.as_role(Role.SCREENING_OFFICER)
    examiner = env.as_role(Role.EXAMINER)
    people = sorted(str(uuid.uuid4()) for _ in range(REGISTERED))
    at = datetime.now(UTC)
    for person in people:
        await register(env.registration, person, at=at, publish=False)
    await env.registration.publish()

    async def all_open() -> bool:
        return bool((await officer.get("/figures")).json()["cases"] == REGISTERED)

    await eventually(all_open, 180)
    queue = (await examiner.get("/queues/medical", limit=1)).json()
    assert queue["total"] == REGISTERED

    fit, temporary, unfit = (
        people[:FIT_FIRST],
        people[FIT_FIRST : FIT_FIRST + TEMPORARILY_UNFIT],
        people[FIT_FIRST + TEMPORARILY_UNFIT :],
    )
    first = (
        [{"person_id": p, "result": "fit"} for p in fit]
        + [{"person_id": p, "result": "temporarily_unfit", "details": "malaria"} for p in temporary]
        + [{"person_id": p, "result": "unfit", "details": "disability"} for p in unfit]
    )
    for start in range(0, len(first), 1000):
        answer = await examiner.ok("/examinations/bulk", {"items": first[start : start + 1000]})
        assert (answer["recorded"], answer["refused"]) == (len(first[start : start + 1000]), 0)

    contested = unfit[:CONTESTED]
    for person in contested:
        asked = await officer.post(f"/cases/{person}/re-examination-requests", {"reason": "disputed"})
        assert asked.status_code == 201, asked.text
    second = (
        [{"person_id": p, "result": "fit"} for p in temporary[:50]]
        + [{"person_id": p, "result": "unfit"} for p in temporary[50:]]
        + [{"person_id": p, "result": "fit"} for p in contested[:15]]
        + [{"person_id": p, "result": "unfit"} for p in contested[15:]]
    )
    answer = await examiner.ok("/examinations/bulk", {"items": second})
    assert (answer["recorded"], answer["refused"]) == (len(second), 0)

    figures = (await officer.get("/figures")).json()
    assert figures["by_track"] == {"integration": FINALLY_FIT, "reinsertion": FINALLY_UNFIT}
    assert figures["cases"] == FINALLY_FIT + FINALLY_UNFIT == REGISTERED
    assert figures["outcomes_superseded"] == 15

    expected = REGISTERED + 15  # one outcome each, and a second for the 15 found fit on re-examination
    envelopes = await topic_events(
        env.settings.kafka_bootstrap_servers,
        env.topic,
        lambda found: len(of_type(found, "ScreeningOutcomeDecided")) >= expected,
        within=120,
    )
    outcomes = of_type(envelopes, "ScreeningOutcomeDecided")
    assert len(outcomes) == expected
    latest = {o.subject: o.data["track"] for o in outcomes}  # per-person order holds on the topic
    assert Counter(latest.values()) == {"integration": FINALLY_FIT, "reinsertion": FINALLY_UNFIT}
    moved = [o for o in outcomes if o.data["supersedes_decision_id"] is not None]
    assert len(moved) == 15
    assert all(o.data["previous_track"] == "reinsertion" and o.data["by_appeal"] for o in moved)
    assert all(o.data["track"] == "integration" for o in moved)
