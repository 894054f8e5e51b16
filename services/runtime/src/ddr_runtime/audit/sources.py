"""Read-only access to what the operator's audit checks: each store at the address it is given, each topic,
bundles. Only ``ddr audit`` (an operator command) uses it: no service opens another service's store.

Nothing here writes to a store or a topic. Stores are read with the database driver directly, in large
batches from one snapshot (no ORM objects per event): SQLite through a ``mode=ro`` connection, PostgreSQL
through a read-only REPEATABLE READ transaction and a server-side cursor. Topics are read by a consumer
with no group (``assign`` and seek to the beginning), so nothing is committed anywhere.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import sqlite3
import tarfile
import tempfile
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import asyncpg
from aiokafka import AIOKafkaConsumer, TopicPartition
from sqlalchemy.engine import make_url

from ddr_contracts.wire import declared_hash
from ddr_runtime.audit.chains import CHAIN_COLUMNS, copy_out

BATCH = 20_000


class StoreRow(NamedTuple):
    """One stored event as the audit reads it, in the store's append order."""

    position: int
    event_id: str
    stream_id: str
    stream_version: int
    subject: str
    payload: bytes
    hash: str


class StoreMissing(LookupError):
    """The service has no event store at that address (not deployed, or never started)."""


_EVENT_COLUMNS = "position, event_id, stream_id, stream_version, subject, payload, hash"
# PostgreSQL: the global order is (writing transaction id, position), read only below the oldest transaction
# still running, so a checkpoint's leaves are final: no later commit can land among them.
_PG_HORIZON = "SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint"
_PG_EVENTS = f"SELECT {_EVENT_COLUMNS} FROM events WHERE tx_id < $1 ORDER BY tx_id, position"
_SQLITE_EVENTS = f"SELECT {_EVENT_COLUMNS} FROM events ORDER BY position"


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise StoreMissing(f"{url} is not a file store")
    return Path(database)


def _asyncpg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@contextmanager
def _sqlite_readonly(url: str) -> Iterator[sqlite3.Connection]:
    path = _sqlite_path(url)
    if not path.exists():
        raise StoreMissing(str(path))
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
    try:
        if conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'events'").fetchone() is None:
            raise StoreMissing(f"{path} holds no event store")
        yield conn
    finally:
        conn.close()


@asynccontextmanager
async def _pg_readonly(url: str) -> AsyncIterator[asyncpg.Connection]:
    try:
        conn = await asyncpg.connect(_asyncpg_dsn(url))
    except asyncpg.InvalidCatalogNameError:
        raise StoreMissing(url) from None
    try:
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            exists = await conn.fetchval("SELECT to_regclass('events') IS NOT NULL")
            if not exists:
                raise StoreMissing(f"{make_url(url).database} holds no event store")
            yield conn
    finally:
        await conn.close()


async def read_store(url: str, batch: int = BATCH) -> AsyncIterator[list[StoreRow]]:
    """Every committed event of the store, in append order, in batches, from one consistent snapshot."""
    if is_sqlite(url):
        with _sqlite_readonly(url) as conn:
            cursor = conn.execute(_SQLITE_EVENTS)
            while rows := await asyncio.to_thread(cursor.fetchmany, batch):
                yield [StoreRow._make(r) for r in rows]
        return
    async with _pg_readonly(url) as conn:
        horizon = await conn.fetchval(_PG_HORIZON)
        cursor = await conn.cursor(_PG_EVENTS, horizon)
        while records := await cursor.fetch(batch):
            yield [StoreRow._make(r) for r in records]


async def read_store_raw(url: str, batch: int = BATCH) -> AsyncIterator[Sequence[tuple[Any, ...]]]:
    """As :func:`read_store`, rows left as the driver returns them (tuples or records): the fast path."""
    if is_sqlite(url):
        with _sqlite_readonly(url) as conn:
            cursor = conn.execute(_SQLITE_EVENTS)
            while rows := await asyncio.to_thread(cursor.fetchmany, batch):
                yield rows
        return
    async with _pg_readonly(url) as conn:
        horizon = await conn.fetchval(_PG_HORIZON)
        cursor = await conn.cursor(_PG_EVENTS, horizon)
        while records := await cursor.fetch(batch):
            yield records


