"""The registration's command handlers on a unit of work in memory: load, decide, save (no database, no
broker). The read model's look-ups are a fake of the service layer's own port."""

from __future__ import annotations

from collections.abc import Collection, Container, Sequence
from datetime import date

import pytest

from ddr_registration.domain.ddr_id import is_valid_ddr_id
from ddr_registration.domain.duplicates import Holder, duplicate_stream
from ddr_registration.domain.events import (
    CoalitionJoined,
    DuplicateSuspected,
    ListVersionSubmitted,
    MovementRegistered,
    PersonAbsorbed,
    PersonDetailsCorrected,
    PersonMergedInto,
    PersonPreRegistered,
    PersonRegistered,
    WeaponHandedOver,
    WeaponSerialDuplicateFlagged,
)
from ddr_registration.domain.identity import IdentityRecord
from ddr_registration.domain.lists import list_stream
from ddr_registration.domain.movements import movement_stream
from ddr_registration.domain.persons import Correction, person_stream
from ddr_registration.domain.values import DuplicateReason
from ddr_registration.domain.weapons import HandOver, weapon_stream
from ddr_registration.service_layer import handlers
from ddr_registration.service_layer.desk import RegistrationDesk
from ddr_registration.service_layer.handlers import Enrolment
from ddr_runtime.eventstore.errors import ConcurrencyConflict
from ddr_runtime.eventstore.store import Causation
from ddr_runtime.eventstore.unit import Session
from ddr_runtime.kernel import AlreadyDone, BackRecording, Recording, RuleViolated, UnknownRecord
from ddr_testkit.fakes import FakeUnitOfWork

CAUSE = Causation(actor="officer-1")

HISTORY = Recording(authority=BackRecording("records_officer", "migrated from the 2018 registers"))


class FakeLookups:
    """The read model's answers, as a test sets them."""

    def __init__(self) -> None:
        self.ddr_ids: set[str] = set()
        self.serials: dict[str, tuple[str, ...]] = {}
        self.identities: dict[str, IdentityRecord] = {}
        self.holders: dict[str, Holder] = {}

    async def ddr_id_taken(self, session: Session, ddr_id: str) -> bool:
        return ddr_id in self.ddr_ids

    async def weapons_with_serial(self, session: Session, serial: str) -> tuple[str, ...]:
        return self.serials.get(serial, ())

    async def listed(self, session: Session, movement: str, refs: Sequence[str]) -> dict[str, str]:
        return {}

    async def earlier_import(self, session: Session, file_sha256: str, movement: str) -> None:
        return None

    async def people_after(
        self, session: Session, seen: int, limit: int, indexed: Container[str]
    ) -> tuple[list[IdentityRecord], int | None]:
        return [], None

    async def left_after(
        self, session: Session, after: tuple[int, int], limit: int
    ) -> tuple[list[str], tuple[int, int] | None]:
        return [], None

    async def still_matchable(self, session: Session, person_ids: Collection[str]) -> set[str]:
        return set(person_ids)

    async def end_of_history(self, session: Session) -> tuple[int, int]:
        return (0, 0)

    async def identity_of(self, session: Session, person_id: str) -> IdentityRecord | None:
        return self.identities.get(person_id)

    async def case_of_pair(self, session: Session, a: str, b: str) -> str | None:
        return None

    async def biometric_holder(self, session: Session, biometric_hash: str, person_id: str) -> Holder | None:
        return self.holders.get(biometric_hash)


class Hasher:
    def digest(self, template_reference: str) -> str:
        return f"hash:{template_reference}"


class Keys:
    """Personal-data keys, as a test watches them."""

    def __init__(self) -> None:
        self.erased: list[str] = []

    async def keys_for_writing(self, subjects: Sequence[str]) -> None:
        return None

    async def erase(self, subject: str) -> None:
        self.erased.append(subject)


class NoFiles:
    def read(self, path: object) -> object:
        raise AssertionError("no file is read here")

    def sha256(self, path: object) -> str:
        raise AssertionError("no file is read here")


@pytest.fixture
def unit() -> FakeUnitOfWork:
    return FakeUnitOfWork()


@pytest.fixture
def lookups() -> FakeLookups:
    return FakeLookups()


@pytest.fixture
def desk(unit: FakeUnitOfWork, lookups: FakeLookups) -> RegistrationDesk:
    ids = iter(f"id-{n}" for n in range(1, 100))
    return RegistrationDesk(unit, lookups, Hasher(), NoFiles(), Keys(), new_id=lambda: next(ids))  # type: ignore[arg-type]


def pre_registered(person_id: str, name: str = "Ibrahim Ag Assaleh") -> PersonPreRegistered:
    return PersonPreRegistered(
        person_id=person_id,
        list_id="list-1",
        list_version=1,
        movement="MNLA",
        movement_ref=f"M-{person_id}",
        category="combatant",
        sex="M",
        birth_kind="year",
        region="Kidal",
        cercle="Kidal",
        rank="",
        armed=True,
        birth_year=1988,
        full_name=name,
    )


