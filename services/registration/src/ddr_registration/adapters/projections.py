"""The read model as a projection of the service's own events, written in the transaction that appends them.

The same code rebuilds it from the store (``POST /read-model/rebuild``), so nothing here may depend on the
time it runs or on anything but the events: business times come from the envelopes, and personal details
are copied as the events sealed them (the same ciphertext, under the same person's key), never sealed again.

Movement references and weapon serials are compared by their keyed hashes (``NameTokens.reference``,
``NameTokens.serial``) and kept for display only sealed. Events of a version that held them in clear
(``PersonPreRegistered`` and ``WeaponHandedOver`` v1) are sealed here, on a rebuild, under the person's key
(left out for a person already erased): a read model rebuilt from any history holds none in clear.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import and_, delete, insert, or_, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncConnection

from ddr_contracts.registration import (
    CoalitionJoined,
    CoalitionLeft,
    DuplicateMadeCertain,
    DuplicateResolved,
    DuplicateSuspected,
    IdentityDocumentFlagged,
    ImportProfilePublished,
    ListRowsChecked,
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
    WeaponFlaggedForTracing,
    WeaponHandedOver,
    WeaponSerialDuplicateFlagged,
)
from ddr_registration.adapters.name_index import NAME_FIELDS, NameTokens
from ddr_registration.adapters.tables import (
    coalition_memberships,
    declared_serials,
    duplicates,
    import_profiles,
    list_imports,
    list_reasons,
    list_rows,
    list_versions,
    lists,
    movements,
    name_tokens,
    person_serials,
    persons,
    serial_repeats,
    weapons,
)
from ddr_runtime.crypto.cipher import PersonalDataCipher, is_sealed
from ddr_runtime.eventstore.unit import Saved

SEALED_LISTING = ("movement_ref", "declared_weapons")
"""A pre-registration's personal fields copied sealed besides the identity (the reference, the weapons)."""
IDENTITY_FIELDS = (
    "full_name",
    "full_name_arabic",
    "birth_date",
    "commune",
    "father_name",
    "mother_name",
    "birth_place",
)
MovementEvents = MovementRegistered | CoalitionJoined | CoalitionLeft | ImportProfilePublished
ListEvents = ListVersionSubmitted | ListRowsChecked | ListVersionCertified | ListVersionEndorsed
PersonEvents = (
    PersonRegistered | IdentityDocumentFlagged | PersonDetailsCorrected | PersonMergedInto | PersonAbsorbed
)
PLAIN_CORRECTIONS = ("category", "sex", "birth_kind", "birth_year", "region", "cercle", "rank", "armed")


