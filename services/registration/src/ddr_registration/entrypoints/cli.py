"""``ddr lists``: import a movement's list file from the command line, with a progress bar and a report.

The import writes to the registration service's own store (settings from ``DDR_*`` / ``DDR_REGISTRATION_*``);
its events reach Kafka through the outbox, published by the service's relay.
"""

from __future__ import annotations

import asyncio
import getpass
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from ddr_contracts.catalog import REGISTRY
from ddr_registration.adapters.biometrics import BiometricHasher, biometric_secret
from ddr_registration.adapters.list_files import ListFileError
from ddr_registration.domain.errors import DomainError
from ddr_registration.service_layer.importing import ImportReport, import_list
from ddr_registration.service_layer.startup import prepare
from ddr_registration.service_layer.unit import Registration
from ddr_runtime.config import service_settings
from ddr_runtime.eventstore.store import Causation
from ddr_runtime.service import build_runtime

lists_app = typer.Typer(help="Movements' certified lists.", no_args_is_help=True)
console = Console(stderr=True)
SHOWN_PROBLEMS = 50


@lists_app.callback()
def lists_group() -> None:
    """Movements' certified lists (a group even with one command: ``ddr lists import ...``)."""


@lists_app.command("import")
def import_command(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True, help=".csv or .xlsx")],
    movement: Annotated[str, typer.Option("--movement", help="Code of the movement whose list it is.")],
    reject_whole: Annotated[
        bool, typer.Option("--reject-whole", help="Refuse the whole file if any row is bad.")
    ] = False,
    actor: Annotated[str | None, typer.Option(help="Who imports (default: the OS user).")] = None,
) -> None:
    """Import FILE as the next version of MOVEMENT's list; re-importing the same file changes nothing."""
    try:
        report = asyncio.run(_import(file, movement, reject_whole, actor or f"cli:{getpass.getuser()}"))
    except (DomainError, ListFileError) as refused:
        console.print(f"[red]refused:[/red] {refused}")
        raise typer.Exit(2) from None
    _print_report(report)
    if report.status == "rejected":
        raise typer.Exit(1)


async def _import(file: Path, movement: str, reject_whole: bool, actor: str) -> ImportReport:
    settings = service_settings("registration")
    runtime = build_runtime("registration", REGISTRY, settings)
    key = biometric_secret(settings.var_dir, production=settings.environment == "production")
    reg = Registration(store=runtime.store, hasher=BiometricHasher(key))
    try:
        await runtime.keystore.create_schema()
        await prepare(reg)
        with Progress(
            SpinnerColumn(),
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            TextColumn("{task.completed} rows"),
            TimeElapsedColumn(),
            console=console,
        ) as bar:
            task = bar.add_task(f"importing {file.name}", total=None)
            return await import_list(
                reg,
                file,
                movement,
                Causation(actor=actor),
                reject_whole=reject_whole,
                progress=lambda rows: bar.update(task, completed=rows),
            )
    finally:
        await runtime.engine.dispose()
        await runtime.keys_engine.dispose()


def _print_report(report: ImportReport) -> None:
    out = Console()
    summary = Table(title=f"{report.movement}: list import {report.status}", show_header=False)
    for label, value in (
        ("list", report.list_id),
        ("version", report.list_version if report.list_version is not None else "-"),
        ("file SHA-256", report.file_sha256),
        ("rows", report.rows_total),
        ("pre-registered", report.rows_pre_registered),
        ("already listed", report.rows_already_listed),
        ("rejected", report.rows_rejected),
        ("suspected duplicates", report.duplicates_suspected),
    ):
        summary.add_row(label, str(value))
    out.print(summary)
    if report.problems:
        problems = Table(title="rows refused", show_lines=False)
        for column in ("line", "column", "reason"):
            problems.add_column(column)
        for problem in report.problems[:SHOWN_PROBLEMS]:
            problems.add_row(str(problem.line), problem.column, problem.reason)
        out.print(problems)
        if len(report.problems) > SHOWN_PROBLEMS:
            out.print(f"... and {len(report.problems) - SHOWN_PROBLEMS} more")
