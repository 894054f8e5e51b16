"""A development token issuer, so a laptop or a test can act as any role without an identity provider.

Production trusts tokens from a real identity provider and configures only its public key
(``DDR_JWT_PUBLIC_KEY``); everything here refuses to run there.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
    load_pem_private_key,
)

from ddr_runtime.auth.roles import Principal, Role
from ddr_runtime.config import PlatformSettings

PRIVATE_KEY_FILE = "jwt-ed25519.pem"
PUBLIC_KEY_FILE = "jwt-ed25519.pub.pem"


class DevelopmentOnlyError(RuntimeError):
    """A development convenience was asked for in production."""


def secrets_dir(settings: PlatformSettings) -> Path:
    return settings.var_dir / "secrets"


def public_key_pem(key: Ed25519PublicKey) -> bytes:
    """``key`` as SubjectPublicKeyInfo PEM, the form ``TokenVerifier`` and ``DDR_JWT_PUBLIC_KEY`` take."""
    return key.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)


def development_private_key(settings: PlatformSettings) -> Ed25519PrivateKey:
    """The development signing key under ``<var_dir>/secrets/``, created on first use.

    Several services may start at once and race to create it; the key is written to a private
    temporary file and hard-linked into place, so exactly one wins and nobody reads half a file.
    """
    _refuse_production(settings)
    folder = secrets_dir(settings)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    private_path = folder / PRIVATE_KEY_FILE
    if not private_path.exists():
        create_exclusively(private_path, private_key_pem(Ed25519PrivateKey.generate()))
    key = load_pem_private_key(private_path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise TypeError(f"{private_path} does not hold an Ed25519 private key")
    _write_public_key(folder / PUBLIC_KEY_FILE, key.public_key())
    return key


class DevelopmentTokenIssuer:
    """Signs tokens like the platform's identity provider would, for development and tests."""

    def __init__(self, private_key: Ed25519PrivateKey, *, issuer: str, audience: str) -> None:
        self._key = private_key
        self._issuer = issuer
        self._audience = audience

    @classmethod
    def from_settings(cls, settings: PlatformSettings) -> DevelopmentTokenIssuer:
        """The issuer whose tokens the services built from ``settings`` accept; refuses production."""
        key = development_private_key(settings)
        return cls(key, issuer=settings.jwt_issuer, audience=settings.jwt_audience)

    @property
    def public_key_pem(self) -> bytes:
        return public_key_pem(self._key.public_key())

    def issue(
        self,
        *,
        subject: str,
        roles: Iterable[Role],
        name: str = "",
        movement: str | None = None,
        partner: str | None = None,
        regions: Iterable[str] = (),
        ttl: timedelta = timedelta(hours=8),
    ) -> str:
        """A signed token for these claims, valid for ``ttl`` (a negative ttl makes an expired token)."""
        principal = Principal(  # validates the claims: no token a verifier would reject
            subject=subject,
            name=name or subject,
            roles=frozenset(roles),
            movement=movement,
            partner=partner,
            regions=frozenset(regions),
        )
        return self.issue_for(principal, ttl=ttl)

    def issue_for(self, principal: Principal, *, ttl: timedelta = timedelta(hours=8)) -> str:
        now = datetime.now(UTC)
        claims: dict[str, object] = {
            "iss": self._issuer,
            "aud": self._audience,
            "sub": principal.subject,
            "name": principal.name,
            "roles": sorted(principal.roles),
            "regions": sorted(principal.regions),
            "iat": now,
            "exp": now + ttl,
            "jti": str(uuid.uuid4()),
        }
        if principal.movement is not None:
            claims["movement"] = principal.movement
        if principal.partner is not None:
            claims["partner"] = principal.partner
        return jwt.encode(claims, self._key, algorithm="EdDSA")


def _refuse_production(settings: PlatformSettings) -> None:
    if not settings.is_development:
        raise DevelopmentOnlyError(
            "the development token issuer and key pair exist only with DDR_ENVIRONMENT=development"
        )


def private_key_pem(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())


def create_exclusively(path: Path, content: bytes) -> None:
    """Write ``path`` (mode 0600) unless it exists; a concurrent creator's file is kept as it is."""
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as stream:
            stream.write(content)
        path.hardlink_to(temporary)
    except FileExistsError:
        pass
    finally:
        temporary.unlink(missing_ok=True)


def _write_public_key(path: Path, key: Ed25519PublicKey) -> None:
    pem = public_key_pem(key)
    if path.exists() and path.read_bytes() == pem:
        return
    # Replace atomically so a reader never sees a truncated file; the content is derived, so races agree.
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}")
    temporary.write_bytes(pem)
    temporary.replace(path)
