"""The screening case of one person: every decision is an event; the outcome follows from the decisions.

Children first: a person identified as a child is on the ``child_protection`` track from the moment they are
identified, and no later event (a vetting match, an adult document, an appeal, a correction) can move them
to another track. A person whose age is unknown is treated as possibly a child (no other track, records
restricted) until an assessment concludes.

Business time: every decision happened at a time of its own, given by the command (``on``, a day or an
instant) and checked by the kernel's :class:`Recording`: never in the future, never before the fact it
depends on (an examination not before the registration, a re-examination not before the examination, an
appeal's decision not before the appeal), older than the window only with the authority to back-record.
The 48-hour hand-over deadline runs from the business time of the separation. Eligibility and the outcome
are decided as of the latest fact they follow from, under the rule set in force on that day.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from ddr_runtime.kernel import Aggregate, AlreadyDone, Recording, RuleViolated
from ddr_screening.domain.age import document_suspect, is_minor
from ddr_screening.domain.events import (
    AgeAssessed,
    AppealDecided,
    AppealLodged,
    BenefitsHeld,
    BenefitsReleased,
    CaseDetailsCorrected,
    CaseEvent,
    CaseMergedInto,
    ChildHandedOver,
    ChildIdentified,
    EligibilityDetermined,
    HandlingTestRecorded,
    MedicalExamined,
    MedicalReExaminationRequested,
    MembershipVerificationDecided,
    ReinsertionChosen,
    ScreeningCaseOpened,
    ScreeningOutcomeDecided,
    VettingDecided,
    WeaponHandoverNoted,
)
from ddr_screening.domain.policy import ScreeningPolicy
from ddr_screening.domain.rules import EligibilityFacts, RuleSet, evaluate, in_force
from ddr_screening.domain.values import (
    AgeConclusion,
    AgeEffect,
    ChildBasis,
    DecisionKind,
    Eligibility,
    MedicalResult,
    Track,
    VettingListEntry,
    VettingSource,
    VettingStatus,
)

MEDICAL_RESULTS: frozenset[str] = frozenset({"fit", "unfit", "temporarily_unfit"})
REPLACEMENTS: dict[str, frozenset[str]] = {
    "age": frozenset({"child"}),
    "medical": MEDICAL_RESULTS,
    "vetting": frozenset({"cleared", "held", "excluded"}),
    "membership": frozenset({"verified", "not_verified"}),
    "handling_test": frozenset({"passed", "failed"}),
}
CORRECTABLE = frozenset({"category", "sex", "birth_kind", "birth_year", "region", "cercle", "rank", "armed"})
Day = date | datetime | None
"""When a decision happened, as a command gives it: a day, an instant, or ``None`` (now)."""


def new_id() -> str:
    return str(uuid.uuid4())


@dataclass
class Examination:
    decision_id: str
    number: int
    result: MedicalResult
    re_examination: bool
    at: datetime | None


@dataclass
class Appeal:
    appeal_id: str
    decision_id: str
    kind: DecisionKind
    at: datetime | None
    decided: bool = False
    overturned: bool = False


@dataclass(frozen=True)
class Decision:
    kind: DecisionKind
    at: datetime | None


@dataclass(frozen=True)
class AgeEvidence:
    """What an age assessment rests on: a method, an assessed age, a document and the age it states."""

    method: str
    youngest_age: int | None = None
    document_issued_on: date | None = None
    documented_age: int | None = None
    note: str | None = None


@dataclass(frozen=True)
class Ruling:
    """An appeal's decision: ``overturned`` replaces the appealed decision by ``replacement``."""

    overturned: bool
    replacement: str | None
    decided_by: str
    reason: str | None = None


