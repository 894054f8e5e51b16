"""The weapons register: each weapon or lot of ammunition handed over, with its receipt and custody chain.

Weapons come in as the field finds them: with a serial number, without one, with it filed off, or unreadable.
None is refused. A weapon without a readable serial is given the programme's own mark (IDDRS 4.10: a mark
unique to the programme, ``ML-DDR-000123``, issued in sequence) and flagged for tracing.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime

from ddr_registration.domain.events import (
    ProgrammeMarkIssued,
    WeaponCustodyTransferred,
    WeaponEvent,
    WeaponFlaggedForTracing,
    WeaponHandedOver,
    WeaponSerialDuplicateFlagged,
)
from ddr_registration.domain.values import ItemKind, SerialStatus
from ddr_runtime.kernel import Aggregate, Recording, RuleViolated

PROGRAMME_MARK_PREFIX = "ML-DDR"
"""The programme's marking: Mali's country code (ISO 3166), the DDR programme, then a sequence number."""
MARKS_STREAM = "programme-marks"
UNREADABLE: frozenset[SerialStatus] = frozenset({"absent", "filed_off", "illegible"})
_WEAPONS = uuid.UUID("0b7d3c48-5e2f-4f7a-9a31-6c1e2d8f4b90")


def weapon_stream(weapon_id: str) -> str:
    return f"weapon-{weapon_id}"


def weapon_id_of(person_id: str, tag: str) -> str:
    """A weapon is known by who handed it over and the tag put on it: the same hand-over sent twice (a field
    team's retry) finds the weapon already recorded."""
    return str(uuid.uuid5(_WEAPONS, f"{person_id}\n{' '.join(tag.split()).upper()}"))


def normalise_serial(serial: str) -> str:
    """Serials are compared without case, spaces or dashes: ``ak-47 123`` and ``AK47123`` are one."""
    return "".join(char for char in serial.upper() if char.isalnum())


@dataclass(frozen=True)
class HandOver:
    """What is handed over. ``serial_status`` says why a weapon has no serial number: ``absent``, ``filed_off``
    or ``illegible`` (a weapon without a serial and without a status is recorded as ``absent``)."""

    kind: ItemKind
    type: str
    calibre: str
    serial: str | None
    quantity: int
    condition: str
    tag: str
    custodian: str
    serial_status: SerialStatus | None = None

    def checked_serial_status(self) -> SerialStatus | None:
        """The serial's status as recorded (``None`` for ammunition), or a refusal of a contradiction."""
        if self.kind != "weapon":
            return None
        if (self.serial or "").strip():
            if self.serial_status not in (None, "present"):
                raise RuleViolated(
                    "serial-status",
                    f"a serial number is given, so it is present, not {self.serial_status}",
                    figures={"serial_status": self.serial_status},
                )
            return "present"
        if self.serial_status == "present":
            raise RuleViolated("serial-status", "the serial is said to be present but none is given")
        return self.serial_status or "absent"


class MarkRegister(Aggregate[ProgrammeMarkIssued]):
    """The programme's marks, issued in sequence: its stream's version is the last number issued."""

    def __init__(self) -> None:
        super().__init__()
        self.issued = 0

    def issue(self, weapon_id: str, person_id: str, at: datetime | None = None) -> str:
        sequence = self.issued + 1
        mark = f"{PROGRAMME_MARK_PREFIX}-{sequence:06d}"
        self.record(
            ProgrammeMarkIssued(mark=mark, sequence=sequence, weapon_id=weapon_id, person_id=person_id),
            at=at,
            subject=person_id,
        )
        return mark

    def apply(self, event: ProgrammeMarkIssued) -> None:
        self.issued = event.sequence


class Weapon(Aggregate[WeaponEvent]):
    def __init__(self) -> None:
        super().__init__()
        self.weapon_id = ""
        self.person_id = ""
        self.custodian = ""
        self.custody_since: datetime | None = None
        self.flagged = False
        self.programme_mark: str | None = None
        self.needs_tracing = False

    @classmethod
    def hand_over(
        cls,
        weapon_id: str,
        person_id: str,
        movement: str,
        item: HandOver,
        receipt_number: str,
        earlier_with_serial: tuple[str, ...],
        at: datetime | None = None,
        programme_mark: str | None = None,
    ) -> Weapon:
        """Receive it (``at``: the person's :meth:`Person.receiving_moment`). A weapon whose serial is not
        readable carries ``programme_mark`` and is flagged for tracing; a serial handed over before is
        flagged too."""
        status = item.checked_serial_status()
        if item.quantity < 1 or (item.kind == "weapon" and item.quantity != 1):
            raise RuleViolated("quantity", "a weapon is one item; a lot of ammunition at least one round")
        if not item.custodian.strip() or not item.tag.strip():
            raise RuleViolated("tag-and-custodian", "a hand-over names its tag and its custodian")
        unreadable = status in UNREADABLE
        if unreadable != (programme_mark is not None):
            raise ValueError("a weapon without a readable serial, and only one, takes the programme's mark")
        weapon = cls()
        weapon.record(
            WeaponHandedOver(
                weapon_id=weapon_id,
                person_id=person_id,
                movement=movement,
                kind=item.kind,
                type=item.type,
                calibre=item.calibre,
                serial=item.serial if status == "present" else None,
                quantity=item.quantity,
                condition=item.condition,
                tag=item.tag,
                receipt_number=receipt_number,
                custodian=item.custodian,
                serial_status=status,
                programme_mark=programme_mark,
            ),
            at=at,
        )
        if programme_mark is not None and status in UNREADABLE:
            weapon.record(
                WeaponFlaggedForTracing(
                    weapon_id=weapon_id,
                    person_id=person_id,
                    serial_status=status,
                    programme_mark=programme_mark,
                ),
                at=at,
            )
        if earlier_with_serial and item.serial and status == "present":
            weapon.record(
                WeaponSerialDuplicateFlagged(
                    weapon_id=weapon_id,
                    person_id=person_id,
                    earlier_weapon_ids=earlier_with_serial,
                ),
                at=at,
            )
        return weapon

    def transfer(
        self,
        from_custodian: str,
        to_custodian: str,
        released_by: str,
        received_by: str,
        *,
        recording: Recording | None = None,
        on: date | datetime | None = None,
    ) -> None:
        """Custody passes on ``on``: never before the weapon came into its current holder's custody."""
        if from_custodian != self.custodian:
            raise RuleViolated("custody-from-holder", "custody passes from its current holder only")
        if not released_by.strip() or not received_by.strip():
            raise RuleViolated("signed-by-both-sides", "a custody transfer is signed by both sides")
        if released_by == received_by or from_custodian == to_custodian:
            raise RuleViolated("two-sides", "a custody transfer has two different sides")
        at = (recording or Recording()).moment(
            on, after=self.custody_since, after_what="the weapon's last change of custody"
        )
        self.record(
            WeaponCustodyTransferred(
                weapon_id=self.weapon_id,
                person_id=self.person_id,
                from_custodian=from_custodian,
                to_custodian=to_custodian,
                released_by=released_by,
                received_by=received_by,
            ),
            at=at,
        )

    def apply(self, event: WeaponEvent) -> None:
        if isinstance(event, WeaponHandedOver):
            self.weapon_id, self.person_id, self.custodian = event.weapon_id, event.person_id, event.custodian
            self.custody_since, self.programme_mark = self.at, event.programme_mark
        elif isinstance(event, WeaponSerialDuplicateFlagged):
            self.flagged = True
        elif isinstance(event, WeaponFlaggedForTracing):
            self.needs_tracing = True
        elif isinstance(event, WeaponCustodyTransferred):
            self.custodian, self.custody_since = event.to_custodian, self.at
