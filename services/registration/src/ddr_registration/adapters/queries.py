"""Reads of the read model: the commissions' views (row-level access in every query that returns people)
and the look-ups a command decides on (inside the command's own transaction).

A record the caller may not see is answered exactly as one that does not exist (UnknownRecord: 404), so a
liaison cannot even learn that another movement's person is on file.
"""

from __future__ import annotations

from collections.abc import Collection, Container, Sequence
from datetime import date, timedelta
from typing import Any, cast

from sqlalchemy import Row, Select, and_, distinct, func, literal_column, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from ddr_contracts.registration import PersonalDataErased, PersonMergedInto
from ddr_registration.adapters.access import (
    child_record,
    may_act_on,
    may_register,
    may_see_movement,
    may_see_row,
    visible_persons,
)
from ddr_registration.adapters.name_index import NameTokens
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
    persons,
    serial_repeats,
    weapons,
)
from ddr_registration.domain import identity
from ddr_registration.domain.duplicates import Holder
from ddr_registration.domain.identity import IdentityRecord
from ddr_registration.domain.lists import list_stream
from ddr_registration.domain.persons import Person, person_stream
from ddr_registration.domain.values import DeclaredRow
from ddr_runtime.auth.roles import Principal, Role
from ddr_runtime.auth.visibility import disclose_count
from ddr_runtime.crypto.cipher import PersonalDataCipher
from ddr_runtime.db import is_postgres
from ddr_runtime.eventstore.ports import AggregateSession
from ddr_runtime.eventstore.schema import events
from ddr_runtime.eventstore.store import START, EventStore, GlobalCursor, RecordedEvent, in_global_order
from ddr_runtime.eventstore.unit import Session
from ddr_runtime.kernel import RuleViolated, UnknownRecord, start_of_day

_LEAVING_INDEX = frozenset({PersonalDataErased.name, PersonMergedInto.name})
"""Events after which a person is no longer matched against (their names gone, or their record closed)."""
PG_HORIZON = "(pg_snapshot_xmin(pg_current_snapshot())::text::bigint)"
"""The oldest transaction still running: events of transactions at or after it may not be final yet."""
REASON_READERS = (Role.CNDDR_OFFICER, Role.MOVEMENT_LIAISON, Role.AUDITOR)
Record = dict[str, Any]


def _plain(row: Row[Any], *skip: str) -> Record:
    return {key: value for key, value in row._mapping.items() if key not in skip}


def _entry(key: str, recorded: RecordedEvent) -> Record:
    return {
        "person_id" if recorded.envelope.streamid.startswith("person-") else "record_id": key,
        "type": recorded.envelope.type,
        "stream_version": recorded.version,
        "actor": recorded.envelope.actor,
        "recorded_at": recorded.envelope.recordedat,
        "occurred_at": recorded.envelope.occurredat,
        "data": recorded.event.model_dump(mode="json"),
    }