async def test_a_movement_is_registered_once_under_its_code(
    desk: RegistrationDesk, unit: FakeUnitOfWork
) -> None:
    version = await handlers.register_movement(desk, "MNLA", "Mouvement national", "movement", CAUSE)

    with pytest.raises(AlreadyDone) as again:
        await handlers.register_movement(desk, "MNLA", "Mouvement national", "movement", CAUSE)

    assert version == 1
    assert again.value.rule == "movement-code-unique"
    assert unit.events(movement_stream("MNLA")) == [
        MovementRegistered(code="MNLA", display_name="Mouvement national", kind="movement")
    ]


async def test_a_movement_joins_a_coalition_at_the_version_it_was_read(
    desk: RegistrationDesk, unit: FakeUnitOfWork
) -> None:
    unit.given(movement_stream("CMA"), MovementRegistered(code="CMA", display_name="CMA", kind="coalition"))
    unit.given(
        movement_stream("PF"), MovementRegistered(code="PF", display_name="Platform", kind="coalition")
    )
    unit.given(movement_stream("HCUA"), MovementRegistered(code="HCUA", display_name="HCUA", kind="movement"))

    version = await handlers.join_coalition(desk, "HCUA", "CMA", date(2014, 10, 28), 1, CAUSE, HISTORY)
    unit.retries = 0
    with pytest.raises(ConcurrencyConflict):
        await handlers.join_coalition(desk, "HCUA", "PF", date(2015, 1, 1), 1, CAUSE, HISTORY)

    assert version == 2
    assert unit.events() == [CoalitionJoined(movement="HCUA", coalition="CMA", since=date(2014, 10, 28))]


async def test_a_list_version_is_certified_then_endorsed(
    desk: RegistrationDesk, unit: FakeUnitOfWork
) -> None:
    unit.given(
        list_stream("list-1"),
        ListVersionSubmitted(
            list_id="list-1",
            movement="MNLA",
            list_version=1,
            file_sha256="sha",
            rows_total=1,
            rows_accepted=1,
            rows_rejected=0,
        ),
    )

    with pytest.raises(RuleViolated) as refused:
        await handlers.endorse_list(desk, "list-1", 1, "CTS", 1, CAUSE, Recording())
    certified = await handlers.certify_list(desk, "list-1", 1, 1, CAUSE, Recording())
    endorsed = await handlers.endorse_list(desk, "list-1", 1, "CTS", certified, CAUSE, Recording())

    assert refused.value.rule == "certify-before-endorsing"
    assert (certified, endorsed) == (2, 3)


async def test_registration_issues_a_ddr_id_and_keeps_only_the_keyed_hash(
    desk: RegistrationDesk, unit: FakeUnitOfWork
) -> None:
    unit.given(person_stream("p-1"), pre_registered("p-1"))

    done = await handlers.register_person(
        desk, "p-1", Enrolment("device-7/template-42", "Gao"), 1, CAUSE, Recording()
    )

    (event,) = unit.events(person_stream("p-1"))
    assert isinstance(event, PersonRegistered)
    assert is_valid_ddr_id(done.ddr_id)
    assert (event.ddr_id, event.biometric_hash, event.site) == (
        done.ddr_id,
        "hash:device-7/template-42",
        "Gao",
    )
    assert done.version == 2


async def test_a_biometric_registered_to_another_record_issues_no_ddr_id_and_raises_a_certain_case(
    desk: RegistrationDesk, unit: FakeUnitOfWork, lookups: FakeLookups
) -> None:
    unit.given(person_stream("p-2"), pre_registered("p-2"))
    holder = Holder("p-1", "DDR-00000-00000-0", "MNLA", "combatant", "Kidal")
    lookups.holders["hash:device-7/template-42"] = holder

    with pytest.raises(handlers.AlreadyRegistered) as refused:
        await handlers.register_person(
            desk, "p-2", Enrolment("device-7/template-42", "Gao"), 1, CAUSE, Recording()
        )

    assert (refused.value.rule, refused.value.holder) == ("one-person-one-ddr-id", holder)
    assert unit.events(person_stream("p-2")) == []
    (case,) = unit.events(duplicate_stream(refused.value.case_id))
    assert isinstance(case, DuplicateSuspected)
    assert (case.person_id, case.other_person_id, case.certain) == ("p-2", "p-1", True)
    assert [reason.kind for reason in case.reasons] == ["biometric_same"]


async def test_registering_someone_never_listed_is_an_unknown_record(desk: RegistrationDesk) -> None:
    with pytest.raises(UnknownRecord) as unknown:
        await handlers.register_person(
            desk, "p-9", Enrolment("device-7/template-42", "Gao"), 1, CAUSE, Recording()
        )

    assert unknown.value.rule == "unknown-person"


