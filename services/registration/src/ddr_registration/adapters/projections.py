"""Keeps the read-model tables in step with the events, in the transaction that appends them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from ddr_contracts.events import DomainEvent
from ddr_contracts.registration import (
    CoalitionJoined,
    CoalitionLeft,
    DuplicateMadeCertain,
    DuplicateResolved,
    DuplicateSuspected,
    ListVersionCertified,
    ListVersionEndorsed,
    ListVersionSubmitted,
    MovementRegistered,
    PersonAbsorbed,
    PersonalDataErased,
    PersonDetailsCorrected,
    PersonMergedInto,
    PersonPreRegistered,
    PersonRegistered,
    WeaponCustodyTransferred,
    WeaponHandedOver,
    WeaponSerialDuplicateFlagged,
)
from ddr_registration.adapters.tables import (
    coalition_memberships,
    duplicates,
    list_versions,
    lists,
    movements,
    persons,
    weapons,
)
from ddr_registration.domain.weapons import normalise_serial
from ddr_runtime.crypto.cipher import PersonalDataCipher

IDENTITY_FIELDS = (
    "full_name",
    "full_name_arabic",
    "birth_date",
    "commune",
    "father_name",
    "mother_name",
    "birth_place",
)


class Projector:
    def __init__(self, cipher: PersonalDataCipher) -> None:
        self.cipher = cipher

    async def project(self, conn: AsyncConnection, stored: Sequence[tuple[DomainEvent, int]]) -> None:
        for event, version in stored:
            await self._project_one(conn, event, version)

    async def seal_identity(self, person_id: str, identity: dict[str, Any]) -> dict[str, Any]:
        return await self.cipher.encrypt(person_id, identity, IDENTITY_FIELDS)

    async def open_identity(self, person_id: str, sealed: dict[str, Any]) -> dict[str, Any]:
        """The person's names, exact date of birth and commune (``None`` once the person is erased)."""
        return await self.cipher.decrypt(person_id, sealed)

    async def _project_one(self, conn: AsyncConnection, event: DomainEvent, version: int) -> None:
        match event:
            case MovementRegistered():
                await conn.execute(
                    insert(movements).values(
                        code=event.code, display_name=event.display_name, kind=event.kind, version=version
                    )
                )
            case CoalitionJoined():
                await conn.execute(
                    insert(coalition_memberships).values(
                        movement=event.movement, coalition=event.coalition, since=event.since
                    )
                )
                await self._movement_version(conn, event.movement, version)
            case CoalitionLeft():
                await conn.execute(
                    update(coalition_memberships)
                    .where(
                        coalition_memberships.c.movement == event.movement,
                        coalition_memberships.c.coalition == event.coalition,
                        coalition_memberships.c.until.is_(None),
                    )
                    .values(until=event.until)
                )
                await self._movement_version(conn, event.movement, version)
            case ListVersionSubmitted():
                await self._list_submitted(conn, event, version)
            case ListVersionCertified():
                await self._list_version(conn, event.list_id, event.list_version, version, certified=True)
            case ListVersionEndorsed():
                column = "endorsed_cts" if event.body == "CTS" else "endorsed_cnddr"
                await self._list_version(conn, event.list_id, event.list_version, version, **{column: True})
            case PersonPreRegistered():
                await self._person_pre_registered(conn, event, version)
            case PersonRegistered():
                await self._person(
                    conn,
                    event.person_id,
                    version,
                    status="registered",
                    ddr_id=event.ddr_id,
                    biometric_hash=event.biometric_hash,
                )
            case PersonDetailsCorrected():
                await self._person_corrected(conn, event, version)
            case PersonMergedInto():
                await self._person(
                    conn, event.person_id, version, status="merged", merged_into=event.into_person_id
                )
            case PersonAbsorbed():
                await self._person(conn, event.person_id, version)
            case PersonalDataErased():
                # Nothing that identifies them stays in clear: the keyed biometric hash, the movement's own
                # reference, the sealed names (unreadable anyway once the key is shredded) all go.
                await self._person(
                    conn,
                    event.person_id,
                    version,
                    biometric_hash=None,
                    movement_ref=f"erased:{event.person_id}",
                    sealed_identity=dict.fromkeys(IDENTITY_FIELDS),
                )
            case DuplicateSuspected():
                await self._duplicate_suspected(conn, event, version)
            case DuplicateMadeCertain():
                await self._duplicate_made_certain(conn, event, version)
            case DuplicateResolved():
                await conn.execute(
                    update(duplicates)
                    .where(duplicates.c.case_id == event.case_id)
                    .values(
                        status=event.outcome, surviving_person_id=event.surviving_person_id, version=version
                    )
                )
            case WeaponHandedOver():
                await self._weapon_handed_over(conn, event, version)
            case WeaponSerialDuplicateFlagged():
                await self._weapon(conn, event.weapon_id, version, flagged=True)
            case WeaponCustodyTransferred():
                await self._weapon(conn, event.weapon_id, version, custodian=event.to_custodian)

    async def _movement_version(self, conn: AsyncConnection, code: str, version: int) -> None:
        await conn.execute(update(movements).where(movements.c.code == code).values(version=version))

    async def _list_submitted(self, conn: AsyncConnection, event: ListVersionSubmitted, version: int) -> None:
        await conn.execute(
            insert(list_versions).values(
                list_id=event.list_id,
                list_version=event.list_version,
                movement=event.movement,
                file_sha256=event.file_sha256,
                rows_total=event.rows_total,
                rows_accepted=event.rows_accepted,
                rows_rejected=event.rows_rejected,
                certified=False,
                endorsed_cts=False,
                endorsed_cnddr=False,
                submitted_at=datetime.now(UTC),
            )
        )
        values = {"latest_version": event.list_version, "version": version}
        changed = await conn.execute(update(lists).where(lists.c.list_id == event.list_id).values(**values))
        if changed.rowcount == 0:
            await conn.execute(insert(lists).values(list_id=event.list_id, movement=event.movement, **values))

    async def _list_version(
        self, conn: AsyncConnection, list_id: str, list_version: int, version: int, **values: bool
    ) -> None:
        await conn.execute(
            update(list_versions)
            .where(list_versions.c.list_id == list_id, list_versions.c.list_version == list_version)
            .values(**values)
        )
        await conn.execute(update(lists).where(lists.c.list_id == list_id).values(version=version))

    async def project_pre_registered(
        self, conn: AsyncConnection, stored: Sequence[tuple[PersonPreRegistered, int]]
    ) -> None:
        """Many people's pre-registrations at once (a list import's chunk): one sealing, one statement."""
        if not stored:
            return
        sealed = await self.cipher.encrypt_many(
            [(event.person_id, _identity(event), IDENTITY_FIELDS) for event, _ in stored]
        )
        rows = [
            _pre_registered_row(event, version, identity)
            for (event, version), identity in zip(stored, sealed, strict=True)
        ]
        await conn.execute(insert(persons), rows)

    async def _person_pre_registered(
        self, conn: AsyncConnection, event: PersonPreRegistered, version: int
    ) -> None:
        await self.project_pre_registered(conn, [(event, version)])

    async def _person_corrected(
        self, conn: AsyncConnection, event: PersonDetailsCorrected, version: int
    ) -> None:
        changed = set(event.corrected_fields)
        plain: dict[str, Any] = {
            name: getattr(event, name)
            for name in ("category", "sex", "birth_kind", "birth_year", "region", "cercle", "rank", "armed")
            if name in changed
        }
        if changed & set(IDENTITY_FIELDS):
            row = (
                await conn.execute(
                    select(persons.c.sealed_identity).where(persons.c.person_id == event.person_id)
                )
            ).one()
            identity = await self.open_identity(event.person_id, row.sealed_identity)
            identity.update(_jsonable({n: getattr(event, n) for n in IDENTITY_FIELDS if n in changed}))
            plain["sealed_identity"] = await self.seal_identity(event.person_id, identity)
        await self._person(conn, event.person_id, version, **plain)

    async def _person(self, conn: AsyncConnection, person_id: str, version: int, **values: Any) -> None:
        await conn.execute(
            update(persons).where(persons.c.person_id == person_id).values(version=version, **values)
        )

    async def _duplicate_suspected(
        self, conn: AsyncConnection, event: DuplicateSuspected, version: int
    ) -> None:
        found = (
            await conn.execute(
                select(persons.c.person_id, persons.c.movement).where(
                    persons.c.person_id.in_([event.person_id, event.other_person_id])
                )
            )
        ).all()
        movement_of = {row.person_id: row.movement for row in found}
        await conn.execute(
            insert(duplicates).values(
                case_id=event.case_id,
                person_id=event.person_id,
                other_person_id=event.other_person_id,
                movement=movement_of.get(event.person_id, ""),
                other_movement=movement_of.get(event.other_person_id, ""),
                score=event.score,
                certain=event.certain,
                reasons=[reason.model_dump() for reason in event.reasons],
                status="open",
                version=version,
            )
        )

    async def _duplicate_made_certain(
        self, conn: AsyncConnection, event: DuplicateMadeCertain, version: int
    ) -> None:
        row = (
            await conn.execute(select(duplicates.c.reasons).where(duplicates.c.case_id == event.case_id))
        ).one()
        await conn.execute(
            update(duplicates)
            .where(duplicates.c.case_id == event.case_id)
            .values(
                certain=True,
                score=1.0,
                reasons=[*row.reasons, *(reason.model_dump() for reason in event.reasons)],
                status="open",
                surviving_person_id=None,
                version=version,
            )
        )

    async def _weapon_handed_over(self, conn: AsyncConnection, event: WeaponHandedOver, version: int) -> None:
        await conn.execute(
            insert(weapons).values(
                weapon_id=event.weapon_id,
                person_id=event.person_id,
                movement=event.movement,
                kind=event.kind,
                type=event.type,
                calibre=event.calibre,
                serial=event.serial,
                serial_key=normalise_serial(event.serial) if event.serial else None,
                quantity=event.quantity,
                condition=event.condition,
                tag=event.tag,
                receipt_number=event.receipt_number,
                custodian=event.custodian,
                flagged=False,
                version=version,
            )
        )

    async def _weapon(self, conn: AsyncConnection, weapon_id: str, version: int, **values: Any) -> None:
        await conn.execute(
            update(weapons).where(weapons.c.weapon_id == weapon_id).values(version=version, **values)
        )


def _identity(event: PersonPreRegistered) -> dict[str, Any]:
    return _jsonable({name: getattr(event, name, None) for name in IDENTITY_FIELDS})


def _pre_registered_row(
    event: PersonPreRegistered, version: int, sealed_identity: dict[str, Any]
) -> dict[str, Any]:
    return {
        "person_id": event.person_id,
        "movement": event.movement,
        "movement_ref": event.movement_ref,
        "list_id": event.list_id,
        "list_version": event.list_version,
        "category": event.category,
        "sex": event.sex,
        "birth_kind": event.birth_kind,
        "birth_year": event.birth_year,
        "region": event.region,
        "cercle": event.cercle,
        "rank": event.rank,
        "armed": event.armed,
        "status": "pre-registered",
        "sealed_identity": sealed_identity,
        "version": version,
    }


def _jsonable(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in values.items()}
