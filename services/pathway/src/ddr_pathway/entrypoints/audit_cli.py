"""``ddr audit ...``: verify, checkpoint, export and replay the platform's history (read-only rights).

Stores are found as every service finds its own (``DDR_<SERVICE>_DATABASE_URL``, else ``var/stores``), topics
through the settings' namespace. ``verify``, ``consistency`` and ``replay`` only read; ``checkpoint`` appends
one ``CheckpointSigned`` event to the pathway store; ``export`` writes only the bundle.
"""

from __future__ import annotations

import asyncio
import tempfile
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer
from rich.console import Console
from rich.table import Table

from ddr_contracts.catalog import REGISTRY
from ddr_pathway.service_layer.audit import (
    AuditReport,
    Platform,
    bundle_received,
    export_bundle,
    live_received,
    replay,
    verify_bundle,
    verify_extends,
    verify_platform,
)
from ddr_pathway.service_layer.checkpoints import (
    SignedCheckpoint,
    audit_dir,
    check_extends,
    load_public_key,
    platform_leaves,
    platform_stores,
    proof_document,
    publish_checkpoint,
    saved_checkpoints,
    signing_key,
    take_checkpoint,
    write_checkpoint_file,
)
from ddr_runtime.config import Settings, service_settings
from ddr_runtime.db import create_engine
from ddr_runtime.service import build_runtime

audit_app = typer.Typer(
    help="Verify, checkpoint, export and replay the platform's history.", no_args_is_help=True
)
console = Console()
SERVICE = "pathway"

BundleOption = Annotated[
    Path | None,
    typer.Option("--bundle", help="A handover bundle (directory or tar) instead of the live platform."),
]


def _settings() -> Settings:
    return service_settings(SERVICE)


