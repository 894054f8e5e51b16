"""Contract events of the screening service (topic ``ddr.screening.events``); subject: the person id.

The cross-service contract is :class:`ScreeningOutcomeDecided` (which track a person is on, and what it
supersedes) with :class:`BenefitsHeld` / :class:`BenefitsReleased` (a pending vetting holds benefits, it does not
refuse them). Integration and reinsertion act on these alone; they carry what those services need of the
person (movement, category, sex, region, birth year, rank, armed) so nobody reads another service's store.
The screening service adds its own decision events (age, medical, vetting, eligibility, appeals) here.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict

from ddr_contracts.events import PERSONAL, REGISTRY, DomainEvent, event

Track = Literal["integration", "reinsertion", "cvr", "not_eligible", "child_protection"]
MedicalResult = Literal["fit", "unfit", "temporarily_unfit"]
VettingStatus = Literal["cleared", "held", "excluded"]
VettingSource = Literal["list_check", "officer", "appeal"]
AgeConclusion = Literal["child", "adult", "undetermined"]
AgeEffect = Literal["child_identified", "adult_confirmed", "child_determination_kept", "still_undetermined"]
ChildBasis = Literal["category", "birth_date", "birth_year", "assessment", "correction"]
AllegationStatus = Literal["alleged", "substantiated"]
Eligibility = Literal["integration", "reinsertion", "cvr", "not_eligible", "pending"]
DecisionKind = Literal["age", "medical", "vetting", "membership", "handling_test"]


@event
class ScreeningOutcomeDecided(DomainEvent):
    """Where the person's path goes now. A later outcome for the same person supersedes the earlier one
    (``supersedes_decision_id``), e.g. an appeal overturning an unfit decision; both stay in the history.

    ``child_protection``: the person is a child, separated and handed to child protection; they never enter
    integration or reinsertion, and downstream services must drop them from any track they were on.
    """

    name = "ddr.screening.ScreeningOutcomeDecided"
    version = 1

    person_id: str
    decision_id: str
    track: Track
    reason_code: str
    rule_version: str | None
    previous_track: Track | None
    supersedes_decision_id: str | None
    by_appeal: bool
    movement: str
    category: str
    sex: str
    region: str
    birth_year: int | None
    rank: str
    armed: bool


@event
class BenefitsHeld(DomainEvent):
    """Benefits of the person are held (not refused) while ``reason_code`` is pending, e.g. an allegation
    under human-rights vetting. Downstream services keep the person but pay and place nothing until released."""

    name = "ddr.screening.BenefitsHeld"
    version = 1

    person_id: str
    decision_id: str
    reason_code: str


@event
class BenefitsReleased(DomainEvent):
    name = "ddr.screening.BenefitsReleased"
    version = 1

    person_id: str
    decision_id: str
    reason_code: str


# -- the screening case (stream and subject: the person id) -------------------------------------------------


@event
class ScreeningCaseOpened(DomainEvent):
    """A registered person's screening case, opened from registration's events (one per person).

    ``youngest_age`` is the age at registration with the benefit of the doubt (a year alone counts as
    31 December of that year); ``None`` when the birth date is unknown, which needs an age assessment.
    """

    name = "ddr.screening.ScreeningCaseOpened"
    version = 1

    person_id: str
    ddr_id: str
    movement: str
    category: str
    sex: str
    region: str
    cercle: str
    rank: str
    armed: bool
    birth_kind: str
    birth_year: int | None
    youngest_age: int | None
    weapon_handed_over: bool
    registered_on: date


@event
class ChildIdentified(DomainEvent):
    """The person is (or may be) under 18: separated at once, to be handed to child protection by the deadline."""

    name = "ddr.screening.ChildIdentified"
    version = 1

    person_id: str
    decision_id: str
    basis: ChildBasis
    youngest_age: int | None
    identified_at: datetime
    handover_deadline: datetime


@event
class ChildHandedOver(DomainEvent):
    name = "ddr.screening.ChildHandedOver"
    version = 1

    person_id: str
    decision_id: str
    receiving_actor: str
    handed_over_at: datetime
    note: Annotated[str | None, PERSONAL]


@event
class AgeAssessed(DomainEvent):
    """An age assessment or challenge. A document issued within the configured window before registration is
    ``document_suspect`` and not relied on. ``effect`` says what it changed: an identified child stays one."""

    name = "ddr.screening.AgeAssessed"
    version = 1

    person_id: str
    decision_id: str
    method: str
    youngest_age: int | None
    document_issued_on: date | None
    document_suspect: bool
    conclusion: AgeConclusion
    effect: AgeEffect
    note: Annotated[str | None, PERSONAL]


@event
class MedicalExamined(DomainEvent):
    """One medical examination for integration; every one is kept. Details are personal (sealed)."""

    name = "ddr.screening.MedicalExamined"
    version = 1

    person_id: str
    decision_id: str
    examination_number: int
    result: MedicalResult
    re_examination: bool
    details: Annotated[str | None, PERSONAL]


@event
class MedicalReExaminationRequested(DomainEvent):
    name = "ddr.screening.MedicalReExaminationRequested"
    version = 1

    person_id: str
    request_id: str
    of_decision_id: str
    requested_by: str
    reason: Annotated[str | None, PERSONAL]


@event
class VettingDecided(DomainEvent):
    """Human-rights vetting: a check against a version of the list, or an officer's (or appeal's) decision.

    v2: ``allegation_ref`` is personal, sealed under the person's key like ``reason`` (v1 kept it in clear: the
    link from the person to an outside allegation file sat on Kafka for ever, beyond the reach of an erasure).
    Its upcaster keeps the field as v1 stored it."""

    name = "ddr.screening.VettingDecided"
    version = 2

    person_id: str
    decision_id: str
    status: VettingStatus
    source: VettingSource
    list_version: int | None
    allegation_ref: Annotated[str | None, PERSONAL]
    reason_code: str
    reason: Annotated[str | None, PERSONAL]


@REGISTRY.upcaster("ddr.screening.VettingDecided", 1)
def _vetting_decided_v1(data: dict[str, Any]) -> dict[str, Any]:
    """v1 -> v2: the same fields (the allegation reference as v1 stored it, in clear)."""
    return dict(data)


@event
class MembershipVerificationDecided(DomainEvent):
    """Registration on a certified list verifies membership; an officer may find otherwise (or reverse it)."""

    name = "ddr.screening.MembershipVerificationDecided"
    version = 1

    person_id: str
    decision_id: str
    verified: bool
    reason_code: str
    reason: Annotated[str | None, PERSONAL]


@event
class HandlingTestRecorded(DomainEvent):
    """A weapon handling test, for an armed member who handed no weapon over."""

    name = "ddr.screening.HandlingTestRecorded"
    version = 1

    person_id: str
    decision_id: str
    passed: bool


@event
class WeaponHandoverNoted(DomainEvent):
    name = "ddr.screening.WeaponHandoverNoted"
    version = 1

    person_id: str
    weapon_id: str
    receipt_number: str


@event
class ReinsertionChosen(DomainEvent):
    """The person chose socio-economic reinsertion where the rule set offers the choice."""

    name = "ddr.screening.ReinsertionChosen"
    version = 1

    person_id: str
    decision_id: str
    rule_version: str


@event
class EligibilityDetermined(DomainEvent):
    """Eligibility under one version of the rules, with the reasons; recorded whenever its result changes."""

    name = "ddr.screening.EligibilityDetermined"
    version = 1

    person_id: str
    decision_id: str
    rule_version: str
    result: Eligibility
    reasons: tuple[str, ...]


@event
class CaseDetailsCorrected(DomainEvent):
    """Registration corrected the person's details; only the fields named changed."""

    name = "ddr.screening.CaseDetailsCorrected"
    version = 1

    person_id: str
    corrected_fields: tuple[str, ...]
    category: str | None = None
    sex: str | None = None
    birth_kind: str | None = None
    birth_year: int | None = None
    region: str | None = None
    cercle: str | None = None
    rank: str | None = None
    armed: bool | None = None
    youngest_age: int | None = None


