"""The key service over a real PostgreSQL store, called through its HTTP API with per-service credentials:
grants, revocation of a host, erasure reaching every service, KEK rotation without re-encrypting events,
counts of every call, and the token revocations every service fetches."""

from __future__ import annotations

import base64
import os
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import FastAPI
from opentelemetry.sdk.trace import TracerProvider
from pydantic import SecretStr
from sqlalchemy import select

from ddr_runtime.auth.issuer import DevelopmentTokenIssuer
from ddr_runtime.auth.revocation import RevocationList, TokenRevoked
from ddr_runtime.auth.roles import Principal, Role
from ddr_runtime.auth.tokens import TokenVerifier
from ddr_runtime.crypto.cipher import PersonalDataCipher
from ddr_runtime.crypto.keyclient import KeyServiceClient, KeyServiceError
from ddr_runtime.crypto.keystore import SubjectErased, kek_id, subject_keys
from ddr_runtime.db import create_engine
from ddr_runtime.eventstore.store import Causation, EventStore, NewEvent
from ddr_runtime.keyservice.app import create_keyservice_app
from ddr_runtime.keyservice.credentials import Grant, key_usage, provision
from ddr_runtime.keyservice.settings import KeyServiceSettings
from ddr_testkit.samples import SAMPLES, SamplePersonListed

pytestmark = pytest.mark.postgres

KEK_1 = os.urandom(32)
KEK_2 = os.urandom(32)


def encoded(*keys: bytes) -> SecretStr:
    return SecretStr(",".join(base64.b64encode(key).decode() for key in keys))


class KeyService:
    """One key service app, its lifespan entered, and ways to get clients of it."""

    def __init__(self, app: FastAPI, issuer: DevelopmentTokenIssuer) -> None:
        self.app = app
        self.issuer = issuer
        self.clients: list[KeyServiceClient] = []

    async def client(
        self, service: str, host: str = "node-1", grants: tuple[Grant, ...] = ("create", "unwrap")
    ) -> KeyServiceClient:
        _, secret = await self.app.state.keyservice.credentials.issue(service, host, grants)
        client = KeyServiceClient(
            "http://keys", secret, cache_seconds=0, transport=httpx.ASGITransport(app=self.app)
        )
        self.clients.append(client)
        return client

    async def admin(self, method: str, path: str, body: object = None) -> httpx.Response:
        token = self.issuer.issue(subject="operator-1", roles=[Role.OPERATOR])
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app), base_url="http://keys"
        ) as http:
            return await http.request(method, path, json=body, headers={"Authorization": f"Bearer {token}"})


@pytest.fixture
def issuer() -> DevelopmentTokenIssuer:
    return DevelopmentTokenIssuer(Ed25519PrivateKey.generate(), issuer="t", audience="t")


@pytest.fixture
def start_key_service(
    fresh_postgres_database: str, tmp_path: Path, issuer: DevelopmentTokenIssuer
) -> Callable[..., AsyncIterator[KeyService]]:
    @asynccontextmanager
    async def start(current: bytes = KEK_1, *previous: bytes) -> AsyncIterator[KeyService]:
        settings = KeyServiceSettings(
            environment="test",
            var_dir=tmp_path,
            keys_database_url=fresh_postgres_database,
            keys_kek=encoded(current),
            keys_previous_keks=encoded(*previous) if previous else None,
        )
        app = create_keyservice_app(
            settings,
            token_verifier=TokenVerifier(issuer.public_key_pem, issuer="t", audience="t"),
            tracer_provider=TracerProvider(),
        )
        service = KeyService(app, issuer)
        async with app.router.lifespan_context(app):
            try:
                yield service
            finally:
                for client in service.clients:
                    await client.dispose()

    return start  # type: ignore[return-value]


@pytest.fixture
async def keys(start_key_service: Callable[..., AsyncIterator[KeyService]]) -> AsyncIterator[KeyService]:
    async with start_key_service() as service:  # type: ignore[attr-defined]
        yield service


