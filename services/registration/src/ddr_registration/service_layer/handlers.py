"""Command handlers: load the aggregate, let it decide, save with the expected version.

``expected_version`` comes from the caller's ``If-Match``: a stale one raises ConcurrencyConflict (409). Each
handler runs in the runtime's unit of work, which decides again on fresh state when a stream it did not pin
moved meanwhile. A command that records something done on a given day takes that day (``on``) and the
``recording`` it is recorded under; the aggregate checks it against the business time of what it depends on.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from ddr_registration.domain.ddr_id import new_ddr_id
from ddr_registration.domain.duplicates import DuplicateCase, Holder, duplicate_stream
from ddr_registration.domain.lists import CertifiedList, list_stream
from ddr_registration.domain.movements import Movement, movement_stream
from ddr_registration.domain.persons import Correction, Person, When, person_stream
from ddr_registration.domain.profiles import ImportProfile, profile_stream
from ddr_registration.domain.values import ColumnMapping, DuplicateOutcome, EndorsingBody, MovementKind
from ddr_registration.domain.weapons import (
    MARKS_STREAM,
    UNREADABLE,
    HandOver,
    MarkRegister,
    Weapon,
    normalise_serial,
    weapon_id_of,
    weapon_stream,
)
from ddr_registration.service_layer.dedup import (
    catch_up_index,
    certain_duplicate,
    reindex_person,
    suspect_duplicates,
)
from ddr_registration.service_layer.desk import RegistrationDesk
from ddr_runtime.eventstore.ports import AggregateSession, Causation, ItemOutcome
from ddr_runtime.kernel import AlreadyDone, Recording, RuleViolated, UnknownRecord

Remit = Callable[[Person], bool]
"""Whether the caller may act on this person's record, as it stands in the command's own transaction (their
movement, regions and the child rule, decided by the entry point). A record outside it is refused exactly
like a missing one, before anything is decided, so a write racing a change of scope cannot commit outside
it."""


def _everyone(_person: Person) -> bool:
    return True


async def person_in_remit(session: AggregateSession, person_id: str, remit: Remit) -> Person:
    """The person's record, if the caller may act on it; else UnknownRecord (404), as for a missing one."""
    person = await session.load_existing(person_stream(person_id), Person, "person", person_id)
    if not remit(person):
        raise UnknownRecord("person", person_id)
    return person


# -- movements -------------------------------------------------------------------------------------------


async def register_movement(
    reg: RegistrationDesk, code: str, display_name: str, kind: MovementKind, causation: Causation
) -> int:
    async def work(session: AggregateSession) -> int:
        if (await session.load(movement_stream(code), Movement)).version:
            raise AlreadyDone("movement-code-unique", f"movement {code} already exists")
        movement = Movement.register(code, display_name, kind)
        return await session.save(movement, movement_stream(code), code, causation, 0)

    return await reg.unit.run(work)


async def join_coalition(
    reg: RegistrationDesk,
    code: str,
    coalition: str,
    since: date,
    expected_version: int,
    causation: Causation,
    recording: Recording,
) -> int:
    async def work(session: AggregateSession) -> int:
        movement = await session.load_existing(movement_stream(code), Movement, "movement", code)
        group = await session.load_existing(movement_stream(coalition), Movement, "movement", coalition)
        movement.join(group, since, recording=recording)
        return await session.save(movement, movement_stream(code), code, causation, expected_version)

    return await reg.unit.run(work)


async def leave_coalition(
    reg: RegistrationDesk,
    code: str,
    coalition: str,
    until: date,
    expected_version: int,
    causation: Causation,
    recording: Recording,
) -> int:
    async def work(session: AggregateSession) -> int:
        movement = await session.load_existing(movement_stream(code), Movement, "movement", code)
        movement.leave(coalition, until, recording=recording)
        return await session.save(movement, movement_stream(code), code, causation, expected_version)

    return await reg.unit.run(work)


async def publish_import_profile(
    reg: RegistrationDesk,
    movement: str,
    name: str,
    mapping: ColumnMapping,
    causation: Causation,
) -> int:
    """The next version of one of the movement's import profiles; its number."""

    async def work(session: AggregateSession) -> int:
        await session.load_existing(movement_stream(movement), Movement, "movement", movement)
        profile = await session.load(profile_stream(movement, name), ImportProfile)
        number = profile.publish(movement, name, mapping.columns, mapping.values)
        await session.save(profile, profile_stream(movement, name), movement, causation)
        return number

    return await reg.unit.run(work)


# -- certified lists -------------------------------------------------------------------------------------