@event
class CaseMergedInto(DomainEvent):
    """Registration found this person a duplicate of ``into_person_id``: the case closes (not a child's track)."""

    name = "ddr.screening.CaseMergedInto"
    version = 1

    person_id: str
    into_person_id: str


@event
class AppealLodged(DomainEvent):
    name = "ddr.screening.AppealLodged"
    version = 1

    person_id: str
    appeal_id: str
    decision_id: str
    decision_kind: DecisionKind
    lodged_by: str
    reason: Annotated[str | None, PERSONAL]


@event
class AppealDecided(DomainEvent):
    """``overturned``: the appealed decision is replaced by ``replacement`` (its kind's value, e.g. ``fit``)."""

    name = "ddr.screening.AppealDecided"
    version = 1

    person_id: str
    appeal_id: str
    decision_id: str
    decision_kind: DecisionKind
    overturned: bool
    replacement: str | None
    decided_by: str
    reason: Annotated[str | None, PERSONAL]


# -- reference data: the vetting list and the eligibility rule sets ---------------------------------------


class VettingListEntry(BaseModel):
    """A person of the caseload named by an allegation of grave crimes (by person id, never by name)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    person_id: str
    allegation_ref: str
    status: AllegationStatus


@event
class VettingListVersionPublished(DomainEvent):
    """A new version of the list of persons alleged of grave crimes; it replaces the previous version whole.
    Who is on it is sensitive: the entries are sealed (under the list's own key), only the count is open."""

    name = "ddr.screening.VettingListVersionPublished"
    version = 1

    list_version: int
    entry_count: int
    source_ref: str
    entries: Annotated[tuple[VettingListEntry, ...] | None, PERSONAL]


@event
class EligibilityRuleSetPublished(DomainEvent):
    """A version of the eligibility criteria, in force from ``effective_from`` until a later one."""

    name = "ddr.screening.EligibilityRuleSetPublished"
    version = 1

    rule_version: str
    effective_from: date
    description: str
    integration_categories: tuple[str, ...]
    reinsertion_categories: tuple[str, ...]
    cvr_movements: tuple[str, ...]
    require_armed: bool
    require_verified_member: bool
    require_weapon_or_handling_test: bool
    reinsertion_choice_offered: bool
