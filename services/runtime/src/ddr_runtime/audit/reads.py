"""The read ledger: who read which person's record, when, through which route and why.

Every service keeps one, append-only, in its own store (triggers refuse updates and deletes on both
backends). A route that shows a person's record, or a list of them, records each person shown or refused
through the :data:`Reads` dependency; auditors ask any service ``GET /reads/{person_id}``. The ledger
holds ids, roles and routes, never a person's data, so an erasure leaves it whole.

The ledger must not tell a child from anyone else (``ddr_runtime.auth.visibility``): its rows name the
readers' roles and routes, and only child protection is ever shown a child's record. So each row says whether
the person read is a child (``child``: the route knows, it applied the child rule; unknown when the route did
not say), and an auditor without child protection is answered for a child exactly as for a person no one was
shown: the rows of a child's record *shown* (to child protection) are left out, the refusals stay (they look
like the refusals of an unknown id). A shown row whose route did not say is treated as a child's when its
reader holds child protection: an unsure route hides a read, never reveals a child.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Annotated, Any, Generic, Literal, TypeVar

from fastapi import APIRouter, Depends, Request
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    and_,
    insert,
    inspect,
    not_,
    or_,
    select,
    text,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from ddr_runtime.auth.dependencies import CurrentPrincipal, require_roles
from ddr_runtime.auth.roles import Principal, Role
from ddr_runtime.auth.visibility import sees_children
from ddr_runtime.db import single_statement
from ddr_runtime.http.paging import Limit, Offset

ReadOutcome = Literal["shown", "not_visible"]
PURPOSE_HEADER = "X-Purpose"
MAX_PURPOSE = 200

reads_metadata = MetaData()
person_reads = Table(
    "person_reads",
    reads_metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("person_id", String(64), nullable=False),
    Column("reader", String(200), nullable=False),
    Column("reader_roles", String(400), nullable=False),
    Column("route", String(200), nullable=False),
    Column("purpose", String(MAX_PURPOSE)),
    Column("outcome", String(16), nullable=False),
    # Whether the person read is a child; NULL when the route did not say (and in rows older than the column).
    Column("child", Boolean, nullable=True),
    Column("read_at", DateTime(timezone=True), nullable=False),
    Index("ix_person_reads_person", "person_id", "id"),
    sqlite_autoincrement=True,
)

_APPEND_ONLY = {
    "sqlite": [
        "CREATE TRIGGER IF NOT EXISTS person_reads_no_update BEFORE UPDATE ON person_reads "
        "BEGIN SELECT RAISE(ABORT, 'the read ledger is append-only'); END",
        "CREATE TRIGGER IF NOT EXISTS person_reads_no_delete BEFORE DELETE ON person_reads "
        "BEGIN SELECT RAISE(ABORT, 'the read ledger is append-only'); END",
    ],
    "postgresql": [
        "CREATE OR REPLACE FUNCTION person_reads_append_only() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN RAISE EXCEPTION 'the read ledger is append-only'; END $$",
        "DROP TRIGGER IF EXISTS person_reads_append_only ON person_reads",
        "CREATE TRIGGER person_reads_append_only BEFORE UPDATE OR DELETE ON person_reads "
        "FOR EACH ROW EXECUTE FUNCTION person_reads_append_only()",
    ],
}


def ledger_rows(
    principal: Principal,
    person_ids: Iterable[str],
    *,
    route: str,
    outcome: ReadOutcome = "shown",
    purpose: str | None = None,
    children: Iterable[str] | None = None,
) -> list[dict[str, Any]]:
    """The ledger's rows for one read: one per distinct person id (see :meth:`ReadLedger.record`)."""
    now = datetime.now(UTC)
    roles = ",".join(sorted(principal.roles))
    known_children = None if children is None else frozenset(children)
    return [
        {
            "person_id": person_id,
            "reader": principal.subject,
            "reader_roles": roles,
            "route": route,
            "purpose": purpose[:MAX_PURPOSE] if purpose else None,
            "outcome": outcome,
            "child": None if known_children is None else person_id in known_children,
            "read_at": now,
        }
        for person_id in dict.fromkeys(person_ids)
    ]


