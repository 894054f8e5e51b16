"""What of each step a reader may see: an explicit allow-list per event type, denying by default.

A path's step shows the envelope's facts (type, service, times, actor, the step that caused it) and the
fields of its event listed here, each with the sight it needs:

- ``path``: anyone who may read the path in full (a CNDDR officer within their remit, an auditor, child
  protection on a child's path);
- ``medical``: medical detail (examiners and auditors, ``sees_medical_detail``);
- ``vetting``: vetting detail (vetting officers and auditors, ``sees_vetting_detail``);
- ``child``: a child's record (child protection, ``sees_children``).

A step itself needs a sight too (a medical examination's step is medical detail, whatever its fields). A
field whose meaning depends on its value (a screening outcome's reason code) lists its values, each with its
sight. An event type, a field or a value not listed here shows nothing to anyone: a new one appears only once
someone has decided who may see it. Listed fields are also the only ones the projector keeps in a step's
summary; none is a personal field (the projector drops those unread).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Literal

Sight = Literal["path", "medical", "vetting", "child"]
FieldSight = Sight | Mapping[str, Sight]
"""One sight for every value of a field, or one per listed value (others are shown to nobody)."""

ENVELOPE_FIELDS = ("reason_code", "rule_version")
"""Step attributes read from the event's data, disclosed like its fields."""


@dataclass(frozen=True)
class StepRule:
    sight: Sight | tuple[str, Mapping[str, Sight]]  # the step's own, or one per value of a field
    fields: Mapping[str, FieldSight] = field(default_factory=dict)


def _all(sight: Sight, *names: str) -> dict[str, FieldSight]:
    return dict.fromkeys(names, sight)


_PERSON = ("movement", "category", "sex", "region", "cercle", "rank", "armed", "birth_kind", "birth_year")
_OUTCOME_FIELDS = (
    "decision_id", "track", "previous_track", "supersedes_decision_id", "by_appeal", "rule_version"
)  # fmt: skip
_OUTCOME_FIELDS = (
    "decision_id",
    "track",
    "previous_track",
    "supersedes_decision_id",
    "by_appeal",
    "rule_version",
)
_DECISION_KIND: dict[str, Sight] = {
    "membership": "path",
    "handling_test": "path",
    "medical": "medical",
    "vetting": "vetting",
    "age": "child",
}
SCREENING_REASONS: dict[str, Sight] = {
    "integration_criteria_met": "path",
    "category_reinsertion": "path",
    "category_not_eligible": "path",
    "membership_not_verified": "path",
    "unarmed": "path",
    "weapon_or_handling_test_pending": "path",
    "handling_test_failed": "path",
    "cvr_movement": "path",
    "by_choice": "path",
    "duplicate_merged": "path",
    "eligible_fit": "medical",
    "medically_unfit": "medical",
    "vetting_excluded": "vetting",
    "child": "child",
}
HOLD_REASONS: dict[str, Sight] = {
    "vetting": "vetting",
    "vetting_pending": "vetting",
    "vetting_cleared": "vetting",
    "child": "child",
}

