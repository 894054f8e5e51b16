"""Contract events of the registration service (topic ``ddr.registration.events``).

Subjects: a person's events carry the person id (a UUID), so Kafka keys them by person and keeps their order;
a movement's events carry its code; a certified list's events carry the list id. Personal fields (names,
exact date of birth, commune, biometric hash, the movement's reference, declared weapons and their serials,
free-text reasons) are encrypted per person; what programme figures need (category, sex, birth year, region,
cercle, movement, rank, armed) stays readable.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ddr_contracts.events import PERSONAL, REGISTRY, DomainEvent, event

MovementKind = Literal["movement", "coalition"]
BirthKind = Literal["exact", "year", "unknown"]
EndorsingBody = Literal["CTS", "CNDDR"]
DuplicateOutcome = Literal["merged", "distinct"]
ItemKind = Literal["weapon", "ammunition"]
ErasureReason = Literal["data_subject_request", "legal_obligation", "retention_expired", "protection_risk"]
ListRowStatus = Literal["pre-registered", "already-listed", "rejected"]
SerialStatus = Literal["present", "absent", "filed_off", "illegible"]


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
    # The import mapping profile the file was read with, and the columns nobody reads (absent before kept).
    profile: str | None = None
    profile_version: int | None = None
    unknown_columns: tuple[str, ...] = ()


@event
class ImportProfilePublished(DomainEvent):
    """Subject: the movement's code. A version of one of its import mapping profiles: how its list files are
    laid out (each source column's field) and the values it writes for ours (``CBT`` for ``combatant``)."""

    name = "ddr.registration.ImportProfilePublished"
    version = 1

    movement: str
    profile: str
    profile_version: int
    columns: dict[str, str]
    values: dict[str, dict[str, str]]


class RepeatedRow(BaseModel):
    """A row of a list, any movement's, that declared a weapon serial a later row declares too: where it is,
    never the serial (a serial ties a weapon to a person: it is sealed in that person's pre-registration)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    list_id: str
    movement: str
    list_version: int
    line: int


class ListRow(BaseModel):
    """One line of an imported list file and what became of it: the person it pre-registered, the person
    already listed under its reference, or, refused, the column at fault (one entry per fault).

    No value of the row is kept here: the movement's reference and the declared serials are the person's
    (sealed in ``PersonPreRegistered`` v2 under their key, so an erasure reaches them); a refused row's
    reason is sealed with the event. ``repeats``: the earlier rows that declared one of this row's serials
    for someone else, whoever's list they are in; ``flags`` name what to look at (``document-recent``: an
    identity document issued days before the list; ``serial-repeated``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    line: int
    status: ListRowStatus
    person_id: str | None = None
    column: str | None = None
    repeats: tuple[RepeatedRow, ...] = ()
    flags: tuple[str, ...] = ()


@event
class ListRowsChecked(DomainEvent):
    """Subject: the list id. The rows of one imported version, a chunk at a time, each with its status: the
    list's row report. ``reasons`` are the refused rows' reasons, in their order: each quotes the value at
    fault for the uploader to fix, so they are sealed under the list's key.

    v2: rows keep no movement reference and no serial (v1 kept both in clear, on Kafka for ever, beyond the
    reach of an erasure); its upcaster drops them."""

    name = "ddr.registration.ListRowsChecked"
    version = 2

    list_id: str
    movement: str
    list_version: int
    rows: tuple[ListRow, ...]
    reasons: Annotated[tuple[str | None, ...] | None, PERSONAL]


_ROW_FIELDS = frozenset(ListRow.model_fields)
_REPEAT_FIELDS = frozenset(RepeatedRow.model_fields)


@REGISTRY.upcaster("ddr.registration.ListRowsChecked", 1)
def _list_rows_without_values(data: dict[str, Any]) -> dict[str, Any]:
    """v1 -> v2: each row loses its movement reference and its serials, each repeat its serial."""
    rows = [
        {
            **{k: v for k, v in row.items() if k in _ROW_FIELDS},
            "repeats": [
                {k: v for k, v in repeat.items() if k in _REPEAT_FIELDS}
                for repeat in row.get("repeats") or ()
            ],
        }
        for row in data.get("rows") or ()
    ]
    return {**data, "rows": rows}


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
    """A listed member pre-registered as an individual (never as someone's dependant), from ``line`` of
    their movement's list file.

    v2: the movement's reference and the declared weapons (their serials) are personal, sealed under the
    person's key like their names (v1 kept them in clear: on Kafka, in other services' copies and in bundles,
    beyond the reach of an erasure); ``line`` is new (absent from v1)."""

    name = "ddr.registration.PersonPreRegistered"
    version = 2

    person_id: str
    list_id: str
    list_version: int
    movement: str
    movement_ref: Annotated[str | None, PERSONAL]
    category: str
    sex: str
    birth_kind: str  # exact, year or unknown (BirthKind)
    region: str
    cercle: str
    rank: str
    armed: bool
    birth_year: int | None = None
    declared_weapons: Annotated[tuple[DeclaredWeapon, ...] | None, PERSONAL] = ()
    line: int | None = None
    full_name: Annotated[str | None, PERSONAL]
    full_name_arabic: Annotated[str | None, PERSONAL]
    birth_date: Annotated[date | None, PERSONAL]
    commune: Annotated[str | None, PERSONAL]
    # What disambiguates namesakes on Sahel registration forms ("fils de ... et de ...", "ne a ...").
    father_name: Annotated[str | None, PERSONAL]
    mother_name: Annotated[str | None, PERSONAL]
    birth_place: Annotated[str | None, PERSONAL]
    # The identity document the list gives (absent on lists imported before they were read).
    document_type: str | None = None
    document_issued: date | None = None


@REGISTRY.upcaster("ddr.registration.PersonPreRegistered", 1)
def _pre_registered_v1(data: dict[str, Any]) -> dict[str, Any]:
    """v1 -> v2: the same fields (the reference and weapons as v1 stored them), no line."""
    return dict(data)


@event
class PersonRegistered(DomainEvent):
    """Biometric enrolment done outside the platform; only a keyed hash of its template reference is kept.
    ``site``: where the person registered (Timbuktu, Gao, Kidal...); absent on registrations recorded before
    the site was kept. The business time (``occurredat``) is when they registered."""

    name = "ddr.registration.PersonRegistered"
    version = 1

    person_id: str
    ddr_id: str
    biometric_hash: Annotated[str | None, PERSONAL]
    site: str | None = None


@event
class IdentityDocumentFlagged(DomainEvent):
    """At registration: the identity document the person's list gives was issued within days of it (or after
    it), so it is not relied on for age (IDDRS 5.20: documents issued "a few days prior to the registration")."""

    name = "ddr.registration.IdentityDocumentFlagged"
    version = 1

    person_id: str
    document_type: str | None
    document_issued: date
    days_before_registration: int


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


AUTHORITY_REFERENCE = r"^[A-Z]{2,12}(?:[-/.][A-Z0-9]{1,12}){0,5}[-/.][0-9]{1,8}$"
"""A decision's reference in its authority's register (``CNDDR-2026-041``, ``TGI/BKO/2025/17``): the issuing
body's acronym, then segments, the last a number. Never free text, which could name a person."""


@event
class PersonalDataErased(DomainEvent):
    """The person's personal data is destroyed (their key is shredded): every personal field of every event
    about them reads ``None`` from now on, in every service, topic, backup and handover bundle. What the
    figures need (movement, category, sex, birth year, region, the path's steps) stays; services holding a
    copy of anything personal scrub it on this event.

    ``authority``: the reference of the decision that ordered it in its authority's register
    (:data:`AUTHORITY_REFERENCE`); ``authorised_by``: the token subject of the officer who ordered it on that
    decision. v2: v1's ``authority`` was free text kept in clear (it could name the person, or whoever asked);
    its upcaster keeps it only when it has the shape of a reference, and v1 names nobody as ``authorised_by``
    (the envelope's ``actor`` says who recorded it)."""

    name = "ddr.registration.PersonalDataErased"
    version = 2

    person_id: str
    reason_code: ErasureReason
    authority: Annotated[str | None, Field(pattern=AUTHORITY_REFERENCE)]
    authorised_by: str | None = None


_REFERENCE = re.compile(AUTHORITY_REFERENCE)


@REGISTRY.upcaster("ddr.registration.PersonalDataErased", 1)
def _erasure_without_free_text(data: dict[str, Any]) -> dict[str, Any]:
    """v1 -> v2: the free-text authority is dropped unless it is a register reference; nobody authorised."""
    authority = data.get("authority")
    kept = authority if isinstance(authority, str) and _REFERENCE.fullmatch(authority) else None
    return {**data, "authority": kept, "authorised_by": None}


# -- identity deduplication ------------------------------------------------------------------------------


class DuplicateReason(BaseModel):
    """One piece of evidence for a suspected duplicate: a code and, for a similarity, its score (0..1).

    Codes such as ``name_similarity``, ``birth_year_same``, ``origin_same_commune``, ``father_same`` or
    ``biometric_same`` say how the two records compare, never what either holds: no name, date or place is
    ever stored in a reason. Registration builds the readable text, with both names, when a case is shown to
    someone allowed to see both people."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Annotated[str, Field(pattern=r"^[a-z][a-z_]{1,47}$")]
    score: Annotated[float | None, Field(ge=0.0, le=1.0)] = None


@event
class DuplicateSuspected(DomainEvent):
    """Subject: ``person_id``, the newer record. ``certain`` when the biometric references are the same.

    v2: ``reasons`` are codes and scores (:class:`DuplicateReason`); v1 stored sentences quoting both
    people's normalised names, which its upcaster drops."""

    name = "ddr.registration.DuplicateSuspected"
    version = 2

    case_id: str
    person_id: str
    other_person_id: str
    score: float
    certain: bool
    reasons: tuple[DuplicateReason, ...]


_V1_NAMES_ALIKE = re.compile(r"^names (\d{1,3})% alike( across scripts)?\b")
_V1_YEARS_APART = re.compile(r"^birth years (\d+) apart$")
_V1_PHRASES = {
    "same biometric hash": "biometric_same",
    "different biometric hashes": "biometric_different",
    "no comparable name": "no_comparable_name",
    "birth year unknown": "birth_year_unknown",
    "same birth year": "birth_year_same",
    "same day and month of birth": "birth_day_same",
    "different days of birth": "birth_day_different",
    "different sexes": "sex_different",
    "same commune": "origin_same_commune",
    "same cercle": "origin_same_cercle",
    "same region": "origin_same_region",
    "different communes": "origin_different_communes",
    "different cercles": "origin_different_cercles",
    "different regions": "origin_different_regions",
    "origin unknown": "origin_unknown",
    "same place of birth": "birth_place_same",
    "different places of birth": "birth_place_different",
    **{
        phrase.format(role): f"{role}_{agreement}"
        for role in ("father", "mother")
        for agreement, phrase in (
            ("same", "same {}'s name"),
            ("part", "{}'s name given in part"),
            ("close", "{}'s names alike"),
            ("different", "different {}s' names"),
        )
    },
}


def _v1_reason(text: str) -> list[dict[str, Any]]:
    """A v1 sentence as codes: the fixed phrases are mapped, a name similarity keeps its percentage and loses
    the names it quoted, anything else is dropped."""
    alike = _V1_NAMES_ALIKE.match(text)
    if alike:
        found: list[dict[str, Any]] = [{"kind": "name_similarity", "score": min(int(alike[1]), 100) / 100}]
        return found + ([{"kind": "across_scripts"}] if alike[2] else [])
    apart = _V1_YEARS_APART.match(text)
    if apart:
        gap = int(apart[1])
        return [
            {"kind": {1: "birth_year_one_apart", 2: "birth_year_two_apart"}.get(gap, "birth_years_far_apart")}
        ]
    kind = _V1_PHRASES.get(text)
    return [{"kind": kind}] if kind else []


@REGISTRY.upcaster("ddr.registration.DuplicateSuspected", 1)
def _duplicate_reasons_without_names(data: dict[str, Any]) -> dict[str, Any]:
    """v1 -> v2: the free-text reasons, which quoted both people's names, become codes; the text is dropped."""
    reasons = [
        code for text in data.get("reasons") or () if isinstance(text, str) for code in _v1_reason(text)
    ]
    return {**data, "reasons": reasons}


@event
class DuplicateMadeCertain(DomainEvent):
    """Subject: ``person_id`` of the case. The two records proved one person (the same biometric reference
    presented at registration): the case is certain, and open again if it had been judged distinct. The
    CNDDR resolves it (a merge)."""

    name = "ddr.registration.DuplicateMadeCertain"
    version = 1

    case_id: str
    person_id: str
    other_person_id: str
    reasons: tuple[DuplicateReason, ...]
    reopened: bool


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
    """Subject: the person who handed it over. Everyone gets a receipt, eligible or not (usable on appeal).

    ``serial_status``: ``present``, or why a weapon has no serial (``absent``, ``filed_off``, ``illegible``);
    ``programme_mark``: the programme's own mark given to a weapon without a readable serial (IDDRS 4.10).
    Both absent on ammunition and on hand-overs recorded before they were kept.

    v2: the serial is sealed under the person's key (with their name it ties them to a weapon; v1 kept it in
    clear, beyond the reach of an erasure). Its upcaster passes v1's serial on: the read model keeps only its
    keyed hash and a sealed copy, and an erasure drops both."""

    name = "ddr.registration.WeaponHandedOver"
    version = 2

    weapon_id: str
    person_id: str
    movement: str
    kind: ItemKind
    type: str
    calibre: str
    serial: Annotated[str | None, PERSONAL]
    quantity: int
    condition: str
    tag: str
    receipt_number: str
    custodian: str
    serial_status: SerialStatus | None = None
    programme_mark: str | None = None


@event
class WeaponFlaggedForTracing(DomainEvent):
    """Subject: the person who handed it over. A weapon received without a readable serial, under the
    programme's mark, is to be traced (its origin and history established from its other features)."""

    name = "ddr.registration.WeaponFlaggedForTracing"
    version = 1

    weapon_id: str
    person_id: str
    serial_status: SerialStatus
    programme_mark: str


@event
class ProgrammeMarkIssued(DomainEvent):
    """Subject: the person whose weapon is marked. The programme's marks are issued in sequence on one stream
    (``programme-marks``), so no mark is ever given twice."""

    name = "ddr.registration.ProgrammeMarkIssued"
    version = 1

    mark: str
    sequence: int
    weapon_id: str
    person_id: str


@event
class WeaponSerialDuplicateFlagged(DomainEvent):
    """Subject: the person who handed it over. The weapon's serial was handed over before, with the weapons
    named. v2: no serial (v1 repeated it in clear; it is the weapon's, sealed in ``WeaponHandedOver`` v2);
    its upcaster drops it."""

    name = "ddr.registration.WeaponSerialDuplicateFlagged"
    version = 2

    weapon_id: str
    person_id: str
    earlier_weapon_ids: tuple[str, ...]


@REGISTRY.upcaster("ddr.registration.WeaponHandedOver", 1)
def _hand_over_v1(data: dict[str, Any]) -> dict[str, Any]:
    """v1 -> v2: the same fields (the serial as v1 stored it, now a personal field)."""
    return dict(data)


@REGISTRY.upcaster("ddr.registration.WeaponSerialDuplicateFlagged", 1)
def _duplicate_flag_without_serial(data: dict[str, Any]) -> dict[str, Any]:
    """v1 -> v2: the serial is dropped."""
    return {key: value for key, value in data.items() if key != "serial"}


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