class ReadLedger:
    """The append-only ledger of reads in a service's store."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def create_schema(self) -> None:
        async with self.engine.begin() as conn:
            await conn.run_sync(lambda sync: reads_metadata.create_all(sync, tables=[person_reads]))
            columns = await conn.run_sync(lambda sync: inspect(sync).get_columns("person_reads"))
            if "child" not in {column["name"] for column in columns}:  # a ledger made before the column
                await conn.execute(text("ALTER TABLE person_reads ADD COLUMN child BOOLEAN"))
            for statement in _APPEND_ONLY.get(conn.dialect.name, []):
                await conn.execute(text(statement))

    async def record(
        self,
        principal: Principal,
        person_ids: Iterable[str],
        *,
        route: str,
        outcome: ReadOutcome = "shown",
        purpose: str | None = None,
        children: Iterable[str] | None = None,
        conn: AsyncConnection | None = None,
    ) -> int:
        """Append one row per distinct person id; returns how many were recorded. ``children``: which of
        them are children (every other one is not); None: the route does not say. With ``conn``, in the
        caller's transaction (so a service's own record of the read commits with it, or neither does)."""
        rows = ledger_rows(
            principal, person_ids, route=route, outcome=outcome, purpose=purpose, children=children
        )
        await self.insert(rows, conn=conn)
        return len(rows)

    async def insert(self, rows: Sequence[dict[str, Any]], *, conn: AsyncConnection | None = None) -> None:
        """Append rows made by :func:`ledger_rows` (of any readers) in one statement: the way to write many
        reads' rows in one transaction (:class:`GroupCommit`)."""
        if rows and conn is not None:
            await conn.execute(insert(person_reads), list(rows))
        elif len(rows) == 1:  # one statement: committed as it runs, no BEGIN and COMMIT around it
            async with single_statement(self.engine) as tx:
                await tx.execute(insert(person_reads), rows[0])
        elif rows:
            async with self.engine.begin() as tx:
                await tx.execute(insert(person_reads), list(rows))

    async def reads_of(
        self, person_id: str, *, offset: int = 0, limit: int = 100, with_children: bool = True
    ) -> list[dict[str, Any]]:
        """The reads of ``person_id``, oldest first. Unless ``with_children``, the rows of a child's record
        shown (to child protection) are left out, so a child answers like a person no one was shown."""
        query = select(person_reads).where(person_reads.c.person_id == person_id)
        if not with_children:
            query = query.where(not_(_SHOWN_CHILD))
        query = query.order_by(person_reads.c.id).offset(offset).limit(limit)
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [
            {
                "person_id": row["person_id"],
                "reader": row["reader"],
                "reader_roles": row["reader_roles"].split(",") if row["reader_roles"] else [],
                "route": row["route"],
                "purpose": row["purpose"],
                "outcome": row["outcome"],
                "read_at": _aware(row["read_at"]).isoformat(),
            }
            for row in rows
        ]


_SHOWN_CHILD = and_(
    person_reads.c.outcome == "shown",
    or_(
        person_reads.c.child.is_(True),
        and_(
            person_reads.c.child.is_(None),
            person_reads.c.reader_roles.contains(Role.CHILD_PROTECTION.value, autoescape=True),
        ),
    ),
)
"""A row showing a child's record (or, when the route did not say, shown to a child-protection reader)."""


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class ReadRecorder:
    """What a route records its reads with: the caller, the route and the purpose are already known."""

    def __init__(self, ledger: ReadLedger, principal: Principal, route: str, purpose: str | None) -> None:
        self.ledger = ledger
        self.principal = principal
        self.route = route
        self.purpose = purpose

    async def record(
        self,
        person_ids: Iterable[str],
        outcome: ReadOutcome = "shown",
        *,
        children: Iterable[str] | None,
        conn: AsyncConnection | None = None,
    ) -> int:
        """Record the read of ``person_ids``; ``children``: which of them are children (the route applied
        the child rule, so it knows), the others then being adults. Every route must say (the argument has no
        default); None only for a refusal decided before the person was looked up, when it cannot."""
        return await self.ledger.record(
            self.principal,
            person_ids,
            route=self.route,
            outcome=outcome,
            purpose=self.purpose,
            children=children,
            conn=conn,
        )

    def rows(
        self,
        person_ids: Iterable[str],
        outcome: ReadOutcome = "shown",
        *,
        children: Iterable[str] | None,
    ) -> list[dict[str, Any]]:
        """The rows :meth:`record` would write, to be written later with other reads' (:meth:`ReadLedger.insert`
        in a :class:`GroupCommit`)."""
        return ledger_rows(
            self.principal,
            person_ids,
            route=self.route,
            outcome=outcome,
            purpose=self.purpose,
            children=children,
        )


