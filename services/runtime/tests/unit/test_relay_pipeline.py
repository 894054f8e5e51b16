"""The relay's overlapping batches: a row leaves the outbox only once Kafka acknowledged its batch, and what
was not acknowledged goes again, in order. A sender that acknowledges or refuses batches on command stands in
for the producer (the relay against the real broker: tests/integration/test_relay_and_consumer.py)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Sequence
from pathlib import Path

import pytest
from sqlalchemy import select

from ddr_runtime.crypto.cipher import PersonalDataCipher
from ddr_runtime.crypto.keystore import KeyStore
from ddr_runtime.db import create_engine
from ddr_runtime.eventstore.schema import outbox
from ddr_runtime.eventstore.store import Causation, EventStore, NewEvent
from ddr_runtime.messaging.broker import Outgoing
from ddr_runtime.messaging.relay import OutboxRelay
from ddr_testkit.samples import SAMPLES, SampleNoteAdded


class ScriptedSender:
    """Records every batch handed to it; acknowledges it, or not when its index is in ``refuse``."""

    def __init__(self) -> None:
        self.batches: list[list[Outgoing]] = []
        self.refuse: set[int] = set()

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def send_all(self, messages: Sequence[Outgoing]) -> Awaitable[None]:
        index = len(self.batches)
        self.batches.append(list(messages))
        acknowledged: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if index in self.refuse:
            acknowledged.set_exception(RuntimeError(f"batch {index} not acknowledged"))
        else:
            acknowledged.set_result(None)
        return acknowledged


@pytest.fixture
async def store(tmp_path: Path, keystore: KeyStore) -> AsyncIterator[EventStore]:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'store.sqlite'}")
    event_store = EventStore(engine, PersonalDataCipher(keystore), SAMPLES, service="t", topic="ddr.t.events")
    await event_store.create_schema()
    yield event_store
    await engine.dispose()


async def outbox_ids(store: EventStore) -> list[str]:
    async with store.engine.connect() as conn:
        return list((await conn.execute(select(outbox.c.event_id).order_by(outbox.c.id))).scalars())


async def test_a_batch_not_acknowledged_stays_in_the_outbox_and_goes_again_in_order(
    store: EventStore,
) -> None:
    appended = await store.append(
        "s1",
        0,
        [NewEvent(SampleNoteAdded(person_id="s1", sequence=n), "s1") for n in range(6)],
        Causation("t"),
    )
    ids = [e.envelope.id for e in appended]
    sender = ScriptedSender()
    sender.refuse = {1}  # the second batch of two fails while the third is already sent
    relay = OutboxRelay(store.engine, sender, service="t", batch_size=2, in_flight=2)

    with pytest.raises(RuntimeError, match="batch 1 not acknowledged"):
        await relay.drain()
    sent = [[m.headers["ce_id"] for m in batch] for batch in sender.batches]
    assert sent == [ids[0:2], ids[2:4], ids[4:6]], "each batch read while the one before was in flight"

    sender.refuse = set()
    assert await relay.drain() == 4, "the refused batch and the one sent after it go again"
    again = [m.headers["ce_id"] for batch in sender.batches[3:] for m in batch]
    assert again == ids[2:], "in outbox order"
    assert all(m.key == b"s1" for batch in sender.batches for m in batch), "key = subject"
    assert await outbox_ids(store) == []


async def test_rows_leave_the_outbox_only_once_acknowledged(store: EventStore) -> None:
    appended = await store.append(
        "s2",
        0,
        [NewEvent(SampleNoteAdded(person_id="s2", sequence=n), "s2") for n in range(3)],
        Causation("t"),
    )
    sender = ScriptedSender()
    relay = OutboxRelay(store.engine, sender, service="t", batch_size=2, in_flight=2)

    assert await relay.publish_pending() == 2  # sent, not yet waited for
    assert await outbox_ids(store) == [e.envelope.id for e in appended]
    assert await relay.publish_pending() == 1  # the first batch is acknowledged: deleted in the background
    assert await relay.publish_pending() == 0  # nothing left to read: every batch settled and deleted
    assert await outbox_ids(store) == []
