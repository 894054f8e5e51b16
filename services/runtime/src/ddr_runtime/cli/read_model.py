"""``ddr read-model rebuild|status SERVICE``: the same rebuild command for every service.

The rebuild runs inside the serving process (``/read-model/rebuild``); this command starts it and follows it.
Without ``--token`` (or ``DDR_TOKEN``), a development operator token is issued (refused in production).
"""

from __future__ import annotations

import time
from typing import Annotated, Any

import typer
from rich.console import Console

from ddr_runtime.auth.roles import Role
from ddr_runtime.cli.api import answer, api_client, bearer_token

read_model_app = typer.Typer(
    help="Rebuild a service's read model from its own history while it serves.", no_args_is_help=True
)
console = Console(stderr=True)

Service = Annotated[
    str, typer.Argument(help="registration, screening, integration, reinsertion, cvr or pathway")
]
Url = Annotated[str | None, typer.Option(help="The service's base URL (default: the local stack's port).")]
Token = Annotated[str | None, typer.Option(help="An operator's bearer token.", envvar="DDR_TOKEN")]


def _token(token: str | None) -> str:
    return bearer_token(token, "operator-cli", [Role.OPERATOR])


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
    with api_client(service, url, _token(token)) as client:
        status = answer(client.post("/read-model/rebuild"))
        while follow and status["status"] == "running":
            time.sleep(0.5)
            status = answer(client.get("/read-model/rebuild"))
        _show(service, status)
        if status["status"] == "failed":
            raise typer.Exit(1)


@read_model_app.command("status")
def status(service: Service, url: Url = None, token: Token = None) -> None:
    """The running or last rebuild of a service's read model."""
    with api_client(service, url, _token(token)) as client:
        _show(service, answer(client.get("/read-model/rebuild")))