class ScreeningCase(Aggregate[CaseEvent]):
    """Rebuilt from its events; commands check a rule, then record events; :meth:`settle` decides the track."""

    def __init__(self) -> None:
        super().__init__()
        self.person_id = ""
        self.opened = False
        self.opened_at: datetime | None = None  # the registration's business time
        self.latest_at: datetime | None = None  # the latest business time of any fact on the case
        self.ddr_id = self.movement = self.category = self.sex = ""
        self.region = self.cercle = self.rank = ""
        self.armed = False
        self.birth_kind = "unknown"
        self.birth_year: int | None = None
        self.youngest_age: int | None = None
        self.registered_on: date | None = None
        self.merged_into: str | None = None

        self.child = False
        self.child_decision_id: str | None = None
        self.identified_at: datetime | None = None
        self.handover_deadline: datetime | None = None
        self.handed_over_at: datetime | None = None
        self.age_assessed = False
        self.suspect_documents = 0

        self.weapon_handed_over = False
        self.handling_test_passed: bool | None = None
        self.verified_member = True
        self.chose_reinsertion = False
        self.examinations: list[Examination] = []
        self.medical_override: MedicalResult | None = None  # an appeal's replacement of the last examination
        self.re_examinations_requested = 0
        self.re_examination_open = False
        self.re_examination_requested_at: datetime | None = None

        self.vetting: VettingStatus | None = None
        self.vetting_at: datetime | None = None
        self.allegation_ref: str | None = None
        self.cleared_allegations: set[str] = set()
        self.held = False
        self.hold_decision_id: str | None = None

        self.rule_version: str | None = None
        self.eligibility: Eligibility | None = None
        self.eligibility_reasons: tuple[str, ...] = ()
        self.track: Track | None = None
        self.outcome_decision_id: str | None = None
        self.outcome_reason: str | None = None
        self.outcomes = 0

        self.decisions: dict[str, Decision] = {}
        self.appeals: dict[str, Appeal] = {}

    # -- replay -----------------------------------------------------------------------------------------

    def apply(self, event: CaseEvent) -> None:
        if self.at is not None and (self.latest_at is None or self.at > self.latest_at):
            self.latest_at = self.at
        _APPLY[type(event)](self, event)

    def _opened(self, event: ScreeningCaseOpened) -> None:
        self.opened, self.opened_at, self.person_id = True, self.at, event.person_id
        self.ddr_id, self.movement, self.category, self.sex = (
            event.ddr_id,
            event.movement,
            event.category,
            event.sex,
        )
        self.region, self.cercle, self.rank, self.armed = event.region, event.cercle, event.rank, event.armed
        self.birth_kind, self.birth_year = event.birth_kind, event.birth_year
        self.youngest_age = event.youngest_age
        self.weapon_handed_over = event.weapon_handed_over
        self.registered_on = event.registered_on

    def _child_identified(self, event: ChildIdentified) -> None:
        self.child = True
        self.child_decision_id = event.decision_id
        self.identified_at = event.identified_at
        self.handover_deadline = event.handover_deadline
        self.decisions[event.decision_id] = Decision("age", self.at)

    def _handed_over(self, event: ChildHandedOver) -> None:
        self.handed_over_at = event.handed_over_at

    def _age_assessed(self, event: AgeAssessed) -> None:
        self.decisions[event.decision_id] = Decision("age", self.at)
        self.suspect_documents += event.document_suspect
        if event.effect in ("adult_confirmed", "child_identified"):
            self.age_assessed = True
            self.youngest_age = event.youngest_age

    def _examined(self, event: MedicalExamined) -> None:
        self.examinations.append(
            Examination(
                event.decision_id, event.examination_number, event.result, event.re_examination, self.at
            )
        )
        self.medical_override = None
        self.re_examination_open = False
        self.decisions[event.decision_id] = Decision("medical", self.at)

    def _re_examination_requested(self, _event: MedicalReExaminationRequested) -> None:
        self.re_examinations_requested += 1
        self.re_examination_open = True
        self.re_examination_requested_at = self.at

    def _vetting_decided(self, event: VettingDecided) -> None:
        if event.status == "cleared" and event.source != "list_check" and self.allegation_ref is not None:
            self.cleared_allegations.add(self.allegation_ref)
        if event.allegation_ref is not None:
            self.allegation_ref = event.allegation_ref
        self.vetting, self.vetting_at = event.status, self.at
        self.decisions[event.decision_id] = Decision("vetting", self.at)

    def _benefits_held(self, event: BenefitsHeld) -> None:
        self.held, self.hold_decision_id = True, event.decision_id

    def _benefits_released(self, _event: BenefitsReleased) -> None:
        self.held = False

    def _membership(self, event: MembershipVerificationDecided) -> None:
        self.verified_member = event.verified
        self.decisions[event.decision_id] = Decision("membership", self.at)

    def _handling_test(self, event: HandlingTestRecorded) -> None:
        self.handling_test_passed = event.passed
        self.decisions[event.decision_id] = Decision("handling_test", self.at)

    def _weapon(self, _event: WeaponHandoverNoted) -> None:
        self.weapon_handed_over = True

    def _chosen(self, _event: ReinsertionChosen) -> None:
        self.chose_reinsertion = True

    def _eligibility(self, event: EligibilityDetermined) -> None:
        self.rule_version, self.eligibility, self.eligibility_reasons = (
            event.rule_version,
            event.result,
            event.reasons,
        )

    def _outcome(self, event: ScreeningOutcomeDecided) -> None:
        self.track = event.track
        self.outcome_decision_id = event.decision_id
        self.outcome_reason = event.reason_code
        self.outcomes += 1

    def _corrected(self, event: CaseDetailsCorrected) -> None:
        for name in event.corrected_fields:
            if name in CORRECTABLE and getattr(event, name) is not None:
                setattr(self, name, getattr(event, name))
        if not self.age_assessed and event.youngest_age is not None:
            self.youngest_age = event.youngest_age

    def _merged(self, event: CaseMergedInto) -> None:
        self.merged_into = event.into_person_id

    def _appeal_lodged(self, event: AppealLodged) -> None:
        self.appeals[event.appeal_id] = Appeal(
            event.appeal_id, event.decision_id, event.decision_kind, self.at
        )

    def _appeal_decided(self, event: AppealDecided) -> None:
        appeal = self.appeals[event.appeal_id]
        appeal.decided, appeal.overturned = True, event.overturned
        if event.overturned and event.decision_kind == "medical" and event.replacement in MEDICAL_RESULTS:
            self.medical_override = event.replacement  # type: ignore[assignment]

    # -- what the case is now ---------------------------------------------------------------------------

    @property
    def age_pending(self) -> bool:
        """Unknown age and not yet assessed: possibly a child, so no other track until assessed."""
        return not self.child and self.youngest_age is None and not self.age_assessed

    @property
    def restricted(self) -> bool:
        """Children's records, and those of anyone possibly a child, are for child protection only."""
        return self.child or self.age_pending or self.category == "child"

    @property
    def medical(self) -> MedicalResult | None:
        if self.medical_override is not None:
            return self.medical_override
        return self.examinations[-1].result if self.examinations else None

    def facts(self) -> EligibilityFacts:
        return EligibilityFacts(
            movement=self.movement,
            category=self.category,
            armed=self.armed,
            verified_member=self.verified_member,
            weapon_handed_over=self.weapon_handed_over,
            handling_test_passed=self.handling_test_passed,
        )

    def handover_overdue(self, now: datetime) -> bool:
        return (
            self.child
            and self.handed_over_at is None
            and self.handover_deadline is not None
            and now > self.handover_deadline
        )

    # -- opening, and what registration tells later -------------------------------------------------------

    def open(self, opened: ScreeningCaseOpened, at: datetime, policy: ScreeningPolicy) -> None:
        """Open the case at the registration's business time; a child is separated in the same step."""
        if self.opened:
            raise AlreadyDone("case-already-open", "this person's screening case is already open")
        self.record(opened, at=at)
        if opened.category == "child":
            self._identify_child("category", at, policy)
        elif is_minor(opened.youngest_age):
            self._identify_child("birth_date" if opened.birth_kind == "exact" else "birth_year", at, policy)

    def correct(self, corrected: CaseDetailsCorrected, at: datetime, policy: ScreeningPolicy) -> None:
        at = self._not_before_opening(at)
        self.record(corrected, at=at)
        if self.category == "child" or is_minor(self.youngest_age):
            self._identify_child("correction", at, policy)

    def merge_into(self, into_person_id: str, at: datetime) -> None:
        if self.merged_into is None:
            self.record(
                CaseMergedInto(person_id=self.person_id, into_person_id=into_person_id),
                at=self._not_before_opening(at),
            )

    def note_weapon(self, weapon_id: str, receipt_number: str, at: datetime) -> None:
        self.record(
            WeaponHandoverNoted(person_id=self.person_id, weapon_id=weapon_id, receipt_number=receipt_number),
            at=self._not_before_opening(at),
        )

    def _not_before_opening(self, at: datetime) -> datetime:
        """What registration tells of a person reaches the case no earlier than the case opened."""
        return at if self.opened_at is None or at >= self.opened_at else self.opened_at

    def _identify_child(self, basis: ChildBasis, at: datetime, policy: ScreeningPolicy) -> None:
        if self.child:
            return
        self.record(
            ChildIdentified(
                person_id=self.person_id,
                decision_id=new_id(),
                basis=basis,
                youngest_age=self.youngest_age,
                identified_at=at,
                handover_deadline=at + timedelta(hours=policy.handover_hours),
            ),
            at=at,
        )
        if self.held:  # child protection is unconditional: nothing held stands in its way
            self.record(
                BenefitsReleased(
                    person_id=self.person_id, decision_id=self.hold_decision_id or "", reason_code="child"
                ),
                at=at,
            )

    # -- children -----------------------------------------------------------------------------------------

    def record_handover(self, receiving_actor: str, note: str | None, on: Day, recording: Recording) -> None:
        self._require_open()
        if not self.child:
            raise RuleViolated("not-a-child", "only a separated child is handed over to child protection")
        if self.handed_over_at is not None:
            raise AlreadyDone("already-handed-over", "this child was already handed over")
        at = recording.moment(on, after=self.identified_at, after_what="the child's identification")
        self.record(
            ChildHandedOver(
                person_id=self.person_id,
                decision_id=new_id(),
                receiving_actor=receiving_actor,
                handed_over_at=at,
                note=note,
            ),
            at=at,
        )

    def assess_age(
        self, evidence: AgeEvidence, on: Day, recording: Recording, policy: ScreeningPolicy
    ) -> AgeEffect:
        """Record an assessment. A suspect document is not relied on; the youngest credible age wins."""
        self._require_open()
        at = self._after_registration(on, recording)
        suspect = document_suspect(
            evidence.document_issued_on, self.registered_on or at.date(), policy.suspect_document_days
        )
        ages = [
            a for a in (evidence.youngest_age, None if suspect else evidence.documented_age) if a is not None
        ]
        age = min(ages) if ages else None
        conclusion: AgeConclusion = "undetermined" if age is None else "child" if is_minor(age) else "adult"
        effect = self._age_effect(conclusion)
        self.record(
            AgeAssessed(
                person_id=self.person_id,
                decision_id=new_id(),
                method=evidence.method,
                youngest_age=age,
                document_issued_on=evidence.document_issued_on,
                document_suspect=suspect,
                conclusion=conclusion,
                effect=effect,
                note=evidence.note,
            ),
            at=at,
        )
        if effect == "child_identified":
            self._identify_child("assessment", at, policy)
        return effect

    def _age_effect(self, conclusion: AgeConclusion) -> AgeEffect:
        if self.child:
            return "child_determination_kept"
        if conclusion == "child":
            return "child_identified"
        if conclusion == "adult" and self.age_pending:
            return "adult_confirmed"
        return "still_undetermined"

    # -- medical ------------------------------------------------------------------------------------------

    def examine(self, result: MedicalResult, details: str | None, on: Day, recording: Recording) -> str:
        self._require_screenable()
        re_examination = bool(self.examinations)
        if re_examination and not (self.re_examination_open or self.medical == "temporarily_unfit"):
            raise RuleViolated(
                "re-examination-not-requested",
                "a further examination needs a request for re-examination (or a temporary unfitness)",
            )
        if not re_examination:
            at = self._after_registration(on, recording)
        elif self.re_examination_open:
            at = recording.moment(
                on, after=self.re_examination_requested_at, after_what="the request for re-examination"
            )
        else:
            at = recording.moment(on, after=self.examinations[-1].at, after_what="the previous examination")
        decision_id = new_id()
        self.record(
            MedicalExamined(
                person_id=self.person_id,
                decision_id=decision_id,
                examination_number=len(self.examinations) + 1,
                result=result,
                re_examination=re_examination,
                details=details,
            ),
            at=at,
        )
        return decision_id

    def request_re_examination(
        self, requested_by: str, reason: str | None, on: Day, recording: Recording, policy: ScreeningPolicy
    ) -> str:
        self._require_screenable()
        if not self.examinations or self.medical != "unfit":
            raise RuleViolated("nothing-to-re-examine", "a re-examination is requested of an unfit decision")
        if self.re_examination_open:
            raise AlreadyDone("re-examination-already-requested", "a re-examination is already requested")
        if self.re_examinations_requested >= policy.max_re_examinations:
            raise RuleViolated(
                "re-examination-limit",
                f"at most {policy.max_re_examinations} re-examinations may be requested",
                figures={"max_re_examinations": policy.max_re_examinations},
            )
        at = recording.moment(on, after=self.examinations[-1].at, after_what="the examination")
        request_id = new_id()
        self.record(
            MedicalReExaminationRequested(
                person_id=self.person_id,
                request_id=request_id,
                of_decision_id=self.examinations[-1].decision_id,
                requested_by=requested_by,
                reason=reason,
            ),
            at=at,
        )
        return request_id

    # -- vetting, membership, handling test, choice ---------------------------------------------------------

    def check_vetting_list(self, list_version: int, entry: VettingListEntry | None, at: datetime) -> None:
        """Check against a list version: listed means held (benefits held, not refused) pending a decision.

        An allegation an officer already cleared does not hold the person again; a new one does, even after
        the outcome (the revocation path: an officer then excludes, and a new outcome supersedes).
        """
        if not self.opened or self.merged_into is not None:
            return
        at = self._not_before_opening(at)
        if entry is None:
            if self.vetting is None:
                self._decide_vetting("cleared", "list_check", list_version, None, "not_listed", None, at)
            return
        if self.vetting in ("held", "excluded") or entry.allegation_ref in self.cleared_allegations:
            return
        self._decide_vetting("held", "list_check", list_version, entry.allegation_ref, entry.status, None, at)

    def decide_vetting(
        self, status: VettingStatus, reason_code: str, reason: str | None, on: Day, recording: Recording
    ) -> str:
        self._require_screenable()
        if status == "cleared" and self.vetting != "held":
            raise RuleViolated("nothing-to-clear", "only a held vetting can be cleared")
        if self.vetting_at is not None:
            at = recording.moment(on, after=self.vetting_at, after_what="the vetting decision it follows")
        else:
            at = self._after_registration(on, recording)
        return self._decide_vetting(status, "officer", None, None, reason_code, reason, at)

    def _decide_vetting(
        self,
        status: VettingStatus,
        source: VettingSource,
        list_version: int | None,
        allegation_ref: str | None,
        reason_code: str,
        reason: str | None,
        at: datetime,
    ) -> str:
        decision_id = new_id()
        self.record(
            VettingDecided(
                person_id=self.person_id,
                decision_id=decision_id,
                status=status,
                source=source,
                list_version=list_version,
                allegation_ref=allegation_ref,
                reason_code=reason_code,
                reason=reason,
            ),
            at=at,
        )
        if status == "held" and not self.held and not self.child:
            self.record(
                BenefitsHeld(person_id=self.person_id, decision_id=decision_id, reason_code="vetting"), at=at
            )
        elif status == "cleared" and self.held:
            self.record(
                BenefitsReleased(
                    person_id=self.person_id, decision_id=decision_id, reason_code="vetting_cleared"
                ),
                at=at,
            )
        return decision_id

    def decide_membership(
        self, verified: bool, reason_code: str, reason: str | None, on: Day, recording: Recording
    ) -> str:
        self._require_screenable()
        return self._decide_membership(verified, reason_code, reason, self._after_registration(on, recording))

    def _decide_membership(self, verified: bool, reason_code: str, reason: str | None, at: datetime) -> str:
        decision_id = new_id()
        self.record(
            MembershipVerificationDecided(
                person_id=self.person_id,
                decision_id=decision_id,
                verified=verified,
                reason_code=reason_code,
                reason=reason,
            ),
            at=at,
        )
        return decision_id

    def record_handling_test(self, passed: bool, on: Day, recording: Recording) -> str:
        self._require_screenable()
        return self._record_handling_test(passed, self._after_registration(on, recording))

    def _record_handling_test(self, passed: bool, at: datetime) -> str:
        decision_id = new_id()
        self.record(
            HandlingTestRecorded(person_id=self.person_id, decision_id=decision_id, passed=passed), at=at
        )
        return decision_id

    def choose_reinsertion(self, rule_sets: Sequence[RuleSet], on: Day, recording: Recording) -> str:
        self._require_screenable()
        if self.chose_reinsertion:
            raise AlreadyDone("already-chosen", "reinsertion was already chosen")
        at = self._after_registration(on, recording)
        rules = in_force(rule_sets, at.date())
        if rules is None:
            raise RuleViolated(
                "no-rule-set", "no eligibility rule set was in force that day", figures={"on": at.date()}
            )
        if not rules.reinsertion_choice_offered:
            raise RuleViolated(
                "choice-not-offered",
                f"rule set {rules.rule_version} offers no choice of reinsertion",
                figures={"rule_version": rules.rule_version},
            )
        decision_id = new_id()
        self.record(
            ReinsertionChosen(
                person_id=self.person_id, decision_id=decision_id, rule_version=rules.rule_version
            ),
            at=at,
        )
        return decision_id

    # -- appeals ------------------------------------------------------------------------------------------

    def decision_kind(self, decision_id: str) -> DecisionKind | None:
        """The kind of an appealable decision on this case (None: no such decision)."""
        decision = self.decisions.get(decision_id)
        return decision.kind if decision is not None else None

    def appeal_kind(self, appeal_id: str) -> DecisionKind | None:
        """The kind of decision an appeal on this case is about (None: no such appeal)."""
        appeal = self.appeals.get(appeal_id)
        return appeal.kind if appeal is not None else None

    def lodge_appeal(
        self, decision_id: str, lodged_by: str, reason: str | None, on: Day, recording: Recording
    ) -> str:
        self._require_open()
        decision = self.decisions.get(decision_id)
        if decision is None:
            raise RuleViolated("unknown-decision", "no appealable decision with this id on this case")
        if any(a.decision_id == decision_id and not a.decided for a in self.appeals.values()):
            raise AlreadyDone("appeal-pending", "an appeal of this decision is already pending")
        at = recording.moment(on, after=decision.at, after_what="the decision appealed")
        appeal_id = new_id()
        self.record(
            AppealLodged(
                person_id=self.person_id,
                appeal_id=appeal_id,
                decision_id=decision_id,
                decision_kind=decision.kind,
                lodged_by=lodged_by,
                reason=reason,
            ),
            at=at,
        )
        return appeal_id

    def decide_appeal(
        self, appeal_id: str, ruling: Ruling, on: Day, recording: Recording, policy: ScreeningPolicy
    ) -> None:
        appeal = self.appeals.get(appeal_id)
        if appeal is None:
            raise RuleViolated("unknown-appeal", "no appeal with this id on this case")
        if appeal.decided:
            raise AlreadyDone("appeal-decided", "this appeal was already decided")
        replacement = self._check_replacement(appeal, ruling) if ruling.overturned else None
        at = recording.moment(on, after=appeal.at, after_what="the appeal")
        self.record(
            AppealDecided(
                person_id=self.person_id,
                appeal_id=appeal_id,
                decision_id=appeal.decision_id,
                decision_kind=appeal.kind,
                overturned=ruling.overturned,
                replacement=replacement,
                decided_by=ruling.decided_by,
                reason=ruling.reason,
            ),
            at=at,
        )
        if replacement is not None:
            self._apply_replacement(appeal.kind, replacement, at, policy)

    def _check_replacement(self, appeal: Appeal, ruling: Ruling) -> str:
        allowed = REPLACEMENTS[appeal.kind]
        if ruling.replacement not in allowed:
            raise RuleViolated(
                "replacement-required",
                f"overturning a {appeal.kind} decision needs a replacement among: {', '.join(sorted(allowed))}",
            )
        if self.child:
            raise RuleViolated(
                "child-stays-in-child-protection",
                "a child determination stands, and a child's case has no other track to appeal for",
            )
        if appeal.kind in ("vetting", "membership", "handling_test"):
            self._require_screenable()
        return ruling.replacement

    def _apply_replacement(
        self, kind: DecisionKind, replacement: str, at: datetime, policy: ScreeningPolicy
    ) -> None:
        if kind == "age":  # only ever towards a child: a child determination is never overturned
            self._identify_child("assessment", at, policy)
        elif kind == "vetting":
            status: VettingStatus = replacement  # type: ignore[assignment]
            self._decide_vetting(status, "appeal", None, None, "appeal", None, at)
        elif kind == "membership":
            self._decide_membership(replacement == "verified", "appeal", None, at)
        elif kind == "handling_test":
            self._record_handling_test(replacement == "passed", at)
        # medical: the replacement took effect with the AppealDecided event itself

    # -- the outcome ----------------------------------------------------------------------------------------

    def settle(self, rule_sets: Sequence[RuleSet], *, by_appeal: bool = False) -> None:
        """Record eligibility and the outcome that follow from the decisions so far, if they changed.

        Both are decided as of the latest fact on the case (never before the registration, nor before any
        decision they follow from), under the rule set in force that day. A new outcome that follows an appeal
        decision or a requested re-examination is marked ``by_appeal``.
        """
        if not self.opened or self.latest_at is None:
            return
        at = self.latest_at
        by_appeal = by_appeal or any(
            isinstance(c.event, AppealDecided)
            or (isinstance(c.event, MedicalExamined) and c.event.re_examination)
            for c in self.pending
        )
        rules = in_force(rule_sets, at.date())
        if rules is not None and not self.child and self.merged_into is None:
            self._determine_eligibility(rules, at)
        decided = self._track()
        if decided is None or self.track == "child_protection" or decided[0] == self.track:
            return
        track, reason = decided
        self.record(
            ScreeningOutcomeDecided(
                person_id=self.person_id,
                decision_id=new_id(),
                track=track,
                reason_code=reason,
                rule_version=None if track == "child_protection" else self.rule_version,
                previous_track=self.track,
                supersedes_decision_id=self.outcome_decision_id,
                by_appeal=by_appeal and self.outcome_decision_id is not None,
                movement=self.movement,
                category=self.category,
                sex=self.sex,
                region=self.region,
                birth_year=self.birth_year,
                rank=self.rank,
                armed=self.armed,
            ),
            at=at,
        )

    def _determine_eligibility(self, rules: RuleSet, at: datetime) -> None:
        result, reasons = evaluate(rules, self.facts())
        if (rules.rule_version, result, reasons) == (
            self.rule_version,
            self.eligibility,
            self.eligibility_reasons,
        ):
            return
        self.record(
            EligibilityDetermined(
                person_id=self.person_id,
                decision_id=new_id(),
                rule_version=rules.rule_version,
                result=result,
                reasons=reasons,
            ),
            at=at,
        )

    def track_under(self, rules: RuleSet) -> tuple[Track, str] | None:
        """The track these decisions would lead to under ``rules``, recording nothing (for a what-if)."""
        if self.child or self.merged_into is not None:
            return self._track()
        saved = (self.eligibility, self.eligibility_reasons)
        self.eligibility, self.eligibility_reasons = evaluate(rules, self.facts())
        try:
            return self._track()
        finally:
            self.eligibility, self.eligibility_reasons = saved

    def _track(self) -> tuple[Track, str] | None:
        if self.child:
            return "child_protection", "child"
        if self.merged_into is not None:
            return "not_eligible", "duplicate_merged"
        if self.age_pending:
            return None
        if self.vetting == "excluded":
            return "not_eligible", "vetting_excluded"
        if self.eligibility is None or self.eligibility == "pending":
            return None
        if self.eligibility != "integration":
            return self.eligibility, self.eligibility_reasons[0]
        if self.chose_reinsertion:
            return "reinsertion", "by_choice"
        if self.medical == "fit":
            return "integration", "eligible_fit"
        if self.medical == "unfit":
            return "reinsertion", "medically_unfit"
        return None

    # -- guards ---------------------------------------------------------------------------------------------

    def _after_registration(self, on: Day, recording: Recording) -> datetime:
        return recording.moment(on, after=self.opened_at, after_what="the registration")

    def _require_open(self) -> None:
        if not self.opened:
            raise RuleViolated("case-not-open", "no screening case is open for this person")

    def _require_screenable(self) -> None:
        self._require_open()
        if self.child:
            raise RuleViolated(
                "child-not-screened", "a child is separated and handed over, never screened for a track"
            )
        if self.merged_into is not None:
            raise RuleViolated(
                "case-merged",
                "this case was merged into another person's",
                figures={"merged_into": self.merged_into},
            )


_APPLY: dict[type[Any], Callable[[ScreeningCase, Any], None]] = {
    ScreeningCaseOpened: ScreeningCase._opened,
    ChildIdentified: ScreeningCase._child_identified,
    ChildHandedOver: ScreeningCase._handed_over,
    AgeAssessed: ScreeningCase._age_assessed,
    MedicalExamined: ScreeningCase._examined,
    MedicalReExaminationRequested: ScreeningCase._re_examination_requested,
    VettingDecided: ScreeningCase._vetting_decided,
    BenefitsHeld: ScreeningCase._benefits_held,
    BenefitsReleased: ScreeningCase._benefits_released,
    MembershipVerificationDecided: ScreeningCase._membership,
    HandlingTestRecorded: ScreeningCase._handling_test,
    WeaponHandoverNoted: ScreeningCase._weapon,
    ReinsertionChosen: ScreeningCase._chosen,
    EligibilityDetermined: ScreeningCase._eligibility,
    ScreeningOutcomeDecided: ScreeningCase._outcome,
    CaseDetailsCorrected: ScreeningCase._corrected,
    CaseMergedInto: ScreeningCase._merged,
    AppealLodged: ScreeningCase._appeal_lodged,
    AppealDecided: ScreeningCase._appeal_decided,
}
