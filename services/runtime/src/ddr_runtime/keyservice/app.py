"""The key service's HTTP API (``uvicorn --factory ddr_runtime.keyservice.app:create_keyservice_app``).

``/v1/*`` answers services, each by its own credential and within its grants; ``/admin/*`` answers an
operator's bearer token and can only take access away (revoke credentials and tokens) or read counts:
issuing a credential and rotating the KEK are done on the key service's host (``ddr keys ...``).
"""

from __future__ import annotations

import base64
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Query, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from opentelemetry.sdk.trace import TracerProvider
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator
from sqlalchemy import text

from ddr_runtime.auth.dependencies import AccessRequirement, require_roles
from ddr_runtime.auth.revocation import RevocationStore
from ddr_runtime.auth.roles import Principal, Role
from ddr_runtime.auth.tokens import TokenVerifier
from ddr_runtime.crypto.keystore import KekMissing, KeyStore, SubjectErased
from ddr_runtime.db import create_engine
from ddr_runtime.http.app import create_app
from ddr_runtime.http.problems import Forbidden, Unauthorized, Unprocessable, register_problem
from ddr_runtime.keyservice.credentials import Credential, Credentials, Grant
from ddr_runtime.keyservice.settings import KeyServiceSettings
from ddr_runtime.telemetry import configure_logging

register_problem(SubjectErased, 410, "Gone: this person's data was erased")
register_problem(KekMissing, 503, "Service Unavailable: a key-encryption key is missing from the ring")

_log = logging.getLogger("ddr_runtime.keyservice")
_bearer = HTTPBearer(auto_error=False, description="The calling service's own key-service credential")

Subject = Annotated[str, StringConstraints(min_length=1, max_length=200)]


class Subjects(BaseModel):
    model_config = ConfigDict(extra="forbid")
    subjects: list[Subject] = Field(min_length=1)


class OneSubject(BaseModel):
    model_config = ConfigDict(extra="forbid")
    subject: Subject


class Keys(BaseModel):
    """Subject → its data key (base64). A subject erased or unknown (when unwrapping) is absent."""

    keys: dict[str, str]


class Erased(BaseModel):
    """The subjects asked about whose key was destroyed."""

    subjects: list[str]


class RevocationOut(BaseModel):
    seq: int
    kind: str
    value: str
    issued_up_to: datetime
    expires_at: datetime


class Revocations(BaseModel):
    revocations: list[RevocationOut]


class CredentialRevocation(BaseModel):
    """Which credentials to revoke: all that match every criterion given (at least one)."""

    model_config = ConfigDict(extra="forbid")
    credential_id: str | None = Field(default=None, max_length=32)
    service: str | None = Field(default=None, max_length=100)
    host: str | None = Field(default=None, max_length=200)
    reason: str = Field(min_length=1, max_length=500)

    @model_validator(mode="after")
    def _names_something(self) -> CredentialRevocation:
        if self.credential_id is None and self.service is None and self.host is None:
            raise ValueError("name a credential_id, a service or a host")
        return self


class Revoked(BaseModel):
    revoked: int


class TokenRevocation(BaseModel):
    """Revoke one token by its id, or every token a subject holds now."""

    model_config = ConfigDict(extra="forbid")
    jti: str | None = Field(default=None, min_length=1, max_length=200)
    subject: str | None = Field(default=None, min_length=1, max_length=200)
    reason: str = Field(min_length=1, max_length=500)

    @model_validator(mode="after")
    def _names_one(self) -> TokenRevocation:
        if (self.jti is None) == (self.subject is None):
            raise ValueError("name exactly one of jti and subject")
        return self


class CredentialOut(BaseModel):
    id: str
    service: str
    host: str
    grants: list[str]
    created_at: datetime
    revoked_at: datetime | None
    revoked_reason: str | None


class UsageOut(BaseModel):
    credential_id: str
    service: str
    host: str
    operation: str
    calls: int
    subjects: int
    keys: int


