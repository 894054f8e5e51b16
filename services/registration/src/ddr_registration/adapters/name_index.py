"""A blind index of people's names, weapon serials and movement references: keyed hashes (HMAC-SHA256).

Names are stored sealed under each person's key, so a search by name cannot read them in SQL. The index
holds, per person and name field, the HMAC of each canonical token of the name (``normalise_name``: Latin
and Arabic spellings of one name give the same tokens) under a service secret kept out of the store
(``DDR_REGISTRATION_NAME_INDEX_KEY``). A search hashes the tokens asked for and finds every person holding
them all in one query, paged in SQL, and opens only the page it answers. Without the secret the hashes
cannot be computed from a name; an erasure deletes the person's hashes.

Weapon serials and movements' references are compared the same way (:meth:`NameTokens.serial`,
:meth:`NameTokens.reference`, under the same secret with a label of their own): the read model holds their
keyed hashes for equality and a copy sealed under the person's key for display, never the value in clear.
"""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

from ddr_registration.adapters.biometrics import SECRET_BYTES, service_secret
from ddr_registration.domain.identity.normalise import normalise_name
from ddr_registration.domain.weapons import normalise_serial

NAME_FIELDS = ("full_name", "full_name_arabic")
TOKEN_HEX = 32  # 128 bits of the HMAC: no collision among the programme's names
VALUE_HEX = 40  # 160 bits for serials and references (equality only; a key is never reversed)


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

    def serial(self, serial: str | None) -> str | None:
        """The keyed hash of a weapon serial, normalised (``ak-47 123`` and ``AK47123`` are one): what serials
        are compared by, at hand-over and at import; None when nothing readable is left of it."""
        normal = normalise_serial(serial) if serial else ""
        return self._labelled("serial", normal) if normal else None

    def reference(self, movement: str, movement_ref: str) -> str:
        """The keyed hash of a movement's reference for one of its members (the same reference in two
        movements gives two hashes): what an import finds who is already listed by."""
        return self._labelled("reference", f"{movement}\x00{movement_ref.strip()}")

    def _hash(self, token: str) -> str:
        return hmac.new(self._secret, token.encode(), hashlib.sha256).hexdigest()[:TOKEN_HEX]

    def _labelled(self, label: str, value: str) -> str:
        message = f"{label}\x00{value}".encode()
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()[:VALUE_HEX]


def name_index_secret(var_dir: Path, *, production: bool) -> bytes:
    """``DDR_REGISTRATION_NAME_INDEX_KEY`` (hex, required in production), else the development file."""
    return service_secret(
        "DDR_REGISTRATION_NAME_INDEX_KEY", var_dir, "registration-name-index.key", production=production
    )
