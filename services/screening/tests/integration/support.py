"""What the screening integration tests share: registration's events upstream, waiting for cases, topic reads."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from typing import Any

from kafka import KafkaConsumer

from ddr_contracts.envelope import EventEnvelope
from ddr_contracts.registration import PersonPreRegistered, PersonRegistered, WeaponHandedOver
from ddr_testkit.services import Api
from ddr_testkit.upstream import UpstreamService


def pre_registered(person_id: str, **overrides: Any) -> PersonPreRegistered:
    values: dict[str, Any] = {
        "person_id": person_id,
        "list_id": "list-1",
        "list_version": 1,
        "movement": "MNLA",
        "movement_ref": f"MNLA-{person_id[:8]}",
        "category": "combatant",
        "sex": "M",
        "birth_kind": "year",
        "birth_year": 1988,
        "region": "Kidal",
        "cercle": "Kidal",
        "rank": "sergent",
        "armed": True,
        "full_name": "Test Person",
    }
    values.update(overrides)
    return PersonPreRegistered(**values)


def registered(person_id: str) -> PersonRegistered:
    return PersonRegistered(
        person_id=person_id, ddr_id=f"ML-{person_id[:8]}", biometric_hash="h-" + person_id
    )


def weapon(person_id: str) -> WeaponHandedOver:
    return WeaponHandedOver(
        weapon_id=str(uuid.uuid4()),
        person_id=person_id,
        movement="MNLA",
        kind="weapon",
        type="AK-47",
        calibre="7.62x39",
        serial=None,
        quantity=1,
        condition="good",
        tag=f"T-{person_id[:8]}",
        receipt_number=f"R-{uuid.uuid4().hex[:10]}",
        custodian="CNDDR Gao",
    )


async def register(
    upstream: UpstreamService,
    person_id: str,
    *,
    armed_with_weapon: bool = True,
    at: datetime | None = None,
    publish: bool = True,
    **facts: Any,
) -> None:
    """Pre-register and register one person (and hand their weapon over) as registration would."""
    events = [pre_registered(person_id, **facts)]
    if armed_with_weapon:
        events.append(weapon(person_id))  # type: ignore[arg-type]
    events.append(registered(person_id))  # type: ignore[arg-type]
    await upstream.emit(person_id, *events, occurred_at=at or datetime.now(UTC), publish=publish)


async def eventually(check: Callable[[], Awaitable[bool]], within: float = 60.0) -> None:
    deadline = time.monotonic() + within
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.2)


async def case_of(officer: Api, person_id: str, within: float = 60.0) -> dict[str, Any]:
    """The case once it is open (polls the API; an unknown case is 404 until the consumer opened it)."""
    found: dict[str, Any] = {}

    async def opened() -> bool:
        response = await officer.get(f"/cases/{person_id}")
        if response.status_code == 200:
            found.update(response.json())
            return True
        return False

    await eventually(opened, within)
    return found


async def topic_events(
    bootstrap: str, topic: str, expected: int | Callable[[list[EventEnvelope]], bool], within: float = 60.0
) -> list[EventEnvelope]:
    """Read ``topic`` from the start until ``expected`` events are there, or ``expected(events)`` holds;
    fails, naming what it read, when they are not there ``within`` seconds (a loaded machine's relay is slow).

    In a thread: the app's relay shares this event loop and must keep publishing meanwhile.
    """
    return await asyncio.to_thread(_read_topic, bootstrap, topic, expected, within)


def _read_topic(
    bootstrap: str, topic: str, expected: int | Callable[[list[EventEnvelope]], bool], timeout: float
) -> list[EventEnvelope]:
    enough: Callable[[list[EventEnvelope]], bool] = (
        expected if callable(expected) else lambda found: len(found) >= expected
    )
    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        group_id=None,
    )
    envelopes: list[EventEnvelope] = []
    deadline = time.monotonic() + timeout
    try:
        while not enough(envelopes) and time.monotonic() < deadline:
            for records in consumer.poll(timeout_ms=500).values():
                envelopes.extend(EventEnvelope.from_bytes(record.value) for record in records)
    finally:
        consumer.close()
    if not enough(envelopes):
        read = [e.type for e in envelopes]
        raise AssertionError(f"{topic}: what was expected is not there after {timeout} s; read {read}")
    return envelopes


def of_type(envelopes: list[EventEnvelope], name: str) -> list[EventEnvelope]:
    return [e for e in envelopes if e.type.rpartition(".v")[0] == f"ddr.screening.{name}"]


def birth_year_for_age(age: int, on: date) -> int:
    return on.year - age - 1


def has(name: str, subject: str) -> Callable[[list[EventEnvelope]], bool]:
    """Until an event of type ``name`` about ``subject`` is among those read."""
    return lambda found: any(e.subject == subject for e in of_type(found, name))