class RegistrationViews:
    """The commissions' reads (the service layer's ``Views``)."""

    def __init__(self, store: EventStore, names: NameTokens) -> None:
        self.store = store
        self.names = names
        self.engine: AsyncEngine = store.engine
        self.cipher: PersonalDataCipher = store.cipher

    def may_act_on(self, principal: Principal, person: Person) -> bool:
        return may_act_on(principal, person)

    def may_register(self, principal: Principal, person: Person) -> bool:
        return may_register(principal, person)

    # -- movements -------------------------------------------------------------------------------------

    async def list_movements(self) -> list[Record]:
        async with self.engine.connect() as conn:
            rows = (await conn.execute(select(movements).order_by(movements.c.code))).all()
            return [await _movement(conn, row) for row in rows]

    async def get_movement(self, code: str) -> Record:
        async with self.engine.connect() as conn:
            row = (await conn.execute(select(movements).where(movements.c.code == code))).first()
            if row is None:
                raise UnknownRecord("movement", code)
            return await _movement(conn, row)

    # -- lists -------------------------------------------------------------------------------------------

    async def list_lists(self, principal: Principal) -> list[Record]:
        async with self.engine.connect() as conn:
            rows = (await conn.execute(select(lists).order_by(lists.c.movement))).all()
        return [_plain(row) for row in rows if may_see_movement(principal, row.movement)]

    async def get_list(self, principal: Principal, list_id: str) -> Record:
        async with self.engine.connect() as conn:
            row = (await conn.execute(select(lists).where(lists.c.list_id == list_id))).first()
            if row is None or not may_see_movement(principal, row.movement):
                raise UnknownRecord("list", list_id)
            versions = (
                await conn.execute(
                    select(list_versions)
                    .where(list_versions.c.list_id == list_id)
                    .order_by(list_versions.c.list_version)
                )
            ).all()
        return {
            **_plain(row),
            "versions": [
                {**_plain(v, "list_id", "movement"), "superseded": v.list_version != row.latest_version}
                for v in versions
            ],
        }

    async def list_history(self, principal: Principal, list_id: str) -> list[Record]:
        """Each step of the list (versions submitted, certified, endorsed) with its author and time."""
        await self.get_list(principal, list_id)
        return [_entry(list_id, recorded) for recorded in await self.store.read_stream(list_stream(list_id))]

    async def list_report(
        self, principal: Principal, list_id: str, number: int, offset: int, limit: int
    ) -> list[Record]:
        """Each row of one imported version with its status; the reason of a refused row is opened here.

        A row naming a person the caller may not see (a child, another region) is absent, as a missing
        row would be: never shown with its person left out, which would mark it."""
        await self.get_list(principal, list_id)
        async with self.engine.connect() as conn:
            query = (
                select(list_rows, persons.c.sealed_identity, persons.c.sealed_weapons)
                .outerjoin(persons, persons.c.person_id == list_rows.c.person_id)
                .where(
                    list_rows.c.list_id == list_id,
                    list_rows.c.list_version == number,
                    or_(list_rows.c.person_id.is_(None), visible_persons(principal)),
                )
                .order_by(list_rows.c.line, list_rows.c.position)
                .offset(offset)
                .limit(limit)
            )
            rows = (await conn.execute(query)).all()
            # A refused row's reason quotes the faulty value: for those who submit or run the lists, not
            # the CTS or NIC.
            reasons = (
                await self._reasons(conn, list_id, number, rows) if principal.has_any(*REASON_READERS) else {}
            )
            repeats = await _repeats_of(conn, principal, list_id, number, [row.line for row in rows])
        people = [row for row in rows if row.person_id is not None]
        opened = await self.cipher.decrypt_many(
            [
                (row.person_id, {"movement_ref": (row.sealed_identity or {}).get("movement_ref")})
                for row in people
            ]
        )
        refs = {row.person_id: found["movement_ref"] for row, found in zip(people, opened, strict=True)}
        declaring = {row.line: row for row in people if row.line in repeats}
        serials = await self._declared_serials(list(declaring.values()))
        for line, row in declaring.items():
            for repeat in repeats[line]:  # the serial both rows declare, by its keyed hash: opened
                repeat["serial"] = serials.get(row.person_id, {}).get(repeat["serial"])
        report = []
        for row in rows:
            report.append(
                {
                    "line": row.line,
                    "status": row.status,
                    "movement_ref": refs.get(row.person_id) if row.person_id else None,
                    "person_id": row.person_id,
                    "column": row.column_name,
                    "reason": reasons.get((row.chunk, row.reason_index)),
                    "flags": _flags(principal, row.flags, repeats.get(row.line, [])),
                    "serial_declared_also": repeats.get(row.line, []) if row.position == 0 else [],
                }
            )
        return report

    async def _reasons(
        self, conn: AsyncConnection, list_id: str, number: int, rows: Sequence[Row[Any]]
    ) -> dict[tuple[int, int], str | None]:
        """The refused rows' reasons, opened once per chunk of the report they came in."""
        chunks = sorted({row.chunk for row in rows if row.reason_index is not None})
        if not chunks:
            return {}
        sealed = (
            await conn.execute(
                select(list_reasons.c.chunk, list_reasons.c.sealed_reasons).where(
                    list_reasons.c.list_id == list_id,
                    list_reasons.c.list_version == number,
                    list_reasons.c.chunk.in_(chunks),
                )
            )
        ).all()
        opened = await self.cipher.decrypt_many([(list_id, row.sealed_reasons) for row in sealed])
        return {
            (row.chunk, index): reason
            for row, found in zip(sealed, opened, strict=True)
            for index, reason in enumerate(found.get("reasons") or ())
        }

    # -- persons -----------------------------------------------------------------------------------------

    async def get_person(self, principal: Principal, person_id: str) -> Record:
        """The person's record, if the caller may see it (else UnknownRecord, as for a missing one). A record
        merged into another names that other (``merged_into``) only to a caller who may see it."""
        async with self.engine.connect() as conn:
            row = (await conn.execute(select(persons).where(persons.c.person_id == person_id))).first()
            if row is None or not may_see_row(principal, row):
                raise UnknownRecord("person", person_id)
            targets = await _merge_targets_seen(conn, principal, [row])
        identity = await self.cipher.decrypt(person_id, row.sealed_identity)
        return _person_record(row, identity, targets)

    async def children_among(self, person_ids: Sequence[str]) -> set[str]:
        """Which of ``person_ids`` are children's records (the child rule's own test), for the read ledger:
        one query per 500 ids, nothing decrypted."""
        ids = sorted(set(person_ids))
        found: set[str] = set()
        async with self.engine.connect() as conn:
            for start in range(0, len(ids), 500):
                query = select(persons.c.person_id).where(
                    persons.c.person_id.in_(ids[start : start + 500]), child_record()
                )
                found.update((await conn.execute(query)).scalars())
        return found

    async def search_persons(
        self,
        principal: Principal,
        *,
        movement: str | None = None,
        region: str | None = None,
        category: str | None = None,
        status: str | None = None,
        ddr_id: str | None = None,
        name: str | None = None,
        offset: int = 0,
        limit: int = 50,
    ) -> list[Record]:
        """People matching every filter given, among those the caller may see, paged in SQL.

        ``name``: people whose names hold every token of it (normalised, so any spelling or script of a
        token matches), found through the blind index; only the page answered is opened.
        """
        conditions = [visible_persons(principal)]
        for column, value in (
            (persons.c.movement, movement),
            (persons.c.region, region),
            (persons.c.category, category),
            (persons.c.status, status),
            (persons.c.ddr_id, ddr_id),
        ):
            if value is not None:
                conditions.append(column == value)
        if name is not None:
            tokens = self.names.of(name)
            if not tokens:
                raise RuleViolated("name", "the name to search for has no letters")
            holders = (
                select(name_tokens.c.person_id)
                .where(name_tokens.c.token.in_(tokens))
                .group_by(name_tokens.c.person_id)
                .having(func.count(distinct(name_tokens.c.token)) == len(tokens))
            )
            conditions.append(persons.c.person_id.in_(holders))
        query = select(persons).where(and_(*conditions)).order_by(persons.c.seq).offset(offset).limit(limit)
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).all()
            targets = await _merge_targets_seen(conn, principal, rows)
        opened = await self.cipher.decrypt_many([(row.person_id, row.sealed_identity) for row in rows])
        return [_person_record(row, identity, targets) for row, identity in zip(rows, opened, strict=True)]

    async def person_history(self, principal: Principal, person_id: str) -> list[Record]:
        """The person's events, and those of every record merged into theirs, in recorded order. Of a merged
        record the caller may not see (another movement's listing, a child's) nothing is shown, and a step
        naming a record the caller may not see (the merge, from either side) leaves its id out."""
        await self.get_person(principal, person_id)
        streams = [person_id]
        seen: set[str] = set()
        history: list[Record] = []
        while streams:
            current = streams.pop()
            if current in seen:
                continue
            seen.add(current)
            for recorded in await self.store.read_stream(person_stream(current)):
                entry = _entry(current, recorded)
                absorbed = getattr(recorded.event, "absorbed_person_id", None)
                other = (
                    absorbed if isinstance(absorbed, str) else getattr(recorded.event, "into_person_id", None)
                )
                if isinstance(other, str):
                    if not await self._may_see(principal, other):
                        entry["data"] = {"person_id": current}
                    elif other == absorbed:
                        streams.append(other)
                history.append(entry)
        history.sort(key=lambda entry: (entry["recorded_at"], entry["person_id"], entry["stream_version"]))
        return history

    async def _may_see(self, principal: Principal, person_id: str) -> bool:
        async with self.engine.connect() as conn:
            row = (await conn.execute(select(persons).where(persons.c.person_id == person_id))).first()
        return row is not None and may_see_row(principal, row)

    # -- duplicates --------------------------------------------------------------------------------------

    async def list_duplicates(
        self,
        principal: Principal,
        status: str | None,
        offset: int,
        limit: int,
        *,
        certain: bool | None = None,
    ) -> list[Record]:
        query = _visible_duplicates(principal).order_by(duplicates.c.case_id)
        if status is not None:
            query = query.where(duplicates.c.status == status)
        if certain is not None:
            query = query.where(duplicates.c.certain == certain)
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query.offset(offset).limit(limit))).all()
        return await self._duplicate_cases(rows, explain=True)

    async def get_duplicate(self, principal: Principal, case_id: str, *, explain: bool = True) -> Record:
        """One case the caller may see; ``explain``: with its reasons as sentences quoting both people's
        names (leave it out of anything that is stored, such as an idempotent answer)."""
        query = _visible_duplicates(principal).where(duplicates.c.case_id == case_id)
        async with self.engine.connect() as conn:
            row = (await conn.execute(query)).first()
        if row is None:
            raise UnknownRecord("duplicate", case_id)
        (case,) = await self._duplicate_cases([row], explain=explain)
        return case

    async def _duplicate_cases(self, rows: Sequence[Row[Any]], *, explain: bool) -> list[Record]:
        """Cases as the API shows them: the stored reason codes and, with ``explain``, the same reasons as
        sentences, names quoted from both people's records (opened here, for this answer only)."""
        cases = []
        opened: list[dict[str, Any]] = []
        if explain:
            opened = await self.store.cipher.decrypt_many(
                [(row.person_id, row.identity) for row in rows]
                + [(row.other_person_id, row.other_identity) for row in rows]
            )
        for k, row in enumerate(rows):
            case = _plain(row, "identity", "other_identity")
            reasons = reason_codes(row.reasons)
            case["reasons"] = [{"kind": r.kind, "score": r.score} for r in reasons]
            if explain:
                first, second = opened[k], opened[len(rows) + k]
                case["explanation"] = identity.explain(reasons, _name(first), _name(second))
            cases.append(case)
        return cases

    async def reconciliation(self, principal: Principal, person_id: str) -> Record:
        """The weapons the person's lists declared against those they handed over (their merged records'
        too): declared but not handed over, handed over but not declared, and those without a serial."""
        await self.get_person(principal, person_id)
        async with self.engine.connect() as conn:
            people = await _with_absorbed(conn, person_id)
            declared = (
                await conn.execute(
                    select(declared_serials)
                    .where(declared_serials.c.person_id.in_(people))
                    .order_by(declared_serials.c.list_id, declared_serials.c.line)
                )
            ).all()
            handed = (
                await conn.execute(
                    select(weapons).where(weapons.c.person_id.in_(people)).order_by(weapons.c.received_at)
                )
            ).all()
            holders = (
                await conn.execute(
                    select(persons.c.person_id, persons.c.sealed_weapons).where(
                        persons.c.person_id.in_(people)
                    )
                )
            ).all()
        by_key = {
            key: serial
            for found in (await self._declared_serials(holders)).values()
            for key, serial in found.items()
        }
        handed_serials = await self._weapon_serials(handed)
        declared_keys = {row.serial_key for row in declared}
        handed_keys = {row.serial_key for row in handed if row.serial_key}
        return {
            "person_id": person_id,
            "declared": [
                {**_plain(row, "serial_key", "person_id", "movement"), "serial": by_key.get(row.serial_key)}
                for row in declared
            ],
            "handed_over": [
                {
                    **{
                        k: getattr(row, k)
                        for k in ("weapon_id", "kind", "type", "serial_status", "programme_mark")
                    },
                    "serial": serial,
                }
                for row, serial in zip(handed, handed_serials, strict=True)
            ],
            "declared_not_handed_over": sorted(
                {
                    by_key[row.serial_key]
                    for row in declared
                    if row.serial_key not in handed_keys and row.serial_key in by_key
                }
            ),
            "handed_over_not_declared": sorted(
                serial
                for row, serial in zip(handed, handed_serials, strict=True)
                if serial and row.serial_key and row.serial_key not in declared_keys
            ),
            "handed_over_without_serial": [row.programme_mark for row in handed if row.programme_mark],
        }

    # -- import profiles ---------------------------------------------------------------------------------

    async def import_profiles(
        self, principal: Principal, movement: str, name: str | None = None
    ) -> list[Record]:
        """The movement's import profiles, every version (of one profile, with ``name``)."""
        if not may_see_movement(principal, movement):
            raise UnknownRecord("movement", movement)
        query = select(import_profiles).where(import_profiles.c.movement == movement)
        if name is not None:
            query = query.where(import_profiles.c.profile == name)
        async with self.engine.connect() as conn:
            rows = (
                await conn.execute(
                    query.order_by(import_profiles.c.profile, import_profiles.c.profile_version)
                )
            ).all()
        if name is not None and not rows:
            raise UnknownRecord("import_profile", name)
        return [{**_plain(row, "value_maps"), "values": row.value_maps} for row in rows]

    # -- figures -----------------------------------------------------------------------------------------

    async def figures(self, principal: Principal, as_of: date) -> Record:
        """People listed and registered by the end of ``as_of`` (business dates), registrations counted by
        site, movement, sex and category; merged records count once, under the record that stands.

        Within the caller's movement (a liaison) and regions. Children are left out of every count and
        breakdown (no difference between two figures is a child); their own counts are disclosed as
        ``disclose_count`` allows (none below 5, else a multiple of 5)."""
        end = start_of_day(as_of + timedelta(days=1))
        scope = [persons.c.status != "merged"]
        if Role.MOVEMENT_LIAISON in principal.roles:
            scope.append(persons.c.movement == (principal.movement or ""))
        if principal.regions:
            scope.append(persons.c.region.in_(sorted(principal.regions)))
        adults = [*scope, ~child_record()]
        children = [*scope, child_record()]
        registered = and_(*adults, persons.c.registered_at < end)
        async with self.engine.connect() as conn:
            listed = await _count(conn, *adults, persons.c.listed_at < end)
            children_listed = await _count(conn, *children, persons.c.listed_at < end)
            children_registered = await _count(conn, *children, persons.c.registered_at < end)
            counts = {
                name: await _count_by(conn, column, registered)
                for name, column in (
                    ("by_site", func.coalesce(persons.c.site, "unknown")),
                    ("by_movement", persons.c.movement),
                    ("by_sex", persons.c.sex),
                    ("by_category", persons.c.category),
                )
            }
        return {
            "as_of": as_of,
            "listed": listed,
            "registered": sum(counts["by_site"].values()),
            "registered_by": counts,
            "children": {
                "listed": disclose_count(children_listed),
                "registered": disclose_count(children_registered),
            },
        }

    # -- weapons -----------------------------------------------------------------------------------------

    async def list_weapons(
        self,
        principal: Principal,
        *,
        serial: str | None,
        person_id: str | None,
        flagged: bool | None,
        offset: int,
        limit: int,
        needs_tracing: bool | None = None,
    ) -> list[Record]:
        query = (
            select(weapons)
            .join(persons, persons.c.person_id == weapons.c.person_id)
            .where(visible_persons(principal))
            .order_by(weapons.c.weapon_id)
        )
        if serial:
            query = query.where(weapons.c.serial_key == self.names.serial(serial))
        if person_id is not None:
            query = query.where(weapons.c.person_id == person_id)
        if flagged is not None:
            query = query.where(weapons.c.flagged == flagged)
        if needs_tracing is not None:
            query = query.where(weapons.c.needs_tracing == needs_tracing)
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query.offset(offset).limit(limit))).all()
        return await self._weapons_shown(rows)

    async def get_weapon(self, principal: Principal, weapon_id: str) -> Record:
        query = (
            select(weapons)
            .join(persons, persons.c.person_id == weapons.c.person_id)
            .where(weapons.c.weapon_id == weapon_id, visible_persons(principal))
        )
        async with self.engine.connect() as conn:
            row = (await conn.execute(query)).first()
        if row is None:
            raise UnknownRecord("weapon", weapon_id)
        return (await self._weapons_shown([row]))[0]

    async def _weapons_shown(self, rows: Sequence[Row[Any]]) -> list[Record]:
        serials = await self._weapon_serials(rows)
        return [
            {**_plain(row, "serial_key", "sealed_serial"), "serial": serial}
            for row, serial in zip(rows, serials, strict=True)
        ]

    async def _weapon_serials(self, rows: Sequence[Any]) -> list[str | None]:
        """Each weapon's serial, opened under its person's key (None without one, or once erased)."""
        opened = await self.cipher.decrypt_many(
            [(row.person_id, {"serial": row.sealed_serial}) for row in rows]
        )
        return [found["serial"] for found in opened]

    async def _declared_serials(self, rows: Sequence[Any]) -> dict[str, dict[str, str]]:
        """Per person (rows with ``person_id`` and ``sealed_weapons``), the serials their list declared, by
        keyed hash, opened under their key."""
        opened = await self.cipher.decrypt_many(
            [(row.person_id, {"declared_weapons": row.sealed_weapons}) for row in rows]
        )
        found: dict[str, dict[str, str]] = {}
        for row, weapons_of in zip(rows, opened, strict=True):
            for weapon in weapons_of["declared_weapons"] or ():
                serial = weapon.get("serial") if isinstance(weapon, dict) else None
                key = self.names.serial(serial)
                if serial and key:
                    found.setdefault(row.person_id, {})[key] = serial
        return found


