"""A client of the whole platform through its public HTTP APIs, acting as the parties of the programme.

The same code drives the in-process end-to-end test (every app on ASGI transports, one topic namespace on a
real broker) and ``make demo`` (the stack's services on their ports). Nothing here reaches a store or a topic:
what it does, an integrating commission could do over the network.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx

from ddr_runtime.auth.issuer import DevelopmentTokenIssuer
from ddr_runtime.auth.roles import Role
from ddr_runtime.http.writes import BACK_RECORDING_HEADER

T = TypeVar("T")


class ScenarioError(RuntimeError):
    """A call answered something the scenario did not expect: the method, path, status and problem body."""


@dataclass(frozen=True)
class Caller:
    """One party: a token and the services' clients."""

    clients: Mapping[str, httpx.AsyncClient]
    token: str
    name: str
    headers: Mapping[str, str] = field(
        default_factory=dict
    )  # sent with every request (a reason to back-record)

    async def call(
        self,
        service: str,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        files: Any = None,
        expect: tuple[int, ...] = (200, 201),
    ) -> Any:
        response = await self.request(
            service, method, path, json=json, params=params, headers=headers, files=files
        )
        if response.status_code not in expect:
            raise ScenarioError(
                f"{self.name}: {method} {service}{path} answered {response.status_code}: {response.text[:800]}"
            )
        if not response.content:
            return None
        return response.json()

    async def request(
        self,
        service: str,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        files: Any = None,
    ) -> httpx.Response:
        sent = {"Authorization": f"Bearer {self.token}", **self.headers, **(headers or {})}
        return await self.clients[service].request(
            method, path, json=json, params=params, headers=sent, files=files, timeout=120.0
        )

    async def etag(self, service: str, path: str) -> str:
        """The ETag of the resource at ``path`` (for an ``If-Match`` on the next change)."""
        response = await self.request(service, "GET", path)
        if response.status_code != 200:
            raise ScenarioError(f"{self.name}: GET {service}{path} answered {response.status_code}")
        return response.headers["ETag"]

    async def change(self, service: str, resource: str, path: str, body: Any = None) -> Any:
        """POST ``body`` to ``path`` if ``resource`` has not changed since it was read (If-Match)."""
        version = await self.etag(service, resource)
        return await self.call(service, "POST", path, json=body, headers={"If-Match": version})

    async def get(self, service: str, path: str, **params: Any) -> Any:
        return await self.call(service, "GET", path, params=params)

    async def post(self, service: str, path: str, body: Any = None, **kwargs: Any) -> Any:
        return await self.call(service, "POST", path, json=body, **kwargs)


@dataclass
class Platform:
    """The services' clients and the issuer of the parties' tokens."""

    clients: Mapping[str, httpx.AsyncClient]
    issuer: DevelopmentTokenIssuer

    def party(
        self,
        name: str,
        *roles: Role,
        movement: str | None = None,
        partner: str | None = None,
        regions: tuple[str, ...] = (),
        back_recording: str | None = None,
    ) -> Caller:
        """A party holding ``roles``; with ``back_recording``, also a records officer who records history
        older than the back-recording window and says why (the ``Back-Recording-Reason`` of every request)."""
        held = [*roles, Role.RECORDS_OFFICER] if back_recording else list(roles)
        token = self.issuer.issue(
            subject=name, roles=held, movement=movement, partner=partner, regions=regions
        )
        headers = {BACK_RECORDING_HEADER: back_recording} if back_recording else {}
        return Caller(self.clients, token, name, headers)


async def eventually(
    probe: Callable[[], Awaitable[T | None]], *, what: str, within: float = 120.0, every: float = 0.25
) -> T:
    """Poll ``probe`` until it returns something (not ``None``); services meet through Kafka, so what one
    decided reaches another a moment later."""
    deadline = time.monotonic() + within
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            found = await probe()
        except ScenarioError as error:  # e.g. a 404 until the consumer has caught up
            last_error = error
            found = None
        if found is not None:
            return found
        await asyncio.sleep(every)
    raise TimeoutError(f"waited {within:.0f} s for {what}" + (f" (last: {last_error})" if last_error else ""))
