"""The intake's memory of what registration said of each person, until (and after) their case opens.

Registration pre-registers a person (their movement, category, birth, region...) before it registers them;
the case opens on the registration, with what the pre-registration said. The exact birth date is needed only
to assess the age at registration: it is kept sealed under the person's key until then, and dropped after.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import date
from typing import Any

from sqlalchemy import select

from ddr_runtime.crypto.cipher import PersonalDataCipher
from ddr_runtime.eventstore.ports import AggregateSession
from ddr_screening.adapters.projections import upsert
from ddr_screening.adapters.queries import connection
from ddr_screening.adapters.tables import persons

CHUNK = 1000
BIRTH = "birth_date"


class RegisteredPersons:
    """``scr_persons``, with each birth date sealed under its person's key."""

    def __init__(self, cipher: PersonalDataCipher) -> None:
        self.cipher = cipher

    async def load(
        self, session: AggregateSession, person_ids: Collection[str]
    ) -> tuple[dict[str, dict[str, Any]], dict[str, date | None]]:
        """The rows of ``person_ids`` that exist, and the birth dates still kept (opened)."""
        wanted = sorted(person_ids)
        rows: dict[str, dict[str, Any]] = {}
        for start in range(0, len(wanted), CHUNK):
            result = await connection(session).execute(
                select(persons).where(persons.c.person_id.in_(wanted[start : start + CHUNK]))
            )
            rows.update({row.person_id: dict(row._mapping) for row in result})
        sealed = [(pid, {BIRTH: row.pop("sealed_birth_date")}) for pid, row in rows.items()]
        sealed = [(pid, data) for pid, data in sealed if data[BIRTH] is not None]
        births: dict[str, date | None] = {}
        if sealed:
            opened = await self.cipher.decrypt_many(sealed)
            for (pid, _), data in zip(sealed, opened, strict=True):
                value = data.get(BIRTH)
                births[pid] = date.fromisoformat(value) if isinstance(value, str) else None
        return rows, births

    async def save(
        self, session: AggregateSession, rows: Sequence[Mapping[str, Any]], births: Mapping[str, date | None]
    ) -> None:
        """Write ``rows``; a birth date still needed is sealed under its person's key, any other dropped."""
        keep = [row["person_id"] for row in rows if births.get(row["person_id"]) is not None]
        sealed = await self.cipher.encrypt_many([(pid, {BIRTH: births[pid]}, (BIRTH,)) for pid in keep])
        sealed_by_person = {pid: data[BIRTH] for pid, data in zip(keep, sealed, strict=True)}
        await upsert(
            connection(session),
            persons,
            [{**row, "sealed_birth_date": sealed_by_person.get(row["person_id"])} for row in rows],
            ["person_id"],
        )
