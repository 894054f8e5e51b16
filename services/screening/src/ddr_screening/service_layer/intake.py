"""The policy that reacts to registration's events: keep what screening needs of each person, open one case
per registered person (children separated in the same transaction), and follow corrections, merges and
weapons handed over.

It runs inside the consumer's transaction, a batch at a time: the persons and cases a batch names are read
at once, changed in memory in the batch's order (Kafka keeps each person's order), and written at once (the
cases in one append for all their streams). Each fact takes the business time registration gave it: a case
opens at the registration's, a child's 48-hour hand-over deadline runs from it, and what registration tells
later reaches the case no earlier than it opened.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from ddr_contracts.registration import (
    PersonDetailsCorrected,
    PersonMergedInto,
    PersonPreRegistered,
    PersonRegistered,
    WeaponHandedOver,
)
from ddr_runtime.eventstore.ports import AggregateSession, Causation
from ddr_runtime.kernel import UnknownRecord
from ddr_screening.domain.age import youngest_age
from ddr_screening.domain.case import ScreeningCase
from ddr_screening.domain.events import CaseDetailsCorrected, ScreeningCaseOpened
from ddr_screening.domain.rules import RuleSet
from ddr_screening.domain.values import VettingListEntry
from ddr_screening.service_layer.cases import save_cases
from ddr_screening.service_layer.service import Screening

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
Told = tuple[Any, datetime]
"""One of registration's events, and when it happened (its business time)."""
BIRTH = "birth_date"
KEPT = ("category", "sex", "birth_kind", "birth_year", "region", "cercle", "rank", "armed")
NOT_ON_THE_CASE = frozenset({BIRTH, "full_name", "full_name_arabic", "commune"})


class Intake:
    """One batch of registration events applied to screening's persons and cases."""

    def __init__(self, scr: Screening, session: AggregateSession) -> None:
        self.scr = scr
        self.session = session
        self.persons: dict[str, dict[str, Any]] = {}
        self.births: dict[str, date | None] = {}  # exact birth dates, kept sealed until the case opens
        self.cases: dict[str, ScreeningCase] = {}
        self.touched: set[str] = set()
        self.rule_sets: list[RuleSet] = []
        self.list_version: int | None = None
        self.matches: dict[str, VettingListEntry] = {}

    async def run(self, batch: Sequence[Told]) -> None:
        ids = sorted({str(event.person_id) for event, _ in batch})
        self.persons, self.births = await self.scr.persons.load(self.session, ids)
        self.cases = await self.session.load_many(ids, ScreeningCase)
        self.rule_sets = await self.scr.reference.rule_sets(self.session)
        self.list_version, self.matches = await self.scr.reference.vetting_list(self.session, ids)
        for event, at in batch:
            self._apply(event, at)
        await self.scr.persons.save(
            self.session,
            [self.persons[pid] for pid in sorted(self.touched) if pid in self.persons],
            self.births,
        )
        await save_cases(self.session, self.cases.values(), Causation(ACTOR))

    def _apply(self, event: Any, at: datetime) -> None:
        if isinstance(event, PersonPreRegistered):
            self._pre_registered(event)
        elif isinstance(event, PersonRegistered):
            self._registered(event, at)
        elif isinstance(event, PersonDetailsCorrected):
            self._corrected(event, at)
        elif isinstance(event, PersonMergedInto):
            self._merged(event, at)
        elif isinstance(event, WeaponHandedOver):
            self._weapon(event, at)

    def _open_case(self, person_id: str) -> ScreeningCase | None:
        case = self.cases.get(person_id)
        return case if case is not None and case.opened else None

    def _pre_registered(self, event: PersonPreRegistered) -> None:
        pid = event.person_id
        self.persons[pid] = {
            "person_id": pid,
            "movement": event.movement,
            **{name: getattr(event, name) for name in KEPT},
            "weapon_handed_over": self.persons.get(pid, {}).get("weapon_handed_over", False),
            "merged_into": None,
        }
        self.births[pid] = event.birth_date
        self.touched.add(pid)

    def _registered(self, event: PersonRegistered, at: datetime) -> None:
        pid = event.person_id
        if self._open_case(pid) is not None:
            return  # one case per person, however often registration is delivered
        person = self.persons.get(pid)
        if person is None:
            raise UnknownRecord("pre-registered person", pid)
        case = self.cases[pid] = ScreeningCase()
        age = youngest_age(person["birth_kind"], person["birth_year"], self.births.get(pid), at.date())
        opened = ScreeningCaseOpened(
            person_id=pid,
            ddr_id=event.ddr_id,
            youngest_age=age,
            registered_on=at.date(),
            **{name: person[name] for name in ("movement", "weapon_handed_over", *KEPT)},
        )
        case.open(opened, at, self.scr.policy)
        if person["merged_into"]:
            case.merge_into(person["merged_into"], at)
        self._vet_and_settle(case, at)
        self.births[pid] = None  # the age is assessed: the birth date is not kept
        self.touched.add(pid)

    def _vet_and_settle(self, case: ScreeningCase, at: datetime) -> None:
        if self.list_version is not None and case.vetting is None:
            case.check_vetting_list(self.list_version, self.matches.get(case.person_id), at)
        case.settle(self.rule_sets)

    def _corrected(self, event: PersonDetailsCorrected, at: datetime) -> None:
        pid = event.person_id
        person = self.persons.get(pid)
        fields = set(event.corrected_fields)
        if person is not None:
            for name in KEPT:
                value = getattr(event, name)
                if name in fields and value is not None:
                    person[name] = value
            if BIRTH in fields:
                self.births[pid] = event.birth_date
            self.touched.add(pid)
        case = self._open_case(pid)
        if case is None:
            return
        age = None
        if fields & {"birth_kind", "birth_year", BIRTH} and case.registered_on is not None:
            kind = event.birth_kind or case.birth_kind
            year = event.birth_year if event.birth_year is not None else case.birth_year
            age = youngest_age(kind, year, event.birth_date, case.registered_on)
        corrected = CaseDetailsCorrected(
            person_id=pid,
            corrected_fields=tuple(sorted(fields - NOT_ON_THE_CASE)),
            youngest_age=age,
            **{name: getattr(event, name) for name in KEPT},
        )
        if corrected.corrected_fields or age is not None:
            case.correct(corrected, at, self.scr.policy)
            self._vet_and_settle(case, at)

    def _merged(self, event: PersonMergedInto, at: datetime) -> None:
        pid = event.person_id
        if pid in self.persons:
            self.persons[pid]["merged_into"] = event.into_person_id
            self.touched.add(pid)
        case = self._open_case(pid)
        if case is not None:
            case.merge_into(event.into_person_id, at)
            self._vet_and_settle(case, at)

    def _weapon(self, event: WeaponHandedOver, at: datetime) -> None:
        pid = event.person_id
        if event.kind != "weapon":
            return  # ammunition alone is no weapon handed over
        if pid in self.persons:
            self.persons[pid]["weapon_handed_over"] = True
            self.touched.add(pid)
        case = self._open_case(pid)
        if case is not None and not case.weapon_handed_over:
            case.note_weapon(event.weapon_id, event.receipt_number, at)
            self._vet_and_settle(case, at)


async def take_registration_events(scr: Screening, session: AggregateSession, batch: Sequence[Told]) -> None:
    """Apply a batch of registration's events, each with its business time, in the consumer's transaction
    (``session``)."""
    await Intake(scr, session).run(batch)
