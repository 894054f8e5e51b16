"""The weapons register: each weapon or lot of ammunition handed over, with its receipt and custody chain."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from ddr_registration.domain.events import (
    WeaponCustodyTransferred,
    WeaponEvent,
    WeaponHandedOver,
    WeaponSerialDuplicateFlagged,
)
from ddr_registration.domain.values import ItemKind
from ddr_runtime.kernel import Aggregate, Recording, RuleViolated


def weapon_stream(weapon_id: str) -> str:
    return f"weapon-{weapon_id}"


def normalise_serial(serial: str) -> str:
    """Serials are compared without case, spaces or dashes: ``ak-47 123`` and ``AK47123`` are one."""
    return "".join(char for char in serial.upper() if char.isalnum())


@dataclass(frozen=True)
class HandOver:
    kind: ItemKind
    type: str
    calibre: str
    serial: str | None
    quantity: int
    condition: str
    tag: str
    custodian: str


class Weapon(Aggregate[WeaponEvent]):
    def __init__(self) -> None:
        super().__init__()
        self.weapon_id = ""
        self.person_id = ""
        self.custodian = ""
        self.custody_since: datetime | None = None
        self.flagged = False

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
    ) -> Weapon:
        """``at``: when it was received (the person's :meth:`Person.receiving_moment`)."""
        if item.kind == "weapon" and not (item.serial or "").strip():
            raise RuleViolated("weapon-needs-serial", "a weapon is recorded with its serial number")
        if item.quantity < 1 or (item.kind == "weapon" and item.quantity != 1):
            raise RuleViolated("quantity", "a weapon is one item; a lot of ammunition at least one round")
        if not item.custodian.strip() or not item.tag.strip():
            raise RuleViolated("tag-and-custodian", "a hand-over names its tag and its custodian")
        weapon = cls()
        weapon.record(
            WeaponHandedOver(
                weapon_id=weapon_id,
                person_id=person_id,
                movement=movement,
                kind=item.kind,
                type=item.type,
                calibre=item.calibre,
                serial=item.serial,
                quantity=item.quantity,
                condition=item.condition,
                tag=item.tag,
                receipt_number=receipt_number,
                custodian=item.custodian,
            ),
            at=at,
        )
        if earlier_with_serial and item.serial:
            weapon.record(
                WeaponSerialDuplicateFlagged(
                    weapon_id=weapon_id,
                    person_id=person_id,
                    serial=item.serial,
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
            self.custody_since = self.at
        elif isinstance(event, WeaponSerialDuplicateFlagged):
            self.flagged = True
        elif isinstance(event, WeaponCustodyTransferred):
            self.custodian, self.custody_since = event.to_custodian, self.at
