"""Check every stream's hash chain in a store: any edited, removed or reordered event is named.

:class:`ChainChecker` is the one chain check of the platform: the store's own :func:`verify_store`, the
operator's ``ddr audit verify`` over every store, and the checkpoint topic's chain all use it. It takes a
store's events in any order that keeps each stream's versions ascending (append order does), and costs one
SHA-256 and two byte look-ups per event on the fast path: only an event that fails them is parsed, to say
what is wrong.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

import orjson
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from ddr_contracts.envelope import GENESIS_HASH, EventEnvelope
from ddr_runtime.eventstore.schema import events

_PREVHASH_KEY = b'"prevhash":"'
_ID_KEY = b'"id":"'
ALTERED = "altered"
CHAIN = "chain"


@dataclass(frozen=True)
class Offence:
    """One event that breaks its stream's chain: ``altered`` (its bytes) or ``chain`` (its place)."""

    stream_id: str
    version: int
    reason: str
    kind: str = CHAIN
    event_id: str | None = None

    def __str__(self) -> str:
        return f"{self.stream_id} v{self.version}: {self.reason}"


@dataclass(frozen=True)
class VerifyReport:
    streams: int
    events: int
    offences: tuple[Offence, ...]

    @property
    def ok(self) -> bool:
        return not self.offences


def prevhash_of(payload: bytes) -> bytes:
    """The envelope's ``prevhash`` read straight from canonical bytes (keys sorted: it follows ``data``, and no
    key after it can hold an unescaped quote), without parsing the event."""
    at = payload.rfind(_PREVHASH_KEY)
    if at < 0:
        return b""
    start = at + len(_PREVHASH_KEY)
    return payload[start : start + 64]


def event_id_of(payload: bytes) -> str:
    """The envelope's ``id`` read straight from canonical bytes (the last ``"id"`` key: ``data`` sorts before
    it and any ``"id"`` inside ``data`` comes earlier); empty when there is none."""
    at = payload.rfind(_ID_KEY)
    if at < 0:
        return ""
    start = at + len(_ID_KEY)
    return payload[start : payload.find(b'"', start)].decode(errors="replace")


class ChainChecker:
    """Recomputes each stream's chain, one event at a time, in the order the events are given."""

    def __init__(self) -> None:
        self.tails: dict[str, tuple[int, bytes]] = {}  # stream -> (last version, its hash as ASCII hex)
        self.events = 0
        self.offences: list[Offence] = []

    @property
    def streams(self) -> int:
        return len(self.tails)

    def check(
        self, stream_id: str, version: int, payload: bytes, stored_hash: str, event_id: str | None = None
    ) -> None:
        """One stored event: its bytes hash to ``stored_hash``, its version follows its stream's last, its
        ``prevhash`` is that event's hash, and (when given) the envelope's id is ``event_id``."""
        last_version, last_hash = self.tails.get(stream_id, _GENESIS_TAIL)
        if (
            hashlib.sha256(payload).hexdigest() != stored_hash
            or version != last_version + 1
            or prevhash_of(payload) != last_hash
            or (event_id is not None and event_id_of(payload) != event_id)
        ):
            self._diagnose(stream_id, version, payload, stored_hash, event_id, last_version, last_hash)
        self.tails[stream_id] = (version, stored_hash.encode())
        self.events += 1

    def check_rows(self, rows: Iterable[tuple[str, int, bytes, str]]) -> None:
        """Rows of (stream id, version, stored bytes, stored hash): :meth:`check` with its loop inlined, the
        fast path of a whole store."""
        tails = self.tails
        sha256 = hashlib.sha256
        count = 0
        for stream_id, version, payload, stored_hash in rows:
            last_version, last_hash = tails.get(stream_id, _GENESIS_TAIL)
            if (
                sha256(payload).hexdigest() != stored_hash
                or version != last_version + 1
                or prevhash_of(payload) != last_hash
            ):
                self._diagnose(stream_id, version, payload, stored_hash, None, last_version, last_hash)
            tails[stream_id] = (version, stored_hash.encode())
            count += 1
        self.events += count

    def report(self) -> VerifyReport:
        return VerifyReport(self.streams, self.events, tuple(self.offences))

    def _diagnose(
        self,
        stream_id: str,
        version: int,
        payload: bytes,
        stored_hash: str,
        event_id: str | None,
        last_version: int,
        last_hash: bytes,
    ) -> None:
        if event_id is None:  # not given: take it from the bytes when they parse
            with contextlib.suppress(orjson.JSONDecodeError, KeyError, TypeError):
                event_id = str(orjson.loads(payload)["id"])

        def offend(kind: str, reason: str) -> None:
            self.offences.append(Offence(stream_id, version, reason, kind, event_id))

        if hashlib.sha256(payload).hexdigest() != stored_hash:
            offend(ALTERED, "stored bytes do not match their hash: the event was altered")
        if version != last_version + 1:
            offend(CHAIN, f"expected version {last_version + 1}: an event is missing or out of order")
        try:
            envelope = EventEnvelope.from_bytes(payload)
        except ValidationError:
            offend(ALTERED, "stored bytes are not a valid event envelope")
            return
        if (envelope.streamid, envelope.streamversion) != (stream_id, version) or envelope.id != (
            event_id or envelope.id
        ):
            offend(CHAIN, "the envelope does not match its row: moved or reordered")
        if envelope.prevhash.encode() != last_hash:
            offend(CHAIN, "does not chain to its predecessor's hash: an earlier event was removed or altered")


_GENESIS_TAIL = (0, GENESIS_HASH.encode())


async def verify_store(engine: AsyncEngine) -> VerifyReport:
    """Walk every stream of the store in version order and recompute its chain from the stored bytes."""
    checker = ChainChecker()
    query = select(
        events.c.stream_id, events.c.stream_version, events.c.payload, events.c.hash, events.c.event_id
    ).order_by(events.c.stream_id, events.c.stream_version)
    async with engine.connect() as conn:
        result = await conn.stream(query.execution_options(yield_per=2000))
        async for row in result:
            checker.check(row.stream_id, row.stream_version, row.payload, row.hash, row.event_id)
    return checker.report()
