"""``ddr simulate caseload``: synthetic movement lists, and the truth about them, for demos and load tests.

The bootstrap gives the command its list file writer (the adapter that writes CSV and XLSX).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import AbstractContextManager, ExitStack
from pathlib import Path
from typing import Annotated, Protocol

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from ddr_registration.domain.members import ListedMember
from ddr_registration.simulate.caseload import Caseload, generate_caseload
from ddr_registration.simulate.places import MOVEMENT_CODES

console = Console(stderr=True)
_PROGRESS_STEP = 1_000
DEFAULT_SIZE = 2_300
DEFAULT_SEED = 2018


class ListWriter(AbstractContextManager["ListWriter"], Protocol):
    """Appends members to one list file."""

    path: Path
    rows: int

    def write(self, member: ListedMember) -> None: ...


WriterOpener = Callable[[Path], ListWriter]


def simulate_cli(open_writer: WriterOpener) -> typer.Typer:
    """The ``ddr simulate`` commands, writing list files with ``open_writer``."""
    app = typer.Typer(help="Synthetic data for demos, load tests and training.", no_args_is_help=True)

    @app.callback()
    def simulate() -> None:
        """Synthetic data for demos, load tests and training (never real people)."""

    app.command("caseload")(_caseload_command(open_writer))
    return app


def _caseload_command(open_writer: WriterOpener) -> Callable[..., None]:
    def caseload(
        out: Annotated[
            Path,
            typer.Option(
                help="A .csv or .xlsx file with --movement; otherwise a directory, one file per movement."
            ),
        ],
        size: Annotated[
            int,
            typer.Option(
                min=1, help="Rows in all, injected duplicates included (2,300: the accelerated DDR)."
            ),
        ] = DEFAULT_SIZE,
        seed: Annotated[
            int, typer.Option(help="The same seed gives the same rows, byte for byte.")
        ] = DEFAULT_SEED,
        truth: Annotated[
            Path | None,
            typer.Option(help="Write the ground truth here (JSON): duplicates, children, serials."),
        ] = None,
        movement: Annotated[
            str | None, typer.Option(help=f"Only this movement's list: one of {', '.join(MOVEMENT_CODES)}.")
        ] = None,
        file_format: Annotated[
            str, typer.Option("--format", help="csv or xlsx, for the per-movement files.")
        ] = "csv",
        duplicate_share: Annotated[
            float, typer.Option(min=0.0, max=1.0, help="Share of injected duplicates.")
        ] = 0.03,
    ) -> None:
        """Write movement list files of a synthetic caseload."""
        _check_options(out, movement, file_format)
        generated = generate_caseload(
            size, seed, duplicate_share, movements=(movement,) if movement is not None else None
        )
        written = _write_lists(generated, out, None if movement is not None else file_format, open_writer)
        for path, rows in written.items():
            console.print(f"[green]{path}[/green]: {rows} rows")
        if truth is not None:
            _write_truth(generated, truth, size, seed)

    return caseload


def _check_options(out: Path, movement: str | None, file_format: str) -> None:
    if movement is not None and movement not in MOVEMENT_CODES:
        raise typer.BadParameter(f"one of {', '.join(MOVEMENT_CODES)}", param_hint="--movement")
    if movement is not None and out.suffix.lower() not in (".csv", ".xlsx"):
        raise typer.BadParameter("a .csv or .xlsx file when --movement is given", param_hint="--out")
    if movement is None and out.suffix.lower() in (".csv", ".xlsx"):
        raise typer.BadParameter(
            "a directory (one file per movement) unless --movement is given", param_hint="--out"
        )
    if file_format not in ("csv", "xlsx"):
        raise typer.BadParameter("csv or xlsx", param_hint="--format")


def _write_truth(generated: Caseload, truth: Path, size: int, seed: int) -> None:
    truth.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "seed": seed,
        "size": size,
        "registration_day": generated.profile.registration_day.isoformat(),
        **generated.truth().to_json(),
    }
    truth.write_text(json.dumps(document, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    console.print(f"[green]{truth}[/green]: ground truth")


def _write_lists(
    generated: Caseload, out: Path, per_movement_format: str | None, open_writer: WriterOpener
) -> dict[Path, int]:
    """Stream the rows into the ``out`` file, or into one file per movement under the ``out`` directory."""
    columns = (
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
    )
    with ExitStack() as files, Progress(*columns, console=console) as progress:
        writers: dict[str, ListWriter] = {}

        def writer_for(movement: str) -> ListWriter:
            key = movement if per_movement_format is not None else ""
            if key not in writers:
                path = out / f"{movement}.{per_movement_format}" if per_movement_format is not None else out
                path.parent.mkdir(parents=True, exist_ok=True)
                writers[key] = files.enter_context(open_writer(path))
            return writers[key]

        task = progress.add_task("generating", total=generated.profile.size)
        for done, row in enumerate(generated.rows(), start=1):
            writer_for(row.movement).write(row.member)
            if done % _PROGRESS_STEP == 0:
                progress.update(task, completed=done)
        progress.update(task, completed=generated.profile.size)
        return {writer.path: writer.rows for writer in writers.values()}
