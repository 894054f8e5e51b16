"""Identity deduplication across every list and registration.

The same biometric hash is a certain duplicate; otherwise the matching engine's candidates above its
threshold are suspected. Each suspicion is a ``DuplicateSuspected`` event; a person resolves it. A pair
already on file is not raised again, but a suspicion that turns certain (the same biometric) upgrades its
case (``DuplicateMadeCertain``). Reasons are codes and scores: no name is ever stored in a case.
The engine's index lives in memory: it is built from the read model (names decrypted through the
runtime's cipher) and catches up with people another process pre-registered before each use.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from ddr_registration.adapters.tables import duplicates, persons
from ddr_registration.domain.duplicates import DuplicateCase, duplicate_stream
from ddr_registration.domain.identity import IdentityRecord, Reason
from ddr_registration.service_layer.unit import Registration
from ddr_runtime.eventstore.store import Causation

BATCH = 1000


def identity_record(row: Any, identity: dict[str, Any]) -> IdentityRecord:
    names = tuple(name for name in (identity.get("full_name"), identity.get("full_name_arabic")) if name)
    return IdentityRecord(
        person_id=row.person_id,
        names=names,
        birth_year=row.birth_year,
        region=row.region,
        cercle=row.cercle,
        commune=identity.get("commune"),
        biometric_hash=row.biometric_hash,
        birth_date=_date(identity.get("birth_date")),
        sex=row.sex,
        father_name=identity.get("father_name"),
        mother_name=identity.get("mother_name"),
        birth_place=identity.get("birth_place"),
    )


def _date(value: Any) -> date | None:
    """The identity's exact birth date, stored as an ISO string in the sealed identity."""
    return date.fromisoformat(value) if isinstance(value, str) else value if isinstance(value, date) else None


async def catch_up_index(reg: Registration, conn: AsyncConnection) -> None:
    """Add to the index every person recorded since it last looked (by this process or another). A new index
    also learns how many repeats the lists held (the cases on file more likely one person than two): the
    prior odds of a pair depend on it."""
    if reg.index_high_water == 0:
        found = select(func.count()).select_from(duplicates).where(duplicates.c.score >= 0.5)
        reg.index.duplicates_found = int((await conn.execute(found)).scalar_one())
    while True:
        rows = (
            await conn.execute(
                select(persons)
                .where(persons.c.seq > reg.index_high_water)
                .order_by(persons.c.seq)
                .limit(BATCH)
            )
        ).all()
        if not rows:
            return
        # People this process indexed itself (an import just committed) are not opened again.
        fresh = [row for row in rows if row.person_id not in reg.index]
        opened = await reg.store.cipher.decrypt_many([(row.person_id, row.sealed_identity) for row in fresh])
        for row, identity in zip(fresh, opened, strict=True):
            if row.status != "merged" and any(identity.get(k) for k in ("full_name", "full_name_arabic")):
                reg.index.add(identity_record(row, identity))
        reg.index_high_water = rows[-1].seq


async def reindex_person(reg: Registration, conn: AsyncConnection, person_id: str) -> IdentityRecord | None:
    """Refresh one person's entry after a change (correction, registration); None once merged or erased."""
    row = (await conn.execute(select(persons).where(persons.c.person_id == person_id))).one()
    identity = await reg.projector.open_identity(person_id, row.sealed_identity)
    if row.status == "merged" or not identity.get("full_name"):
        reg.index.remove(person_id)
        return None
    record = identity_record(row, identity)
    reg.index.add(record)
    return record


async def suspect_duplicates(
    reg: Registration,
    tx: AsyncConnection,
    record: IdentityRecord,
    causation: Causation,
    *,
    new_person: bool = False,
) -> list[str]:
    """Raise a suspected duplicate for each candidate not already paired with ``record``, and make a pair on
    file certain when the candidate is certain; the ids of the cases raised or upgraded.

    ``new_person``: ``record`` is someone just recorded in this transaction and not yet in the index, so no
    pair with them can be on file and none is looked up.
    """
    raised: list[str] = []
    for match in reg.index.candidates(record):
        known = None if new_person else await _case_of_pair(tx, record.person_id, match.person_id)
        if known is not None:
            if match.certain and await _make_certain(reg, tx, known, match.reasons, causation):
                raised.append(known)
            continue
        case_id = reg.new_id()
        case = DuplicateCase.suspect(
            case_id,
            record.person_id,
            match.person_id,
            score=round(match.score, 4),
            certain=match.certain,
            reasons=match.reasons,
        )
        await reg.save(tx, duplicate_stream(case_id), case, record.person_id, causation)
        raised.append(case_id)
    return raised


@dataclass(frozen=True)
class Holder:
    """The standing record a biometric reference is registered to, and what access to it depends on."""

    person_id: str
    ddr_id: str
    movement: str
    category: str
    region: str


async def biometric_holder(tx: AsyncConnection, biometric_hash: str, person_id: str) -> Holder | None:
    """Who else holds this biometric (a merged record answers with the record it was merged into)."""
    row = (
        await tx.execute(
            select(persons).where(
                persons.c.biometric_hash == biometric_hash, persons.c.person_id != person_id
            )
        )
    ).first()
    seen: set[str] = set()
    while row is not None and row.merged_into is not None and row.person_id not in seen:
        seen.add(row.person_id)
        row = (await tx.execute(select(persons).where(persons.c.person_id == row.merged_into))).first()
    if row is None or row.ddr_id is None:
        return None
    return Holder(row.person_id, row.ddr_id, row.movement, row.category, row.region)


async def certain_duplicate(
    reg: Registration, tx: AsyncConnection, person_id: str, holder_id: str, causation: Causation
) -> str:
    """Record that ``person_id`` is ``holder_id`` (the same biometric): the pair's case made certain, or a
    certain case raised if none is on file; the case id."""
    reasons = (Reason("biometric_same"),)
    known = await _case_of_pair(tx, person_id, holder_id)
    if known is not None:
        await _make_certain(reg, tx, known, reasons, causation)
        return known
    case_id = reg.new_id()
    case = DuplicateCase.suspect(case_id, person_id, holder_id, score=1.0, certain=True, reasons=reasons)
    await reg.save(tx, duplicate_stream(case_id), case, person_id, causation)
    return case_id


async def _make_certain(
    reg: Registration, tx: AsyncConnection, case_id: str, reasons: tuple[Reason, ...], causation: Causation
) -> bool:
    case = await reg.load_existing(tx, duplicate_stream(case_id), DuplicateCase, "duplicate", case_id)
    if not case.make_certain(reasons):
        return False
    await reg.save(tx, duplicate_stream(case_id), case, case.person_id, causation)
    return True


async def _case_of_pair(tx: AsyncConnection, a: str, b: str) -> str | None:
    """The pair's case on file, if any (a pair is raised once)."""
    pair = or_(
        (duplicates.c.person_id == a) & (duplicates.c.other_person_id == b),
        (duplicates.c.person_id == b) & (duplicates.c.other_person_id == a),
    )
    query = select(duplicates.c.case_id).where(pair).limit(1)
    found = (await tx.execute(query)).first()
    return found.case_id if found is not None else None
