"""The chain check of a whole PostgreSQL store, fast: rows out with binary COPY, streams split over processes.

Kept light on imports (the standard library, asyncpg and the chain checker): each worker process of
``ddr audit verify`` imports only this module.
"""

from __future__ import annotations

import asyncio
import hashlib
import struct
from collections.abc import Callable, Sequence
from typing import Any

import asyncpg

from ddr_runtime.eventstore.verify import ChainChecker, Offence

_COPY_SIGNATURE = b"PGCOPY\n\xff\r\n\x00"
_INT16 = struct.Struct(">h").unpack_from
_INT32 = struct.Struct(">i").unpack_from
CHAIN_KINDS = ("text", "int", "bytes", "text")  # stream_id, stream_version, payload, hash
CHAIN_COLUMNS = "stream_id, stream_version, payload, hash"


class BinaryCopyRows:
    """The rows of a ``COPY ... TO STDOUT (FORMAT binary)`` stream, parsed chunk by chunk as they arrive.

    ``kinds`` names each column's type, in order: ``"text"`` (decoded UTF-8), ``"int"`` (a 4- or 8-byte
    integer) or ``"bytes"`` (as sent: bytea). A column may not be NULL (the event columns never are)."""

    def __init__(self, kinds: Sequence[str]) -> None:
        for kind in kinds:
            if kind not in ("text", "int", "bytes"):
                raise ValueError(f"unknown column kind {kind!r}")
        self.kinds = tuple(kinds)
        self._pending = b""
        self._header = False
        self.finished = False

    def feed(self, chunk: bytes) -> list[tuple[Any, ...]]:
        """The whole rows completed by ``chunk``; an incomplete one waits for the next."""
        data = self._pending + chunk if self._pending else bytes(chunk)
        at = 0
        if not self._header:
            if len(data) < 19:
                self._pending = data
                return []
            if data[:11] != _COPY_SIGNATURE:
                raise ValueError("not a binary COPY stream")
            at = 19 + _INT32(data, 15)[0]
            self._header = True
        rows: list[tuple[Any, ...]] = []
        at = self._rows(data, at, rows)
        self._pending = data[at:]
        return rows

    def _rows(self, data: bytes, at: int, rows: list[tuple[Any, ...]]) -> int:
        """Append the complete rows from ``at`` on to ``rows``; returns where the first incomplete one starts."""
        kinds = self.kinds
        end = len(data)
        while at + 2 <= end:
            (fields,) = _INT16(data, at)
            if fields == -1:
                self.finished = True
                return at + 2
            if fields != len(kinds):
                raise ValueError(f"a row of {fields} columns where {len(kinds)} were asked")
            cursor = at + 2
            row: list[Any] = []
            for kind in kinds:
                if cursor + 4 > end:
                    return at
                (length,) = _INT32(data, cursor)
                cursor += 4
                if length < 0:
                    raise ValueError("a NULL where the audit reads a value")
                if cursor + length > end:
                    return at
                value = data[cursor : cursor + length]
                cursor += length
                if kind == "text":
                    row.append(value.decode())
                elif kind == "int":
                    row.append(int.from_bytes(value, "big", signed=True))
                else:
                    row.append(value)
            rows.append(tuple(row))
            at = cursor
        return at


class ChainCopyRows(BinaryCopyRows):
    """:class:`BinaryCopyRows` of the chain check's four columns (stream id, version, payload, hash), with the
    row loop unrolled: the hot path of ``ddr audit verify`` over a whole store."""

    def __init__(self) -> None:
        super().__init__(CHAIN_KINDS)

    def _rows(self, data: bytes, at: int, rows: list[tuple[Any, ...]]) -> int:
        end = len(data)
        int32 = _INT32
        while at + 2 <= end:
            (fields,) = _INT16(data, at)
            if fields == -1:
                self.finished = True
                return at + 2
            if fields != 4:
                raise ValueError(f"a row of {fields} columns where 4 were asked")
            if at + 6 > end:
                return at
            (size,) = int32(data, at + 2)
            stream_end = at + 6 + size
            if size < 0 or stream_end + 12 > end:
                return at if size >= 0 else self._null()
            (size,) = int32(data, stream_end)
            if size != 4:
                raise ValueError("the stream version is not a 4-byte integer")
            (version,) = int32(data, stream_end + 4)
            (size,) = int32(data, stream_end + 8)
            payload_end = stream_end + 12 + size
            if size < 0 or payload_end + 4 > end:
                return at if size >= 0 else self._null()
            (size,) = int32(data, payload_end)
            row_end = payload_end + 4 + size
            if size < 0 or row_end > end:
                return at if size >= 0 else self._null()
            rows.append(
                (
                    data[at + 6 : stream_end].decode(),
                    version,
                    data[stream_end + 12 : payload_end],
                    data[payload_end + 4 : row_end].decode(),
                )
            )
            at = row_end
        return at

    @staticmethod
    def _null() -> int:
        raise ValueError("a NULL where the audit reads a value")


