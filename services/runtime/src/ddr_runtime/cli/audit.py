"""``ddr audit ...``: the operator's and auditor's commands over the platform's history.

An operator command, given each store's address (``--store SERVICE=URL``, repeatable; by default the stores of
the native stack, else each service's own settings: ``DDR_<SERVICE>_DATABASE_URL`` or ``var/stores``). It reads
stores read-only and topics without a consumer group. No service opens another's store: this command does, with
the operator's rights. ``checkpoint`` asks each running service to sign its own store now (its API);
``export`` writes only the bundle. Services add commands here through the ``ddr.audit.commands`` entry points
(``replay``, from pathway).
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Annotated, Any

import httpx
import orjson
import typer
from rich.console import Console
from rich.table import Table

from ddr_contracts.catalog import REGISTRY
from ddr_contracts.topics import SERVICES
from ddr_runtime.audit.bundle import export_bundle, verify_bundle
from ddr_runtime.audit.consistency import check_extends, proof_document, stores_leaves
from ddr_runtime.audit.platform import AuditReport, Platform, read_checkpoints, verify_platform
from ddr_runtime.audit.signing import SignedCheckpoint, load_public_key, signing_key
from ddr_runtime.audit.sources import BundleTooLarge
from ddr_runtime.auth.issuer import DevelopmentOnlyError, DevelopmentTokenIssuer
from ddr_runtime.auth.roles import Role
from ddr_runtime.config import Settings, service_settings
from ddr_runtime.stack.runner import Stack, installed_services

audit_app = typer.Typer(
    help="Verify, checkpoint and export the platform's history (an operator's command).", no_args_is_help=True
)
console = Console()

Stores = Annotated[
    list[str] | None,
    typer.Option(
        "--store",
        help="SERVICE=URL of a store to read (repeatable). Default: the native stack's, else each service's own.",
    ),
]
TrustedKeys = Annotated[
    list[Path] | None,
    typer.Option(
        "--trusted-key", help="PEM public key checkpoints and bundles must be signed with (repeatable)."
    ),
]


def pairs(given: list[str], option: str) -> dict[str, str]:
    """``SERVICE=VALUE`` items as a mapping; a malformed one is refused naming the option."""
    found: dict[str, str] = {}
    for item in given:
        service, _, value = item.partition("=")
        if not service or not value:
            raise typer.BadParameter(f"give each as SERVICE=VALUE, not {item!r}", param_hint=option)
        found[service] = value
    return found


def store_addresses(given: list[str] | None, settings: Settings) -> dict[str, str]:
    """``SERVICE=URL`` pairs, or the native stack's stores when it ran, or each service's own settings."""
    if given:
        return pairs(given, "--store")
    stack = Stack(settings)
    if stack.remembered_store() is not None:
        return stack.store_addresses()
    return {s: service_settings(s, var_dir=settings.var_dir).store_url() for s in SERVICES}


def _trusted(paths: list[Path] | None) -> list[Any]:
    return [load_public_key(p.read_bytes()) for p in paths or ()]


@audit_app.command("verify")
def verify_command(
    store: Stores = None,
    bundle: Annotated[
        Path | None,
        typer.Option("--bundle", help="Verify a handover bundle (directory or tar) offline instead."),
    ] = None,
    trusted_key: TrustedKeys = None,
    stores_only: Annotated[
        bool, typer.Option("--stores-only", help="Check the stores' chains only.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Every stream's hash chain in every store, each topic against its store, each store against its signed
    checkpoints (or a bundle, offline, with only its files)."""
    trusted = _trusted(trusted_key)
    if bundle is not None:
        try:
            report = verify_bundle(bundle, REGISTRY, trusted_key=trusted[0] if trusted else None)
        except BundleTooLarge as error:
            console.print(f"[red]{error}[/red]")
            raise typer.Exit(2) from None
    else:
        settings = Settings()
        platform = Platform.from_settings(
            settings, store_addresses(store, settings), topics=not stores_only, trusted_keys=trusted
        )
        report = asyncio.run(verify_platform(platform))
    print_report(report, as_json)
    if not report.ok:
        raise typer.Exit(1)


def print_report(report: AuditReport, as_json: bool, out: Console = console) -> None:
    """The report as a table and one line per offence (in red), or as JSON."""
    if as_json:
        document: dict[str, Any] = {
            "ok": report.ok,
            "seconds": round(report.seconds, 3),
            "services": [vars(s) for s in report.services],
            "offences": [vars(o) for o in report.offences],
            "notes": report.notes,
        }
        out.print_json(orjson.dumps(document).decode())
        return
    table = Table("service", "store", "streams", "events", "topic", "duplicates", "pending", "checkpoints")
    for s in report.services:
        signed = f"{s.checkpoints:,} (to {s.checkpointed:,})" if s.checkpoints else "none"
        table.add_row(
            s.service,
            s.store,
            f"{s.streams:,}",
            f"{s.events:,}",
            f"{s.topic_messages:,}",
            f"{s.duplicates:,}",
            f"{s.pending:,}",
            signed,
        )
    out.print(table)
    for note in report.notes:
        out.print(f"note: {note}", markup=False, highlight=False, soft_wrap=True)
    for offence in report.offences:  # its text may hold brackets: styled, never parsed as markup
        out.print(str(offence), style="red", markup=False, highlight=False, soft_wrap=True)
    rate = report.events / report.seconds if report.seconds else 0.0
    if report.ok:
        out.print("OK", style="green", end="")
    else:
        out.print(f"{len(report.offences)} offence(s)", style="red", end="")
    out.print(f": {report.events:,} events in {report.seconds:.2f} s ({rate:,.0f}/s)", highlight=False)