async def certify_list(
    reg: RegistrationDesk,
    list_id: str,
    number: int,
    expected_version: int,
    causation: Causation,
    recording: Recording,
    on: When = None,
) -> int:
    async def work(session: AggregateSession) -> int:
        certified = await session.load_existing(list_stream(list_id), CertifiedList, "list", list_id)
        certified.certify(number, recording=recording, on=on)
        return await session.save(certified, list_stream(list_id), list_id, causation, expected_version)

    return await reg.unit.run(work)


async def endorse_list(
    reg: RegistrationDesk,
    list_id: str,
    number: int,
    body: EndorsingBody,
    expected_version: int,
    causation: Causation,
    recording: Recording,
    on: When = None,
) -> int:
    async def work(session: AggregateSession) -> int:
        certified = await session.load_existing(list_stream(list_id), CertifiedList, "list", list_id)
        certified.endorse(number, body, recording=recording, on=on)
        return await session.save(certified, list_stream(list_id), list_id, causation, expected_version)

    return await reg.unit.run(work)


# -- persons ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Registered:
    version: int
    ddr_id: str
    duplicate_cases: list[str]


@dataclass(frozen=True)
class Enrolment:
    """A biometric registration as the field records it: the device's template reference, the site, the day."""

    template_reference: str
    site: str
    on: When = None


async def register_person(
    reg: RegistrationDesk,
    person_id: str,
    enrolment: Enrolment,
    expected_version: int | None,
    causation: Causation,
    recording: Recording,
    remit: Remit = _everyone,
) -> Registered:
    """Record the biometric enrolment (as a keyed hash) at its site and issue a DDR ID. A biometric already
    registered to another record issues none: the pair's duplicate case is made certain (or raised certain)
    and committed, then :class:`AlreadyRegistered` names the existing registration."""
    done = await reg.unit.run(
        lambda session: _register(
            reg, session, (person_id, enrolment, expected_version), causation, recording, remit
        )
    )
    if isinstance(done, AlreadyRegistered):
        raise done
    return done


class AlreadyRegistered(AlreadyDone):
    """The biometric reference presented is already registered to another record: one person, one DDR ID.

    Carries the existing registration and the certain duplicate case recorded for the CNDDR; an entry point
    names them only to a caller allowed to see that record."""

    def __init__(self, holder: Holder, case_id: str) -> None:
        super().__init__("one-person-one-ddr-id", "this biometric reference is already registered")
        self.holder, self.case_id = holder, case_id


BulkEnrolment = tuple[str, Enrolment, int | None]
"""An item of a bulk registration: the person, their enrolment, and the version read (``None``: the latest)."""


async def register_people(
    reg: RegistrationDesk,
    items: Sequence[BulkEnrolment],
    causation: Causation,
    recording: Recording,
    *,
    remit: Remit,
    atomic: bool = False,
) -> list[ItemOutcome[Registered]]:
    """Many registrations (a site's day): each recorded or refused on its own, or all or none (``atomic``).

    Each item's person is checked against the caller's ``remit`` in the item's own transaction, before
    anything is decided: one outside it is refused as an unknown person and nothing of it is written.
    An item presenting a biometric already registered to another record is refused (``one-person-one-ddr-id``,
    naming nobody); item by item, its certain duplicate case is still recorded for the CNDDR."""

    async def one(session: AggregateSession, item: BulkEnrolment) -> Registered | AlreadyRegistered:
        done = await _register(reg, session, item, causation, recording, remit)
        if atomic and isinstance(done, AlreadyRegistered):
            raise done
        return done

    outcomes = await reg.unit.run_items(items, one, atomic=atomic, subjects=lambda item: item[0])
    return [_refused_if_shared(outcome) for outcome in outcomes]


def _refused_if_shared(outcome: ItemOutcome[Registered | AlreadyRegistered]) -> ItemOutcome[Registered]:
    """An item that met a biometric registered to another record, as refused (its certain case stays)."""
    done = outcome.result
    if isinstance(done, AlreadyRegistered):
        return ItemOutcome(outcome.index, "refused", rule=done.rule, detail=done.detail)
    return ItemOutcome(
        outcome.index, outcome.status, done, outcome.rule, outcome.detail, outcome.figures, outcome.not_found
    )


async def _register(
    reg: RegistrationDesk,
    session: AggregateSession,
    item: BulkEnrolment,
    causation: Causation,
    recording: Recording,
    remit: Remit,
) -> Registered | AlreadyRegistered:
    person_id, enrolment, expected_version = item
    person = await person_in_remit(session, person_id, remit)
    if expected_version is not None and person.version != expected_version:
        raise AlreadyDone(
            "stale-version",
            "the person's record changed since it was read",
            figures={"read_version": expected_version, "current_version": person.version},
        )
    ddr_id = await _unused_ddr_id(reg, session)
    biometric_hash = reg.hasher.digest(enrolment.template_reference)
    # the person's own rules first (merged, erased, registered, business time)
    person.register(ddr_id, biometric_hash, enrolment.site, recording=recording, on=enrolment.on)
    holder = await reg.lookups.biometric_holder(session, biometric_hash, person_id)
    if holder is not None:
        case_id = await certain_duplicate(reg, session, person_id, holder.person_id, causation)
        return AlreadyRegistered(holder, case_id)
    version = await session.save(person, person_stream(person_id), person_id, causation, expected_version)
    cases = await _recheck_duplicates(reg, session, person_id, causation)
    return Registered(version, ddr_id, cases)