class RegistrationProjection:
    """Every read-model table of the registration service, from its events; ``names`` hashes the name
    tokens, serials and references of the blind index (the events carry them open to projections, never the
    hashes); ``cipher`` seals what an event of an earlier version held in clear."""

    def __init__(self, names: NameTokens, cipher: PersonalDataCipher) -> None:
        self.names = names
        self.cipher = cipher

    async def project(self, conn: AsyncConnection, saved: Sequence[Saved]) -> None:
        run: list[Saved] = []  # consecutive pre-registrations (a list import's chunk): one statement
        for item in saved:
            if isinstance(item.event, PersonPreRegistered):
                run.append(item)
                continue
            await self._pre_registered(conn, run)
            run = []
            if isinstance(item.event, WeaponHandedOver):
                await self._weapon_handed_over(conn, item, item.event)
                continue
            if isinstance(item.event, PersonalDataErased):
                await _erased(conn, item.event.person_id, item.version)
            else:
                await _project_one(conn, item)
            await self._names(conn, item)
        await self._pre_registered(conn, run)

    async def sealed(self, items: Sequence[Saved], fields: Sequence[str]) -> list[dict[str, Any]]:
        """``fields`` of each item as its event sealed them (its subject's key); a value an earlier version
        of the event held in clear is sealed now under that key, or left out (None) if the subject is erased."""
        found = [{name: item.sealed.get(name) for name in fields} for item in items]
        clear = [
            n
            for n, values in enumerate(found)
            if any(v is not None and not is_sealed(v) for v in values.values())
        ]
        if not clear:
            return found
        subjects = {items[n].envelope.subject for n in clear}
        keys = await self.cipher.keystore.keys_for_reading(subjects)
        live = [n for n in clear if items[n].envelope.subject in keys]
        for n in clear:
            if n not in live:
                found[n] = dict.fromkeys(fields)
        sealed = await self.cipher.encrypt_many([(items[n].envelope.subject, found[n], fields) for n in live])
        for n, values in zip(live, sealed, strict=True):
            found[n] = {name: values.get(name) for name in fields}
        return found

    async def _pre_registered(self, conn: AsyncConnection, run: Sequence[Saved]) -> None:
        """Many people's pre-registrations at once (a list import's chunk): one statement per table."""
        if not run:
            return
        sealed = await self.sealed(run, SEALED_LISTING)
        await conn.execute(
            insert(persons),
            [_pre_registered_row(item, self.names, copy) for item, copy in zip(run, sealed, strict=True)],
        )
        serials = [
            {"person_id": event.person_id, "position": n, "serial_key": key}
            for event in (item.event for item in run)
            if isinstance(event, PersonPreRegistered)
            for n, weapon in enumerate(event.declared_weapons or ())
            if (key := self.names.serial(weapon.serial)) is not None
        ]
        if serials:
            await conn.execute(insert(person_serials), serials)
        rows = [
            {"person_id": item.event.person_id, "field": name_field, "token": token}
            for item in run
            if isinstance(item.event, PersonPreRegistered)
            for name_field in NAME_FIELDS
            for token in self.names.of(getattr(item.event, name_field))
        ]
        if rows:
            await conn.execute(insert(name_tokens), rows)

    async def _names(self, conn: AsyncConnection, item: Saved) -> None:
        """The blind index follows a corrected name, and forgets an erased person."""
        event = item.event
        if isinstance(event, PersonalDataErased):
            await conn.execute(delete(name_tokens).where(name_tokens.c.person_id == event.person_id))
        elif isinstance(event, PersonDetailsCorrected):
            for name_field in set(NAME_FIELDS) & set(event.corrected_fields):
                await conn.execute(
                    delete(name_tokens).where(
                        name_tokens.c.person_id == event.person_id, name_tokens.c.field == name_field
                    )
                )
                rows = [
                    {"person_id": event.person_id, "field": name_field, "token": token}
                    for token in self.names.of(getattr(event, name_field))
                ]
                if rows:
                    await conn.execute(insert(name_tokens), rows)

    async def _weapon_handed_over(self, conn: AsyncConnection, item: Saved, event: WeaponHandedOver) -> None:
        sealed = (await self.sealed([item], ("serial",)))[0]["serial"]
        await conn.execute(
            insert(weapons).values(
                weapon_id=event.weapon_id,
                person_id=event.person_id,
                movement=event.movement,
                kind=event.kind,
                type=event.type,
                calibre=event.calibre,
                sealed_serial=sealed,
                serial_key=self.names.serial(event.serial) if sealed is not None else None,
                quantity=event.quantity,
                condition=event.condition,
                tag=event.tag,
                receipt_number=event.receipt_number,
                custodian=event.custodian,
                flagged=False,
                serial_status=event.serial_status,
                programme_mark=event.programme_mark,
                needs_tracing=False,
                received_at=item.envelope.occurredat,
                version=item.version,
            )
        )


async def _project_one(conn: AsyncConnection, item: Saved) -> None:
    if isinstance(item.event, MovementEvents | ListEvents):
        await _movements_and_lists(conn, item)
    elif isinstance(item.event, PersonEvents):
        await _persons(conn, item)
    else:
        await _duplicates_and_weapons(conn, item)


