"""A blind index of people's names: keyed hashes (HMAC-SHA256) of their normalised name tokens.

Names are stored sealed under each person's key, so a search by name cannot read them in SQL. The index
holds, per person and name field, the HMAC of each canonical token of the name (``normalise_name``: Latin
and Arabic spellings of one name give the same tokens) under a service secret kept out of the store
(``DDR_REGISTRATION_NAME_INDEX_KEY``). A search hashes the tokens asked for and finds every person holding
them all in one query, paged in SQL, and opens only the page it answers. Without the secret the hashes
cannot be computed from a name; an erasure deletes the person's hashes.
"""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

from ddr_registration.adapters.biometrics import SECRET_BYTES, service_secret
from ddr_registration.domain.identity.normalise import normalise_name

NAME_FIELDS = ("full_name", "full_name_arabic")
TOKEN_HEX = 32  # 128 bits of the HMAC: no collision among the programme's names


class NameTokens:
    """The keyed hashes of a name's tokens."""

    def __init__(self, secret: bytes) -> None:
        if len(secret) < SECRET_BYTES:
            raise ValueError("the name index secret must be at least 32 bytes")
        self._secret = secret

    def of(self, name: str | None) -> list[str]:
        """The distinct hashes of the name's canonical tokens, in the order written (none for no name)."""
        if not name:
            return []
        return list(dict.fromkeys(self._hash(token) for token in normalise_name(name)))

    def _hash(self, token: str) -> str:
        return hmac.new(self._secret, token.encode(), hashlib.sha256).hexdigest()[:TOKEN_HEX]


def name_index_secret(var_dir: Path, *, production: bool) -> bytes:
    """``DDR_REGISTRATION_NAME_INDEX_KEY`` (hex, required in production), else the development file."""
    return service_secret(
        "DDR_REGISTRATION_NAME_INDEX_KEY", var_dir, "registration-name-index.key", production=production
    )