async def test_every_service_gets_the_same_key_for_a_subject(keys: KeyService) -> None:
    registration = await keys.client("registration")
    screening = await keys.client("screening")

    written = await registration.keys_for_writing(["person-1"])
    read = await screening.keys_for_reading(["person-1"])

    assert read == written
    assert len(written["person-1"]) == 32


async def test_a_revoked_hosts_credentials_unwrap_nothing(keys: KeyService) -> None:
    seized = await keys.client("screening", host="node-3")
    await seized.keys_for_writing(["person-1"])

    answer = await keys.admin(
        "POST", "/admin/credentials/revoke", {"host": "node-3", "reason": "host seized"}
    )

    assert answer.json() == {"revoked": 1}
    with pytest.raises(KeyServiceError, match="401"):
        await seized.keys_for_reading(["person-1"])
    with pytest.raises(KeyServiceError, match="401"):
        await seized.keys_for_writing(["person-2"])


async def test_revoking_one_host_leaves_the_other_hosts_working(keys: KeyService) -> None:
    seized = await keys.client("screening", host="node-3")
    healthy = await keys.client("screening", host="node-4")
    written = await seized.keys_for_writing(["person-1"])

    await keys.admin("POST", "/admin/credentials/revoke", {"host": "node-3", "reason": "host seized"})

    assert await healthy.keys_for_reading(["person-1"]) == written


async def test_revoking_a_service_ends_all_its_credentials_on_every_host(keys: KeyService) -> None:
    first = await keys.client("cvr", host="node-1")
    second = await keys.client("cvr", host="node-2")

    answer = await keys.admin(
        "POST", "/admin/credentials/revoke", {"service": "cvr", "reason": "compromised"}
    )

    assert answer.json() == {"revoked": 2}
    for client in (first, second):
        with pytest.raises(KeyServiceError, match="401"):
            await client.keys_for_reading(["person-1"])


async def test_a_credential_without_the_erase_grant_cannot_erase(keys: KeyService) -> None:
    pathway = await keys.client("pathway", grants=("unwrap",))

    with pytest.raises(KeyServiceError, match="403"):
        await pathway.erase("person-1")


async def test_a_credential_without_the_create_grant_makes_no_key(keys: KeyService) -> None:
    pathway = await keys.client("pathway", grants=("unwrap",))

    with pytest.raises(KeyServiceError, match="403"):
        await pathway.keys_for_writing(["person-9"])


async def test_an_operator_token_cannot_ask_for_keys(keys: KeyService) -> None:
    token = keys.issuer.issue(subject="operator-1", roles=[Role.OPERATOR])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=keys.app), base_url="http://keys") as http:
        answer = await http.post(
            "/v1/keys/unwrap", json={"subjects": ["person-1"]}, headers={"Authorization": f"Bearer {token}"}
        )

    assert answer.status_code == 401


async def test_erasure_through_one_service_reaches_every_service(
    keys: KeyService, fresh_postgres_database: str, tmp_path: Path
) -> None:
    registration = await keys.client("registration", grants=("create", "unwrap", "erase"))
    screening = await keys.client("screening")
    written = EventStore(
        create_engine(f"sqlite+aiosqlite:///{tmp_path / 'registration.sqlite'}"),
        PersonalDataCipher(registration),
        SAMPLES,
        service="registration",
        topic="unused",
    )
    await written.create_schema()
    await written.append("person-p1", 0, [listed("p1", "Mohamed Ag Intalla")], Causation("officer"))
    copied = EventStore(
        written.engine, PersonalDataCipher(screening), SAMPLES, service="screening", topic="x"
    )
    before = (await copied.read_stream("person-p1"))[0].event

    await registration.erase("p1")

    after = (await copied.read_stream("person-p1"))[0].event
    assert isinstance(before, SamplePersonListed)
    assert isinstance(after, SamplePersonListed)
    assert (before.full_name, after.full_name, after.movement) == ("Mohamed Ag Intalla", None, "MNLA")
    with pytest.raises(SubjectErased):
        await screening.keys_for_writing(["p1"])
    await written.engine.dispose()


