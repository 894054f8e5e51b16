"""A service's client of the key service: subject keys in batches, kept briefly in memory.

It is what a service holds in production instead of the key-encryption key: a credential of its own, which
an operator can revoke (with every other credential of its host) at once. Unwrapped keys stay in this
process's memory for ``cache_seconds``: an erasure or a revocation made elsewhere takes effect here within
that bound.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
from cachetools import TTLCache

from ddr_runtime.auth.revocation import Revocation
from ddr_runtime.crypto.keystore import SubjectErased, forget_held

BATCH = 1000


class KeyServiceError(RuntimeError):
    """The key service refused or failed a call (its status is in the message, never a subject)."""


class KeyServiceClient:
    def __init__(
        self,
        url: str,
        credential: str,
        *,
        ca_file: Path | None = None,
        cache_seconds: float = 30.0,
        cache_size: int = 200_000,
        timeout: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if not credential:
            raise ValueError("a key-service credential is required")
        self._client = httpx.AsyncClient(
            base_url=url.rstrip("/"),
            headers={"Authorization": f"Bearer {credential}"},
            verify=str(ca_file) if ca_file is not None else True,
            timeout=timeout,
            transport=transport,
        )
        self._cache: TTLCache[str, bytes] = TTLCache(
            maxsize=cache_size, ttl=cache_seconds, timer=time.monotonic
        )

    async def create_schema(self) -> None:
        """Nothing to create: the key service owns its store."""

    async def dispose(self) -> None:
        await self._client.aclose()

    def forget_cached(self) -> None:
        self._cache.clear()

    async def keys_for_writing(self, subjects: Iterable[str]) -> dict[str, bytes]:
        """The key of each subject, made when it has none; SubjectErased when one of them was erased."""
        return await self._keys("/v1/keys/create", subjects)

    async def keys_for_reading(self, subjects: Iterable[str]) -> dict[str, bytes]:
        """Keys of the subjects that still have one; erased or unknown subjects are absent."""
        return await self._keys("/v1/keys/unwrap", subjects)

    async def erased(self, subjects: Iterable[str]) -> set[str]:
        """Which of the subjects were erased, asked in batches; no key is made (nor sent) for any of them."""
        wanted = sorted(set(subjects))
        found: set[str] = set()
        for start in range(0, len(wanted), BATCH):
            response = await self._client.post(
                "/v1/keys/erased", json={"subjects": wanted[start : start + BATCH]}
            )
            _raise_for(response)
            found.update(response.json()["subjects"])
        return found

    async def erase(self, subject: str) -> None:
        response = await self._client.post("/v1/keys/erase", json={"subject": subject})
        self._cache.pop(subject, None)
        forget_held(subject)
        _raise_for(response)

    async def revocations_since(self, after: int) -> list[Revocation]:
        response = await self._client.get("/v1/revocations", params={"after": after})
        _raise_for(response)
        return [
            Revocation(
                int(r["seq"]),
                r["kind"],
                str(r["value"]),
                datetime.fromisoformat(r["issued_up_to"]),
                datetime.fromisoformat(r["expires_at"]),
            )
            for r in response.json()["revocations"]
        ]

    async def _keys(self, path: str, subjects: Iterable[str]) -> dict[str, bytes]:
        wanted = set(subjects)
        found = {s: k for s in wanted if (k := self._cache.get(s)) is not None}
        missing = sorted(wanted - found.keys())
        for start in range(0, len(missing), BATCH):
            response = await self._client.post(path, json={"subjects": missing[start : start + BATCH]})
            if response.status_code == 410:
                raise SubjectErased("subject(s) erased")
            _raise_for(response)
            answer: dict[str, Any] = response.json()
            loaded = {subject: base64.b64decode(key) for subject, key in answer["keys"].items()}
            self._cache.update(loaded)
            found.update(loaded)
        return found


def _raise_for(response: httpx.Response) -> None:
    if response.status_code >= 400:
        raise KeyServiceError(
            f"the key service answered {response.status_code} on {response.request.url.path}"
        )
