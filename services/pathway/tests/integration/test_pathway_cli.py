"""``ddr pathway`` against the pathway service over real HTTP: ``replay start`` starts a rebuild, follows the
progress and returns once the new generation is live; ``path`` prints a person's path."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
import uvicorn
from typer.testing import CliRunner

from ddr_pathway.bootstrap import build_app
from ddr_pathway.entrypoints.cli import pathway_app
from ddr_runtime.auth.issuer import DevelopmentTokenIssuer
from ddr_runtime.auth.roles import Role
from ddr_runtime.auth.tokens import TokenVerifier
from ddr_runtime.config import Settings
from ddr_runtime.stack.native import free_ports
from ddr_testkit.upstream import UpstreamService

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]


@asynccontextmanager
async def served(settings: Settings, issuer: DevelopmentTokenIssuer) -> AsyncIterator[str]:
    """The pathway app behind a real HTTP server on a free port: its URL."""
    app = build_app(
        settings, token_verifier=TokenVerifier(issuer.public_key_pem, issuer="test", audience="test")
    )
    (port,) = free_ports(1)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    serving = asyncio.create_task(server.serve())
    try:
        for _ in range(600):  # the server starts within 30 s
            if server.started:
                break
            await asyncio.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await serving


async def test_replay_start_follows_the_rebuild_until_the_new_generation_is_live(
    settings: Settings, issuer: DevelopmentTokenIssuer, events: Any
) -> None:
    person = events.person()
    async with UpstreamService("registration", settings) as registration:
        await registration.emit(person, events.pre_registered(person), events.registered(person))
    async with served(settings, issuer) as url:
        operator = issuer.issue(subject="operator-1", roles=[Role.OPERATOR])
        donor = issuer.issue(subject="donor-1", roles=[Role.DONOR])
        runner = CliRunner()

        started = await asyncio.to_thread(
            runner.invoke, pathway_app, ["replay", "start", "--url", url, "--token", operator]
        )
        refused = await asyncio.to_thread(
            runner.invoke, pathway_app, ["replay", "start", "--url", url, "--token", donor]
        )
        shown = await asyncio.to_thread(
            runner.invoke, pathway_app, ["replay", "status", "--url", url, "--token", operator]
        )

    assert started.exit_code == 0, started.output
    assert "rebuilding into generation 2" in started.output
    assert "live generation: 2" in started.output
    assert refused.exit_code == 1
    assert "403" in refused.output
    assert "g1 retired" in shown.output
    assert "g2 live" in shown.output


async def test_path_prints_the_steps_in_80_columns(
    settings: Settings, issuer: DevelopmentTokenIssuer, events: Any, wait: Any
) -> None:
    person = events.person()
    async with UpstreamService("registration", settings) as registration:
        await registration.emit(person, events.pre_registered(person), events.registered(person))
    auditor = issuer.issue(subject="auditor-1", roles=[Role.AUDITOR])
    async with served(settings, issuer) as url:

        async def shown() -> bool:
            async with httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {auditor}"}) as c:
                return (await c.get(f"/paths/{person}")).status_code == 200

        await wait(shown, "the person's path")
        printed = await asyncio.to_thread(
            CliRunner().invoke, pathway_app, ["path", person, "--url", url, "--token", auditor]
        )

    assert printed.exit_code == 0, printed.output
    lines = printed.output.splitlines()
    assert max(len(line) for line in lines) <= 80
    assert any("PersonPreRegistered" in line for line in lines)
    assert any("PersonRegistered" in line for line in lines)