async def test_asking_which_subjects_were_erased_makes_no_key(keys: KeyService) -> None:
    """A read tells an erased subject from one never given a key without making one (issue 14 review)."""
    registration = await keys.client("registration", grants=("create", "unwrap", "erase"))
    screening = await keys.client("screening", grants=("unwrap",))
    await registration.keys_for_writing(["kept", "gone"])
    await registration.erase("gone")

    erased = await screening.erased(["kept", "gone", "never-keyed"])

    assert erased == {"gone"}
    assert await registration.keys_for_reading(["never-keyed"]) == {}


async def test_a_rotated_kek_still_opens_every_event_without_re_encrypting_it(
    start_key_service: Callable[..., AsyncIterator[KeyService]], fresh_postgres_database: str, tmp_path: Path
) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'store.sqlite'}")
    names = {f"p{i}": f"Aminata Traoré {i}" for i in range(30)}
    async with start_key_service(KEK_1) as first:  # type: ignore[attr-defined]
        store = EventStore(
            engine, PersonalDataCipher(await first.client("cvr")), SAMPLES, service="cvr", topic="x"
        )
        await store.create_schema()
        for person, name in names.items():
            await store.append(f"person-{person}", 0, [listed(person, name)], Causation("officer"))
    sealed_before = await sealed_payloads(store)

    async with start_key_service(KEK_2, KEK_1) as rotating:  # type: ignore[attr-defined]
        rewrapped = await rotating.app.state.keyservice.keystore.rewrap(batch=7)
        usage = await rotating.app.state.keyservice.keystore.kek_usage()

    async with start_key_service(KEK_2) as rotated:  # type: ignore[attr-defined]
        reader = EventStore(
            engine, PersonalDataCipher(await rotated.client("cvr")), SAMPLES, service="cvr", topic="x"
        )
        opened = {}
        for person in names:
            event = (await reader.read_stream(f"person-{person}"))[0].event
            assert isinstance(event, SamplePersonListed)
            opened[person] = event.full_name
    sealed_after = await sealed_payloads(store)
    await engine.dispose()

    assert rewrapped == len(names)
    assert usage == {kek_id(KEK_2): len(names)}
    assert opened == names
    assert sealed_after == sealed_before


async def test_a_key_wrapped_by_a_kek_no_longer_in_the_ring_is_refused_not_guessed(
    start_key_service: Callable[..., AsyncIterator[KeyService]],
) -> None:
    async with start_key_service(KEK_1) as first:  # type: ignore[attr-defined]
        await (await first.client("cvr")).keys_for_writing(["p1"])

    async with start_key_service(KEK_2) as unrotated:  # type: ignore[attr-defined]
        client = await unrotated.client("cvr")
        with pytest.raises(KeyServiceError, match="503"):
            await client.keys_for_reading(["p1"])


async def test_every_call_is_recorded_as_counts_without_subjects(
    keys: KeyService, fresh_postgres_database: str
) -> None:
    screening = await keys.client("screening", host="node-2")
    await screening.keys_for_writing(["person-1", "person-2", "person-3"])
    await screening.keys_for_reading(["person-1", "person-2", "person-404"])

    usage = (await keys.admin("GET", "/admin/usage")).json()
    engine = keys.app.state.keyservice.engine
    async with engine.connect() as conn:
        stored = [tuple(row) for row in await conn.execute(select(key_usage))]

    assert [
        (u["service"], u["host"], u["operation"], u["calls"], u["subjects"], u["keys"]) for u in usage
    ] == [
        ("screening", "node-2", "create", 1, 3, 3),
        ("screening", "node-2", "unwrap", 1, 3, 2),
    ]
    assert not any("person-" in str(value) for row in stored for value in row)


