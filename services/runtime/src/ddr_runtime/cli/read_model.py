"""``ddr read-model rebuild|status SERVICE``: the same rebuild command for every service.

The rebuild runs inside the serving process (``/read-model/rebuild``); this command starts it and follows it.
Without ``--token`` (or ``DDR_TOKEN``), a development operator token is issued (refused in production).
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console

from ddr_runtime.auth.issuer import DevelopmentTokenIssuer
from ddr_runtime.auth.roles import Role
from ddr_runtime.config import Settings
from ddr_runtime.stack.runner import installed_services

read_model_app = typer.Typer(
    help="Rebuild a service's read model from its own history while it serves.", no_args_is_help=True
)
console = Console(stderr=True)

Service = Annotated[
    str, typer.Argument(help="registration, screening, integration, reinsertion, cvr or pathway")
]
Url = Annotated[str | None, typer.Option(help="The service's base URL (default: the local stack's port).")]
Token = Annotated[str | None, typer.Option(help="An operator's bearer token.", envvar="DDR_TOKEN")]


def _base_url(service: str, url: str | None) -> str:
    if url:
        return url
    ports = {process.name: process.port for process in installed_services()}
    if service not in ports:
        console.print(f"[red]no service named {service}; installed: {', '.join(sorted(ports))}[/red]")
        raise typer.Exit(2)
    return f"http://127.0.0.1:{ports[service]}"


def _token(token: str | None) -> str:
    if token:
        return token
    try:
        issuer = DevelopmentTokenIssuer.from_settings(Settings())
        return issuer.issue(subject="operator-cli", roles=[Role.OPERATOR], ttl=timedelta(minutes=30))
    except ValueError as error:
        console.print(f"[red]{error}: give an operator's token with --token[/red]")
        raise typer.Exit(2) from None


def _answer(response: httpx.Response) -> dict[str, Any]:
    if response.status_code >= 400:
        body = response.json() if "json" in response.headers.get("content-type", "") else {}
        console.print(f"[red]{response.status_code}: {body.get('detail') or response.text}[/red]")
        raise typer.Exit(1)
    answer: dict[str, Any] = response.json()
    return answer


def _show(service: str, status: dict[str, Any]) -> None:
    console.print(
        f"{service}: {status['status']}, {status['projected']:,} events projected"
        + (", new tables live" if status["swapped"] else "")
    )


@read_model_app.command("rebuild")
def rebuild(
    service: Service,
    url: Url = None,
    token: Token = None,
    follow: Annotated[bool, typer.Option(help="Follow until the new read model is live.")] = True,
) -> None:
    """Start the rebuild and follow it until the rebuilt tables are live."""
    with httpx.Client(
        base_url=_base_url(service, url), headers={"Authorization": f"Bearer {_token(token)}"}
    ) as client:
        status = _answer(client.post("/read-model/rebuild"))
        while follow and status["status"] == "running":
            time.sleep(0.5)
            status = _answer(client.get("/read-model/rebuild"))
        _show(service, status)
        if status["status"] == "failed":
            raise typer.Exit(1)


@read_model_app.command("status")
def status(service: Service, url: Url = None, token: Token = None) -> None:
    """The running or last rebuild of a service's read model."""
    with httpx.Client(
        base_url=_base_url(service, url), headers={"Authorization": f"Bearer {_token(token)}"}
    ) as client:
        _show(service, _answer(client.get("/read-model/rebuild")))
