"""``ddr lists``: import a movement's list file from the command line, with a progress bar and a report.

The import writes to the registration service's own store (settings from ``DDR_*`` / ``DDR_REGISTRATION_*``);
its events reach Kafka through the outbox, published by the service's relay. The bootstrap gives the command
its way to the store (:data:`DeskOpener`).
"""

from __future__ import annotations

import asyncio
import getpass
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from datetime import date, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from ddr_registration.service_layer.desk import RegistrationDesk
from ddr_registration.service_layer.importing import ImportReport, ProfileChoice, import_list
from ddr_runtime.eventstore.store import Causation
from ddr_runtime.kernel import BACK_RECORDING_ROLE, BackRecording, DomainError, Recording

console = Console(stderr=True)
SHOWN_PROBLEMS = 50

DeskOpener = Callable[[], AbstractAsyncContextManager[RegistrationDesk]]
"""Opens the registration service's store from the environment's settings, and closes it."""


def lists_cli(open_desk: DeskOpener) -> typer.Typer:
    """The ``ddr lists`` commands, working on the store ``open_desk`` opens."""
    app = typer.Typer(help="Movements' certified lists.", no_args_is_help=True)

    @app.callback()
    def lists_group() -> None:
        """Movements' certified lists (a group even with one command: ``ddr lists import ...``)."""

    @app.command("import")
    def import_command(
        file: Annotated[
            Path, typer.Argument(exists=True, dir_okay=False, readable=True, help=".csv or .xlsx")
        ],
        movement: Annotated[str, typer.Option("--movement", help="Code of the movement whose list it is.")],
        reject_whole: Annotated[
            bool, typer.Option("--reject-whole", help="Refuse the whole file if any row is bad.")
        ] = False,
        actor: Annotated[str | None, typer.Option(help="Who imports (default: the OS user).")] = None,
        on: Annotated[
            datetime | None,
            typer.Option(formats=["%Y-%m-%d"], help="When the movement submitted the list (default: today)."),
        ] = None,
        reason: Annotated[
            str | None,
            typer.Option(
                "--back-recording-reason",
                help="Why a list older than the back-recording window is recorded now (kept in its events).",
            ),
        ] = None,
        profile: Annotated[
            str | None, typer.Option(help="The movement's import profile the file is laid out by.")
        ] = None,
        profile_version: Annotated[
            int | None, typer.Option(help="Its version (default: the latest).")
        ] = None,
    ) -> None:
        """Import FILE as the next version of MOVEMENT's list; re-importing the same file changes nothing.

        The command writes to the store directly, as whoever holds its credentials: with a reason it records
        history older than the window with the records officer's authority."""
        causation, recording = _recording(actor, reason)
        day = on.date() if on is not None else None
        try:
            choice = ProfileChoice(profile, profile_version) if profile else None
            report = asyncio.run(
                _import(open_desk, file, movement, reject_whole, causation, recording, day, choice)
            )
        except DomainError as refused:
            console.print(f"[red]refused:[/red] {refused.detail}")
            raise typer.Exit(2) from None
        _print_report(report)
        if report.status == "rejected":
            raise typer.Exit(1)

    return app


def _recording(actor: str | None, reason: str | None) -> tuple[Causation, Recording]:
    authority = BackRecording(BACK_RECORDING_ROLE, reason.strip()) if reason and reason.strip() else None
    causation = Causation(actor=actor or f"cli:{getpass.getuser()}", back_recording=authority)
    return causation, Recording(authority=authority)


async def _import(
    open_desk: DeskOpener,
    file: Path,
    movement: str,
    reject_whole: bool,
    causation: Causation,
    recording: Recording,
    on: date | None,
    profile: ProfileChoice | None,
) -> ImportReport:
    async with open_desk() as desk:
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
                desk,
                file,
                movement,
                causation,
                reject_whole=reject_whole,
                progress=lambda rows: bar.update(task, completed=rows),
                recording=recording,
                on=on,
                profile=profile,
            )


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
        ("profile", f"{report.profile} v{report.profile_version}" if report.profile else "-"),
        ("columns not read", ", ".join(report.unknown_columns) or "-"),
        ("serials declared before", len(report.serial_repeats)),
        ("documents issued days before", len(report.documents_recent)),
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
