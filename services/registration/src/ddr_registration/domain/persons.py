"""A person of the caseload: pre-registered from a list, registered, corrected, maybe merged.

Nothing is updated in place: each change is an event, a correction carries its reason, and a merged
record keeps its history, reachable from the surviving one.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date, datetime
from typing import cast, get_args

from ddr_registration.domain.events import (
    IdentityDocumentFlagged,
    PersonAbsorbed,
    PersonalDataErased,
    PersonDetailsCorrected,
    PersonEvent,
    PersonMergedInto,
    PersonPreRegistered,
    PersonRegistered,
)
from ddr_registration.domain.members import Category, ListedMember, Sex, document_days_before
from ddr_registration.domain.values import AUTHORITY_REFERENCE, DeclaredWeapon, ErasureReason
from ddr_runtime.kernel import Aggregate, AlreadyDone, Recording, RuleViolated

When = date | datetime | None
"""When a fact happened, as the caller says: a day, an instant, or ``None`` for now."""

BIRTH_KINDS = ("exact", "year", "unknown")
ERASURE_REASONS: frozenset[str] = frozenset(get_args(ErasureReason))


def person_stream(person_id: str) -> str:
    return f"person-{person_id}"


@dataclass(frozen=True)
class Correction:
    """The personal details to correct; ``None`` leaves a detail as it is."""

    full_name: str | None = None
    full_name_arabic: str | None = None
    category: str | None = None
    sex: str | None = None
    birth_kind: str | None = None
    birth_date: date | None = None
    birth_year: int | None = None
    region: str | None = None
    cercle: str | None = None
    commune: str | None = None
    rank: str | None = None
    armed: bool | None = None
    father_name: str | None = None
    mother_name: str | None = None
    birth_place: str | None = None

    def given(self) -> tuple[str, ...]:
        return tuple(f.name for f in fields(self) if getattr(self, f.name) is not None)


class Person(Aggregate[PersonEvent]):
    def __init__(self) -> None:
        super().__init__()
        self.person_id = ""
        self.movement = ""
        self.category = ""
        self.sex = ""
        self.region = ""
        self.birth_year: int | None = None
        self.ddr_id: str | None = None
        self.site: str | None = None
        self.listed_at: datetime | None = None
        self.registered_at: datetime | None = None
        self.document: tuple[str | None, date] | None = None  # the identity document the list gives
        self.merged_into: str | None = None
        self.absorbed: list[str] = []
        self.erased = False

    @classmethod
    def pre_register(
        cls,
        person_id: str,
        list_id: str,
        list_version: int,
        movement: str,
        member: ListedMember,
        at: datetime | None = None,
        line: int | None = None,
    ) -> Person:
        """Pre-register a listed member (from ``line`` of the list file); ``at``: when the list version was
        submitted (business time)."""
        _check_category_and_sex(str(member.category), str(member.sex))
        person = cls()
        person.record(
            PersonPreRegistered(
                person_id=person_id,
                list_id=list_id,
                list_version=list_version,
                movement=movement,
                movement_ref=member.movement_ref,
                category=str(member.category),
                sex=str(member.sex),
                birth_kind=member.birth.kind,
                birth_year=member.birth.year,
                birth_date=member.birth.value if member.birth.kind == "exact" else None,
                region=member.region,
                cercle=member.cercle,
                commune=member.commune,
                rank=member.rank or "",
                armed=member.armed,
                full_name=member.full_name,
                full_name_arabic=member.full_name_arabic,
                father_name=member.father_name,
                mother_name=member.mother_name,
                birth_place=member.birth_place,
                document_type=member.document_type,
                document_issued=member.document_issued,
                declared_weapons=tuple(
                    DeclaredWeapon(type=w.kind, calibre=w.calibre, serial=w.serial, condition=w.condition)
                    for w in member.weapons
                ),
                line=line,
            ),
            at=at,
        )
        return person

    def register(
        self,
        ddr_id: str,
        biometric_hash: str,
        site: str,
        *,
        recording: Recording | None = None,
        on: When = None,
    ) -> None:
        """Biometric registration at ``site``, on the day (or at the instant) ``on``: never before the person
        was listed, nor in the future."""
        self._still_standing()
        if self.ddr_id is not None:
            raise AlreadyDone("registered-once", "this person is already registered")
        if not site.strip():
            raise RuleViolated("registration-site", "a registration names the site where it was done")
        at = (recording or Recording()).moment(on, after=self.listed_at, after_what="the listing")
        self.record(
            PersonRegistered(
                person_id=self.person_id, ddr_id=ddr_id, biometric_hash=biometric_hash, site=site.strip()
            ),
            at=at,
        )
        days = document_days_before(self.document[1], at.date()) if self.document else None
        if self.document is not None and days is not None:
            self.record(
                IdentityDocumentFlagged(
                    person_id=self.person_id,
                    document_type=self.document[0],
                    document_issued=self.document[1],
                    days_before_registration=days,
                ),
                at=at,
            )

    def receiving_moment(self, recording: Recording | None = None, on: When = None) -> datetime:
        """When something this person hands over is received: never before their registration (before their
        listing, for someone not registered yet), nor in the future."""
        recording = recording or Recording()
        if self.registered_at is not None:
            return recording.moment(on, after=self.registered_at, after_what="the registration")
        return recording.moment(on, after=self.listed_at, after_what="the listing")

    def correct(
        self, correction: Correction, reason: str, *, recording: Recording | None = None, on: When = None
    ) -> None:
        """Correct personal details, decided on ``on``: never before the person was listed."""
        self._still_standing()
        if not reason.strip():
            raise RuleViolated("correction-needs-reason", "a correction needs a reason")
        changed = correction.given()
        if not changed:
            raise RuleViolated("correction-changes-something", "a correction must change at least one detail")
        if correction.birth_kind is not None and correction.birth_kind not in BIRTH_KINDS:
            raise RuleViolated("birth-kind", "the date of birth is exact, year-only or unknown")
        _check_category_and_sex(correction.category or self.category, correction.sex or self.sex)
        at = (recording or Recording()).moment(on, after=self.listed_at, after_what="the listing")
        self.record(
            PersonDetailsCorrected(
                person_id=self.person_id,
                corrected_fields=changed,
                reason=reason,
                **{name: getattr(correction, name) for name in changed},
            ),
            at=at,
        )

    def merge_into(self, survivor_id: str, case_id: str) -> None:
        self._still_standing()
        if survivor_id == self.person_id:
            raise RuleViolated("merge-two-people", "a person cannot be merged into themselves")
        self.record(PersonMergedInto(person_id=self.person_id, into_person_id=survivor_id, case_id=case_id))

    def absorb(self, absorbed_id: str, case_id: str) -> None:
        self._still_standing()
        self.record(PersonAbsorbed(person_id=self.person_id, absorbed_person_id=absorbed_id, case_id=case_id))

    def erase(self, reason_code: str, authority: str, authorised_by: str) -> None:
        """Destroy the person's personal data; the record stays, closed, for the figures and the audit.

        ``authority``: the decision's reference in its authority's register (never free text, which could
        name someone); ``authorised_by``: the token subject of the officer who ordered it."""
        if self.erased:
            raise AlreadyDone("erased-once", "this person's personal data is already erased")
        if reason_code not in ERASURE_REASONS:
            raise RuleViolated("erasure-reason", f"the reason is one of {', '.join(sorted(ERASURE_REASONS))}")
        if not AUTHORITY_REFERENCE.fullmatch(authority):
            raise RuleViolated(
                "erasure-authority",
                "an erasure names the decision that ordered it by its register reference (CNDDR-2026-041)",
            )
        self.record(
            PersonalDataErased(
                person_id=self.person_id,
                reason_code=cast(ErasureReason, reason_code),  # checked against ERASURE_REASONS above
                authority=authority,
                authorised_by=authorised_by,
            )
        )

    def _still_standing(self) -> None:
        if self.merged_into is not None:
            raise RuleViolated("merged-record-is-closed", "this record was merged into another")
        if self.erased:
            raise RuleViolated("erased-record-is-closed", "this person's personal data was erased")

    def apply(self, event: PersonEvent) -> None:
        if isinstance(event, PersonPreRegistered):
            self.person_id, self.movement = event.person_id, event.movement
            self.category, self.sex = event.category, event.sex
            self.region, self.birth_year = event.region, event.birth_year
            self.listed_at = self.at
            if event.document_issued is not None:
                self.document = (event.document_type, event.document_issued)
        elif isinstance(event, PersonRegistered):
            self.ddr_id, self.site, self.registered_at = event.ddr_id, event.site, self.at
        elif isinstance(event, PersonDetailsCorrected):
            self.category = event.category or self.category
            self.sex = event.sex or self.sex
            self.region = event.region or self.region
            if "birth_year" in event.corrected_fields:
                self.birth_year = event.birth_year
        elif isinstance(event, PersonMergedInto):
            self.merged_into = event.into_person_id
        elif isinstance(event, PersonAbsorbed):
            self.absorbed.append(event.absorbed_person_id)
        elif isinstance(event, PersonalDataErased):
            self.erased = True


def _check_category_and_sex(category: str, sex: str) -> None:
    if category not in {str(c) for c in Category}:
        raise RuleViolated("category", "unknown category")
    if sex not in {str(s) for s in Sex}:
        raise RuleViolated("sex", "sex is F or M")
    if category == "associated_woman" and sex != "F":
        raise RuleViolated("associated-woman-is-a-woman", "a woman associated with an armed group is F")
