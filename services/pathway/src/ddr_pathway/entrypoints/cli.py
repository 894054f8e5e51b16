"""``ddr pathway ...``: a person's path as a table, and the rebuild of the read models, through the API.

``path`` prints ``GET /paths/{id}`` readable in 80 columns (``--wide`` for every detail). The rebuild runs inside
the serving pathway process (it must switch the read model it serves); ``replay start`` asks it to start and
shows progress and throughput until the new generation is live.
"""

from __future__ import annotations

import os
import time
from datetime import datetime
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from ddr_pathway.entrypoints.path_view import path_table

pathway_app = typer.Typer(
    help="The pathway read models: rebuild from offset zero, progress.", no_args_is_help=True
)
replay_app = typer.Typer(
    help="Rebuild the read models (blue-green) and follow the progress.", no_args_is_help=True
)
pathway_app.add_typer(replay_app, name="replay")
console = Console(stderr=True)

Url = Annotated[str, typer.Option(help="The pathway service's base URL.", envvar="DDR_PATHWAY_URL")]
Token = Annotated[str, typer.Option(help="Bearer token (operator to start; `ddr token --role operator`).", envvar="DDR_TOKEN")]  # fmt: skip
WIDE_WIDTH = 1000
"""Console width for ``--wide``: wide enough for the table's natural width, which it never exceeds."""
DEFAULT_URL = "http://127.0.0.1:8006"


def _client(url: str, token: str) -> httpx.Client:
    return httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=30.0)


def _answer(response: httpx.Response) -> dict[str, Any]:
    if response.status_code >= 400:
        detail = (
            response.json().get("detail") if response.headers.get("content-type", "").endswith("json") else ""
        )
        console.print(f"[red]{response.status_code}: {detail or response.text}[/red]")
        raise typer.Exit(1)
    result: dict[str, Any] = response.json()
    return result


def _show(status: dict[str, Any]) -> None:
    console.print(f"live generation: {status['live']}")
    for generation in status["generations"]:
        progress = generation.get("progress") or {}
        console.print(
            f"  g{generation['generation']} {generation['status']:<8} applied {progress.get('events_applied', '-')}"
            f" lag {progress.get('lag', '-')} rate {progress.get('events_per_second', '-')} events/s"
        )


@replay_app.command("status")
def status(url: Url = DEFAULT_URL, token: Token = "") -> None:
    """Every generation of the read models, the live one, progress, lag and throughput."""
    with _client(url, token or os.environ.get("DDR_TOKEN", "")) as client:
        _show(_answer(client.get("/replay")))


@replay_app.command("start")
def start(
    url: Url = DEFAULT_URL,
    token: Token = "",
    follow: Annotated[
        bool, typer.Option(help="Follow the progress until the new generation is live.")
    ] = True,
) -> None:
    """Rebuild the read models from offset zero of every topic while the current ones keep serving."""
    with _client(url, token) as client:
        generation = int(_answer(client.post("/replay"))["generation"])
        console.print(f"rebuilding into generation {generation}")
        if not follow:
            return
        with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.fields[rate]}"),
                      TimeElapsedColumn(), console=console) as bar:  # fmt: skip
            task = bar.add_task(f"generation {generation}", total=None, rate="")
            while True:
                current = _answer(client.get("/replay"))
                row = next(g for g in current["generations"] if g["generation"] == generation)
                progress = row.get("progress") or {}
                bar.update(
                    task,
                    total=progress.get("events_on_topics_at_start") or None,
                    completed=progress.get("events_applied", 0),
                    rate=f"{progress.get('events_per_second') or 0:,.0f} events/s, lag {progress.get('lag')}",
                )
                if current["live"] == generation:
                    break
                time.sleep(0.5)
        _show(current)


@pathway_app.command("path")
def path(
    person_id: Annotated[str, typer.Argument(help="The person's id.")],
    url: Url = DEFAULT_URL,
    token: Token = "",
    as_of: Annotated[
        datetime | None, typer.Option("--as-of", formats=["%Y-%m-%d"], help="Business date.")
    ] = None,
    known_on: Annotated[
        str | None, typer.Option("--known-on", help="Only what was recorded by then (ISO date-time).")
    ] = None,
    wide: Annotated[
        bool, typer.Option("--wide", help="Every detail: times, service, status, cause; one line a step.")
    ] = False,
) -> None:
    """A person's path as a table (readable in 80 columns; every read is recorded by the service)."""
    params = {"as_of": as_of.date().isoformat() if as_of else None, "known_on": known_on}
    with _client(url, token) as client:
        answer = _answer(client.get(f"/paths/{person_id}", params={k: v for k, v in params.items() if v}))
    out = Console(width=WIDE_WIDTH) if wide else Console()
    out.print(path_table(answer, wide=wide))
