"""``make demo``: drive the report-shaped caseload through the running stack's public APIs and show the result.

Run after ``ddr stack up`` (``make demo`` does both). Tokens come from the development issuer of ``var/secrets``,
which the stack's services trust; in production there is no such issuer and this refuses to run.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from decimal import Decimal
from typing import Any

import httpx
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from ddr_pathway.entrypoints.path_view import path_table
from ddr_runtime.auth.issuer import DevelopmentTokenIssuer
from ddr_runtime.auth.roles import Role
from ddr_runtime.config import Settings
from ddr_runtime.stack.runner import installed_services
from tests.e2e import scenario
from tests.e2e.platform import Platform

console = Console()


@asynccontextmanager
async def stack_platform() -> AsyncIterator[Platform]:
    settings = Settings()
    issuer = DevelopmentTokenIssuer.from_settings(settings)
    async with AsyncExitStack() as stack:
        clients: dict[str, httpx.AsyncClient] = {}
        for service in installed_services():
            client = httpx.AsyncClient(base_url=f"http://127.0.0.1:{service.port}", timeout=120.0)
            clients[service.name] = await stack.enter_async_context(client)
        yield Platform(clients, issuer)


async def wait_ready(platform: Platform, within: float = 120.0) -> None:
    deadline = time.monotonic() + within
    for name, client in platform.clients.items():
        while True:
            try:
                if (await client.get("/readyz")).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit(
                    f"{name} is not ready: is the stack up? (make up; logs: ddr stack logs {name})"
                )
            await asyncio.sleep(0.5)


class RichProgress(scenario.Progress):
    def __init__(self, progress: Progress) -> None:
        self._progress = progress
        self._tasks: dict[str, TaskID] = {}
        super().__init__(report=self._report)

    def _report(self, stage: str, done: int, total: int) -> None:
        if stage not in self._tasks:
            self._tasks[stage] = self._progress.add_task(stage, total=total)
        self._progress.update(self._tasks[stage], completed=done, total=total)


WITHHELD = "fewer than 5"


def print_funnel(figures: dict[str, Any]) -> None:
    table = Table(
        title=f"Programme funnel (pathway, as of {figures['as_of']}, as a CNDDR officer sees it)",
        caption=scenario.CHILDREN_SHOWN,
    )
    table.add_column("stage")
    table.add_column("people", justify="right")
    for stage, count in scenario.funnel_rows(figures):
        table.add_row(stage, WITHHELD if count is None else f"{count:,}")
    console.print(table)


def print_child_protection(result: scenario.Result) -> None:
    """What child protection itself reads of the children it received, if pathway's figures let it."""
    status, figures = result.child_protection_figures
    if figures is not None:
        count = figures["funnel"]["child_protection"]
        console.print(
            f"Child protection's own count (its token, pathway's figures): {count:,} children's records."
        )
    else:
        console.print(
            f"Child protection may not read pathway's figures (GET /figures answered {status} to its token): "
            "no figures route shows it how many children it received."
        )


def _cell(value: Any) -> str:
    if value is None:
        return WITHHELD
    if isinstance(value, dict):
        return ", ".join(f"{k} {v:,}" for k, v in value.items() if v) or "0"
    return f"{value:,}" if isinstance(value, int) else str(value)


def _same(mine: Any, theirs: Any) -> bool:
    if isinstance(mine, dict) or mine is None or theirs is None:
        return bool(mine == theirs)
    return Decimal(str(mine)) == Decimal(str(theirs))


def print_timeline(result: scenario.Result) -> None:
    """What the run created by each date, beside what pathway's ``GET /figures?as_of=`` answers."""
    table = Table(
        title="The programme as of three dates, as a CNDDR officer sees it: created by the demo / pathway's figures",
        caption=scenario.CHILDREN_SHOWN,
    )
    table.add_column("figure")
    for on in result.figures:
        table.add_column(on.isoformat(), justify="right")
    created = {on: result.plan.figures(on, Role.CNDDR_OFFICER) for on in result.figures}
    first = next(iter(created.values()))
    rows = [("funnel", name) for name in first["funnel"]] + [("cvr", name) for name in first["cvr"]]
    for part, name in rows:
        cells = []
        for on, figures in result.figures.items():
            mine, theirs = created[on][part][name], figures[part].get(name)
            cells.append(
                _cell(mine) if _same(mine, theirs) else f"[red]{_cell(mine)} / {_cell(theirs)}[/red]"
            )
        table.add_row(f"{part}: {name}", *cells)
    console.print(table)
    thirds = Table(title="Rule of thirds per unit (integration, strength / command posts)")
    thirds.add_column("unit")
    for on in result.thirds:
        thirds.add_column(on.isoformat())
    units = sorted({unit for found in result.thirds.values() for unit in found})
    for unit in units:
        cells = []
        for found in result.thirds.values():
            unit_figures = found.get(unit)
            cells.append(
                " · ".join(
                    f"{party} {unit_figures['strength'][party]}/{unit_figures['command_posts'][party]}"
                    for party in unit_figures["strength"]
                )
                if unit_figures
                else "-"
            )
        thirds.add_row(unit, *cells)
    console.print(thirds)


def print_phases(phases: dict[str, float]) -> None:
    """Where the time went, step by step (each step waits until what it recorded was seen downstream)."""
    table = Table(title="Where the time went (wall time per step)")
    table.add_column("step")
    table.add_column("seconds", justify="right")
    for phase, seconds in phases.items():
        table.add_row(phase, f"{seconds:.1f}")
    console.print(table)


def print_path(path: dict[str, Any]) -> None:
    console.print(path_table(path))


async def main(shape: scenario.Shape) -> None:
    async with stack_platform() as platform:
        await wait_ready(platform)
        columns = (
            TextColumn("{task.description:<16}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
        )
        started = time.monotonic()
        with Progress(*columns, console=console) as progress:
            result = await scenario.run(platform, shape, RichProgress(progress))
        console.print(f"The programme recorded and read back in {time.monotonic() - started:.0f} s.")
        print_phases(result.outcome.phases)
        print_funnel(result.figures[max(result.figures)])
        print_child_protection(result)
        print_timeline(result)
        print_path(result.sample_path)
        console.rule("Where to look next")
        for line in scenario.where_next(platform_ports={s.name: s.port for s in installed_services()}):
            console.print(line)
        wrong = scenario.differences(result)
        if wrong:
            for line in wrong:
                console.print(f"[red]{line}[/red]")
            raise SystemExit("the services' figures differ from what the demo created")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--registered", type=int, default=scenario.Shape.registered)
    parser.add_argument("--unfit", type=int, default=scenario.Shape.finally_unfit)
    parser.add_argument("--seed", type=int, default=scenario.Shape.seed)
    arguments = parser.parse_args()
    asyncio.run(
        main(
            scenario.Shape(
                registered=arguments.registered, finally_unfit=arguments.unfit, seed=arguments.seed
            )
        )
    )