async def test_a_correction_changes_the_named_details_and_looks_again_for_duplicates(
    desk: RegistrationDesk, unit: FakeUnitOfWork, lookups: FakeLookups
) -> None:
    unit.given(person_stream("p-1"), pre_registered("p-1", "Oumar Ould Sidi"))
    unit.given(person_stream("p-2"), pre_registered("p-2", "Oumar Ould Sidy"))
    for person_id, name in (("p-1", "Oumar Ould Sidy"), ("p-2", "Oumar Ould Sidy")):
        record = IdentityRecord(
            person_id=person_id, names=(name,), birth_year=1988, region="Kidal", cercle="Kidal"
        )
        lookups.identities[person_id] = record
    desk.index.add(lookups.identities["p-2"])

    await handlers.correct_person(
        desk, "p-1", Correction(full_name="Oumar Ould Sidy"), "ID card", 1, CAUSE, Recording()
    )

    corrected, suspected = unit.events()
    assert isinstance(corrected, PersonDetailsCorrected)
    assert corrected.corrected_fields == ("full_name",)
    assert isinstance(suspected, DuplicateSuspected)
    assert (suspected.person_id, suspected.other_person_id) == ("p-1", "p-2")


async def test_a_merge_closes_the_absorbed_record_and_takes_it_into_the_survivor(
    desk: RegistrationDesk, unit: FakeUnitOfWork
) -> None:
    unit.given(person_stream("p-1"), pre_registered("p-1"))
    unit.given(person_stream("p-2"), pre_registered("p-2"))
    unit.given(
        duplicate_stream("c-1"),
        DuplicateSuspected(
            case_id="c-1",
            person_id="p-2",
            other_person_id="p-1",
            score=0.97,
            certain=False,
            reasons=(DuplicateReason(kind="name_similarity", score=0.97),),
        ),
    )

    await handlers.resolve_duplicate(desk, "c-1", "merged", "p-1", 1, CAUSE)

    assert unit.events(person_stream("p-2")) == [
        PersonMergedInto(person_id="p-2", into_person_id="p-1", case_id="c-1")
    ]
    assert unit.events(person_stream("p-1")) == [
        PersonAbsorbed(person_id="p-1", absorbed_person_id="p-2", case_id="c-1")
    ]


async def test_a_hand_over_of_a_serial_already_handed_over_is_recorded_and_flagged(
    desk: RegistrationDesk, unit: FakeUnitOfWork, lookups: FakeLookups
) -> None:
    unit.given(person_stream("p-1"), pre_registered("p-1"))
    lookups.serials["PK77812"] = ("w-0",)
    item = HandOver("weapon", "PKM", "7.62x54R", "pk-778 12", 1, "usable", "T-1", "CTS Kidal")

    done = await handlers.hand_over_weapon(desk, "p-1", item, CAUSE, Recording())

    handed, flagged = unit.events(weapon_stream(done.weapon_id))
    assert isinstance(handed, WeaponHandedOver)
    assert flagged == WeaponSerialDuplicateFlagged(
        weapon_id=done.weapon_id, person_id="p-1", earlier_weapon_ids=("w-0",)
    )
    assert done.flagged


async def test_an_erasure_is_recorded_and_the_persons_key_destroyed(
    desk: RegistrationDesk, unit: FakeUnitOfWork
) -> None:
    unit.given(person_stream("p-1"), pre_registered("p-1"))

    await handlers.erase_person(desk, "p-1", "data_subject_request", "CNDDR-2024-12", 1, CAUSE)

    assert [type(event).__name__ for event in unit.events(person_stream("p-1"))] == ["PersonalDataErased"]
    assert isinstance(desk.keys, Keys)
    assert desk.keys.erased == ["p-1"]


async def test_an_erasure_reaches_every_record_a_merge_made_one_with_the_record_named(
    desk: RegistrationDesk, unit: FakeUnitOfWork
) -> None:
    """Issue 14, finding 7: erasure must reach every copy, merged records included (the absorbed record keeps
    the person's names under its own key)."""
    for person_id in ("p-1", "p-2", "p-3"):
        unit.given(person_stream(person_id), pre_registered(person_id))
    unit.given(person_stream("p-2"), PersonMergedInto(person_id="p-2", into_person_id="p-1", case_id="c-1"))
    unit.given(person_stream("p-3"), PersonMergedInto(person_id="p-3", into_person_id="p-2", case_id="c-2"))
    unit.given(person_stream("p-1"), PersonAbsorbed(person_id="p-1", absorbed_person_id="p-2", case_id="c-1"))
    unit.given(person_stream("p-2"), PersonAbsorbed(person_id="p-2", absorbed_person_id="p-3", case_id="c-2"))

    await handlers.erase_person(desk, "p-2", "data_subject_request", "CNDDR-2024-12", 3, CAUSE)

    assert {
        person_id: [type(event).__name__ for event in unit.events(person_stream(person_id))]
        for person_id in ("p-1", "p-2", "p-3")
    } == {person_id: ["PersonalDataErased"] for person_id in ("p-1", "p-2", "p-3")}
    assert isinstance(desk.keys, Keys)
    assert sorted(desk.keys.erased) == ["p-1", "p-2", "p-3"]
