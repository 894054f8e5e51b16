"""Replay and order independence over the real broker: the same events in three cross-topic arrival orders
give identical paths and figures, and a rebuild from offset zero while the API serves fails no request and
ends in a read model equal to the old one."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer

from ddr_contracts.wire import HASH_HEADER
from ddr_runtime.auth.issuer import DevelopmentTokenIssuer
from ddr_runtime.config import Settings
from ddr_runtime.eventstore.store import StoredEvent
from ddr_testkit.upstream import UpstreamService, create_namespace_topics, new_namespace

from .conftest import running_pathway

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]

Wait = Callable[..., Awaitable[None]]
SERVICES = ("registration", "screening", "integration", "reinsertion")
AS_OF_DATES = ("2019-06-30", "2020-06-30", "2021-12-31")


async def caseload(
    settings: Settings, events: Any, persons: int
) -> tuple[list[str], dict[str, list[StoredEvent]]]:
    """Stored (not yet published) events of several services about ``persons`` people, by service."""
    people = [events.person() for _ in range(persons)]
    stored: dict[str, list[StoredEvent]] = {s: [] for s in SERVICES}
    upstream = {s: UpstreamService(s, settings) for s in SERVICES}
    for service in upstream.values():
        await service.__aenter__()
    try:
        at = events.at
        stored["registration"] += await upstream["registration"].emit(
            "MNLA", events.joined("MNLA", "CMA", "2015-01-01"), occurred_at=at("2015-01-01"), publish=False
        )
        for i, person in enumerate(people):
            movement = ("MNLA", "GATIA", "HCUA")[i % 3]

            async def emit(service: str, event: Any, day: str, who: str = person, hour: int = 9) -> None:
                stored[service].extend(
                    await upstream[service].emit(who, event, occurred_at=at(day, hour), publish=False)
                )

            await emit(
                "registration",
                events.pre_registered(person, movement=movement, sex="MF"[i % 2]),
                "2019-03-01",
            )
            # Registered at 18:00 and screened the same day by a decision dated by day (noon).
            await emit("registration", events.registered(person), "2019-07-01", hour=18)
            track = ("integration", "reinsertion", "not_eligible")[i % 3]
            await emit("screening", events.screened(person, track, movement=movement), "2019-07-01", hour=12)
            if track == "integration":
                await emit("integration", events.accepted(person, "2019-09-01", movement), "2019-09-01")
                if i % 2:
                    await emit("integration", events.service(person, "deserted", "2021-10-01"), "2021-10-01")
            elif track == "reinsertion":
                await emit("reinsertion", events.enrolled(person, "2019-10-01"), "2019-10-01")
                await emit("reinsertion", events.exited(person, "2020-10-01"), "2020-10-01")
        # A correction recorded last, about an early date; and a merge.
        await emit("registration", events.corrected(people[0], region="Gao"), "2019-04-01", people[0])
        await emit("registration", events.merged(people[-1], people[0]), "2019-08-01", people[-1])
    finally:
        for service in upstream.values():
            await service.__aexit__(None, None, None)
    return people, stored


async def publish(bootstrap: str, namespace: str, service: str, items: list[StoredEvent]) -> None:
    """The stored bytes, as the service's relay would publish them, to ``namespace``'s topic."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        topic = f"{namespace}ddr.{service}.events"
        for item in items:
            await producer.send(
                topic,
                item.payload,
                key=item.envelope.subject.encode(),
                headers=[(HASH_HEADER, item.hash.encode())],
            )
        await producer.flush()
    finally:
        await producer.stop()


async def applied(callers: Any) -> int:
    status = (await callers.operator.get("/replay")).json()
    live = next(g for g in status["generations"] if g["generation"] == status["live"])
    return int(live["progress"]["events_applied"]) if live["progress"] else 0


def comparable(path: dict[str, Any]) -> dict[str, Any]:
    """A path without the length of its open stage (it grows with the clock)."""
    stages = [{**s, "days": None} if s["until"] is None else s for s in path.get("stages", [])]
    return {**path, "stages": stages}


async def snapshot(callers: Any, people: list[str]) -> dict[str, Any]:
    paths = {}
    for person in people:
        response = await callers.auditor.get(f"/paths/{person}")
        assert response.status_code == 200, response.text
        paths[person] = comparable(response.json())
    figures = {}
    for day in AS_OF_DATES:
        response = await callers.donor.get("/figures", as_of=day)
        assert response.status_code == 200, response.text
        figures[day] = response.json()
    return {"paths": paths, "figures": figures}


