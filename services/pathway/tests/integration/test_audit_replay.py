"""``ddr audit replay``: the programme figures rebuilt offline, from a handover bundle (pseudonymised or full)
and from the live topics, are the same."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path
from typing import Any

import orjson
import pytest
import typer
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from typer.testing import CliRunner

from ddr_contracts.catalog import REGISTRY
from ddr_pathway.entrypoints.audit_replay import replay_command
from ddr_pathway.service_layer.offline import Documents, from_bundle, from_topics, replay
from ddr_runtime.audit.bundle import export_bundle
from ddr_runtime.config import Settings
from ddr_runtime.db import create_engine
from ddr_testkit.upstream import UpstreamService

pytestmark = [pytest.mark.kafka]

AS_OF = date(2020, 6, 30)
SERVICES = ("registration", "screening", "integration", "reinsertion")


@pytest.fixture
async def platform(
    settings: Settings, events: Any
) -> AsyncIterator[tuple[dict[str, UpstreamService], list[str]]]:
    """Four services' stores and topics, with a small caseload published."""
    services = {name: UpstreamService(name, settings) for name in SERVICES}
    for service in services.values():
        await service.__aenter__()
    people = [events.person() for _ in range(6)]
    try:
        at = events.at
        for i, person in enumerate(people):
            await services["registration"].emit(
                person, events.pre_registered(person), occurred_at=at("2019-03-01")
            )
            await services["registration"].emit(
                person, events.registered(person), occurred_at=at("2019-05-01")
            )
            track = ("integration", "reinsertion")[i % 2]
            await services["screening"].emit(
                person, events.screened(person, track), occurred_at=at("2019-07-01")
            )
            if track == "integration":
                await services["integration"].emit(
                    person, events.accepted(person, "2019-09-01"), occurred_at=at("2019-09-01")
                )
            else:
                await services["reinsertion"].emit(
                    person, events.enrolled(person, "2019-10-01"), occurred_at=at("2019-10-01")
                )
        yield services, people
    finally:
        for service in services.values():
            await service.__aexit__(None, None, None)


def stores(services: dict[str, UpstreamService]) -> dict[str, str]:
    return {name: s.settings.store_url() for name, s in services.items()}


async def figures_of(source: Documents, folder: Path) -> dict[str, Any]:
    engine = create_engine(f"sqlite+aiosqlite:///{folder / f'replay-{uuid.uuid4().hex[:6]}.sqlite'}")
    try:
        result = await replay(source, engine, as_of=AS_OF)
    finally:
        await engine.dispose()
    return result.figures


@pytest.mark.parametrize("personal", [False, True], ids=["pseudonymised", "full"])
async def test_a_bundle_replays_to_the_figures_of_the_live_topics(
    platform: tuple[dict[str, UpstreamService], list[str]], settings: Settings, tmp_path: Path, personal: bool
) -> None:
    services, _people = platform
    topics = [s.topic for s in services.values()]
    live = await figures_of(from_topics(settings.kafka_bootstrap_servers, topics), tmp_path)
    exported = await export_bundle(
        stores(services),
        tmp_path / "handover.tar.gz",
        Ed25519PrivateKey.generate(),
        REGISTRY,
        personal=personal,
    )

    replayed = await figures_of(from_bundle(exported.path), tmp_path)

    assert replayed == live
    assert live["funnel"]["registered"] == 6
    assert live["funnel"]["integration"]["active"] == 3


async def test_the_replay_command_prints_the_figures_and_a_path_from_a_bundle(
    platform: tuple[dict[str, UpstreamService], list[str]], tmp_path: Path
) -> None:
    services, people = platform
    exported = await export_bundle(
        stores(services), tmp_path / "handover", Ed25519PrivateKey.generate(), REGISTRY
    )
    runner = CliRunner()

    result = await asyncio.to_thread(
        runner.invoke,
        _as_app(),
        ["--as-of", AS_OF.isoformat(), "--bundle", str(exported.path), "--person", people[0]],
    )

    assert result.exit_code == 0, result.output
    document = orjson.loads(result.output)
    assert document["events"] == sum(exported.events.values())
    assert document["figures"]["funnel"]["registered"] == 6
    assert document["path"]["person_id"] == people[0]


def _as_app() -> typer.Typer:
    """``ddr audit replay`` alone, as the ``ddr.audit.commands`` entry point plugs it into ``ddr audit``."""
    app = typer.Typer()
    app.command()(replay_command)
    return app