async def _repeats_of(
    conn: AsyncConnection, principal: Principal, list_id: str, number: int, lines: Sequence[int]
) -> dict[int, list[Record]]:
    """For each line, the other rows that declared one of its serials for someone else. A movement liaison
    is told of their own movement's rows only (nothing of another movement's lists)."""
    rows = (
        await conn.execute(
            select(serial_repeats)
            .where(
                serial_repeats.c.list_id == list_id,
                serial_repeats.c.list_version == number,
                serial_repeats.c.line.in_(sorted(set(lines))),
            )
            .order_by(serial_repeats.c.line, serial_repeats.c.other_list_id, serial_repeats.c.other_line)
        )
    ).all()
    found: dict[int, list[Record]] = {}
    for row in rows:
        if not may_see_movement(principal, row.other_movement):
            continue
        other: Record = {
            "serial": row.serial_key,  # the list report puts the serial it stands for in its place
            "movement": row.other_movement,
            "list_id": row.other_list_id,
            "list_version": row.other_list_version,
            "line": row.other_line,
        }
        found.setdefault(row.line, []).append(other)
    return found


def _flags(principal: Principal, flags: Sequence[str], repeats: Sequence[Record]) -> list[str]:
    """A row's flags; a liaison's row is flagged for a repeated serial only when the repeat is theirs."""
    if Role.MOVEMENT_LIAISON in principal.roles and not repeats:
        return [flag for flag in flags if flag != "serial-repeated"]
    return list(flags)


