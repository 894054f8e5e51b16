"""Check every stream's hash chain in a store: any edited, removed or reordered event is named."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from ddr_contracts.envelope import GENESIS_HASH, EventEnvelope, chain_hash
from ddr_runtime.eventstore.schema import events


@dataclass(frozen=True)
class Offence:
    stream_id: str
    version: int
    reason: str

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


async def verify_store(engine: AsyncEngine) -> VerifyReport:
    """Walk every stream in version order and recompute its chain from the stored bytes."""
    offences: list[Offence] = []
    streams = 0
    count = 0
    current: str | None = None
    expected_version = 1
    previous_hash = GENESIS_HASH
    query = select(
        events.c.stream_id, events.c.stream_version, events.c.event_id, events.c.payload, events.c.hash
    ).order_by(events.c.stream_id, events.c.stream_version)
    async with engine.connect() as conn:
        result = await conn.stream(query.execution_options(yield_per=2000))
        async for row in result:
            count += 1
            if row.stream_id != current:
                current, expected_version, previous_hash = row.stream_id, 1, GENESIS_HASH
                streams += 1
            offences.extend(
                _check(
                    row.stream_id,
                    row.stream_version,
                    row.event_id,
                    row.payload,
                    row.hash,
                    expected_version,
                    previous_hash,
                )
            )
            expected_version = row.stream_version + 1
            previous_hash = row.hash
    return VerifyReport(streams, count, tuple(offences))


def _check(
    stream_id: str,
    version: int,
    event_id: str,
    payload: bytes,
    stored_hash: str,
    expected_version: int,
    previous_hash: str,
) -> list[Offence]:
    found: list[Offence] = []
    if version != expected_version:
        found.append(Offence(stream_id, version, f"expected version {expected_version}: an event is missing"))
    if chain_hash(payload) != stored_hash:
        found.append(
            Offence(stream_id, version, "stored bytes do not match their hash: the event was altered")
        )
    try:
        envelope = EventEnvelope.from_bytes(payload)
    except ValidationError:
        found.append(Offence(stream_id, version, "stored bytes are not a valid event envelope"))
        return found
    if (envelope.streamid, envelope.streamversion, envelope.id) != (stream_id, version, event_id):
        found.append(Offence(stream_id, version, "envelope does not match its row: moved or reordered"))
    if envelope.prevhash != previous_hash:
        found.append(Offence(stream_id, version, "does not chain to its predecessor: removed or reordered"))
    return found
