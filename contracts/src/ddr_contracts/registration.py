"""Contract events of the registration service (topic ``ddr.registration.events``).

Subjects: a person's events carry the person id (a UUID), so Kafka keys them by person and keeps their order;
a movement's events carry its code; a certified list's events carry the list id. Personal fields (names,
exact date of birth, commune, biometric hash, free-text reasons) are encrypted per person; what programme
figures need (category, sex, birth year, region, cercle, movement, rank, armed) stays readable.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict

from ddr_contracts.events import PERSONAL, DomainEvent, event

MovementKind = Literal["movement", "coalition"]
BirthKind = Literal["exact", "year", "unknown"]
EndorsingBody = Literal["CTS", "CNDDR"]
DuplicateOutcome = Literal["merged", "distinct"]
ItemKind = Literal["weapon", "ammunition"]
ErasureReason = Literal["data_subject_request", "legal_obligation", "retention_expired", "protection_risk"]


class DeclaredWeapon(BaseModel):
    """A weapon a certified list says the member holds (declared, not yet handed over)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    type: str
    calibre: str | None = None
    serial: str | None = None
    condition: str | None = None


# -- movements ------------------------------------------------------------------------------------------


@event
class MovementRegistered(DomainEvent):
    name = "ddr.registration.MovementRegistered"
    version = 1

    code: str
    display_name: str
    kind: MovementKind


@event
class CoalitionJoined(DomainEvent):
    """Subject: the movement's code. Membership is time-bound: it holds from ``since`` until it is left."""

    name = "ddr.registration.CoalitionJoined"
    version = 1

    movement: str
    coalition: str
    since: date


@event
class CoalitionLeft(DomainEvent):
    name = "ddr.registration.CoalitionLeft"
    version = 1

    movement: str
    coalition: str
    until: date


# -- certified lists ------------------------------------------------------------------------------------


@event
class ListVersionSubmitted(DomainEvent):
    """A new version of a movement's list; it supersedes the previous one, which stays readable."""

    name = "ddr.registration.ListVersionSubmitted"
    version = 1

    list_id: str
    movement: str
    list_version: int
    file_sha256: str
    rows_total: int
    rows_accepted: int
    rows_rejected: int


@event
class ListVersionCertified(DomainEvent):
    """The movement certifies a version of its list (author and time are the envelope's)."""

    name = "ddr.registration.ListVersionCertified"
    version = 1

    list_id: str
    movement: str
    list_version: int


@event
class ListVersionEndorsed(DomainEvent):
    name = "ddr.registration.ListVersionEndorsed"
    version = 1

    list_id: str
    movement: str
    list_version: int
    body: EndorsingBody


# -- persons ---------------------------------------------------------------------------------------------


@event
class PersonPreRegistered(DomainEvent):
    """A listed member pre-registered as an individual (never as someone's dependant)."""

    name = "ddr.registration.PersonPreRegistered"
    version = 1

    person_id: str
    list_id: str
    list_version: int
    movement: str
    movement_ref: str
    category: str
    sex: str
    birth_kind: str  # exact, year or unknown (BirthKind)
    region: str
    cercle: str
    rank: str
    armed: bool
    birth_year: int | None = None
    declared_weapons: tuple[DeclaredWeapon, ...] = ()
    full_name: Annotated[str | None, PERSONAL]
    full_name_arabic: Annotated[str | None, PERSONAL]
    birth_date: Annotated[date | None, PERSONAL]
    commune: Annotated[str | None, PERSONAL]
    # What disambiguates namesakes on Sahel registration forms ("fils de ... et de ...", "ne a ...").
    father_name: Annotated[str | None, PERSONAL]
    mother_name: Annotated[str | None, PERSONAL]
    birth_place: Annotated[str | None, PERSONAL]


@event
class PersonRegistered(DomainEvent):
    """Biometric enrolment done outside the platform; only a keyed hash of its template reference is kept."""

    name = "ddr.registration.PersonRegistered"
    version = 1

    person_id: str
    ddr_id: str
    biometric_hash: Annotated[str | None, PERSONAL]