async def _unused_ddr_id(reg: RegistrationDesk, session: AggregateSession) -> str:
    while True:
        candidate = new_ddr_id()
        if not await reg.lookups.ddr_id_taken(session, candidate):
            return candidate


async def correct_person(
    reg: RegistrationDesk,
    person_id: str,
    correction: Correction,
    reason: str,
    expected_version: int,
    causation: Causation,
    recording: Recording,
    on: When = None,
) -> int:
    async def work(session: AggregateSession) -> int:
        person = await session.load_existing(person_stream(person_id), Person, "person", person_id)
        person.correct(correction, reason, recording=recording, on=on)
        version = await session.save(person, person_stream(person_id), person_id, causation, expected_version)
        await _recheck_duplicates(reg, session, person_id, causation)
        return version

    return await reg.unit.run(work)


async def erase_person(
    reg: RegistrationDesk,
    person_id: str,
    reason_code: str,
    authority: str,
    expected_version: int,
    causation: Causation,
) -> int:
    """Crypto-shred the person: the erasure is recorded, then their key destroyed before the commit, so either
    both happen or neither does (the key store's erasure is idempotent: a retry after a failed commit ends the
    job). Every personal field of every event about them, on every topic and in every backup, reads ``None``.

    A merge made several records one person: the erasure reaches all of them (the record it survives in and
    every record merged into it, whichever of them is named), each with its own key. The new version of the
    record named is answered."""
    erased: list[str] = []

    async def work(session: AggregateSession) -> int:
        erased.clear()
        person = await session.load_existing(person_stream(person_id), Person, "person", person_id)
        person.erase(reason_code, authority, causation.actor)
        version = await session.save(person, person_stream(person_id), person_id, causation, expected_version)
        erased.append(person_id)
        for other_id in await _merged_with(session, person):
            other = await session.load_existing(person_stream(other_id), Person, "person", other_id)
            if other.erased:
                continue
            other.erase(reason_code, authority, causation.actor)
            await session.save(other, person_stream(other_id), other_id, causation)
            erased.append(other_id)
        for erased_id in erased:
            await reg.keys.erase(erased_id)
        return version

    version = await reg.unit.run(work)
    for erased_id in erased:
        reg.index.remove(erased_id)
    return version


async def _merged_with(session: AggregateSession, person: Person) -> list[str]:
    """Every other record a merge made one with ``person``: up to the record that survives, and every record
    merged into that one, however deep."""
    root, seen = person, {person.person_id}
    while root.merged_into is not None and root.merged_into not in seen:
        seen.add(root.merged_into)
        root = await session.load_existing(
            person_stream(root.merged_into), Person, "person", root.merged_into
        )
    group, frontier = [root.person_id], list(root.absorbed)
    while frontier:
        current = frontier.pop()
        if current in group:
            continue
        group.append(current)
        frontier.extend(
            (await session.load_existing(person_stream(current), Person, "person", current)).absorbed
        )
    return [member for member in group if member != person.person_id]


async def _recheck_duplicates(
    reg: RegistrationDesk, session: AggregateSession, person_id: str, causation: Causation
) -> list[str]:
    """After a person's identity changed: refresh the index and flag any new suspected duplicate."""
    await catch_up_index(reg, session)
    record = await reindex_person(reg, session, person_id)
    return await suspect_duplicates(reg, session, record, causation) if record else []


# -- duplicates ------------------------------------------------------------------------------------------