async def test_a_token_revoked_at_the_key_service_reaches_a_services_revocation_list(
    keys: KeyService,
) -> None:
    screening = await keys.client("screening")
    revocations = RevocationList(screening)
    await revocations.refresh()

    answer = await keys.admin("POST", "/admin/token-revocations", {"subject": "officer-9", "reason": "left"})
    await revocations.refresh()

    assert answer.status_code == 201
    principal = Principal("officer-9", "o", frozenset({Role.CNDDR_OFFICER}), issued_at=None)
    with pytest.raises(TokenRevoked):
        revocations.check(principal)


async def test_subject_keys_are_stored_only_wrapped(keys: KeyService) -> None:
    written = await (await keys.client("registration")).keys_for_writing(["person-1"])

    async with keys.app.state.keyservice.engine.connect() as conn:
        (wrapped,) = (await conn.execute(select(subject_keys.c.wrapped_key))).one()

    assert written["person-1"] not in bytes(wrapped)


def listed(person: str, name: str = "Fatoumata Maïga") -> NewEvent:
    return NewEvent(
        SamplePersonListed(person_id=person, movement="MNLA", full_name=name, birth_year=1990), person
    )


async def sealed_payloads(store: EventStore) -> list[bytes]:
    from ddr_runtime.eventstore.schema import events

    async with store.engine.connect() as conn:
        return [
            bytes(row[0]) for row in await conn.execute(select(events.c.payload).order_by(events.c.position))
        ]


async def test_provisioning_again_gives_a_service_newly_allowed_to_erase_a_credential_that_erases(
    keys: KeyService, tmp_path: Path
) -> None:
    """Issue 14, finding 7: CVR erases its participants' keys, so its credential must carry ``erase``; a
    credential provisioned before that is replaced (and revoked), not kept."""
    credentials = keys.app.state.keyservice.credentials
    files = {"cvr": tmp_path / "cvr" / "credential"}
    await provision(credentials, files, host="node-1")
    before = files["cvr"].read_text().strip()

    await provision(credentials, files, host="node-1", erasing=["cvr"])

    after = await credentials.authenticate(files["cvr"].read_text().strip())
    assert after is not None
    assert after.allows("erase")
    assert await credentials.authenticate(before) is None


async def test_a_command_holding_its_subjects_keys_asks_the_key_service_once_whatever_it_seals_and_opens(
    keys: KeyService,
) -> None:
    """Issue 14 item 11: a bulk command fetches every person's key in one call before its transaction,
    so it never waits on the key service while it holds the store's write lock (the client here caches
    nothing, so every call outside the hold would reach the service)."""
    registration = await keys.client("registration", host="node-5")
    people = [f"person-{n}" for n in range(50)]
    await registration.keys_for_writing(people)
    cipher = PersonalDataCipher(registration)

    async with cipher.holding(people):
        for person in people:
            sealed = await cipher.encrypt(person, {"name": person}, ["name"])
            assert await cipher.decrypt(person, sealed) == {"name": person}

    usage = (await keys.admin("GET", "/admin/usage")).json()
    assert [(u["operation"], u["calls"], u["subjects"]) for u in usage if u["host"] == "node-5"] == [
        ("create", 1, 50),
        ("unwrap", 1, 50),
    ]


async def test_a_key_erased_while_a_command_holds_it_opens_nothing_more_in_that_command(
    keys: KeyService,
) -> None:
    registration = await keys.client("registration", grants=("create", "unwrap", "erase"))
    await registration.keys_for_writing(["person-1"])
    cipher = PersonalDataCipher(registration)
    sealed = await cipher.encrypt("person-1", {"name": "Aminata"}, ["name"])

    async with cipher.holding(["person-1"]):
        await registration.erase("person-1")
        opened = await cipher.decrypt("person-1", sealed)

    assert opened == {"name": None}
