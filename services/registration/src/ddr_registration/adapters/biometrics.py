"""Keyed hashes of biometric template references: the platform never keeps a template nor its reference.

HMAC-SHA256 under a service secret: without the secret, a hash cannot be linked back to a template
reference, nor computed from one; with it, the same reference always gives the same hash (a certain duplicate).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

SECRET_BYTES = 32


class BiometricHasher:
    def __init__(self, secret: bytes) -> None:
        if len(secret) < SECRET_BYTES:
            raise ValueError("the biometric secret must be at least 32 bytes")
        self._secret = secret

    def digest(self, template_reference: str) -> str:
        return hmac.new(self._secret, template_reference.encode(), hashlib.sha256).hexdigest()


def load_or_create_secret(path: Path) -> bytes:
    """The development secret under ``var/secrets`` (0600); production passes it in the environment."""
    if path.exists():
        return bytes.fromhex(path.read_text().strip())
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_bytes(SECRET_BYTES)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(secret.hex())
    return secret


def service_secret(variable: str, var_dir: Path, name: str, *, production: bool) -> bytes:
    """The secret in ``variable`` (hex, required in production), else the development file ``name``."""
    configured = os.environ.get(variable, "").strip()
    if configured:
        return bytes.fromhex(configured)
    if production:
        raise ValueError(f"{variable} must be set in production")
    return load_or_create_secret(var_dir / "secrets" / name)


def biometric_secret(var_dir: Path, *, production: bool) -> bytes:
    """``DDR_REGISTRATION_BIOMETRIC_KEY`` (hex, required in production), else the development file."""
    return service_secret(
        "DDR_REGISTRATION_BIOMETRIC_KEY", var_dir, "registration-biometric.key", production=production
    )
