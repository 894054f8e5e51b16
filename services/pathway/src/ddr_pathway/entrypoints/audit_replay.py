"""``ddr audit replay``: the programme figures (and a path) as of a date, rebuilt from a bundle or the live
topics in a throw-away read model. Plugged into ``ddr audit`` (``ddr.audit.commands`` entry point)."""

from __future__ import annotations

import asyncio
import tempfile
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer
from rich.console import Console

from ddr_contracts.topics import SERVICES
from ddr_pathway.service_layer.offline import from_bundle, from_topics, replay
from ddr_runtime.audit.sources import BundleTooLarge
from ddr_runtime.config import Settings
from ddr_runtime.db import create_engine

console = Console()
CONSUMED = tuple(s for s in SERVICES if s != "pathway")


def replay_command(
    as_of: Annotated[
        datetime, typer.Option("--as-of", formats=["%Y-%m-%d"], help="Business date (end of day).")
    ],
    known_on: Annotated[
        datetime | None,
        typer.Option("--known-on", help="Count only what was recorded by then (ISO date-time)."),
    ] = None,
    bundle: Annotated[
        Path | None,
        typer.Option("--bundle", help="A handover bundle (directory or tar) instead of the topics."),
    ] = None,
    person: Annotated[str | None, typer.Option(help="Also rebuild this person's path.")] = None,
) -> None:
    """Rebuild the programme figures (and a person's path) as of a date, from a bundle or the live topics."""
    try:
        events, figures, path = asyncio.run(_replay(as_of.date(), known_on, bundle, person))
    except BundleTooLarge as error:
        console.print(f"[red]{error}[/red]")
        raise typer.Exit(2) from None
    console.print_json(orjson.dumps({"events": events, "figures": figures, "path": path}).decode())


async def _replay(
    as_of: date, known_on: datetime | None, bundle: Path | None, person: str | None
) -> tuple[int, dict[str, Any], dict[str, Any] | None]:
    settings = Settings()
    source = (
        from_bundle(bundle)
        if bundle is not None
        else from_topics(settings.kafka_bootstrap_servers, [settings.events_topic(s) for s in CONSUMED])
    )
    with tempfile.TemporaryDirectory(prefix="ddr-replay-") as folder:
        engine = create_engine(f"sqlite+aiosqlite:///{Path(folder) / 'replay.sqlite'}")
        try:
            result = await replay(source, engine, as_of=as_of, known_on=known_on, person_id=person)
        finally:
            await engine.dispose()
    return result.events, result.figures, result.path