Item = TypeVar("Item")


class GroupCommit(Generic[Item]):
    """Group commit: the records of many concurrent reads written in one transaction, one flush to disk.

    :meth:`submit` returns once the transaction holding its item has committed (so a read is recorded before
    it is answered) and raises if it failed. One flush runs at a time; items submitted meanwhile wait and go
    together in the next, up to ``max_batch`` each. ``write`` writes a batch in one transaction. When a batch
    of several fails, each of its items is tried again alone, so one bad item fails only its own caller."""

    def __init__(self, write: Callable[[list[Item]], Awaitable[None]], *, max_batch: int = 256) -> None:
        self.write = write
        self.max_batch = max_batch
        self.flushes = 0
        self.written = 0
        self._pending: list[tuple[Item, asyncio.Future[None]]] = []
        self._flusher: asyncio.Task[None] | None = None

    async def submit(self, item: Item) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((item, future))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush_all())
        # A caller that gives up (a dropped request) does not cancel the write its batch shares with others.
        await asyncio.shield(future)

    async def _flush_all(self) -> None:
        while self._pending:
            batch, self._pending = self._pending[: self.max_batch], self._pending[self.max_batch :]
            try:
                await self.write([item for item, _ in batch])
            except Exception as error:  # noqa: BLE001 - handed to the callers that wait on it
                if len(batch) == 1:
                    _settle(batch[0][1], error)
                    continue
                for item, future in batch:  # alone, so that one bad item fails only its own caller
                    try:
                        await self.write([item])
                    except Exception as alone:  # noqa: BLE001 - handed to its caller
                        _settle(future, alone)
                    else:
                        self._done(1)
                        _settle(future, None)
                continue
            self._done(len(batch))
            for _, future in batch:
                _settle(future, None)

    def _done(self, items: int) -> None:
        self.flushes += 1
        self.written += items


def _settle(future: asyncio.Future[None], error: BaseException | None) -> None:
    if future.done():
        return
    if error is None:
        future.set_result(None)
    else:
        future.set_exception(error)


def read_ledger(request: Request) -> ReadLedger:
    ledger = getattr(request.app.state, "read_ledger", None)
    if not isinstance(ledger, ReadLedger):
        raise TypeError("app.state.read_ledger holds no ReadLedger: build the app with create_service_app")
    return ledger


async def read_recorder(
    request: Request, principal: CurrentPrincipal, ledger: Annotated[ReadLedger, Depends(read_ledger)]
) -> ReadRecorder:
    route = request.scope.get("route")
    template = getattr(route, "path", request.url.path)
    return ReadRecorder(
        ledger, principal, f"{request.method} {template}", request.headers.get(PURPOSE_HEADER)
    )


Reads = Annotated[ReadRecorder, Depends(read_recorder)]
"""A route's parameter: ``reads: Reads`` then ``await reads.record([person_id], children=...)``."""

Auditor = Annotated[Principal, Depends(require_roles(Role.AUDITOR))]


def reads_router() -> APIRouter:
    router = APIRouter(tags=["audit"])

    @router.get("/reads/{person_id}")
    async def reads_of_person(
        person_id: str,
        auditor: Auditor,
        ledger: Annotated[ReadLedger, Depends(read_ledger)],
        offset: Offset = 0,
        limit: Limit = 100,
    ) -> list[dict[str, Any]]:
        """Who read this person's record in this service, when, through which route and why (auditors).
        A child's record shown to child protection is in the answer only to an auditor who also holds child
        protection: to any other, a child answers like a person no one was shown."""
        return await ledger.reads_of(
            person_id, offset=offset, limit=limit, with_children=sees_children(auditor)
        )

    return router
