"""Bounds on what a request may send, answered before anything is read whole: 413 for a body too large
(the list file upload has its own, larger bound), checked on the declared length and again while reading.

The middleware sits outside the idempotency middleware, which reads a POST's body whole to fingerprint it.
"""

from __future__ import annotations

from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ddr_runtime.http.problems import (
    PROBLEM_TYPE_PREFIX,
    ContentTooLarge,
    TooManyRequests,
    problem_response,
)

__all__ = ["BodyLimit", "ContentTooLarge", "TooManyRequests"]

MAX_BODY_BYTES = 2 * 1024 * 1024
"""A JSON body: a bulk command of 1,000 items is well under it."""
MAX_UPLOAD_BYTES = 64 * 1024 * 1024
"""A list file (``POST /lists``): a 100,000-row CSV is about 25 MiB."""
UPLOAD_ROUTES = frozenset({("POST", "/lists")})
READ_ONLY_POSTS = frozenset({("POST", "/persons/search")})
"""Searches sent by POST so that names stay out of URLs: reads, whose answers (names) must never be kept
as an idempotent answer, so their Idempotency-Key is ignored."""

PROBLEM_CONTENT = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
TOO_LARGE: dict[int | str, dict[str, Any]] = {
    413: {"description": "Content Too Large: the body or file is over its bound", "content": PROBLEM_CONTENT}
}


class _Tripped(Exception):
    pass


class BodyLimit:
    """413 for a request whose body is over its route's bound (by ``Content-Length``, or once read past)."""

    def __init__(self, app: ASGIApp, *, body: int = MAX_BODY_BYTES, upload: int = MAX_UPLOAD_BYTES) -> None:
        self.app = app
        self.body = body
        self.upload = upload

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        route = (scope["method"], scope["path"].rstrip("/") or "/")
        if route in READ_ONLY_POSTS:
            scope = {
                **scope,
                "headers": [(k, v) for k, v in scope["headers"] if k.lower() != b"idempotency-key"],
            }
        bound = self.upload if route in UPLOAD_ROUTES else self.body
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > bound:
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
        detail=f"the request's body is over {bound // (1024 * 1024)} MiB",
        instance=scope["path"],
        extensions={"limit_bytes": bound},
    )
    await response(scope, receive, send)