async def _with_absorbed(conn: AsyncConnection, person_id: str) -> list[str]:
    """The person and every record merged into theirs, however deep."""
    people, frontier = [person_id], [person_id]
    while frontier:
        found = await conn.execute(select(persons.c.person_id).where(persons.c.merged_into.in_(frontier)))
        frontier = [row.person_id for row in found if row.person_id not in people]
        people.extend(frontier)
    return people


async def _movement(conn: AsyncConnection, row: Row[Any]) -> Record:
    memberships = (
        await conn.execute(
            select(coalition_memberships)
            .where(
                or_(
                    coalition_memberships.c.movement == row.code,
                    coalition_memberships.c.coalition == row.code,
                )
            )
            .order_by(coalition_memberships.c.since)
        )
    ).all()
    return {
        **_plain(row),
        "memberships": [
            {"movement": m.movement, "coalition": m.coalition, "since": m.since, "until": m.until}
            for m in memberships
        ],
    }


def reason_codes(stored: Any) -> list[identity.Reason]:
    """The reasons of a read-model row as codes; anything else (a sentence stored by an older version) is
    left out, never shown."""
    found = []
    for item in stored or ():
        if isinstance(item, dict) and item.get("kind") in identity.REASON_KINDS:
            score = item.get("score")
            found.append(identity.Reason(item["kind"], float(score) if score is not None else None))
    return found