@event
class PersonDetailsCorrected(DomainEvent):
    """A correction of personal details: only the fields given change; the reason is kept."""

    name = "ddr.registration.PersonDetailsCorrected"
    version = 1

    person_id: str
    corrected_fields: tuple[str, ...]
    category: str | None = None
    sex: str | None = None
    birth_kind: BirthKind | None = None
    birth_year: int | None = None
    region: str | None = None
    cercle: str | None = None
    rank: str | None = None
    armed: bool | None = None
    full_name: Annotated[str | None, PERSONAL]
    full_name_arabic: Annotated[str | None, PERSONAL]
    birth_date: Annotated[date | None, PERSONAL]
    commune: Annotated[str | None, PERSONAL]
    reason: Annotated[str | None, PERSONAL]
    father_name: Annotated[str | None, PERSONAL] = None
    mother_name: Annotated[str | None, PERSONAL] = None
    birth_place: Annotated[str | None, PERSONAL] = None


@event
class PersonalDataErased(DomainEvent):
    """The person's personal data is destroyed (their key is shredded): every personal field of every event
    about them reads ``None`` from now on, in every service, topic, backup and handover bundle. What the
    figures need (movement, category, sex, birth year, region, the path's steps) stays. ``authority`` names
    the decision that ordered it; services holding a copy of anything personal scrub it on this event."""

    name = "ddr.registration.PersonalDataErased"
    version = 1

    person_id: str
    reason_code: ErasureReason
    authority: str


# -- identity deduplication ------------------------------------------------------------------------------


@event
class DuplicateSuspected(DomainEvent):
    """Subject: ``person_id``, the newer record. ``certain`` when the biometric references are the same."""

    name = "ddr.registration.DuplicateSuspected"
    version = 1

    case_id: str
    person_id: str
    other_person_id: str
    score: float
    certain: bool
    reasons: tuple[str, ...]


@event
class DuplicateResolved(DomainEvent):
    name = "ddr.registration.DuplicateResolved"
    version = 1

    case_id: str
    person_id: str
    other_person_id: str
    outcome: DuplicateOutcome
    surviving_person_id: str | None


@event
class PersonMergedInto(DomainEvent):
    """On the absorbed person's stream: from now on ``into_person_id`` stands for them."""

    name = "ddr.registration.PersonMergedInto"
    version = 1

    person_id: str
    into_person_id: str
    case_id: str


@event
class PersonAbsorbed(DomainEvent):
    """On the surviving person's stream: ``absorbed_person_id``'s history is now part of theirs."""

    name = "ddr.registration.PersonAbsorbed"
    version = 1

    person_id: str
    absorbed_person_id: str
    case_id: str


# -- weapons register ------------------------------------------------------------------------------------


@event
class WeaponHandedOver(DomainEvent):
    """Subject: the person who handed it over. Everyone gets a receipt, eligible or not (usable on appeal)."""

    name = "ddr.registration.WeaponHandedOver"
    version = 1

    weapon_id: str
    person_id: str
    movement: str
    kind: ItemKind
    type: str
    calibre: str
    serial: str | None
    quantity: int
    condition: str
    tag: str
    receipt_number: str
    custodian: str


@event
class WeaponSerialDuplicateFlagged(DomainEvent):
    name = "ddr.registration.WeaponSerialDuplicateFlagged"
    version = 1

    weapon_id: str
    person_id: str
    serial: str
    earlier_weapon_ids: tuple[str, ...]


@event
class WeaponCustodyTransferred(DomainEvent):
    """Signed by both sides: the party handing over and the party taking custody."""

    name = "ddr.registration.WeaponCustodyTransferred"
    version = 1

    weapon_id: str
    person_id: str
    from_custodian: str
    to_custodian: str
    released_by: str
    received_by: str
