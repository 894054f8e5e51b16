"""Verification of the platform's bearer tokens: JWTs signed with Ed25519 (JWS alg ``EdDSA``)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt
from cachetools import LRUCache
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ddr_runtime.auth.issuer import development_private_key, public_key_pem
from ddr_runtime.auth.roles import Principal, Role
from ddr_runtime.config import PlatformSettings

ALGORITHM = "EdDSA"
# Only these are accepted, whatever the token's header says, so no "alg" confusion is possible.
_ACCEPTED_ALGORITHMS = [ALGORITHM]
_REQUIRED_CLAIMS = ["exp", "iat", "iss", "aud", "sub", "jti"]
_PEM_HEADER = "-----BEGIN"
_KNOWN_ROLES = frozenset(role.value for role in Role)
VERIFIED_CACHE_SIZE = 10_000


class InvalidTokenError(Exception):
    """The bearer token is not one this service trusts (bad signature, issuer, audience, claims...)."""


class ExpiredTokenError(InvalidTokenError):
    """The bearer token was valid but its ``exp`` has passed."""


class TokenTooLongLivedError(InvalidTokenError):
    """The token's lifetime (exp - iat) exceeds the platform's maximum."""


class _Claims(BaseModel):
    """The claims the platform reads; anything else in the token is ignored."""

    model_config = ConfigDict(extra="ignore", frozen=True, strict=True)

    sub: str = Field(min_length=1)
    jti: str = Field(min_length=1, max_length=200)
    iat: int | float
    name: str = ""
    roles: list[str] = Field(default_factory=list)
    movement: str | None = None
    partner: str | None = None
    regions: list[str] = Field(default_factory=list)

    def to_principal(self) -> Principal:
        # Roles this platform does not know (an identity provider's own, say) grant nothing.
        known = frozenset(Role(role) for role in self.roles if role in _KNOWN_ROLES)
        return Principal(
            subject=self.sub,
            name=self.name or self.sub,
            roles=known,
            movement=self.movement,
            partner=self.partner,
            regions=frozenset(self.regions),
            token_id=self.jti,
            issued_at=datetime.fromtimestamp(self.iat, UTC),
        )


class TokenVerifier:
    """Checks a token's signature, issuer, audience and expiry, and turns its claims into a Principal.

    A token verified once is kept (its principal and expiry, up to ``cache_size`` tokens, least recently
    used dropped first): a client sends the same token with every request, and checking an Ed25519
    signature and the claims again each time is the largest cost of a small request. A kept token is
    still refused once it expires (with the same leeway); only successes are kept, so a token refused is
    checked in full every time. Revocation is not the verifier's: it is checked on every request.
    """

    def __init__(
        self,
        public_key_pem: str | bytes,
        *,
        issuer: str,
        audience: str,
        leeway: timedelta = timedelta(seconds=30),
        max_lifetime: timedelta = timedelta(hours=12),
        cache_size: int = VERIFIED_CACHE_SIZE,
    ) -> None:
        pem = public_key_pem.encode() if isinstance(public_key_pem, str) else public_key_pem
        key = load_pem_public_key(pem)
        if not isinstance(key, Ed25519PublicKey):
            raise TypeError("the JWT public key must be an Ed25519 key")
        self._key = key
        self._issuer = issuer
        self._audience = audience
        self._leeway = leeway
        self.max_lifetime = max_lifetime
        # token -> (principal, the epoch second from which it is refused as expired)
        self._verified: LRUCache[str, tuple[Principal, float]] = LRUCache(maxsize=cache_size)

    @classmethod
    def from_settings(cls, settings: PlatformSettings) -> TokenVerifier:
        """The verifier for ``settings``: its configured public key, else the development key pair.

        ``jwt_public_key`` holds either the PEM text itself or the path of a PEM file (a mounted secret).
        """
        configured = settings.jwt_public_key.strip()
        if configured.startswith(_PEM_HEADER):
            pem = configured.encode()
        elif configured:
            pem = Path(configured).read_bytes()
        elif settings.is_development:
            pem = public_key_pem(development_private_key(settings).public_key())
        else:
            raise ValueError("DDR_JWT_PUBLIC_KEY must be set outside development: no key is minted here")
        return cls(
            pem,
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
            max_lifetime=timedelta(hours=settings.jwt_max_lifetime_hours),
        )

    def verify(self, token: str) -> Principal:
        """The principal ``token`` stands for; raises ExpiredTokenError or InvalidTokenError."""
        kept = self._verified.get(token)
        if kept is not None:
            principal, refused_from = kept
            if time.time() < refused_from:
                return principal
            self._verified.pop(token, None)
            raise ExpiredTokenError("the token has expired")
        principal, expires = self._verify(token)
        # PyJWT refuses a token once exp <= now - leeway: the same moment, kept.
        self._verified[token] = (principal, expires + self._leeway.total_seconds())
        return principal

    def _verify(self, token: str) -> tuple[Principal, float]:
        try:
            payload = jwt.decode(
                token,
                self._key,
                algorithms=_ACCEPTED_ALGORITHMS,
                audience=self._audience,
                issuer=self._issuer,
                leeway=self._leeway,
                options={"require": _REQUIRED_CLAIMS},
            )
        except jwt.ExpiredSignatureError:
            raise ExpiredTokenError("the token has expired") from None
        except jwt.PyJWTError as error:
            raise InvalidTokenError(f"the token is invalid: {type(error).__name__}") from None
        lifetime = payload.get("exp", 0) - payload.get("iat", 0)
        if not isinstance(lifetime, int | float) or lifetime > self.max_lifetime.total_seconds():
            raise TokenTooLongLivedError("the token lives longer than the platform allows")
        try:
            return _Claims.model_validate(payload).to_principal(), float(payload["exp"])
        except (ValidationError, ValueError):
            # e.g. a movement liaison without a movement: the token cannot be honoured.
            raise InvalidTokenError("the token's claims are incomplete or malformed") from None