@audit_app.command("checkpoint")
def checkpoint_command(
    url: Annotated[
        list[str] | None,
        typer.Option(
            "--url", help="SERVICE=URL of a running service (repeatable). Default: the native stack's."
        ),
    ] = None,
    token: Annotated[
        str,
        typer.Option(
            help="An operator's bearer token (default: the development issuer's).", envvar="DDR_TOKEN"
        ),
    ] = "",
    out: Annotated[
        Path | None, typer.Option(help="Also keep each signed checkpoint as a file in this folder.")
    ] = None,
) -> None:
    """Have each running service sign its own store's checkpoint now (each is also published on the
    checkpoints topic by the service itself)."""
    targets = _service_urls(url)
    bearer = token or _development_token()
    failed = False
    with httpx.Client(headers={"Authorization": f"Bearer {bearer}"}, timeout=120.0) as client:
        for service, base in targets.items():
            try:
                answer = client.post(f"{base}/audit/checkpoints")
            except httpx.HTTPError as error:
                console.print(f"{service}: not reachable at {base} ({error})", style="red", markup=False)
                failed = True
                continue
            if answer.status_code != 201:
                console.print(f"{service}: {answer.status_code} {answer.text}", style="red", markup=False)
                failed = True
                continue
            signed = answer.json()
            (head,) = signed["checkpoint"]["trees"]
            # soft_wrap: the digest stays on one line, whole, whatever the terminal's width
            console.print(
                f"{service}: {head['size']:,} events, checkpoint {signed['digest']}",
                markup=False,
                soft_wrap=True,
            )
            if out is not None:
                out.mkdir(parents=True, exist_ok=True)
                document = SignedCheckpoint.from_json(signed)
                (out / f"{service}-{signed['sequence']:06d}.json").write_bytes(document.to_bytes())
    if failed:
        raise typer.Exit(1)


def _service_urls(given: list[str] | None) -> dict[str, str]:
    if given:
        return {service: base.rstrip("/") for service, base in pairs(given, "--url").items()}
    return {s.name: f"http://127.0.0.1:{s.port}" for s in installed_services()}


def _development_token() -> str:
    try:
        issuer = DevelopmentTokenIssuer.from_settings(Settings())
    except (ValueError, DevelopmentOnlyError):
        console.print("give an operator's token (--token or DDR_TOKEN)", style="red")
        raise typer.Exit(2) from None
    return issuer.issue(subject=os.environ.get("USER", "operator"), roles=[Role.OPERATOR])


@audit_app.command("consistency")
def consistency_command(
    old: Annotated[Path, typer.Argument(help="A checkpoint file kept from earlier.")],
    store: Stores = None,
    proof_out: Annotated[Path | None, typer.Option(help="Write the consistency proofs here (JSON).")] = None,
) -> None:
    """Prove that today's history extends an old checkpoint (RFC 9162 consistency proofs)."""
    checkpoint = SignedCheckpoint.load(old)
    if not checkpoint.verify():
        console.print("the old checkpoint's signature does not verify", style="red")
        raise typer.Exit(1)
    named = {t.service for t in checkpoint.body.trees}
    addresses = {s: u for s, u in store_addresses(store, Settings()).items() if s in named}
    leaves = asyncio.run(stores_leaves(addresses))
    findings = check_extends(checkpoint, leaves)
    for finding in findings:
        console.print(str(finding), style="green" if finding.ok else "red", markup=False, highlight=False)
    if proof_out is not None:
        proof_out.write_bytes(orjson.dumps(proof_document(checkpoint, leaves), option=orjson.OPT_INDENT_2))
    if not all(f.ok for f in findings):
        raise typer.Exit(1)


@audit_app.command("export")
def export_command(
    out: Annotated[Path, typer.Argument(help="Bundle to write: a new directory, or a .tar / .tar.gz file.")],
    store: Stores = None,
    personal: Annotated[
        bool,
        typer.Option(
            "--personal",
            help="Keep personal fields (sealed: only a recipient also handed the key store can read them).",
        ),
    ] = False,
) -> None:
    """Write a signed handover bundle of every store, with the checkpoints each service signed; pseudonymised
    (no personal field at all) unless --personal."""
    if out.exists():
        console.print(f"{out} exists: choose a new path", style="red", markup=False)
        raise typer.Exit(2)
    settings = Settings()
    summary = asyncio.run(_export(out, store_addresses(store, settings), settings, personal))
    kind = "pseudonymised" if summary.pseudonymised else "full (personal fields sealed)"
    console.print(f"{kind} bundle of {sum(summary.events.values()):,} events written to {summary.path}")
    console.print(f"checkpoint {summary.checkpoint.body.digest}, signing key {summary.checkpoint.key_id}")


async def _export(out: Path, stores: dict[str, str], settings: Settings, personal: bool) -> Any:
    report = AuditReport()
    published = await read_checkpoints(settings.kafka_bootstrap_servers, settings.checkpoints_topic(), report)
    earlier = [p.checkpoint for service in sorted(published) for p in published[service] if service in stores]
    return await export_bundle(
        stores, out, signing_key(settings), REGISTRY, personal=personal, earlier_checkpoints=earlier
    )