async def resolve_duplicate(
    reg: RegistrationDesk,
    case_id: str,
    outcome: DuplicateOutcome,
    surviving_person_id: str | None,
    expected_version: int,
    causation: Causation,
) -> int:
    """Distinct, or a merge: the absorbed record points to the survivor, whose history takes in both."""

    async def work(session: AggregateSession) -> tuple[int, str | None]:
        case = await session.load_existing(duplicate_stream(case_id), DuplicateCase, "duplicate", case_id)
        case.resolve(outcome, surviving_person_id)
        version = await session.save(
            case, duplicate_stream(case_id), case.person_id, causation, expected_version
        )
        if outcome != "merged" or case.survivor is None:
            return version, None
        absorbed_id = case.absorbed_person_id
        absorbed = await session.load_existing(person_stream(absorbed_id), Person, "person", absorbed_id)
        survivor = await session.load_existing(person_stream(case.survivor), Person, "person", case.survivor)
        if absorbed.ddr_id is not None and survivor.ddr_id is None:
            raise RuleViolated("registered-record-survives", "the record holding the DDR ID must survive")
        absorbed.merge_into(case.survivor, case_id)
        survivor.absorb(absorbed_id, case_id)
        await session.save(absorbed, person_stream(absorbed_id), absorbed_id, causation)
        await session.save(survivor, person_stream(case.survivor), case.survivor, causation)
        return version, absorbed_id

    version, absorbed_id = await reg.unit.run(work)
    if absorbed_id is not None:
        reg.index.remove(absorbed_id)
    return version


# -- weapons ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HandedOver:
    weapon_id: str
    receipt_number: str
    flagged: bool
    programme_mark: str | None
    version: int


BulkHandOver = tuple[str, HandOver, When]
"""An item of a bulk hand-over: the person, what they hand over, and when."""


async def hand_over_weapon(
    reg: RegistrationDesk,
    person_id: str,
    item: HandOver,
    causation: Causation,
    recording: Recording,
    on: When = None,
    remit: Remit = _everyone,
) -> HandedOver:
    """Record a weapon or lot handed over and give its receipt, whether or not the person is eligible; it is
    received on ``on``, never before the person's registration. A weapon without a readable serial is
    received too, under the programme's next mark, and flagged for tracing."""
    return await reg.unit.run(
        lambda session: _hand_over(reg, session, (person_id, item, on), causation, recording, remit)
    )


async def hand_over_weapons(
    reg: RegistrationDesk,
    items: Sequence[BulkHandOver],
    causation: Causation,
    recording: Recording,
    *,
    remit: Remit,
    atomic: bool = False,
) -> list[ItemOutcome[HandedOver]]:
    """Many hand-overs (a collection point's day): each recorded or refused on its own, or all or none. The
    same hand-over sent again (same person, same tag) is answered ``weapon-already-recorded``. Each item's
    person is checked against the caller's ``remit`` in its own transaction, before anything is decided (one
    outside it: refused as an unknown person, nothing written)."""
    return await reg.unit.run_items(
        items,
        lambda session, item: _hand_over(reg, session, item, causation, recording, remit),
        atomic=atomic,
        subjects=lambda item: item[0],
    )


async def _hand_over(
    reg: RegistrationDesk,
    session: AggregateSession,
    handed: BulkHandOver,
    causation: Causation,
    recording: Recording,
    remit: Remit,
) -> HandedOver:
    person_id, item, on = handed
    person = await person_in_remit(session, person_id, remit)
    if person.merged_into is not None:
        raise RuleViolated("merged-record-is-closed", "hand over under the surviving record")
    at = person.receiving_moment(recording, on)
    weapon_id = weapon_id_of(person_id, item.tag)
    if (await session.load(weapon_stream(weapon_id), Weapon)).version:
        raise AlreadyDone(
            "weapon-already-recorded",
            "this person's hand-over under this tag is already recorded",
            figures={"weapon_id": weapon_id},
        )
    mark = None
    if item.checked_serial_status() in UNREADABLE:
        marks = await session.load(MARKS_STREAM, MarkRegister)
        mark = marks.issue(weapon_id, person_id, at)
        await session.save(marks, MARKS_STREAM, person_id, causation)
    earlier: tuple[str, ...] = ()
    if item.serial:
        earlier = await reg.lookups.weapons_with_serial(session, normalise_serial(item.serial))
    receipt = f"RCPT-{secrets.token_hex(5).upper()}"
    weapon = Weapon.hand_over(weapon_id, person_id, person.movement, item, receipt, earlier, at, mark)
    version = await session.save(weapon, weapon_stream(weapon_id), person_id, causation, 0)
    return HandedOver(weapon_id, receipt, weapon.flagged, mark, version)


async def transfer_custody(
    reg: RegistrationDesk,
    weapon_id: str,
    from_custodian: str,
    to_custodian: str,
    released_by: str,
    received_by: str,
    expected_version: int,
    causation: Causation,
    recording: Recording,
    on: When = None,
) -> int:
    async def work(session: AggregateSession) -> int:
        weapon = await session.load_existing(weapon_stream(weapon_id), Weapon, "weapon", weapon_id)
        weapon.transfer(from_custodian, to_custodian, released_by, received_by, recording=recording, on=on)
        return await session.save(
            weapon, weapon_stream(weapon_id), weapon.person_id, causation, expected_version
        )

    return await reg.unit.run(work)