async def read_chain_rows(url: str, batch: int = BATCH) -> AsyncIterator[Sequence[tuple[Any, ...]]]:
    """(stream_id, version, payload, hash) of every event of an SQLite store in append order: all the chain
    check needs. PostgreSQL stores are read with binary COPY (:mod:`ddr_runtime.audit.chains`)."""
    if not is_sqlite(url):
        raise ValueError("read_chain_rows reads SQLite stores; PostgreSQL's are read by audit.chains")
    with _sqlite_readonly(url) as conn:
        cursor = conn.execute(f"SELECT {CHAIN_COLUMNS} FROM events ORDER BY position")
        # Read ahead in a thread (sqlite3 releases the GIL while stepping) while the caller hashes.
        ahead = asyncio.ensure_future(asyncio.to_thread(cursor.fetchmany, batch))
        while rows := await ahead:
            ahead = asyncio.ensure_future(asyncio.to_thread(cursor.fetchmany, batch))
            yield rows


async def copy_rows(
    url: str, query: str, kinds: Sequence[str], on_rows: Callable[[list[tuple[Any, ...]]], None]
) -> int:
    """Stream ``query``'s rows out of PostgreSQL with ``COPY ... TO STDOUT (FORMAT binary)`` inside the
    read-only snapshot, handing each parsed batch to ``on_rows`` as it arrives; returns how many rows.
    ``query`` takes no parameters (COPY has none): only integers the caller computed may be put in it."""
    async with _pg_readonly(url) as conn:
        return await copy_out(conn, query, kinds, on_rows)


def asyncpg_dsn(url: str) -> str:
    """The address asyncpg takes for a store's SQLAlchemy URL (what a worker process connects with)."""
    return _asyncpg_dsn(url)


async def store_horizon(url: str) -> tuple[int, int]:
    """The transaction id below which every event of a PostgreSQL store is final (see ``_PG_HORIZON``):
    readers on several connections that read only below it see the same events; and the planner's estimate
    of how many events the store holds (no count)."""
    async with _pg_readonly(url) as conn:
        horizon = int(await conn.fetchval(_PG_HORIZON))
        estimate = await conn.fetchval(
            "SELECT reltuples::bigint FROM pg_class WHERE oid = 'events'::regclass"
        )
        return horizon, max(int(estimate or 0), 0)


STORE_KINDS = ("int", "text", "text", "int", "text", "bytes", "text")  # StoreRow's columns


def store_rows_query(horizon: int) -> str:
    """Every column :class:`StoreRow` holds, below ``horizon``, in append order."""
    return f"SELECT {_EVENT_COLUMNS} FROM events WHERE tx_id < {int(horizon)} ORDER BY tx_id, position"


async def events_by_id(url: str, event_ids: Iterable[str]) -> dict[str, StoreRow]:
    """The stored events among ``event_ids`` (read now, after the snapshot: for late arrivals)."""
    wanted = sorted(set(event_ids))
    found: dict[str, StoreRow] = {}
    if not wanted:
        return found
    query = f"SELECT {_EVENT_COLUMNS} FROM events WHERE event_id = "
    if is_sqlite(url):
        with _sqlite_readonly(url) as conn:
            for event_id in wanted:
                row = conn.execute(query + "?", (event_id,)).fetchone()
                if row is not None:
                    found[event_id] = StoreRow._make(row)
        return found
    async with _pg_readonly(url) as pg:
        for record in await pg.fetch(
            f"SELECT {_EVENT_COLUMNS} FROM events WHERE event_id = ANY($1::text[])", wanted
        ):
            found[record["event_id"]] = StoreRow._make(record)
    return found


async def pending_publication(url: str) -> set[str]:
    """Event ids still in the store's outbox: stored, not yet acknowledged by Kafka."""
    if is_sqlite(url):
        with _sqlite_readonly(url) as conn:
            return {r[0] for r in conn.execute("SELECT event_id FROM outbox")}
    async with _pg_readonly(url) as pg:
        return {r["event_id"] for r in await pg.fetch("SELECT event_id FROM outbox")}


# -- topics -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TopicRecord:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    declared_hash: str | None  # the ddr-hash header

    @property
    def where(self) -> str:
        return f"{self.topic}[{self.partition}]@{self.offset}"


