"""``ddr movements``: add, list, and join armed movements to coalitions, through the registration service's API.

The service must run (``make up``). Without ``--token`` (or ``DDR_TOKEN``) a development token of a CNDDR
officer is issued, refused in production; a membership older than the back-recording window needs
``--back-recording-reason`` (the token then also holds the records officer's role).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ddr_runtime.auth.roles import Role
from ddr_runtime.cli.api import answer, api_client, bearer_token

movements_app = typer.Typer(
    help="Armed movements and coalitions (through the registration service's API).", no_args_is_help=True
)
console = Console()

Url = Annotated[
    str | None,
    typer.Option(
        help="The registration service's URL (default: the local stack's).", envvar="DDR_REGISTRATION_URL"
    ),
]
Token = Annotated[
    str | None,
    typer.Option(help="A CNDDR officer's bearer token (default: a development one).", envvar="DDR_TOKEN"),
]
SERVICE = "registration"


def _token(token: str | None, *, back_recording: bool = False) -> str:
    roles = [Role.CNDDR_OFFICER, *([Role.RECORDS_OFFICER] if back_recording else [])]
    return bearer_token(token, "cnddr-cli", roles)


@movements_app.command("add")
def add(
    code: Annotated[str, typer.Argument(help="The movement's code, e.g. CMFPR (letters, digits, - and _).")],
    name: Annotated[str | None, typer.Option(help="Its name in full (default: the code).")] = None,
    coalition: Annotated[bool, typer.Option("--coalition", help="It is a coalition of movements.")] = False,
    url: Url = None,
    token: Token = None,
) -> None:
    """Register a movement (or, with --coalition, a coalition) so that its lists can be imported."""
    body = {"code": code, "display_name": name or code, "kind": "coalition" if coalition else "movement"}
    with api_client(SERVICE, url, _token(token)) as client:
        added = answer(client.post("/movements", json=body))
    console.print(f"{escape(added['code'])}: {added['kind']} registered ({escape(added['display_name'])})")


@movements_app.command("list")
def list_movements(url: Url = None, token: Token = None) -> None:
    """Every movement and coalition, with the memberships that hold today."""
    with api_client(SERVICE, url, _token(token)) as client:
        found: list[dict[str, Any]] = answer(client.get("/movements"))
    table = Table("code", "kind", "name", "coalitions (since)")
    for movement in found:
        current = [
            f"{m['coalition']} ({m['since']})"
            for m in movement["memberships"]
            if m["movement"] == movement["code"] and m["until"] is None
        ]
        table.add_row(movement["code"], movement["kind"], movement["display_name"], ", ".join(current) or "-")
    console.print(table)


@movements_app.command("join")
def join(
    code: Annotated[str, typer.Argument(help="The movement joining.")],
    coalition: Annotated[str, typer.Option("--coalition", help="The coalition it joins.")],
    since: Annotated[datetime, typer.Option(formats=["%Y-%m-%d"], help="The day it joined (YYYY-MM-DD).")],
    reason: Annotated[
        str | None,
        typer.Option(
            "--back-recording-reason",
            help="Why a membership older than the back-recording window is recorded now (kept in its event).",
        ),
    ] = None,
    url: Url = None,
    token: Token = None,
) -> None:
    """Record that CODE is a member of a coalition since a day."""
    with api_client(SERVICE, url, _token(token, back_recording=reason is not None)) as client:
        read = client.get(f"/movements/{code}")
        answer(read)
        headers = {"If-Match": read.headers["ETag"], **({"Back-Recording-Reason": reason} if reason else {})}
        body = {"coalition": coalition, "since": since.date().isoformat()}
        answer(client.post(f"/movements/{code}/coalitions", json=body, headers=headers))
    console.print(f"{escape(code)}: member of {escape(coalition)} since {since.date().isoformat()}")
