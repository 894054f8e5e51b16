"""``Idempotency-Key`` on every POST of every service: a retry gets the first answer and records nothing again.

The first request claims the key for its caller (a row without an answer) before it runs, so a retry that
arrives while it still runs cannot run it twice (409, retry later); the answer (status, body, ``ETag``,
``Location``) is stored when it completes, and the claim dropped if it fails with a server error. The same
key with another request (method, path, query or body) is refused (422). Keys expire after a day.

A POST that only reads (a search sent by POST so that names stay out of URLs) declares it with
``dependencies=[READ_ONLY]``: its answer (names) is never stored, and its ``Idempotency-Key`` is ignored.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import Depends
from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    delete,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ddr_runtime.db import single_statement
from ddr_runtime.http.problems import PROBLEM_TYPE_PREFIX, problem_response
from ddr_runtime.http.routes import RouteProperty, route_property

REPLAYED_HEADER = "Idempotent-Replayed"
KEY_HEADER = b"idempotency-key"
KEPT_HEADERS = ("etag", "location", "content-type", "content-location")
DEFAULT_TTL = timedelta(hours=24)
MAX_KEY_LENGTH = 200

metadata = MetaData()
idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("principal", String(200), primary_key=True),
    Column("key", String(MAX_KEY_LENGTH), primary_key=True),
    Column("request_hash", String(64), nullable=False),
    Column("status_code", Integer, nullable=True),  # NULL while the first request is still running
    Column("body", JSON, nullable=True),
    Column("headers", JSON, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)


def idempotency_table(name: str, metadata: MetaData) -> Table:
    """A table of stored answers in a service's own metadata (kept for services not yet on the middleware)."""
    return Table(name, metadata, *(column.copy() for column in idempotency_keys.columns))


class ReadOnlyPost(RouteProperty):
    """A POST route that changes nothing: ``Idempotency-Key`` does not apply, and no answer is stored."""


READ_ONLY = Depends(ReadOnlyPost())
"""A route's dependency: ``@router.post("/persons/search", dependencies=[READ_ONLY])``."""


@dataclass(frozen=True)
class StoredAnswer:
    request_hash: str
    status_code: int | None
    body: Any
    headers: dict[str, str]


class IdempotencyStore:
    """Stored answers in ``table`` of the service's own database."""

    def __init__(
        self, engine: AsyncEngine, table: Table = idempotency_keys, ttl: timedelta = DEFAULT_TTL
    ) -> None:
        self.engine = engine
        self.table = table
        self.ttl = ttl

    async def create_schema(self) -> None:
        async with self.engine.begin() as conn:
            await conn.run_sync(lambda sync: self.table.metadata.create_all(sync, tables=[self.table]))

    async def claim(self, principal: str, key: str, request_hash: str) -> StoredAnswer | None:
        """Claim ``key`` for this request; if it was claimed before (and has not expired), what is stored.

        One statement: the key is inserted, or an expired claim of it taken over (the row made anew);
        a live claim is left as it is, and read."""
        now = datetime.now(UTC)
        where = (self.table.c.principal == principal, self.table.c.key == key)
        fresh = {"request_hash": request_hash, "status_code": None, "body": None, "headers": None}
        upsert = _insert_of(self.engine)(self.table).values(
            principal=principal, key=key, created_at=now, **fresh
        )
        claimed = upsert.on_conflict_do_update(
            index_elements=[self.table.c.principal, self.table.c.key],
            set_={**fresh, "created_at": now},
            where=self.table.c.created_at < now - self.ttl,
        ).returning(self.table.c.created_at)
        async with single_statement(self.engine) as conn:
            if (await conn.execute(claimed)).first() is not None:
                return None
            row = (await conn.execute(select(self.table).where(*where))).one()
        return StoredAnswer(row.request_hash, row.status_code, row.body, dict(row.headers or {}))

    async def complete(
        self, principal: str, key: str, status_code: int, body: Any, headers: dict[str, str]
    ) -> None:
        async with single_statement(self.engine) as conn:
            await conn.execute(
                update(self.table)
                .where(self.table.c.principal == principal, self.table.c.key == key)
                .values(status_code=status_code, body=body, headers=headers)
            )

    async def release(self, principal: str, key: str) -> None:
        async with single_statement(self.engine) as conn:
            await conn.execute(
                delete(self.table).where(self.table.c.principal == principal, self.table.c.key == key)
            )


