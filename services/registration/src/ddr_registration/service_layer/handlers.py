"""Command handlers: load the aggregate, let it decide, append with the expected version.

``expected_version`` comes from the caller's ``If-Match``: a stale one raises ConcurrencyConflict (409).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from ddr_contracts.registration import DuplicateOutcome, EndorsingBody, MovementKind
from ddr_registration.adapters.tables import persons, weapons
from ddr_registration.domain.ddr_id import new_ddr_id
from ddr_registration.domain.duplicates import DuplicateCase, duplicate_stream
from ddr_registration.domain.errors import AlreadyRegistered, RuleViolated
from ddr_registration.domain.lists import CertifiedList, list_stream
from ddr_registration.domain.movements import Movement, movement_stream
from ddr_registration.domain.persons import Correction, Person, person_stream
from ddr_registration.domain.weapons import HandOver, Weapon, normalise_serial, weapon_stream
from ddr_registration.service_layer.dedup import (
    biometric_holder,
    catch_up_index,
    certain_duplicate,
    reindex_person,
    suspect_duplicates,
)
from ddr_registration.service_layer.unit import Registration
from ddr_runtime.eventstore.store import Causation

# -- movements -------------------------------------------------------------------------------------------


async def register_movement(
    reg: Registration, code: str, display_name: str, kind: MovementKind, causation: Causation
) -> int:
    async with reg.transaction() as tx:
        if (await reg.load(tx, movement_stream(code), Movement)).version:
            raise RuleViolated("movement-code-unique", f"movement {code} already exists")
        movement = Movement.register(code, display_name, kind)
        return await reg.save(tx, movement_stream(code), movement, code, causation, 0)


async def join_coalition(
    reg: Registration, code: str, coalition: str, since: date, expected_version: int, causation: Causation
) -> int:
    async with reg.transaction() as tx:
        movement = await reg.load_existing(tx, movement_stream(code), Movement, "movement", code)
        group = await reg.load_existing(tx, movement_stream(coalition), Movement, "movement", coalition)
        movement.join(group, since)
        return await reg.save(tx, movement_stream(code), movement, code, causation, expected_version)


async def leave_coalition(
    reg: Registration, code: str, coalition: str, until: date, expected_version: int, causation: Causation
) -> int:
    async with reg.transaction() as tx:
        movement = await reg.load_existing(tx, movement_stream(code), Movement, "movement", code)
        movement.leave(coalition, until)
        return await reg.save(tx, movement_stream(code), movement, code, causation, expected_version)


# -- certified lists -------------------------------------------------------------------------------------


async def certify_list(
    reg: Registration, list_id: str, number: int, expected_version: int, causation: Causation
) -> int:
    async with reg.transaction() as tx:
        certified = await reg.load_existing(tx, list_stream(list_id), CertifiedList, "list", list_id)
        certified.certify(number)
        return await reg.save(tx, list_stream(list_id), certified, list_id, causation, expected_version)


async def endorse_list(
    reg: Registration,
    list_id: str,
    number: int,
    body: EndorsingBody,
    expected_version: int,
    causation: Causation,
) -> int:
    async with reg.transaction() as tx:
        certified = await reg.load_existing(tx, list_stream(list_id), CertifiedList, "list", list_id)
        certified.endorse(number, body)
        return await reg.save(tx, list_stream(list_id), certified, list_id, causation, expected_version)


# -- persons ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Registered:
    version: int
    ddr_id: str
    duplicate_cases: list[str]


async def register_person(
    reg: Registration,
    person_id: str,
    template_reference: str,
    expected_version: int,
    causation: Causation,
) -> Registered:
    """Record the biometric enrolment (as a keyed hash) and issue a DDR ID. A biometric already registered to
    another record issues none: the pair's duplicate case is made certain (or raised certain) and committed,
    then :class:`AlreadyRegistered` names the existing registration."""
    async with reg.transaction() as tx:
        person = await reg.load_existing(tx, person_stream(person_id), Person, "person", person_id)
        ddr_id = await _unused_ddr_id(tx)
        biometric_hash = reg.hasher.digest(template_reference)
        person.register(ddr_id, biometric_hash)  # the person's own rules first (merged, erased, registered)
        holder = await biometric_holder(tx, biometric_hash, person_id)
        if holder is not None:
            case_id = await certain_duplicate(reg, tx, person_id, holder.person_id, causation)
        else:
            version = await reg.save(
                tx, person_stream(person_id), person, person_id, causation, expected_version
            )
            cases = await _recheck_duplicates(reg, tx, person_id, causation)
    if holder is not None:
        raise AlreadyRegistered(
            holder.person_id,
            holder.ddr_id,
            case_id,
            movement=holder.movement,
            category=holder.category,
            region=holder.region,
        )
    return Registered(version, ddr_id, cases)


async def _unused_ddr_id(tx: AsyncConnection) -> str:
    while True:
        candidate = new_ddr_id()
        taken = await tx.execute(select(persons.c.person_id).where(persons.c.ddr_id == candidate))
        if taken.first() is None:
            return candidate


async def correct_person(
    reg: Registration,
    person_id: str,
    correction: Correction,
    reason: str,
    expected_version: int,
    causation: Causation,
) -> int:
    async with reg.transaction() as tx:
        person = await reg.load_existing(tx, person_stream(person_id), Person, "person", person_id)
        person.correct(correction, reason)
        version = await reg.save(tx, person_stream(person_id), person, person_id, causation, expected_version)
        await _recheck_duplicates(reg, tx, person_id, causation)
    return version


async def erase_person(
    reg: Registration,
    person_id: str,
    reason_code: str,
    authority: str,
    expected_version: int,
    causation: Causation,
) -> int:
    """Crypto-shred the person: the erasure is recorded, then their key destroyed before the commit, so either
    both happen or neither does (the key store's erasure is idempotent: a retry after a failed commit ends the
    job). Every personal field of every event about them, on every topic and in every backup, reads ``None``."""
    async with reg.transaction() as tx:
        person = await reg.load_existing(tx, person_stream(person_id), Person, "person", person_id)
        person.erase(reason_code, authority)
        version = await reg.save(tx, person_stream(person_id), person, person_id, causation, expected_version)
        await reg.store.cipher.keystore.erase(person_id)
    reg.index.remove(person_id)
    return version


async def _recheck_duplicates(
    reg: Registration, tx: AsyncConnection, person_id: str, causation: Causation
) -> list[str]:
    """After a person's identity changed: refresh the index and flag any new suspected duplicate."""
    await catch_up_index(reg, tx)
    record = await reindex_person(reg, tx, person_id)
    return await suspect_duplicates(reg, tx, record, causation) if record else []