async def _movements_and_lists(conn: AsyncConnection, item: Saved) -> None:
    event, version = item.event, item.version
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
            await _movement_version(conn, event.movement, version)
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
            await _movement_version(conn, event.movement, version)
        case ImportProfilePublished():
            await conn.execute(
                insert(import_profiles).values(
                    movement=event.movement,
                    profile=event.profile,
                    profile_version=event.profile_version,
                    columns=event.columns,
                    value_maps=event.values,
                    published_at=item.envelope.occurredat,
                )
            )
        case ListVersionSubmitted():
            await _list_submitted(conn, item, event)
        case ListRowsChecked():
            await _rows_checked(conn, item, event)
        case ListVersionCertified():
            await _list_version(conn, event.list_id, event.list_version, version, certified=True)
        case ListVersionEndorsed():
            column = "endorsed_cts" if event.body == "CTS" else "endorsed_cnddr"
            await _list_version(conn, event.list_id, event.list_version, version, **{column: True})


async def _persons(conn: AsyncConnection, item: Saved) -> None:
    event, version = item.event, item.version
    match event:
        case PersonRegistered():
            await _person(
                conn,
                event.person_id,
                version,
                status="registered",
                ddr_id=event.ddr_id,
                biometric_hash=event.biometric_hash,
                registered_at=item.envelope.occurredat,
                site=event.site,
            )
        case IdentityDocumentFlagged():
            await _person(conn, event.person_id, version, document_flagged=True)
        case PersonDetailsCorrected():
            await _person_corrected(conn, item, event)
        case PersonMergedInto():
            await _person(conn, event.person_id, version, status="merged", merged_into=event.into_person_id)
        case PersonAbsorbed():
            await _person(conn, event.person_id, version)


async def _duplicates_and_weapons(conn: AsyncConnection, item: Saved) -> None:
    event, version = item.event, item.version
    match event:
        case DuplicateSuspected():
            await _duplicate_suspected(conn, event, version)
        case DuplicateMadeCertain():
            await _duplicate_made_certain(conn, event, version)
        case DuplicateResolved():
            await conn.execute(
                update(duplicates)
                .where(duplicates.c.case_id == event.case_id)
                .values(status=event.outcome, surviving_person_id=event.surviving_person_id, version=version)
            )
        case WeaponSerialDuplicateFlagged():
            await _weapon(conn, event.weapon_id, version, flagged=True)
        case WeaponFlaggedForTracing():
            await _weapon(conn, event.weapon_id, version, needs_tracing=True)
        case WeaponCustodyTransferred():
            await _weapon(conn, event.weapon_id, version, custodian=event.to_custodian)


async def _movement_version(conn: AsyncConnection, code: str, version: int) -> None:
    await conn.execute(update(movements).where(movements.c.code == code).values(version=version))


async def _list_submitted(conn: AsyncConnection, item: Saved, event: ListVersionSubmitted) -> None:
    await conn.execute(
        insert(list_versions).values(
            list_id=event.list_id,
            list_version=event.list_version,
            movement=event.movement,
            file_sha256=event.file_sha256,
            rows_total=event.rows_total,
            rows_accepted=event.rows_accepted,
            rows_rejected=event.rows_rejected,
            profile=event.profile,
            profile_version=event.profile_version,
            unknown_columns=list(event.unknown_columns),
            certified=False,
            endorsed_cts=False,
            endorsed_cnddr=False,
            submitted_at=item.envelope.occurredat,
        )
    )
    # Re-importing a file (by its SHA-256, per movement) answers this version instead of a new one.
    await conn.execute(
        insert(list_imports).values(
            file_sha256=event.file_sha256,
            movement=event.movement,
            list_id=event.list_id,
            list_version=event.list_version,
        )
    )
    values = {"latest_version": event.list_version, "version": item.version}
    changed = await conn.execute(update(lists).where(lists.c.list_id == event.list_id).values(**values))
    if changed.rowcount == 0:
        await conn.execute(insert(lists).values(list_id=event.list_id, movement=event.movement, **values))