@audit_app.command("verify")
def verify_command(
    bundle: BundleOption = None,
    trusted_key: Annotated[
        Path | None, typer.Option(help="PEM public key the bundle or checkpoint must be signed with.")
    ] = None,
    stores_only: Annotated[
        bool, typer.Option("--stores-only", help="Check the stores' chains only.")
    ] = False,
    checkpoint: Annotated[
        Path | None,
        typer.Option(help="A checkpoint file today's history must extend (default: the latest saved one)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Every stream's hash chain in every store, and each topic against its store (or a bundle, offline)."""
    trusted = load_public_key(trusted_key.read_bytes()) if trusted_key else None
    if bundle is not None:
        report = verify_bundle(bundle, REGISTRY, trusted_key=trusted)
    else:
        report = asyncio.run(_verify_live(stores_only, checkpoint))
    _print_report(report, as_json)
    if not report.ok:
        raise typer.Exit(1)


async def _verify_live(stores_only: bool, checkpoint_file: Path | None) -> AuditReport:
    settings = _settings()
    stores = platform_stores(settings)
    report = await verify_platform(Platform.from_settings(settings, stores, topics=not stores_only))
    saved = saved_checkpoints(audit_dir(settings))
    old = SignedCheckpoint.load(checkpoint_file) if checkpoint_file else (saved[-1] if saved else None)
    if old is not None:
        report.offences.extend(await verify_extends(stores, old))
        report.notes.append(
            f"history checked to extend checkpoint {old.body.digest[:16]} ({old.body.issued_at})"
        )
    return report


def _print_report(report: AuditReport, as_json: bool) -> None:
    if as_json:
        document: dict[str, Any] = {
            "ok": report.ok,
            "seconds": round(report.seconds, 3),
            "services": [vars(s) for s in report.services],
            "offences": [vars(o) for o in report.offences],
            "notes": report.notes,
        }
        console.print_json(orjson.dumps(document).decode())
        return
    table = Table("service", "store", "streams", "events", "topic messages", "duplicates", "pending")
    for s in report.services:
        table.add_row(
            s.service,
            s.store,
            f"{s.streams:,}",
            f"{s.events:,}",
            f"{s.topic_messages:,}",
            f"{s.duplicates:,}",
            f"{s.pending:,}",
        )
    console.print(table)
    for note in report.notes:
        console.print(f"note: {note}")
    for offence in report.offences:
        console.print(f"[red]{offence}[/red]", highlight=False, markup=False)
    rate = report.events / report.seconds if report.seconds else 0.0
    verdict = "[green]OK[/green]" if report.ok else f"[red]{len(report.offences)} offence(s)[/red]"
    console.print(f"{verdict}: {report.events:,} events in {report.seconds:.2f} s ({rate:,.0f}/s)")


@audit_app.command("checkpoint")
def checkpoint_command(
    publish: Annotated[
        bool, typer.Option(help="Append it to the pathway store and relay it to the pathway topic.")
    ] = True,
) -> None:
    """Sign a checkpoint of every store now; save it under var/audit and publish it."""
    path, digest = asyncio.run(_checkpoint(publish))
    console.print(f"checkpoint {digest} written to {path}")


async def _checkpoint(publish: bool) -> tuple[Path, str]:
    settings = _settings()
    checkpoint = await take_checkpoint(platform_stores(settings), signing_key(settings))
    if not publish:
        return write_checkpoint_file(checkpoint, audit_dir(settings)), checkpoint.body.digest
    runtime = build_runtime(SERVICE, REGISTRY, settings)
    try:
        await runtime.keystore.create_schema()
        await runtime.store.create_schema()
        path = await publish_checkpoint(runtime.store, checkpoint, audit_dir(settings))
        await runtime.broker.start()
        await runtime.relay.drain()
    finally:
        await runtime.broker.stop()
        await runtime.engine.dispose()
        await runtime.keys_engine.dispose()
    return path, checkpoint.body.digest


@audit_app.command("consistency")
def consistency_command(
    old: Annotated[Path, typer.Argument(help="A checkpoint file kept from earlier.")],
    proof_out: Annotated[Path | None, typer.Option(help="Write the consistency proofs here (JSON).")] = None,
) -> None:
    """Prove that today's history extends an old checkpoint (RFC 9162 consistency proofs)."""
    checkpoint = SignedCheckpoint.load(old)
    if not checkpoint.verify():
        console.print("[red]the old checkpoint's signature does not verify[/red]")
        raise typer.Exit(1)
    leaves = asyncio.run(platform_leaves(platform_stores(_settings())))
    findings = check_extends(checkpoint, leaves)
    for finding in findings:
        console.print(str(finding), style="green" if finding.ok else "red", highlight=False)
    if proof_out is not None:
        proof_out.write_bytes(orjson.dumps(proof_document(checkpoint, leaves), option=orjson.OPT_INDENT_2))
    if not all(f.ok for f in findings):
        raise typer.Exit(1)


@audit_app.command("export")
def export_command(
    out: Annotated[Path, typer.Argument(help="Bundle to write: a new directory, or a .tar / .tar.gz file.")],
    personal: Annotated[
        bool,
        typer.Option(
            "--personal",
            help="Keep personal fields (sealed: only a recipient also handed the key store can read them).",
        ),
    ] = False,
) -> None:
    """Write a signed handover bundle; pseudonymised (no personal field at all) unless --personal."""
    if out.exists():
        console.print(f"[red]{out} exists: choose a new path[/red]")
        raise typer.Exit(2)
    settings = _settings()
    summary = asyncio.run(
        export_bundle(
            platform_stores(settings),
            out,
            signing_key(settings),
            REGISTRY,
            personal=personal,
            earlier_checkpoints=saved_checkpoints(audit_dir(settings)),
        )
    )
    kind = "pseudonymised" if summary.pseudonymised else "full (personal fields sealed)"
    console.print(f"{kind} bundle of {sum(summary.events.values()):,} events written to {summary.path}")
    console.print(f"checkpoint {summary.checkpoint.body.digest}, signing key {summary.checkpoint.key_id}")


@audit_app.command("replay")
def replay_command(
    as_of: Annotated[
        datetime, typer.Option("--as-of", formats=["%Y-%m-%d"], help="Business date (end of day).")
    ],
    known_on: Annotated[
        datetime | None,
        typer.Option("--known-on", help="Count only what was recorded by then (ISO date-time)."),
    ] = None,
    bundle: BundleOption = None,
    person: Annotated[str | None, typer.Option(help="Also rebuild this person's path.")] = None,
) -> None:
    """Rebuild the programme figures (and a person's path) as of a date, from a bundle or the live topics."""
    result = asyncio.run(_replay(as_of.date(), known_on, bundle, person))
    console.print_json(orjson.dumps({"events": result[0], "figures": result[1], "path": result[2]}).decode())


async def _replay(
    as_of: date, known_on: datetime | None, bundle: Path | None, person: str | None
) -> tuple[int, dict[str, Any], dict[str, Any] | None]:
    settings = _settings()
    with tempfile.TemporaryDirectory(prefix="ddr-replay-") as folder:
        engine = create_engine(f"sqlite+aiosqlite:///{Path(folder) / 'replay.sqlite'}")
        try:
            source = (
                bundle_received(bundle, REGISTRY)
                if bundle is not None
                else live_received(Platform.from_settings(settings, platform_stores(settings)), REGISTRY)
            )
            result = await replay(source, engine, as_of=as_of, known_on=known_on, person_id=person)
        finally:
            await engine.dispose()
    return result.events, result.figures, result.path
