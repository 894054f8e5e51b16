"""What a ``ddr`` command that drives a service through its public API needs: the service's address, a bearer
token, and the answer (or the problem, shown and turned into an exit code)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import httpx
import typer
from rich.console import Console
from rich.markup import escape

from ddr_runtime.auth.issuer import DevelopmentOnlyError, DevelopmentTokenIssuer
from ddr_runtime.auth.roles import Role
from ddr_runtime.config import Settings
from ddr_runtime.stack.runner import installed_services

console = Console(stderr=True)


def service_url(service: str, url: str | None) -> str:
    """``url`` if given, else the service's address in the local stack."""
    if url:
        return url
    ports = {process.name: process.port for process in installed_services()}
    if service not in ports:
        console.print(f"[red]no service named {escape(service)}; installed: {', '.join(sorted(ports))}[/red]")
        raise typer.Exit(2)
    return f"http://127.0.0.1:{ports[service]}"


def bearer_token(token: str | None, subject: str, roles: Sequence[Role]) -> str:
    """``token`` if given, else a development token for ``subject`` with ``roles`` (refused in production)."""
    if token:
        return token
    try:
        issuer = DevelopmentTokenIssuer.from_settings(Settings())
        return issuer.issue(subject=subject, roles=list(roles), ttl=timedelta(minutes=30))
    except (ValueError, DevelopmentOnlyError):
        console.print("[red]no development issuer outside development: give a token with --token[/red]")
        raise typer.Exit(2) from None


def api_client(service: str, url: str | None, token: str) -> httpx.Client:
    return httpx.Client(base_url=service_url(service, url), headers={"Authorization": f"Bearer {token}"})


def answer(response: httpx.Response) -> Any:
    """The JSON answer; a refusal is shown (its detail, rule and dates) and ends the command with 1."""
    if response.status_code >= 400:
        body = response.json() if "json" in response.headers.get("content-type", "") else {}
        detail = body.get("detail") or response.text
        console.print(f"[red]{response.status_code}:[/red] {escape(str(detail))}")
        raise typer.Exit(1)
    return response.json()