async def _rows_checked(conn: AsyncConnection, item: Saved, event: ListRowsChecked) -> None:
    key = {"list_id": event.list_id, "list_version": event.list_version}
    positions: dict[int, int] = {}
    rows: list[dict[str, Any]] = []
    refused = 0
    for row in event.rows:
        position = positions[row.line] = positions.get(row.line, -1) + 1
        rows.append(
            {
                **key,
                "line": row.line,
                "position": position,
                "status": row.status,
                "person_id": row.person_id,
                "column_name": row.column,
                "chunk": item.version,
                "reason_index": refused if row.status == "rejected" else None,
                "flags": list(row.flags),
            }
        )
        refused += row.status == "rejected"
    if rows:
        await conn.execute(insert(list_rows), rows)
    await _declared(conn, event)
    sealed = item.sealed.get("reasons")
    if refused and sealed is not None:
        await conn.execute(
            insert(list_reasons).values(**key, chunk=item.version, sealed_reasons={"reasons": sealed})
        )


async def _declared(conn: AsyncConnection, event: ListRowsChecked) -> None:
    """The serials each pre-registered row declared (its person's, projected from their pre-registration just
    before), and each repeat from both rows' sides, the serial being the one both rows declare."""
    lines = {
        row.person_id: row.line for row in event.rows if row.status == "pre-registered" and row.person_id
    }
    if not lines:
        return
    found = await conn.execute(
        select(person_serials)
        .where(person_serials.c.person_id.in_(list(lines)))
        .order_by(person_serials.c.person_id, person_serials.c.position)
    )
    declared: dict[tuple[str, int], dict[str, Any]] = {}
    for serial in found:
        declared.setdefault(
            (serial.serial_key, lines[serial.person_id]),
            {"serial_key": serial.serial_key, "list_id": event.list_id, "list_version": event.list_version,
             "line": lines[serial.person_id], "movement": event.movement, "person_id": serial.person_id},
        )  # fmt: skip
    if declared:
        await conn.execute(insert(declared_serials), list(declared.values()))
    repeated = [(row, other) for row in event.rows for other in row.repeats]
    if not repeated:
        return
    wanted = {(o.list_id, o.list_version, o.line) for _, o in repeated}
    others: dict[tuple[str, int, int], set[str]] = {}
    for found_row in await conn.execute(
        select(
            declared_serials.c.list_id,
            declared_serials.c.list_version,
            declared_serials.c.line,
            declared_serials.c.serial_key,
        ).where(
            tuple_(declared_serials.c.list_id, declared_serials.c.list_version, declared_serials.c.line).in_(
                sorted(wanted)
            )
        )
    ):
        others.setdefault((found_row.list_id, found_row.list_version, found_row.line), set()).add(
            found_row.serial_key
        )
    repeats: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row, other in repeated:
        that_keys = others.get((other.list_id, other.list_version, other.line), set())
        shared = [k for (k, line) in declared if line == row.line and k in that_keys]
        if not shared:
            continue  # the other row's serials are gone (its person erased)
        this = (event.list_id, event.list_version, row.line, event.movement)
        that = (other.list_id, other.list_version, other.line, other.movement)
        for (list_id, version, line, _), (o_list, o_version, o_line, o_movement) in (
            (this, that),
            (that, this),
        ):
            repeats[(list_id, version, line, o_list, o_version, o_line)] = {
                "list_id": list_id, "list_version": version, "line": line, "other_list_id": o_list,
                "other_list_version": o_version, "other_line": o_line, "serial_key": shared[0],
                "other_movement": o_movement,
            }  # fmt: skip
    if repeats:
        await conn.execute(insert(serial_repeats), list(repeats.values()))


async def _list_version(
    conn: AsyncConnection, list_id: str, list_version: int, version: int, **values: bool
) -> None:
    await conn.execute(
        update(list_versions)
        .where(list_versions.c.list_id == list_id, list_versions.c.list_version == list_version)
        .values(**values)
    )
    await conn.execute(update(lists).where(lists.c.list_id == list_id).values(version=version))