async def read_topic(
    bootstrap_servers: str, topic: str, batch: int = 5000
) -> AsyncIterator[list[TopicRecord]]:
    """Every message of ``topic`` from offset zero up to its end as of the call, partition by partition
    interleaved as fetched (each partition in offset order). A topic that does not exist reads empty."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap_servers,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        client_id="ddr-audit",
        max_partition_fetch_bytes=8 * 1024 * 1024,
        fetch_max_bytes=64 * 1024 * 1024,
    )
    await consumer.start()
    try:
        # ``partitions_for_topic`` answers only for topics already in the client's metadata, which an
        # unsubscribed consumer has not fetched: ask the cluster for the partitions directly.
        cluster = await consumer._client.fetch_all_metadata()
        partitions = cluster.partitions_for_topic(topic)
        if not partitions:
            return
        assigned = [TopicPartition(topic, p) for p in sorted(partitions)]
        consumer.assign(assigned)
        ends = await consumer.end_offsets(assigned)
        await consumer.seek_to_beginning(*assigned)
        remaining = {tp for tp in assigned if ends[tp] > await consumer.position(tp)}
        while remaining:
            fetched = await consumer.getmany(*remaining, timeout_ms=1000, max_records=batch)
            out: list[TopicRecord] = []
            for tp, records in fetched.items():
                for r in records:
                    if r.offset >= ends[tp]:
                        continue
                    out.append(
                        TopicRecord(
                            r.topic,
                            r.partition,
                            r.offset,
                            r.key,
                            r.value,
                            declared_hash(dict(r.headers or ())),
                        )
                    )
            for tp in list(remaining):
                if await consumer.position(tp) >= ends[tp]:
                    remaining.discard(tp)
            if out:
                yield out
    finally:
        await consumer.stop()


# -- bundles ----------------------------------------------------------------------------------------------


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


MAX_BUNDLE_BYTES_ENV = "DDR_AUDIT_BUNDLE_MAX_BYTES"
MAX_BUNDLE_BYTES = 16 * 1024**3
"""What a bundle may unpack to (16 GiB unless ``DDR_AUDIT_BUNDLE_MAX_BYTES`` says otherwise)."""
MAX_BUNDLE_FILES = 100_000


class BundleTooLarge(ValueError):
    """A bundle archive that would unpack to more than the limit (HTTP's 413: refused before unpacking)."""

    status = 413


def bundle_limit() -> int:
    value = os.environ.get(MAX_BUNDLE_BYTES_ENV, "")
    return int(value) if value.strip() else MAX_BUNDLE_BYTES


def _check_size(archive: tarfile.TarFile, path: Path, limit: int) -> None:
    """Refuse an archive whose members' declared sizes add up to more than ``limit``, or that holds more than
    :data:`MAX_BUNDLE_FILES` files, reading its headers only (nothing is written), and stopping at the first
    member over the limit."""
    total = 0
    for files, member in enumerate(archive, start=1):
        total += member.size
        if total > limit:
            raise BundleTooLarge(
                f"{path.name} unpacks to more than {limit:,} bytes (the limit, {MAX_BUNDLE_BYTES_ENV}): refused"
            )
        if files > MAX_BUNDLE_FILES:
            raise BundleTooLarge(f"{path.name} holds more than {MAX_BUNDLE_FILES:,} files: refused")


@contextmanager
def opened_bundle(path: Path, *, max_bytes: int | None = None) -> Iterator[Path]:
    """The bundle's directory: ``path`` itself, or a tar archive unpacked (safely) into a temporary one, once
    its headers show it fits in ``max_bytes`` (:func:`bundle_limit` by default; else :class:`BundleTooLarge`)."""
    if path.is_dir():
        yield path
        return
    if not tarfile.is_tarfile(path):
        raise ValueError(f"{path} is neither a bundle directory nor a tar archive")
    with tempfile.TemporaryDirectory(prefix="ddr-bundle-") as folder, tarfile.open(path) as archive:
        _check_size(archive, path, bundle_limit() if max_bytes is None else max_bytes)
        archive.extractall(folder, filter="data")
        roots = [p for p in Path(folder).iterdir() if p.is_dir()]
        yield roots[0] if len(roots) == 1 and not (Path(folder) / "manifest.json").exists() else Path(folder)


def pack_bundle(folder: Path, archive: Path) -> None:
    """Write ``folder`` as a tar archive (gzip when the name ends in ``.gz``), files in a stable order."""
    mode = "w:gz" if archive.name.endswith(".gz") else "w"
    with tarfile.open(archive, mode) as tar:  # type: ignore[call-overload]
        for file in sorted(p for p in folder.rglob("*") if p.is_file()):
            info = tar.gettarinfo(str(file), arcname=str(Path(folder.name) / file.relative_to(folder)))
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            with file.open("rb") as stream:
                tar.addfile(info, stream)


def iter_lines(path: Path) -> Iterator[bytes]:
    """The lines of a bundle file, without their newline."""
    with path.open("rb", buffering=1 << 20) as stream:
        for line in stream:
            yield line[:-1] if line.endswith(b"\n") else line


def write_private(path: Path, content: bytes) -> None:
    """A file only its owner may read (a bundle may hold personal data, even sealed)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as stream:
        stream.write(content)