async def copy_out(
    conn: asyncpg.Connection,
    query: str,
    kinds: Sequence[str],
    on_rows: Callable[[list[tuple[Any, ...]]], None],
) -> int:
    """Stream ``query``'s rows out with ``COPY ... TO STDOUT (FORMAT binary)`` on ``conn`` (in the caller's
    snapshot), handing each parsed batch to ``on_rows`` as it arrives; returns how many rows. ``query`` takes
    no parameters (COPY has none): only integers the caller computed may be put in it."""
    parser = ChainCopyRows() if tuple(kinds) == CHAIN_KINDS else BinaryCopyRows(kinds)
    count = 0

    async def sink(chunk: bytes) -> None:
        nonlocal count
        rows = parser.feed(chunk)
        if rows:
            count += len(rows)
            on_rows(rows)

    await conn.copy_from_query(query, output=sink, format="binary")
    if not parser.finished:
        raise ValueError("the COPY stream ended before its trailer")
    return count


def chain_rows_query(horizon: int, part: int = 0, parts: int = 1) -> str:
    """The chain check's columns below ``horizon`` in append order; with ``parts`` > 1 only the streams whose
    hash falls in ``part`` (each stream's events all in one part, in order)."""
    where = f"tx_id < {int(horizon)}"
    if parts > 1:
        where += f" AND (hashtextextended(stream_id, 0) & 65535) % {int(parts)} = {int(part)}"
    return f"SELECT {CHAIN_COLUMNS} FROM events WHERE {where} ORDER BY tx_id, position"


async def check_part(dsn: str, horizon: int, part: int, parts: int) -> tuple[int, int, list[Offence]]:
    """Check the chains of the streams in ``part`` of ``parts``, below ``horizon``: (events, streams, offences)."""
    checker = ChainChecker()
    conn = await asyncpg.connect(dsn)
    try:
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            await copy_out(conn, chain_rows_query(horizon, part, parts), CHAIN_KINDS, checker.check_rows)
    finally:
        await conn.close()
    return checker.events, checker.streams, checker.offences


def check_part_in_process(dsn: str, horizon: int, part: int, parts: int) -> tuple[int, int, list[Offence]]:
    """:func:`check_part` as a worker process runs it."""
    return asyncio.run(check_part(dsn, horizon, part, parts))


async def hash_share(dsn: str, horizon: int, part: int, parts: int) -> int:
    """The physical ceiling of this check, for the benchmark that holds it to a share of it: every
    ``parts``-th event's payload below ``horizon`` copied out and hashed, nothing else; returns how many."""
    sha256 = hashlib.sha256

    def hash_all(rows: list[tuple[Any, ...]]) -> None:
        for (payload,) in rows:
            sha256(payload).hexdigest()

    query = (
        f"SELECT payload FROM events WHERE tx_id < {int(horizon)} AND position % {int(parts)} = {int(part)}"
    )
    conn = await asyncpg.connect(dsn)
    try:
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            return await copy_out(conn, query, ("bytes",), hash_all)
    finally:
        await conn.close()


def hash_share_in_process(dsn: str, horizon: int, part: int, parts: int) -> int:
    """:func:`hash_share` as a worker process runs it."""
    return asyncio.run(hash_share(dsn, horizon, part, parts))