def _name(opened: dict[str, Any]) -> str | None:
    name = opened.get("full_name") or opened.get("full_name_arabic")
    return str(name) if name else None


async def _count(conn: AsyncConnection, *where: Any) -> int:
    return int(await conn.scalar(select(func.count()).select_from(persons).where(*where)) or 0)


async def _count_by(conn: AsyncConnection, column: Any, where: Any) -> dict[str, int]:
    rows = await conn.execute(select(column, func.count()).where(where).group_by(column).order_by(column))
    return {str(key): int(count) for key, count in rows.all()}


def _visible_duplicates(principal: Principal) -> Select[Any]:
    """Cases where the caller may see both people (a liaison: both of their movement, neither a child), with
    both people's sealed identities, from which the reasons' text is built."""
    one, other = persons.alias("one"), persons.alias("other")
    return (
        select(
            duplicates,
            one.c.sealed_identity.label("identity"),
            other.c.sealed_identity.label("other_identity"),
        )
        .join(one, one.c.person_id == duplicates.c.person_id)
        .join(other, other.c.person_id == duplicates.c.other_person_id)
        .where(visible_persons(principal, one), visible_persons(principal, other))
    )


class RegistrationLookups:
    """What commands decide on, read in their own transaction (the service layer's ``Lookups``)."""

    def __init__(self, cipher: PersonalDataCipher, names: NameTokens) -> None:
        self.cipher = cipher
        self.names = names

    async def ddr_id_taken(self, session: AggregateSession, ddr_id: str) -> bool:
        taken = await _conn(session).execute(select(persons.c.person_id).where(persons.c.ddr_id == ddr_id))
        return taken.first() is not None

    async def weapons_with_serial(self, session: AggregateSession, serial: str) -> tuple[str, ...]:
        key = self.names.serial(serial)
        if key is None:
            return ()
        rows = await _conn(session).execute(select(weapons.c.weapon_id).where(weapons.c.serial_key == key))
        return tuple(row.weapon_id for row in rows)

    async def listed(self, session: AggregateSession, movement: str, refs: Sequence[str]) -> dict[str, str]:
        keys = {self.names.reference(movement, ref): ref for ref in refs}
        found: dict[str, str] = {}
        wanted = sorted(keys)
        for start in range(0, len(wanted), 500):
            rows = await _conn(session).execute(
                select(persons.c.ref_key, persons.c.person_id).where(
                    persons.c.movement == movement, persons.c.ref_key.in_(wanted[start : start + 500])
                )
            )
            found.update({keys[row.ref_key]: row.person_id for row in rows})
        return found

    async def earlier_import(
        self, session: AggregateSession, file_sha256: str, movement: str
    ) -> tuple[int, dict[str, int]] | None:
        found = await _conn(session).execute(
            select(list_imports.c.list_id, list_imports.c.list_version).where(
                list_imports.c.file_sha256 == file_sha256, list_imports.c.movement == movement
            )
        )
        done = found.first()
        if done is None:
            return None
        counted = await _conn(session).execute(
            select(list_rows.c.status, func.count(distinct(list_rows.c.line)))
            .where(list_rows.c.list_id == done.list_id, list_rows.c.list_version == done.list_version)
            .group_by(list_rows.c.status)
        )
        return done.list_version, {str(row[0]): int(row[1]) for row in counted}

    async def people_after(
        self, session: AggregateSession, seen: int, limit: int, indexed: Container[str]
    ) -> tuple[list[IdentityRecord], int | None]:
        rows = (
            await _conn(session).execute(
                select(persons).where(persons.c.seq > seen).order_by(persons.c.seq).limit(limit)
            )
        ).all()
        if not rows:
            return [], None
        fresh = [row for row in rows if row.person_id not in indexed]
        opened = await self.cipher.decrypt_many([(row.person_id, row.sealed_identity) for row in fresh])
        records = [
            identity_record(row, identity)
            for row, identity in zip(fresh, opened, strict=True)
            if row.status != "merged" and any(identity.get(k) for k in ("full_name", "full_name_arabic"))
        ]
        return records, int(rows[-1].seq)

    async def left_after(
        self, session: AggregateSession, after: GlobalCursor, limit: int
    ) -> tuple[list[str], GlobalCursor | None]:
        """Of the next ``limit`` events in the store's global order after ``after`` (only those final, so
        none committed late is skipped), the people erased or merged into another; and the point reached
        (``None``: no event after it)."""
        conn = _conn(session)
        query = in_global_order(
            select(events.c.tx_id, events.c.position, events.c.event_type, events.c.subject),
            after,
            limit,
            postgres=is_postgres(conn.engine),
        )
        rows = (await conn.execute(query)).all()
        if not rows:
            return [], None
        left = [row.subject for row in rows if row.event_type.rpartition(".v")[0] in _LEAVING_INDEX]
        return left, (int(rows[-1].tx_id), int(rows[-1].position))

    async def still_matchable(self, session: AggregateSession, person_ids: Collection[str]) -> set[str]:
        if not person_ids:
            return set()
        query = select(persons.c.person_id).where(
            persons.c.person_id.in_(list(person_ids)),
            persons.c.status != "merged",
            persons.c.ref_key.not_like("erased:%"),
        )
        return set((await _conn(session).execute(query)).scalars())

    async def end_of_history(self, session: AggregateSession) -> GlobalCursor:
        """The point after the last final event of the store (where :meth:`left_after` starts afresh)."""
        conn = _conn(session)
        query = select(events.c.tx_id, events.c.position)
        if is_postgres(conn.engine):
            query = query.where(events.c.tx_id < literal_column(PG_HORIZON))
        last = (
            await conn.execute(query.order_by(events.c.tx_id.desc(), events.c.position.desc()).limit(1))
        ).first()
        return START if last is None else (int(last.tx_id), int(last.position))

    async def identity_of(self, session: AggregateSession, person_id: str) -> IdentityRecord | None:
        row = (await _conn(session).execute(select(persons).where(persons.c.person_id == person_id))).one()
        identity = await self.cipher.decrypt(person_id, row.sealed_identity)
        if row.status == "merged" or not identity.get("full_name"):
            return None
        return identity_record(row, identity)

    async def declared_serials(
        self, session: AggregateSession, serials: Sequence[str]
    ) -> dict[str, list[DeclaredRow]]:
        found: dict[str, list[DeclaredRow]] = {}
        serial_of = {key: serial for serial in serials if (key := self.names.serial(serial)) is not None}
        keys = sorted(serial_of)
        for start in range(0, len(keys), 500):
            rows = await _conn(session).execute(
                select(declared_serials)
                .where(declared_serials.c.serial_key.in_(keys[start : start + 500]))
                .order_by(
                    declared_serials.c.list_id, declared_serials.c.list_version, declared_serials.c.line
                )
            )
            for row in rows:
                found.setdefault(serial_of[row.serial_key], []).append(
                    DeclaredRow(
                        serial=serial_of[row.serial_key],
                        list_id=row.list_id,
                        movement=row.movement,
                        list_version=row.list_version,
                        line=row.line,
                    )
                )
        return found

    async def case_of_pair(self, session: AggregateSession, a: str, b: str) -> str | None:
        pair = or_(
            (duplicates.c.person_id == a) & (duplicates.c.other_person_id == b),
            (duplicates.c.person_id == b) & (duplicates.c.other_person_id == a),
        )
        found = (await _conn(session).execute(select(duplicates.c.case_id).where(pair).limit(1))).first()
        return found.case_id if found is not None else None

    async def biometric_holder(
        self, session: AggregateSession, biometric_hash: str, person_id: str
    ) -> Holder | None:
        query = select(persons).where(
            persons.c.biometric_hash == biometric_hash, persons.c.person_id != person_id
        )
        conn = _conn(session)
        row = (await conn.execute(query)).first()
        seen: set[str] = set()
        while row is not None and row.merged_into is not None and row.person_id not in seen:
            seen.add(row.person_id)
            row = (await conn.execute(select(persons).where(persons.c.person_id == row.merged_into))).first()
        if row is None or row.ddr_id is None:
            return None
        return Holder(row.person_id, row.ddr_id, row.movement, row.category, row.region)


