"""The policy that reacts to registration's events: keep what screening needs of each person, open one case
per registered person (children separated in the same transaction), and follow corrections, merges and
weapons handed over.

It runs inside the consumer's transaction, a batch at a time: the persons and cases a batch names are read
at once, changed in memory in the batch's order (Kafka keeps each person's order), and written at once.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from ddr_contracts.registration import (
    PersonDetailsCorrected,
    PersonMergedInto,
    PersonPreRegistered,
    PersonRegistered,
    WeaponHandedOver,
)
from ddr_contracts.screening import CaseDetailsCorrected, ScreeningCaseOpened, VettingListEntry
from ddr_runtime.eventstore.store import Causation
from ddr_runtime.messaging.consumer import ReceivedEvent
from ddr_screening.adapters.projections import project_cases, upsert_persons
from ddr_screening.adapters.tables import cases as case_table
from ddr_screening.adapters.tables import persons as person_table
from ddr_screening.domain.age import youngest_age
from ddr_screening.domain.case import ScreeningCase
from ddr_screening.domain.errors import UnknownRecord
from ddr_screening.domain.rules import RuleSet
from ddr_screening.service_layer.alerts import note_children
from ddr_screening.service_layer.unit import Screening

log = logging.getLogger(__name__)

REGISTRATION_EVENTS = frozenset(
    {
        PersonPreRegistered.name,
        PersonRegistered.name,
        PersonDetailsCorrected.name,
        PersonMergedInto.name,
        WeaponHandedOver.name,
    }
)
ACTOR = "screening-intake"
_BIRTH = "birth_date"


class Intake:
    """One batch of registration events applied to screening's persons and cases."""

    def __init__(self, scr: Screening, conn: AsyncConnection) -> None:
        self.scr = scr
        self.conn = conn
        self.persons: dict[str, dict[str, Any]] = {}
        self.births: dict[str, date | None] = {}  # exact birth dates opened for this batch only
        self.cases: dict[str, ScreeningCase] = {}
        self.causes: dict[str, Causation] = {}
        self.touched: set[str] = set()
        self.rules: RuleSet | None = None
        self.list_version: int | None = None
        self.matches: dict[str, VettingListEntry] = {}

    async def run(self, batch: Sequence[ReceivedEvent]) -> None:
        ids = {str(item.event.person_id) for item in batch}  # type: ignore[attr-defined]
        await self._load(ids, batch)
        for item in batch:
            self._apply(item)
        await self._save()

    async def _load(self, ids: set[str], batch: Sequence[ReceivedEvent]) -> None:
        conn, scr = self.conn, self.scr
        wanted = sorted(ids)
        existing: list[str] = []
        for start in range(0, len(wanted), 1000):
            chunk = wanted[start : start + 1000]
            for row in (
                await conn.execute(select(person_table).where(person_table.c.person_id.in_(chunk)))
            ).all():
                self.persons[row.person_id] = dict(row._mapping)
            existing += (
                (await conn.execute(select(case_table.c.person_id).where(case_table.c.person_id.in_(chunk))))
                .scalars()
                .all()
            )
        self.cases = await scr.cases.load_many(conn, existing) if existing else {}
        sealed = [
            (pid, {_BIRTH: row["sealed_birth_date"]})
            for pid, row in self.persons.items()
            if row["sealed_birth_date"] is not None
        ]
        if sealed:
            opened = await scr.store.cipher.decrypt_many(sealed)
            for (pid, _), data in zip(sealed, opened, strict=True):
                value = data.get(_BIRTH)
                self.births[pid] = date.fromisoformat(value) if isinstance(value, str) else None
        today = max((i.envelope.occurredat for i in batch), default=datetime.now(UTC)).date()
        self.rules = await scr.rules_in_force(conn, max(today, datetime.now(UTC).date()))
        self.list_version = await scr.vetting_list_version(conn)
        if self.list_version is not None:
            self.matches = await scr.vetting_matches(conn, self.list_version, ids)

    def _apply(self, item: ReceivedEvent) -> None:
        event = item.event
        if isinstance(event, PersonPreRegistered):
            self._pre_registered(event)
        elif isinstance(event, PersonRegistered):
            self._registered(event, item)
        elif isinstance(event, PersonDetailsCorrected):
            self._corrected(event, item)
        elif isinstance(event, PersonMergedInto):
            self._merged(event, item)
        elif isinstance(event, WeaponHandedOver):
            self._weapon(event, item)

    def _pre_registered(self, event: PersonPreRegistered) -> None:
        pid = event.person_id
        self.persons[pid] = {
            "person_id": pid,
            "movement": event.movement,
            "category": event.category,
            "sex": event.sex,
            "birth_kind": event.birth_kind,
            "birth_year": event.birth_year,
            "sealed_birth_date": None,
            "region": event.region,
            "cercle": event.cercle,
            "rank": event.rank,
            "armed": event.armed,
            "weapon_handed_over": self.persons.get(pid, {}).get("weapon_handed_over", False),
            "merged_into": None,
        }
        self.births[pid] = event.birth_date
        self.touched.add(pid)

    def _registered(self, event: PersonRegistered, item: ReceivedEvent) -> None:
        pid = event.person_id
        case = self.cases.get(pid)
        if case is not None and case.opened:
            return  # one case per person, however often registration is delivered
        person = self.persons.get(pid)
        if person is None:
            raise UnknownRecord("pre-registered person", pid)
        at = item.envelope.occurredat
        case = self.scr.cases.fresh(pid)
        case.open(
            ScreeningCaseOpened(
                person_id=pid,
                ddr_id=event.ddr_id,
                movement=person["movement"],
                category=person["category"],
                sex=person["sex"],
                region=person["region"],
                cercle=person["cercle"],
                rank=person["rank"],
                armed=person["armed"],
                birth_kind=person["birth_kind"],
                birth_year=person["birth_year"],
                youngest_age=youngest_age(
                    person["birth_kind"], person["birth_year"], self.births.get(pid), at.date()
                ),
                weapon_handed_over=person["weapon_handed_over"],
                registered_on=at.date(),
            ),
            at,
            self.scr.policy,
        )
        if person["merged_into"]:
            case.merge_into(person["merged_into"])
        self._vet_and_settle(case, item)
        self.births.pop(pid, None)  # the age is assessed: the birth date is not kept
        self.touched.add(pid)

    def _vet_and_settle(self, case: ScreeningCase, item: ReceivedEvent) -> None:
        if self.list_version is not None and case.vetting is None:
            case.check_vetting_list(self.list_version, self.matches.get(case.person_id))
        case.settle(self.rules)
        self.cases[case.person_id] = case
        self.causes[case.person_id] = _causation(item)

    def _corrected(self, event: PersonDetailsCorrected, item: ReceivedEvent) -> None:
        pid = event.person_id
        person = self.persons.get(pid)
        fields = set(event.corrected_fields)
        if person is not None:
            for name in ("category", "sex", "birth_kind", "birth_year", "region", "cercle", "rank", "armed"):
                value = getattr(event, name)
                if name in fields and value is not None:
                    person[name] = value
            if _BIRTH in fields:
                self.births[pid] = event.birth_date
            self.touched.add(pid)
        case = self.cases.get(pid)
        if case is None or not case.opened:
            return
        age = None
        if fields & {"birth_kind", "birth_year", _BIRTH} and case.registered_on is not None:
            kind = event.birth_kind or case.birth_kind
            year = event.birth_year if event.birth_year is not None else case.birth_year
            age = youngest_age(kind, year, event.birth_date, case.registered_on)
        corrected = CaseDetailsCorrected(
            person_id=pid,
            corrected_fields=tuple(sorted(fields - {_BIRTH, "full_name", "full_name_arabic", "commune"})),
            category=event.category,
            sex=event.sex,
            birth_kind=event.birth_kind,
            birth_year=event.birth_year,
            region=event.region,
            cercle=event.cercle,
            rank=event.rank,
            armed=event.armed,
            youngest_age=age,
        )
        if corrected.corrected_fields or age is not None:
            case.correct(corrected, item.envelope.occurredat, self.scr.policy)
            self._vet_and_settle(case, item)

    def _merged(self, event: PersonMergedInto, item: ReceivedEvent) -> None:
        pid = event.person_id
        if pid in self.persons:
            self.persons[pid]["merged_into"] = event.into_person_id
            self.touched.add(pid)
        case = self.cases.get(pid)
        if case is not None and case.opened:
            case.merge_into(event.into_person_id)
            self._vet_and_settle(case, item)

    def _weapon(self, event: WeaponHandedOver, item: ReceivedEvent) -> None:
        pid = event.person_id
        if event.kind != "weapon":
            return  # ammunition alone is no weapon handed over
        if pid in self.persons:
            self.persons[pid]["weapon_handed_over"] = True
            self.touched.add(pid)
        case = self.cases.get(pid)
        if case is not None and case.opened and not case.weapon_handed_over:
            case.note_weapon(event.weapon_id, event.receipt_number)
            self._vet_and_settle(case, item)

    async def _save(self) -> None:
        # A birth date still needed (pre-registered, not yet registered) is kept sealed under the person's key.
        keep = [pid for pid in self.touched if pid in self.persons and self.births.get(pid) is not None]
        sealed = await self.scr.store.cipher.encrypt_many(
            [(pid, {_BIRTH: self.births[pid]}, (_BIRTH,)) for pid in keep]
        )
        for pid, data in zip(keep, sealed, strict=True):
            self.persons[pid]["sealed_birth_date"] = data[_BIRTH]
        for pid in self.touched:
            if pid in self.persons and self.births.get(pid) is None:
                self.persons[pid]["sealed_birth_date"] = None
        await upsert_persons(
            self.conn, [self.persons[pid] for pid in sorted(self.touched) if pid in self.persons]
        )
        changed = await self.scr.cases.save_many(
            self.conn, list(self.cases.values()), self.causes.__getitem__
        )
        await project_cases(self.conn, [case for case, _ in changed])
        note_children(changed)


def _causation(item: ReceivedEvent) -> Causation:
    return Causation(ACTOR, item.envelope.correlationid or item.envelope.id, item.envelope.id)


async def on_registration_events(
    scr: Screening, conn: AsyncConnection, batch: Sequence[ReceivedEvent]
) -> None:
    await Intake(scr, conn).run(batch)
