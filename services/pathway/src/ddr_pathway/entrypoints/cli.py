"""``ddr pathway replay ...``: start a rebuild of the read models and follow its progress, through the API.

The rebuild runs inside the serving pathway process (it must switch the read model it serves); this command
asks it to start and shows progress and throughput until the new generation is live.
"""

from __future__ import annotations

import os
import time
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

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
