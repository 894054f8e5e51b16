"""Bounds on a request's body, answered before anything is read whole: 413 (problem+json) for a body over
its route's bound, checked on the declared ``Content-Length`` and again while reading (a chunked body
declares none).

Every route of every service gets the app's bound (``DDR_MAX_BODY_BYTES``, 2 MiB: a bulk command of 1,000
items is well under it); a route that takes larger bodies (a list file, a bundle) declares its own::

    @router.post("/lists", dependencies=[body_limit(64 * 1024 * 1024)])

The middleware sits outside the idempotency middleware, which reads a POST's body whole to fingerprint it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import Depends
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ddr_runtime.http.problems import PROBLEM_TYPE_PREFIX, ContentTooLarge, problem_response
from ddr_runtime.http.routes import RouteProperty, route_property

DEFAULT_MAX_BODY_BYTES = 2 * 1024 * 1024
_BODILESS = ("GET", "HEAD", "OPTIONS")


@dataclass(frozen=True)
class BodyBound(RouteProperty):
    """A route's own bound on its body, in bytes (see :func:`body_limit`)."""

    max_bytes: int


def body_limit(max_bytes: int) -> Any:
    """A route's dependency declaring that its body may hold up to ``max_bytes`` (instead of the app's)."""
    if max_bytes <= 0:
        raise ValueError("a body bound is a positive number of bytes")
    return Depends(BodyBound(max_bytes))


class _Tripped(Exception):
    pass


class BodyLimit:
    """413 for a request whose body is over its route's bound (by ``Content-Length``, or once read past)."""

    def __init__(self, app: ASGIApp, *, max_bytes: int = DEFAULT_MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in _BODILESS:
            await self.app(scope, receive, send)
            return
        declared_bound = route_property(scope, BodyBound)
        bound = declared_bound.max_bytes if declared_bound is not None else self.max_bytes
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > bound:
            await _too_large(scope, receive, send, bound)
            return
        read = 0
        tripped = False
        started = False

        async def limited() -> Message:
            nonlocal read, tripped
            message = await receive()
            if message["type"] == "http.request":
                read += len(message.get("body", b""))
                if read > bound:
                    tripped = True
                    raise _Tripped
            return message

        async def guarded(message: Message) -> None:
            nonlocal started
            if tripped:
                return  # whatever the app made of the cut body, the answer is 413
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited, guarded)
        except Exception:
            if not tripped:
                raise
        if tripped and not started:
            await _too_large(scope, receive, send, bound)


async def _too_large(scope: Scope, receive: Receive, send: Send, bound: int) -> None:
    response = problem_response(
        status=413,
        title=ContentTooLarge.title,
        type_=PROBLEM_TYPE_PREFIX + ContentTooLarge.slug,
        detail=f"the request's body is over {_size(bound)}",
        instance=scope["path"],
        extensions={"limit_bytes": bound},
    )
    await response(scope, receive, send)


def _size(n: int) -> str:
    if n >= 1024 * 1024 and n % (1024 * 1024) == 0:
        return f"{n // (1024 * 1024)} MiB"
    if n >= 1024 and n % 1024 == 0:
        return f"{n // 1024} KiB"
    return f"{n} bytes"