def _pre_registered_row(item: Saved, names: NameTokens, sealed: dict[str, Any]) -> dict[str, Any]:
    event = item.event
    assert isinstance(event, PersonPreRegistered)
    ref = event.movement_ref if sealed["movement_ref"] is not None else None
    return {
        "person_id": event.person_id,
        "movement": event.movement,
        # an erased person's reference reads None on a rebuild: the same placeholder as the erasure leaves
        "ref_key": names.reference(event.movement, ref) if ref else f"erased:{event.person_id}",
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
        "listed_at": item.envelope.occurredat,
        "document_type": event.document_type,
        "document_issued": event.document_issued,
        "document_flagged": False,
        "sealed_identity": {
            **{name: item.sealed.get(name) for name in IDENTITY_FIELDS},
            "movement_ref": sealed["movement_ref"],
        },
        "sealed_weapons": sealed["declared_weapons"],
        "version": item.version,
    }


async def _person_corrected(conn: AsyncConnection, item: Saved, event: PersonDetailsCorrected) -> None:
    changed = set(event.corrected_fields)
    plain: dict[str, Any] = {name: getattr(event, name) for name in PLAIN_CORRECTIONS if name in changed}
    if changed & set(IDENTITY_FIELDS):
        query = select(persons.c.sealed_identity).where(persons.c.person_id == event.person_id)
        identity = dict((await conn.execute(query)).scalar_one())
        identity.update({name: item.sealed.get(name) for name in IDENTITY_FIELDS if name in changed})
        plain["sealed_identity"] = identity
    await _person(conn, event.person_id, item.version, **plain)


async def _erased(conn: AsyncConnection, person_id: str, version: int) -> None:
    """Nothing that identifies them stays: the keyed biometric hash, the movement's own reference, the serials
    their list declared (and the repeats naming them), the serials of the weapons they handed over (the
    weapons stay in the register, with their receipt, tag, type and custody), and the sealed copies
    (unreadable anyway once the key is shredded) all go."""
    await _person(
        conn,
        person_id,
        version,
        biometric_hash=None,
        ref_key=f"erased:{person_id}",
        sealed_identity=dict.fromkeys((*IDENTITY_FIELDS, "movement_ref")),
        sealed_weapons=None,
    )
    await conn.execute(
        update(weapons).where(weapons.c.person_id == person_id).values(sealed_serial=None, serial_key=None)
    )
    await conn.execute(delete(person_serials).where(person_serials.c.person_id == person_id))
    rows = (
        await conn.execute(
            select(declared_serials.c.list_id, declared_serials.c.list_version, declared_serials.c.line)
            .where(declared_serials.c.person_id == person_id)
            .distinct()
        )
    ).all()
    for row in rows:
        here = and_(
            serial_repeats.c.list_id == row.list_id,
            serial_repeats.c.list_version == row.list_version,
            serial_repeats.c.line == row.line,
        )
        there = and_(
            serial_repeats.c.other_list_id == row.list_id,
            serial_repeats.c.other_list_version == row.list_version,
            serial_repeats.c.other_line == row.line,
        )
        await conn.execute(delete(serial_repeats).where(or_(here, there)))
    await conn.execute(delete(declared_serials).where(declared_serials.c.person_id == person_id))


async def _person(conn: AsyncConnection, person_id: str, version: int, **values: Any) -> None:
    await conn.execute(
        update(persons).where(persons.c.person_id == person_id).values(version=version, **values)
    )


async def _duplicate_suspected(conn: AsyncConnection, event: DuplicateSuspected, version: int) -> None:
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


async def _duplicate_made_certain(conn: AsyncConnection, event: DuplicateMadeCertain, version: int) -> None:
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


async def _weapon(conn: AsyncConnection, weapon_id: str, version: int, **values: Any) -> None:
    await conn.execute(
        update(weapons).where(weapons.c.weapon_id == weapon_id).values(version=version, **values)
    )