STEP_RULES: dict[str, StepRule] = {
    # registration
    "ddr.registration.PersonPreRegistered": StepRule(
        "path", _all("path", "list_id", "list_version", "document_type", *_PERSON)
    ),
    "ddr.registration.PersonRegistered": StepRule("path", _all("path", "ddr_id", "site")),
    "ddr.registration.PersonDetailsCorrected": StepRule("path", _all("path", *_PERSON)),
    "ddr.registration.PersonMergedInto": StepRule("path", _all("path", "into_person_id", "case_id")),
    "ddr.registration.PersonAbsorbed": StepRule("path", _all("path", "absorbed_person_id", "case_id")),
    "ddr.registration.WeaponHandedOver": StepRule(
        "path", _all("path", "kind", "type", "calibre", "quantity", "condition")
    ),
    "ddr.registration.PersonalDataErased": StepRule("path", _all("path", "reason_code")),
    # screening
    "ddr.screening.ScreeningCaseOpened": StepRule(
        "path", _all("path", "ddr_id", "weapon_handed_over", "registered_on", *_PERSON)
    ),
    "ddr.screening.ScreeningOutcomeDecided": StepRule(
        "path",
        {
            **_all("path", *_OUTCOME_FIELDS, *_PERSON),
            "reason_code": SCREENING_REASONS,
        },
    ),
    "ddr.screening.BenefitsHeld": StepRule("path", {"decision_id": "path", "reason_code": HOLD_REASONS}),
    "ddr.screening.BenefitsReleased": StepRule("path", {"decision_id": "path", "reason_code": HOLD_REASONS}),
    "ddr.screening.ChildIdentified": StepRule(
        "child", _all("child", "decision_id", "basis", "youngest_age", "identified_at", "handover_deadline")
    ),
    "ddr.screening.ChildHandedOver": StepRule(
        "child", _all("child", "decision_id", "receiving_actor", "handed_over_at")
    ),
    "ddr.screening.AgeAssessed": StepRule(
        "child", _all("child", "decision_id", "method", "youngest_age", "conclusion", "effect")
    ),
    "ddr.screening.MedicalExamined": StepRule(
        "medical", _all("medical", "decision_id", "examination_number", "result", "re_examination")
    ),
    "ddr.screening.MedicalReExaminationRequested": StepRule(
        "medical", _all("medical", "request_id", "of_decision_id", "requested_by")
    ),
    "ddr.screening.VettingDecided": StepRule(
        "vetting",
        # No allegation_ref: it is personal (sealed, VettingDecided v2) and dropped before this reads the step;
        # vetting officers and auditors see it in screening's own case view.
        _all("vetting", "decision_id", "status", "source", "list_version", "reason_code"),
    ),
    "ddr.screening.MembershipVerificationDecided": StepRule(
        "path", _all("path", "decision_id", "verified", "reason_code")
    ),
    "ddr.screening.HandlingTestRecorded": StepRule("path", _all("path", "decision_id", "passed")),
    "ddr.screening.ReinsertionChosen": StepRule("path", _all("path", "decision_id", "rule_version")),
    "ddr.screening.EligibilityDetermined": StepRule(
        "path", _all("path", "decision_id", "rule_version", "result")
    ),
    "ddr.screening.CaseDetailsCorrected": StepRule("path", _all("path", *_PERSON)),
    "ddr.screening.CaseMergedInto": StepRule("path", _all("path", "into_person_id")),
    "ddr.screening.AppealLodged": StepRule(
        ("decision_kind", _DECISION_KIND), _all("path", "appeal_id", "decision_id", "decision_kind")
    ),
    "ddr.screening.AppealDecided": StepRule(
        ("decision_kind", _DECISION_KIND),
        _all("path", "appeal_id", "decision_id", "decision_kind", "overturned", "replacement"),
    ),
    # integration
    "ddr.integration.CandidateReceived": StepRule(
        "path", _all("path", "movement", "category", "path", "screening_decision_id", "effective_on")
    ),
    "ddr.integration.CandidateAccepted": StepRule(
        "path", _all("path", "movement", "path", "quota_id", "screening_decision_id", "effective_on")
    ),
    "ddr.integration.CandidateWithdrawn": StepRule("path", _all("path", "reason_code", "effective_on")),
    "ddr.integration.ServiceStatusChanged": StepRule(
        "path", _all("path", "unit", "status", "effective_on", "discharge_kind", "referred_to_reinsertion")
    ),
    "ddr.integration.RankAllocated": StepRule(
        "path", _all("path", "rule_version", "movement_rank", "rank", "command_function", "effective_on")
    ),
    "ddr.integration.CandidateAcceptanceDeferred": StepRule(
        "path", _all("path", "reason_code", "quota_id", "used", "limit", "effective_on")
    ),
    "ddr.integration.RankDisputed": StepRule(
        "path",
        _all(
            "path",
            "dispute_id",
            "allocated_rank",
            "claimed_rank",
            "claimed_command_function",
            "grounds_code",
            "effective_on",
        ),
    ),
    "ddr.integration.RankDisputeDecided": StepRule(
        "path", _all("path", "dispute_id", "outcome", "decision_ref", "effective_on")
    ),
    "ddr.integration.TraineeEnrolled": StepRule("path", _all("path", "cohort_id", "effective_on")),
    "ddr.integration.TrainingOutcomeRecorded": StepRule(
        "path", _all("path", "cohort_id", "outcome", "effective_on")
    ),
    "ddr.integration.MemberAssigned": StepRule(
        "path", _all("path", "unit_id", "movement", "party", "command_post", "effective_on")
    ),
    "ddr.integration.MemberStruckOff": StepRule("path", _all("path", "unit_id", "status", "effective_on")),
    "ddr.integration.MemberReinstated": StepRule(
        "path", _all("path", "unit_id", "command_post", "effective_on")
    ),
    "ddr.integration.RecalledToCorps": StepRule("path", _all("path", "corps", "effective_on")),
    "ddr.integration.CivilServiceListed": StepRule("path", _all("path", "list_ref", "effective_on")),
    # reinsertion
    "ddr.reinsertion.BeneficiaryEnrolled": StepRule(
        "path", _all("path", "source", "round_id", "region", "sex", "category", "movement", "effective_on")
    ),
    "ddr.reinsertion.BeneficiaryExited": StepRule("path", _all("path", "reason", "effective_on")),
    "ddr.reinsertion.PackageGranted": StepRule(
        "path", _all("path", "package_id", "package_version", "kind", "granted_on")
    ),
    "ddr.reinsertion.TrainingAttended": StepRule("path", _all("path", "provider", "attended_on")),
    "ddr.reinsertion.FollowUpVisitRecorded": StepRule("path", _all("path", "outcome", "visited_on")),
    "ddr.reinsertion.TrancheDisbursed": StepRule("path", _all("path", "tranche", "office", "paid_on")),
    # cvr
    "ddr.cvr.ParticipantEnrolled": StepRule(
        "path", _all("path", "project_id", "partner_id", "category", "sex", "birth_year", "enrolled_on")
    ),
    "ddr.cvr.ParticipantWithdrawn": StepRule("path", _all("path", "project_id", "withdrawn_on")),
}


