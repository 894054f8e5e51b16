"""The registration's events: what its aggregates record, as frozen dataclasses of the standard library.

Each has the name and the fields of a contract event of ``ddr_contracts.registration``; the unit of work
translates between the two by name (``EventMap.by_name``), so the domain imports neither pydantic nor the
contracts. Which fields are personal (sealed per person in the store and on Kafka) is the contract's business.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from ddr_registration.domain.values import (
    BirthKind,
    DeclaredWeapon,
    DuplicateOutcome,
    DuplicateReason,
    EndorsingBody,
    ErasureReason,
    ItemKind,
    ListRow,
    MovementKind,
    SerialStatus,
)

# -- movements -------------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class MovementRegistered:
    code: str
    display_name: str
    kind: MovementKind


@dataclass(frozen=True, kw_only=True)
class CoalitionJoined:
    movement: str
    coalition: str
    since: date


@dataclass(frozen=True, kw_only=True)
class CoalitionLeft:
    movement: str
    coalition: str
    until: date


# -- certified lists ------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class ListVersionSubmitted:
    list_id: str
    movement: str
    list_version: int
    file_sha256: str
    rows_total: int
    rows_accepted: int
    rows_rejected: int
    profile: str | None = None
    profile_version: int | None = None
    unknown_columns: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class ImportProfilePublished:
    movement: str
    profile: str
    profile_version: int
    columns: dict[str, str]
    values: dict[str, dict[str, str]]


@dataclass(frozen=True, kw_only=True)
class ListRowsChecked:
    list_id: str
    movement: str
    list_version: int
    rows: tuple[ListRow, ...]
    reasons: tuple[str | None, ...] | None = None


@dataclass(frozen=True, kw_only=True)
class ListVersionCertified:
    list_id: str
    movement: str
    list_version: int


@dataclass(frozen=True, kw_only=True)
class ListVersionEndorsed:
    list_id: str
    movement: str
    list_version: int
    body: EndorsingBody


# -- persons ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class PersonPreRegistered:
    person_id: str
    list_id: str
    list_version: int
    movement: str
    movement_ref: str | None  # None once erased
    category: str
    sex: str
    birth_kind: str
    region: str
    cercle: str
    rank: str
    armed: bool
    birth_year: int | None = None
    declared_weapons: tuple[DeclaredWeapon, ...] | None = ()  # None once erased
    line: int | None = None  # the row of the list file (absent from events recorded before it was kept)
    full_name: str | None = None
    full_name_arabic: str | None = None
    birth_date: date | None = None
    commune: str | None = None
    father_name: str | None = None
    mother_name: str | None = None
    birth_place: str | None = None
    document_type: str | None = None
    document_issued: date | None = None


@dataclass(frozen=True, kw_only=True)
class PersonRegistered:
    person_id: str
    ddr_id: str
    biometric_hash: str | None = None
    site: str | None = None


@dataclass(frozen=True, kw_only=True)
class IdentityDocumentFlagged:
    person_id: str
    document_type: str | None
    document_issued: date
    days_before_registration: int


@dataclass(frozen=True, kw_only=True)
class PersonDetailsCorrected:
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
    full_name: str | None = None
    full_name_arabic: str | None = None
    birth_date: date | None = None
    commune: str | None = None
    reason: str | None = None
    father_name: str | None = None
    mother_name: str | None = None
    birth_place: str | None = None


@dataclass(frozen=True, kw_only=True)
class PersonalDataErased:
    person_id: str
    reason_code: ErasureReason
    authority: str | None  # a decision's register reference (None on v1 events, whose free text is dropped)
    authorised_by: str | None = None  # the token subject of the officer who ordered it (None on v1)


# -- identity deduplication ------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class DuplicateSuspected:
    case_id: str
    person_id: str
    other_person_id: str
    score: float
    certain: bool
    reasons: tuple[DuplicateReason, ...]


@dataclass(frozen=True, kw_only=True)
class DuplicateMadeCertain:
    case_id: str
    person_id: str
    other_person_id: str
    reasons: tuple[DuplicateReason, ...]
    reopened: bool


@dataclass(frozen=True, kw_only=True)
class DuplicateResolved:
    case_id: str
    person_id: str
    other_person_id: str
    outcome: DuplicateOutcome
    surviving_person_id: str | None


@dataclass(frozen=True, kw_only=True)
class PersonMergedInto:
    person_id: str
    into_person_id: str
    case_id: str


@dataclass(frozen=True, kw_only=True)
class PersonAbsorbed:
    person_id: str
    absorbed_person_id: str
    case_id: str


# -- weapons register ------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class WeaponHandedOver:
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
    serial_status: SerialStatus | None = None
    programme_mark: str | None = None


@dataclass(frozen=True, kw_only=True)
class WeaponFlaggedForTracing:
    weapon_id: str
    person_id: str
    serial_status: SerialStatus
    programme_mark: str


@dataclass(frozen=True, kw_only=True)
class ProgrammeMarkIssued:
    mark: str
    sequence: int
    weapon_id: str
    person_id: str


@dataclass(frozen=True, kw_only=True)
class WeaponSerialDuplicateFlagged:
    weapon_id: str
    person_id: str
    earlier_weapon_ids: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class WeaponCustodyTransferred:
    weapon_id: str
    person_id: str
    from_custodian: str
    to_custodian: str
    released_by: str
    received_by: str


MovementEvent = MovementRegistered | CoalitionJoined | CoalitionLeft
ListEvent = ListVersionSubmitted | ListVersionCertified | ListVersionEndorsed
PersonEvent = (
    PersonPreRegistered
    | PersonRegistered
    | IdentityDocumentFlagged
    | PersonDetailsCorrected
    | PersonalDataErased
    | PersonMergedInto
    | PersonAbsorbed
)
DuplicateEvent = DuplicateSuspected | DuplicateMadeCertain | DuplicateResolved
WeaponEvent = (
    WeaponHandedOver | WeaponSerialDuplicateFlagged | WeaponFlaggedForTracing | WeaponCustodyTransferred
)