# -- duplicates ------------------------------------------------------------------------------------------


async def resolve_duplicate(
    reg: Registration,
    case_id: str,
    outcome: DuplicateOutcome,
    surviving_person_id: str | None,
    expected_version: int,
    causation: Causation,
) -> int:
    """Distinct, or a merge: the absorbed record points to the survivor, whose history takes in both."""
    async with reg.transaction() as tx:
        case = await reg.load_existing(tx, duplicate_stream(case_id), DuplicateCase, "duplicate", case_id)
        case.resolve(outcome, surviving_person_id)
        version = await reg.save(
            tx, duplicate_stream(case_id), case, case.person_id, causation, expected_version
        )
        if outcome == "merged" and case.survivor is not None:
            absorbed_id = case.absorbed_person_id
            absorbed = await reg.load_existing(tx, person_stream(absorbed_id), Person, "person", absorbed_id)
            survivor = await reg.load_existing(
                tx, person_stream(case.survivor), Person, "person", case.survivor
            )
            if absorbed.ddr_id is not None and survivor.ddr_id is None:
                raise RuleViolated("registered-record-survives", "the record holding the DDR ID must survive")
            absorbed.merge_into(case.survivor, case_id)
            survivor.absorb(absorbed_id, case_id)
            await reg.save(tx, person_stream(absorbed_id), absorbed, absorbed_id, causation)
            await reg.save(tx, person_stream(case.survivor), survivor, case.survivor, causation)
            reg.index.remove(absorbed_id)
    return version


# -- weapons ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HandedOver:
    weapon_id: str
    receipt_number: str
    flagged: bool
    version: int


async def hand_over_weapon(
    reg: Registration, person_id: str, item: HandOver, causation: Causation
) -> HandedOver:
    """Record a weapon or lot handed over and give its receipt, whether or not the person is eligible."""
    async with reg.transaction() as tx:
        person = await reg.load_existing(tx, person_stream(person_id), Person, "person", person_id)
        if person.merged_into is not None:
            raise RuleViolated("merged-record-is-closed", "hand over under the surviving record")
        earlier: tuple[str, ...] = ()
        if item.serial:
            rows = await tx.execute(
                select(weapons.c.weapon_id).where(weapons.c.serial_key == normalise_serial(item.serial))
            )
            earlier = tuple(row.weapon_id for row in rows)
        weapon_id = reg.new_id()
        receipt = f"RCPT-{secrets.token_hex(5).upper()}"
        weapon = Weapon.hand_over(weapon_id, person_id, person.movement, item, receipt, earlier)
        version = await reg.save(tx, weapon_stream(weapon_id), weapon, person_id, causation, 0)
    return HandedOver(weapon_id, receipt, weapon.flagged, version)


async def transfer_custody(
    reg: Registration,
    weapon_id: str,
    from_custodian: str,
    to_custodian: str,
    released_by: str,
    received_by: str,
    expected_version: int,
    causation: Causation,
) -> int:
    async with reg.transaction() as tx:
        weapon = await reg.load_existing(tx, weapon_stream(weapon_id), Weapon, "weapon", weapon_id)
        weapon.transfer(from_custodian, to_custodian, released_by, received_by)
        return await reg.save(
            tx, weapon_stream(weapon_id), weapon, weapon.person_id, causation, expected_version
        )
