"""``ddr keys``: the key service and its administration.

``serve`` runs it; ``credential issue|list|revoke``, ``rotate`` and ``usage`` open its store directly, so
they run on the key service's host with its settings (``DDR_KEYS_*``): issuing a credential and rotating
the KEK cannot be done from elsewhere, by design. Revoking (which only takes access away) can also be done
from anywhere with an operator's token, through the key service's ``/admin`` API.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from ddr_contracts.topics import SERVICES
from ddr_runtime.crypto.keystore import KeyStore
from ddr_runtime.db import create_engine
from ddr_runtime.keyservice.credentials import GRANTS, Credentials, Grant, provision
from ddr_runtime.keyservice.settings import KeyServiceSettings

keys_app = typer.Typer(help="The key service: subject keys, credentials, KEK rotation.", no_args_is_help=True)
credential_app = typer.Typer(help="Per-service credentials of the key service.", no_args_is_help=True)
keys_app.add_typer(credential_app, name="credential")
console = Console(stderr=True)
T = TypeVar("T")


def _with_store(work: Callable[[KeyServiceSettings, Credentials, KeyStore], Awaitable[T]]) -> T:
    settings = KeyServiceSettings()

    async def run() -> T:
        engine = create_engine(settings.database_url(), pool_size=2)
        keystore = KeyStore(engine, settings.key_ring())
        credentials = Credentials(engine)
        try:
            await keystore.create_schema()
            await credentials.create_schema()
            return await work(settings, credentials, keystore)
        finally:
            await engine.dispose()

    return asyncio.run(run())


@keys_app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    tls_cert: Annotated[
        str | None, typer.Option(help="TLS certificate (PEM); required in production.")
    ] = None,
    tls_key: Annotated[str | None, typer.Option(help="TLS private key (PEM).")] = None,
) -> None:
    """Run the key service (HTTPS in production: subject keys cross this connection)."""
    import uvicorn

    settings = KeyServiceSettings()
    if not settings.is_development and not (tls_cert and tls_key):
        console.print(
            "[red]the key service serves HTTPS outside development: give --tls-cert and --tls-key[/red]"
        )
        raise typer.Exit(2)
    uvicorn.run(
        "ddr_runtime.keyservice.app:create_keyservice_app",
        factory=True,
        host=host,
        port=port,
        access_log=False,
        ssl_certfile=tls_cert or None,
        ssl_keyfile=tls_key or None,
    )


@credential_app.command("issue")
def issue(
    service: Annotated[str, typer.Option(help="The service the credential is for.")],
    host: Annotated[str, typer.Option(help="The host (machine, node) it runs on: revocable as a whole.")],
    grant: Annotated[
        list[str] | None, typer.Option(help=f"Repeatable: {', '.join(GRANTS)} (default: create, unwrap).")
    ] = None,
) -> None:
    """Issue a credential and print it once (to stdout): give it to that service on that host as a secret."""
    grant = grant or ["create", "unwrap"]
    unknown = sorted(set(grant) - set(GRANTS))
    if unknown:
        raise typer.BadParameter(f"unknown grant(s): {', '.join(unknown)}", param_hint="--grant")
    grants: list[Grant] = [g for g in GRANTS if g in grant]

    async def work(_s: KeyServiceSettings, credentials: Credentials, _k: KeyStore) -> str:
        credential, secret = await credentials.issue(service, host, grants)
        console.print(
            f"issued {credential.id} for {service} on {host}: {', '.join(sorted(credential.grants))}"
        )
        return secret

    typer.echo(_with_store(work))


@credential_app.command("provision")
def provision_credentials(
    directory: Annotated[
        Path, typer.Option("--dir", help="One folder per service gets a `credential` file.")
    ],
    host: Annotated[str, typer.Option(help="The host the services run on (revocable as a whole).")],
    service: Annotated[list[str] | None, typer.Option(help="Repeatable (default: every service).")] = None,
    erasing: Annotated[list[str] | None, typer.Option(help="Services that may erase (repeatable).")] = None,
    owner: Annotated[int | None, typer.Option(help="uid (and gid) to own the files.")] = None,
) -> None:
    """Issue a credential for each service that has none live, into <dir>/<service>/credential (Compose's
    one-shot job does this; a deployment hands each service its credential through its secret store)."""
    names = service or list(SERVICES)
    files = {name: directory / name / "credential" for name in names}

    async def work(_s: KeyServiceSettings, credentials: Credentials, _k: KeyStore) -> dict[str, Path]:
        return await provision(
            credentials, files, host=host, erasing=erasing or ["registration", "cvr"], owner=owner
        )

    written = _with_store(work)
    console.print(f"credentials in place for {', '.join(sorted(written))}")


@credential_app.command("list")
def list_credentials() -> None:
    """Every credential ever issued, live or revoked (never a secret)."""

    async def work(_s: KeyServiceSettings, credentials: Credentials, _k: KeyStore) -> None:
        table = Table("id", "service", "host", "grants", "created", "revoked")
        for c in await credentials.all():
            revoked = f"{c.revoked_at:%Y-%m-%d %H:%M} {c.revoked_reason}" if c.revoked_at else ""
            table.add_row(
                c.id, c.service, c.host, ",".join(sorted(c.grants)), f"{c.created_at:%Y-%m-%d %H:%M}", revoked
            )
        Console().print(table)

    _with_store(work)


@credential_app.command("revoke")
def revoke(
    reason: Annotated[str, typer.Option(help="Why (kept with the revocation).")],
    credential_id: Annotated[str | None, typer.Option("--id", help="One credential.")] = None,
    service: Annotated[str | None, typer.Option(help="Every credential of a service.")] = None,
    host: Annotated[str | None, typer.Option(help="Every credential of a host (a seized machine).")] = None,
) -> None:
    """Revoke credentials at once: from the next call on, they unwrap nothing."""

    async def work(_s: KeyServiceSettings, credentials: Credentials, _k: KeyStore) -> int:
        return await credentials.revoke(
            reason=reason, credential_id=credential_id, service=service, host=host
        )

    try:
        count = _with_store(work)
    except ValueError as error:
        raise typer.BadParameter(str(error)) from None
    console.print(f"revoked {count} credential(s)")


@keys_app.command()
def rotate() -> None:
    """Wrap every subject key again under the current KEK (DDR_KEYS_KEK), opening the old ones with
    DDR_KEYS_PREVIOUS_KEKS; events are not touched. Afterwards the previous KEKs can be dropped."""

    async def work(_s: KeyServiceSettings, _c: Credentials, keystore: KeyStore) -> tuple[int, dict[str, int]]:
        return await keystore.rewrap(), await keystore.kek_usage()

    rewrapped, usage = _with_store(work)
    console.print(f"re-wrapped {rewrapped} key(s); live keys per KEK: {usage}")


@keys_app.command()
def usage(hours: Annotated[float, typer.Option(help="Over the last hours.")] = 24.0) -> None:
    """Calls, subjects asked for and keys handed out, per credential and operation."""

    async def work(_s: KeyServiceSettings, credentials: Credentials, _k: KeyStore) -> None:
        table = Table("service", "host", "operation", "calls", "subjects", "keys", "credential")
        for u in await credentials.usage(datetime.now(UTC) - timedelta(hours=hours)):
            table.add_row(
                u.service, u.host, u.operation, str(u.calls), str(u.subjects), str(u.keys), u.credential_id
            )
        Console().print(table)

    _with_store(work)