class GrantRequirement(AccessRequirement):
    """Admits a service whose live credential holds ``grant``: 401 without a valid one, 403 without it."""

    def __init__(self, grant: Grant | None) -> None:
        self.grant = grant

    async def __call__(
        self,
        request: Request,
        presented: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> Credential:
        if presented is None:
            raise Unauthorized("a key-service credential is required", headers={"WWW-Authenticate": "Bearer"})
        credential = await _state(request).credentials.authenticate(presented.credentials)
        if credential is None:
            raise Unauthorized(
                "the credential is unknown or revoked",
                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )
        if self.grant is not None and not credential.allows(self.grant):
            raise Forbidden(f"this credential holds no {self.grant} grant")
        return credential


class _KeyServiceState:
    def __init__(self, settings: KeyServiceSettings) -> None:
        self.settings = settings
        self.engine = create_engine(settings.database_url(), pool_size=10)
        self.keystore = KeyStore(self.engine, settings.key_ring(), cache_seconds=settings.keys_cache_seconds)
        self.credentials = Credentials(self.engine)
        self.revocations = RevocationStore(self.engine)

    async def create_schema(self) -> None:
        await self.keystore.create_schema()
        await self.credentials.create_schema()
        await self.revocations.create_schema()

    def check_batch(self, subjects: list[str]) -> list[str]:
        wanted = list(dict.fromkeys(subjects))
        if len(wanted) > self.settings.keys_max_batch:
            raise Unprocessable(f"body.subjects: at most {self.settings.keys_max_batch} subjects per call")
        return wanted

    async def record(self, credential: Credential, operation: str, subjects: int, keys: int) -> None:
        await self.credentials.record(credential, operation, subjects, keys)
        _log.info(
            "%s: %d subject(s) asked, %d key(s)",
            operation,
            subjects,
            keys,
            extra={"credential_id": credential.id, "caller": credential.service, "host": credential.host},
        )


def _state(request: Request) -> _KeyServiceState:
    state: _KeyServiceState = request.app.state.keyservice
    return state


Creator = Annotated[Credential, Depends(GrantRequirement("create"))]
Unwrapper = Annotated[Credential, Depends(GrantRequirement("unwrap"))]
Eraser = Annotated[Credential, Depends(GrantRequirement("erase"))]
AnyService = Annotated[Credential, Depends(GrantRequirement(None))]
Operator = Annotated[Principal, Depends(require_roles(Role.OPERATOR))]

service_router = APIRouter(prefix="/v1", tags=["subject keys"])
admin_router = APIRouter(prefix="/admin", tags=["administration"])


def _encoded(keys: dict[str, bytes]) -> Keys:
    return Keys(keys={subject: base64.b64encode(key).decode() for subject, key in keys.items()})


@service_router.post("/keys/create", response_model=Keys)
async def create_keys(body: Subjects, credential: Creator, request: Request) -> Keys:
    """The key of each subject, made when it has none; 410 when one of them was erased (none is made)."""
    state = _state(request)
    wanted = state.check_batch(body.subjects)
    keys = await state.keystore.keys_for_writing(wanted)
    await state.record(credential, "create", len(wanted), len(keys))
    return _encoded(keys)


@service_router.post("/keys/unwrap", response_model=Keys)
async def unwrap_keys(body: Subjects, credential: Unwrapper, request: Request) -> Keys:
    """The keys of the subjects that still have one (erased or unknown subjects are absent)."""
    state = _state(request)
    wanted = state.check_batch(body.subjects)
    keys = await state.keystore.keys_for_reading(wanted)
    await state.record(credential, "unwrap", len(wanted), len(keys))
    return _encoded(keys)


@service_router.post("/keys/erased", response_model=Erased)
async def erased_keys(body: Subjects, credential: Unwrapper, request: Request) -> Erased:
    """Which of the subjects were erased (a subject never given a key is not); no key is made or sent."""
    state = _state(request)
    wanted = state.check_batch(body.subjects)
    erased = await state.keystore.erased(wanted)
    await state.record(credential, "erased", len(wanted), 0)
    return Erased(subjects=sorted(erased))


@service_router.post("/keys/erase", status_code=204, response_class=Response)
async def erase_key(body: OneSubject, credential: Eraser, request: Request) -> Response:
    """Destroy the subject's key for good (crypto-shredding): every copy of their data becomes unreadable."""
    state = _state(request)
    await state.keystore.erase(body.subject)
    await state.record(credential, "erase", 1, 1)
    return Response(status_code=204)


@service_router.get("/revocations", response_model=Revocations)
async def list_revocations(
    _credential: AnyService, request: Request, after: Annotated[int, Query(ge=0, le=2**62)] = 0
) -> Revocations:
    """Token revocations recorded after position ``after`` that can still refuse a token."""
    found = await _state(request).revocations.revocations_since(after)
    return Revocations(revocations=[RevocationOut(**vars(r)) for r in found])


@admin_router.post("/credentials/revoke", response_model=Revoked)
async def revoke_credentials(body: CredentialRevocation, principal: Operator, request: Request) -> Revoked:
    """Revoke credentials at once: one, all of a service's, or all of a host's (a seized machine)."""
    count = await _state(request).credentials.revoke(
        reason=f"{body.reason} (by {principal.subject})",
        credential_id=body.credential_id,
        service=body.service,
        host=body.host,
    )
    _log.warning("revoked %d credential(s)", count, extra={"revoked_by": principal.subject})
    return Revoked(revoked=count)


@admin_router.post("/token-revocations", response_model=RevocationOut, status_code=201)
async def revoke_token(body: TokenRevocation, principal: Operator, request: Request) -> RevocationOut:
    """Revoke a bearer token by its id, or every token a subject holds now; services refuse it within seconds."""
    state = _state(request)
    kind, value = ("jti", body.jti) if body.jti is not None else ("subject", body.subject)
    assert value is not None
    revocation = await state.revocations.revoke(
        kind,  # type: ignore[arg-type]
        value,
        reason=body.reason,
        revoked_by=principal.subject,
        max_lifetime=timedelta(hours=state.settings.jwt_max_lifetime_hours),
    )
    return RevocationOut(**vars(revocation))


@admin_router.get("/credentials", response_model=list[CredentialOut])
async def list_credentials(_principal: Operator, request: Request) -> list[CredentialOut]:
    """Every credential ever issued (never its secret)."""
    found = await _state(request).credentials.all()
    return [CredentialOut(**{**vars(c), "grants": sorted(c.grants)}) for c in found]


@admin_router.get("/usage", response_model=list[UsageOut])
async def usage(
    _principal: Operator, request: Request, hours: Annotated[float, Query(gt=0, le=24 * 366)] = 24
) -> list[UsageOut]:
    """Calls, subjects asked for and keys handed out, per credential and operation, over the last hours."""
    since = datetime.now(UTC) - timedelta(hours=hours)
    return [UsageOut(**vars(u)) for u in await _state(request).credentials.usage(since)]


def create_keyservice_app(
    settings: KeyServiceSettings | None = None,
    *,
    token_verifier: TokenVerifier | None = None,
    tracer_provider: TracerProvider | None = None,
) -> FastAPI:
    """The key service's app: its store's tables are created when it starts."""
    settings = settings or KeyServiceSettings()
    configure_logging("keys")
    state = _KeyServiceState(settings)

    @asynccontextmanager
    async def running(_app: FastAPI) -> AsyncIterator[None]:
        await state.create_schema()
        try:
            yield
        finally:
            await state.engine.dispose()

    async def check_store() -> None:
        async with state.engine.connect() as conn:
            await conn.execute(text("select 1"))

    app = create_app(
        service_name="keys",
        settings=settings,
        routers=[service_router, admin_router],
        readiness_checks=[("store", check_store)],
        lifespan_hooks=[running],
        token_verifier=token_verifier,
        tracer_provider=tracer_provider,
    )
    app.state.keyservice = state
    return app