@dataclass(frozen=True)
class Sights:
    """What one reader may see beyond the path itself."""

    medical: bool = False
    vetting: bool = False
    child: bool = False

    def allows(self, sight: Sight | None) -> bool:
        if sight is None:
            return False
        return sight == "path" or getattr(self, sight)


def _value_sight(rule: FieldSight, value: Any) -> Sight | None:
    if isinstance(rule, str):
        return rule
    return rule.get(value) if isinstance(value, str) else None


def step_visible(type_name: str, summary: Mapping[str, Any], sights: Sights) -> bool:
    rule = STEP_RULES.get(type_name)
    if rule is None:
        return False
    if isinstance(rule.sight, str):
        return sights.allows(rule.sight)
    name, by_value = rule.sight
    return sights.allows(_value_sight(by_value, summary.get(name)))


def visible_fields(type_name: str, values: Mapping[str, Any], sights: Sights) -> dict[str, Any]:
    """The listed fields of ``values`` the reader may see (unlisted ones dropped)."""
    rule = STEP_RULES.get(type_name)
    if rule is None:
        return {}
    return {
        name: value
        for name, value in values.items()
        if name in rule.fields and sights.allows(_value_sight(rule.fields[name], value))
    }


@cache
def kept_fields(type_name: str) -> tuple[str, ...]:
    """The fields of a step's summary worth storing: the fields some reader may see (the projector picks
    these out of an event's data, and nothing else)."""
    rule = STEP_RULES.get(type_name)
    return () if rule is None else tuple(rule.fields)