def _person_record(row: Row[Any], identity: dict[str, Any], merge_targets_seen: Container[str]) -> Record:
    """A person's row as answered: the sealed columns opened (``identity``), the keyed hashes left out, and
    ``merged_into`` only when the caller may see that record (else as if it did not exist: no id)."""
    record = {
        **_plain(row, "seq", "sealed_identity", "sealed_weapons", "ref_key", "biometric_hash"),
        **identity,
    }
    if row.ref_key.startswith("erased:"):
        record["movement_ref"] = row.ref_key  # the placeholder an erasure leaves
    if row.merged_into is not None and row.merged_into not in merge_targets_seen:
        record["merged_into"] = None
    return record


async def _merge_targets_seen(
    conn: AsyncConnection, principal: Principal, rows: Sequence[Row[Any]]
) -> set[str]:
    """Of the records these rows were merged into, those the caller may see (the visibility of reading them)."""
    targets = sorted({row.merged_into for row in rows if row.merged_into is not None})
    if not targets:
        return set()
    found = await conn.execute(
        select(persons.c.person_id).where(persons.c.person_id.in_(targets), visible_persons(principal))
    )
    return set(found.scalars())


def _conn(session: AggregateSession) -> AsyncConnection:
    """The connection of the command's transaction (the runtime's session, which the ports leave out)."""
    return cast(Session, session).conn


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