class IdempotencyMiddleware:
    """Applies ``Idempotency-Key`` to every POST of the app (``app.state.idempotency`` holds the store).

    The caller is the token's subject (keys of two callers never meet); a request without a valid token is
    passed on untouched, and the route answers 401. Answers of 5xx are not kept: the claim is dropped so the
    retry runs again; nor are 409 and 429, whose retry may succeed.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        key = headers.get(KEY_HEADER)
        if key is not None and route_property(scope, ReadOnlyPost) is not None:
            key = None  # a read: its answer is never kept, whatever key came with it
        store = getattr(scope["app"].state, "idempotency", None) if "app" in scope else None
        principal = _principal(scope, headers) if key is not None and store is not None else None
        if key is None or store is None or principal is None:
            await self.app(scope, receive, send)
            return
        key_text = key.decode("latin-1")
        if not key_text or len(key_text) > MAX_KEY_LENGTH:
            await _problem(
                scope, receive, send, 422, f"Idempotency-Key must have 1 to {MAX_KEY_LENGTH} characters"
            )
            return
        body, receive_again = await _read_body(receive)
        fingerprint = hashlib.sha256()
        fingerprint.update(
            f"{scope['method']} {scope['path']}?{scope.get('query_string', b'').decode('latin-1')}\n".encode()
        )
        fingerprint.update(body)
        request_hash = fingerprint.hexdigest()
        stored = await store.claim(principal, key_text, request_hash)
        if stored is not None:
            await _replay(self.app, scope, receive, send, stored, request_hash)
            return
        captured = _Captured()
        try:
            await self.app(scope, receive_again, captured.wrap(send))
        except BaseException:
            await store.release(principal, key_text)
            raise
        if captured.status is None or captured.status >= 500 or captured.status in (409, 429):
            await store.release(principal, key_text)
            return
        headers = captured.kept_headers()
        # An answer naming the record it wrote keeps no body: a replay reads the record again, so what was
        # answered once (a person's data) is never stored here, nor replayed after that person's erasure.
        answer = None if "content-location" in headers else captured.json_body()
        await store.complete(principal, key_text, captured.status, answer, headers)


def _insert_of(engine: AsyncEngine) -> Any:
    return postgresql_insert if engine.dialect.name == "postgresql" else sqlite_insert


def _principal(scope: Scope, headers: dict[bytes, bytes]) -> str | None:
    authorization = headers.get(b"authorization", b"").decode("latin-1")
    scheme, _, token = authorization.partition(" ")
    verifier = getattr(scope["app"].state, "token_verifier", None)
    if scheme.lower() != "bearer" or not token or verifier is None:
        return None
    try:
        principal = verifier.verify(token)
        revocations = getattr(scope["app"].state, "revocations", None)
        if revocations is not None:
            revocations.check(principal)  # a revoked token has no stored answers replayed to it
    except Exception:  # noqa: BLE001 - an invalid or revoked token is the route's to refuse (401)
        return None
    subject: str = principal.subject
    return subject


async def _read_body(receive: Receive) -> tuple[bytes, Receive]:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    body = b"".join(chunks)
    sent = False

    async def receive_again() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return body, receive_again


class _Captured:
    def __init__(self) -> None:
        self.status: int | None = None
        self.headers: list[tuple[bytes, bytes]] = []
        self.chunks: list[bytes] = []

    def wrap(self, send: Send) -> Send:
        async def capturing(message: Message) -> None:
            if message["type"] == "http.response.start":
                self.status = message["status"]
                self.headers = list(message.get("headers", []))
            elif message["type"] == "http.response.body":
                self.chunks.append(message.get("body", b""))
            await send(message)

        return capturing

    def json_body(self) -> Any:
        raw = b"".join(self.chunks)
        if not raw:
            return None
        try:
            return json.loads(raw)
        except ValueError:
            return None

    def kept_headers(self) -> dict[str, str]:
        return {
            name.decode("latin-1"): value.decode("latin-1")
            for name, value in self.headers
            if name.decode("latin-1").lower() in KEPT_HEADERS
        }


async def _replay(
    app: ASGIApp, scope: Scope, receive: Receive, send: Send, stored: StoredAnswer, request_hash: str
) -> None:
    if stored.request_hash != request_hash:
        await _problem(scope, receive, send, 422, "this Idempotency-Key was used for a different request")
        return
    if stored.status_code is None:
        await _problem(
            scope,
            receive,
            send,
            409,
            "a request with this Idempotency-Key is still being processed; retry later",
        )
        return
    location = stored.headers.get("content-location")
    if location is not None:
        await _replay_by_reading(app, scope, send, stored, location)
        return
    body = b"" if stored.body is None else json.dumps(stored.body).encode()
    headers = [
        (name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in stored.headers.items()
    ]
    if not any(name == b"content-type" for name, _ in headers) and body:
        headers.append((b"content-type", b"application/json"))
    headers.append((b"content-length", str(len(body)).encode()))
    headers.append((REPLAYED_HEADER.lower().encode(), b"true"))
    await send({"type": "http.response.start", "status": stored.status_code, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _replay_by_reading(
    app: ASGIApp, scope: Scope, send: Send, stored: StoredAnswer, location: str
) -> None:
    """Answer a replay with the record as it is now, read at ``location`` with the caller's own token (so
    the caller's remit applies again): the stored status when the read succeeds, else the read's answer
    (404 or 410 once the record is gone or erased)."""
    path, _, query = location.partition("?")
    dropped = {b"content-length", b"content-type", KEY_HEADER, b"transfer-encoding"}
    read_scope = {
        **scope,
        "method": "GET",
        "path": path,
        "raw_path": path.encode("latin-1"),
        "query_string": query.encode("latin-1"),
        "headers": [(name, value) for name, value in scope["headers"] if name.lower() not in dropped],
    }

    async def no_body() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    captured = _Captured()

    async def swallow(message: Message) -> None:
        return None

    await app(read_scope, no_body, captured.wrap(swallow))
    status = captured.status or 500
    headers = [(name, value) for name, value in captured.headers if name.lower() != b"content-length"]
    if 200 <= status < 300:
        status = stored.status_code or status
        kept = {
            name.lower().encode("latin-1"): value.encode("latin-1") for name, value in stored.headers.items()
        }
        headers = [(name, value) for name, value in headers if name.lower() not in kept] + list(kept.items())
    body = b"".join(captured.chunks)
    headers.append((b"content-length", str(len(body)).encode()))
    headers.append((REPLAYED_HEADER.lower().encode(), b"true"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _problem(scope: Scope, receive: Receive, send: Send, status: int, detail: str) -> None:
    title = "Unprocessable Content" if status == 422 else "Conflict"
    slug = "unprocessable" if status == 422 else "conflict"
    response = problem_response(
        status=status, title=title, type_=PROBLEM_TYPE_PREFIX + slug, detail=detail, instance=scope["path"]
    )
    await response(scope, receive, send)
