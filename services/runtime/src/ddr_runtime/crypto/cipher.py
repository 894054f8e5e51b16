"""Field-level encryption of personal data inside event payloads, under each subject's own key."""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any

import orjson
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ddr_contracts.envelope import ENCRYPTED_PREFIX, to_jsonable
from ddr_runtime.crypto.keystore import NONCE_BYTES, SubjectKeys
from ddr_runtime.crypto.keystore import held_keys as _held


class PersonalDataCipher:
    """Encrypts the named fields of a payload with AES-GCM; the associated data binds subject and field,
    so a ciphertext cannot be moved to another person or another field unnoticed."""

    def __init__(self, keystore: SubjectKeys) -> None:
        self.keystore = keystore

    @asynccontextmanager
    async def holding(self, subjects: Iterable[str]) -> AsyncIterator[None]:
        """Fetch the keys of a command's subjects in one call, before its transaction begins, and keep them
        for that command (this task) alone, whatever the cache's lifetime: a bulk command then never waits
        on the key service while it holds the store's write lock. Subjects without a key (erased, or not
        made yet) are asked for again when they are read or written, as without the hold."""
        wanted = set(subjects)
        found = await self.keystore.keys_for_reading(wanted) if wanted else {}
        token = _held.set({**(_held.get() or {}), **found})
        try:
            yield
        finally:
            _held.reset(token)

    async def _keys(self, subjects: set[str], *, writing: bool) -> dict[str, bytes]:
        held = _held.get() or {}
        found = {subject: key for subject in subjects if (key := held.get(subject)) is not None}
        missing = subjects - found.keys()
        if missing:
            keystore = self.keystore
            found |= await (
                keystore.keys_for_writing(missing) if writing else keystore.keys_for_reading(missing)
            )
        return found

    async def encrypt_many(
        self, items: Sequence[tuple[str, Mapping[str, Any], Iterable[str]]]
    ) -> list[dict[str, Any]]:
        """``(subject, data, personal field names)`` each → data with those fields sealed (None stays None)."""
        keys = await self._keys({subject for subject, _, _ in items}, writing=True)
        aeads = {subject: AESGCM(key) for subject, key in keys.items()}  # one cipher per subject
        listed = [(subject, data, tuple(fields)) for subject, data, fields in items]
        # Every nonce of the batch from one read of the system's random source, not one read per field.
        nonces = _Nonces(sum(len(fields) for _, _, fields in listed))
        return [_seal(subject, aeads[subject], data, fields, nonces) for subject, data, fields in listed]

    async def encrypt(self, subject: str, data: Mapping[str, Any], fields: Iterable[str]) -> dict[str, Any]:
        return (await self.encrypt_many([(subject, data, fields)]))[0]

    async def decrypt_many(self, items: Sequence[tuple[str, Mapping[str, Any]]]) -> list[dict[str, Any]]:
        """Each ``(subject, data)`` with sealed fields opened; an erased subject's fields read as ``None``."""
        sealed_subjects = {subject for subject, data in items if _has_sealed(data)}
        keys = await self._keys(sealed_subjects, writing=False) if sealed_subjects else {}
        aeads = {subject: AESGCM(key) for subject, key in keys.items()}
        return [_open(subject, aeads.get(subject), data) for subject, data in items]

    async def decrypt(self, subject: str, data: Mapping[str, Any]) -> dict[str, Any]:
        return (await self.decrypt_many([(subject, data)]))[0]


def is_sealed(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(ENCRYPTED_PREFIX)


def _has_sealed(data: Mapping[str, Any]) -> bool:
    return any(is_sealed(value) for value in data.values())


def _aad(subject: str, field: str) -> bytes:
    return f"{subject}\x00{field}".encode()


class _Nonces:
    """Fresh random nonces, drawn ``count`` at once (never one given twice)."""

    def __init__(self, count: int) -> None:
        self._random = os.urandom(NONCE_BYTES * count)
        self._next = 0

    def take(self) -> bytes:
        start = self._next
        if start >= len(self._random):
            raise RuntimeError("more nonces taken than drawn")
        self._next = start + NONCE_BYTES
        return self._random[start : self._next]


_URLSAFE = bytes.maketrans(b"+/", b"-_")


def _seal(
    subject: str, aead: AESGCM, data: Mapping[str, Any], fields: Iterable[str], nonces: _Nonces
) -> dict[str, Any]:
    sealed = dict(data)
    for field in fields:
        value = sealed.get(field)
        if value is None or is_sealed(value):
            continue
        plaintext = orjson.dumps(value, default=to_jsonable)
        nonce = nonces.take()
        token = nonce + aead.encrypt(nonce, plaintext, _aad(subject, field))
        # base64.urlsafe_b64encode, without its two Python wrappers.
        sealed[field] = (
            ENCRYPTED_PREFIX + binascii.b2a_base64(token, newline=False).translate(_URLSAFE).decode()
        )
    return sealed


def _open(subject: str, aead: AESGCM | None, data: Mapping[str, Any]) -> dict[str, Any]:
    opened = dict(data)
    for field, value in data.items():
        if not is_sealed(value):
            continue
        if aead is None:
            opened[field] = None
            continue
        raw = base64.urlsafe_b64decode(value[len(ENCRYPTED_PREFIX) :])
        try:
            plaintext = aead.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], _aad(subject, field))
        except InvalidTag:
            raise ValueError(f"personal field {field!r} does not decrypt for its subject") from None
        opened[field] = orjson.loads(plaintext)
    return opened


def open_sealed(subject: str, aead: AESGCM | None, data: Mapping[str, Any]) -> dict[str, Any]:
    """``data`` with its sealed fields opened under the subject's key (``aead``; None when the subject was
    erased: they read as ``None``). Synchronous: for a reader that fetched a batch's keys before (the
    consumer's lazy decoding); a ciphertext moved to another subject or field does not open."""
    return _open(subject, aead, data)
