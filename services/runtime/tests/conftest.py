"""Fixtures of the runtime's tests: a store on each backend, over real SQLite and real PostgreSQL."""

from __future__ import annotations

import base64
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from ddr_runtime.crypto.cipher import PersonalDataCipher
from ddr_runtime.crypto.keystore import KeyStore
from ddr_runtime.db import create_engine
from ddr_runtime.eventstore.store import EventStore
from ddr_testkit.samples import SAMPLES


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'store.sqlite'}"
    url: str = request.getfixturevalue("fresh_postgres_database")
    return url


@pytest.fixture
async def keystore(tmp_path: Path) -> AsyncIterator[KeyStore]:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'keys.sqlite'}")
    keys = KeyStore(engine, base64.b64decode(base64.b64encode(os.urandom(32))))
    await keys.create_schema()
    yield keys
    await engine.dispose()


@pytest.fixture
async def store_engine(store_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(store_url)
    yield engine
    await engine.dispose()


@pytest.fixture
async def store(store_engine: AsyncEngine, keystore: KeyStore) -> EventStore:
    event_store = EventStore(
        store_engine, PersonalDataCipher(keystore), SAMPLES, service="sample", topic="ddr.sample.events"
    )
    await event_store.create_schema()
    return event_store