async def other_database(request: pytest.FixtureRequest, base: Settings, tmp_path: Path, name: str) -> str:
    if base.database_url.startswith("sqlite"):
        return f"sqlite+aiosqlite:///{tmp_path / f'{name}.sqlite'}"
    make = request.getfixturevalue("make_postgres_database")
    url: str = await make()
    return url


async def test_three_cross_topic_arrival_orders_give_identical_paths_and_figures(
    request: pytest.FixtureRequest,
    settings: Settings,
    kafka_bootstrap_servers: str,
    issuer: DevelopmentTokenIssuer,
    events: Any,
    wait: Wait,
    tmp_path: Path,
) -> None:
    people, stored = await caseload(settings, events, persons=9)
    shuffled = random.Random(8).sample(SERVICES, len(SERVICES))
    orders = {
        "upstream_first": list(SERVICES),
        "downstream_first": list(reversed(SERVICES)),
        "shuffled": shuffled,
    }
    snapshots = {}
    for name, order in orders.items():
        namespace = new_namespace()
        create_namespace_topics(kafka_bootstrap_servers, namespace)
        own = settings.model_copy(
            update={
                "topic_namespace": namespace,
                "database_url": await other_database(request, settings, tmp_path, name),
            }
        )
        async with running_pathway(own, issuer) as (_app, callers):
            total = 0
            for service in order:  # one topic at a time, each applied before the next arrives
                await publish(kafka_bootstrap_servers, namespace, service, stored[service])
                total += len(stored[service])
                await wait(lambda n=total, c=callers: _at_least(c, n), f"{name}: {total} events applied")
            snapshots[name] = await snapshot(callers, people)

    first = snapshots["upstream_first"]
    assert first["figures"]["2020-06-30"]["funnel"]["pre_registered"] == 8  # nine people, one merged away
    for person in people[:-1]:  # the last was merged into the first
        steps = [s["type"].rsplit(".", 1)[1] for s in first["paths"][person]["steps"]]
        assert steps.index("PersonRegistered") < steps.index("ScreeningOutcomeDecided"), steps
    assert first["paths"][people[0]]["absorbed"] == [people[-1]]
    assert snapshots["downstream_first"] == first
    assert snapshots["shuffled"] == first


async def _at_least(callers: Any, count: int) -> bool:
    return await applied(callers) >= count


async def test_rebuild_from_zero_while_the_api_serves_fails_no_request_and_equals_the_old_model(
    pathway: Any, settings: Settings, events: Any, wait: Wait
) -> None:
    people, stored = await caseload(settings, events, persons=12)
    for service, items in stored.items():
        await publish(settings.kafka_bootstrap_servers, settings.topic_namespace, service, items)
    total = sum(len(items) for items in stored.values())
    await wait(lambda: _at_least(pathway, total), f"{total} events applied")
    before = await snapshot(pathway, people)

    started = await pathway.operator.post("/replay")
    assert started.status_code == 202, started.text
    assert started.json()["generation"] == 2
    assert (await pathway.operator.post("/replay")).status_code == 409

    statuses: list[int] = []
    seen_progress: list[dict[str, Any]] = []

    async def live_generation() -> int:
        status = (await pathway.operator.get("/replay")).json()
        building = [g for g in status["generations"] if g["generation"] == 2]
        if building and building[0]["progress"]:
            seen_progress.append(building[0]["progress"])
        return int(status["live"])

    while await live_generation() != 2:
        responses = await asyncio.gather(
            pathway.donor.get("/figures", as_of="2020-06-30"),
            *(pathway.auditor.get(f"/paths/{p}") for p in people[:3]),
        )
        statuses += [r.status_code for r in responses]
        assert len(statuses) < 5000, "the rebuild never switched"

    after = await snapshot(pathway, people)
    assert set(statuses) <= {200}
    assert after == before
    assert seen_progress, "progress of the new generation was shown while it was building"
    assert seen_progress[-1]["events_on_topics_at_start"] == total
    final = (await pathway.operator.get("/replay")).json()
    assert [g["status"] for g in final["generations"]] == ["retired", "live"]
    assert final["generations"][1]["progress"]["caught_up"] is True
    assert final["generations"][1]["progress"]["events_per_second"] > 0

    # Live catch-up afterwards: a new event lands in the new generation.
    late = events.person()
    async with UpstreamService("registration", settings) as registration:
        await registration.emit(late, events.pre_registered(late))
    await wait(lambda: _path_exists(pathway, late), "the late event in the new generation")
    metrics = (await pathway.client.get("/metrics")).text
    assert 'ddr_consumer_lag_messages{consumer="pathway-g2"' in metrics


async def _path_exists(callers: Any, person: str) -> bool:
    response = await callers.auditor.get(f"/paths/{person}")
    return bool(response.status_code == 200)
