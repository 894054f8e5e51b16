"""The screening case of one person: every decision is an event; the outcome follows from the decisions.

Children first: a person identified as a child is on the ``child_protection`` track from the moment they are
identified, and no later event (a vetting match, an adult document, an appeal, a correction) can move them
to another track. A person whose age is unknown is treated as possibly a child (no other track, records
restricted) until an assessment concludes.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from ddr_contracts.events import DomainEvent
from ddr_contracts.screening import (
    AgeAssessed,
    AgeConclusion,
    AgeEffect,
    AppealDecided,
    AppealLodged,
    BenefitsHeld,
    BenefitsReleased,
    CaseDetailsCorrected,
    CaseMergedInto,
    ChildBasis,
    ChildHandedOver,
    ChildIdentified,
    DecisionKind,
    EligibilityDetermined,
    HandlingTestRecorded,
    MedicalExamined,
    MedicalReExaminationRequested,
    MedicalResult,
    MembershipVerificationDecided,
    ReinsertionChosen,
    ScreeningCaseOpened,
    ScreeningOutcomeDecided,
    Track,
    VettingDecided,
    VettingListEntry,
    VettingSource,
    VettingStatus,
    WeaponHandoverNoted,
)
from ddr_screening.domain.age import document_suspect, is_minor
from ddr_screening.domain.errors import RuleViolated
from ddr_screening.domain.policy import ScreeningPolicy
from ddr_screening.domain.rules import Eligibility, EligibilityFacts, RuleSet, evaluate

MEDICAL_RESULTS: frozenset[str] = frozenset({"fit", "unfit", "temporarily_unfit"})
REPLACEMENTS: dict[str, frozenset[str]] = {
    "age": frozenset({"child"}),
    "medical": MEDICAL_RESULTS,
    "vetting": frozenset({"cleared", "held", "excluded"}),
    "membership": frozenset({"verified", "not_verified"}),
    "handling_test": frozenset({"passed", "failed"}),
}


def new_id() -> str:
    return str(uuid.uuid4())


@dataclass
class Examination:
    decision_id: str
    number: int
    result: MedicalResult
    re_examination: bool


@dataclass
class Appeal:
    appeal_id: str
    decision_id: str
    kind: DecisionKind
    decided: bool = False
    overturned: bool = False


@dataclass
class ScreeningCase:
    """Rebuilt from its events; commands check a rule, then record events; :meth:`settle` decides the track."""

    person_id: str
    version: int = 0
    pending: list[DomainEvent] = field(default_factory=list)
    new_id: Callable[[], str] = new_id

    opened: bool = False
    ddr_id: str = ""
    movement: str = ""
    category: str = ""
    sex: str = ""
    region: str = ""
    cercle: str = ""
    rank: str = ""
    armed: bool = False
    birth_kind: str = "unknown"
    birth_year: int | None = None
    youngest_age: int | None = None
    registered_on: date | None = None
    merged_into: str | None = None

    child: bool = False
    child_decision_id: str | None = None
    identified_at: datetime | None = None
    handover_deadline: datetime | None = None
    handed_over_at: datetime | None = None
    age_assessed: bool = False
    suspect_documents: int = 0

    weapon_handed_over: bool = False
    handling_test_passed: bool | None = None
    verified_member: bool = True
    chose_reinsertion: bool = False
    examinations: list[Examination] = field(default_factory=list)
    medical_override: MedicalResult | None = None  # an appeal's replacement of the latest examination
    re_examinations_requested: int = 0
    re_examination_open: bool = False

    vetting: VettingStatus | None = None
    vetting_decision_id: str | None = None
    allegation_ref: str | None = None
    cleared_allegations: set[str] = field(default_factory=set)
    held: bool = False
    hold_decision_id: str | None = None

    rule_version: str | None = None
    eligibility: Eligibility | None = None
    eligibility_reasons: tuple[str, ...] = ()
    track: Track | None = None
    outcome_decision_id: str | None = None
    outcome_reason: str | None = None
    outcomes: int = 0

    decisions: dict[str, DecisionKind] = field(default_factory=dict)
    appeals: dict[str, Appeal] = field(default_factory=dict)

    # -- replay ---------------------------------------------------------------------------------------

    def replay(self, history: Iterable[DomainEvent]) -> None:
        for past in history:
            self.apply(past)
            self.version += 1

    def record(self, new: DomainEvent) -> None:
        self.apply(new)
        self.pending.append(new)

    def apply(self, event: DomainEvent) -> None:
        if isinstance(event, ScreeningCaseOpened):
            self.opened = True
            self.ddr_id = event.ddr_id
            self.movement, self.category, self.sex = event.movement, event.category, event.sex
            self.region, self.cercle, self.rank, self.armed = (
                event.region,
                event.cercle,
                event.rank,
                event.armed,
            )
            self.birth_kind, self.birth_year = event.birth_kind, event.birth_year
            self.youngest_age = event.youngest_age
            self.weapon_handed_over = event.weapon_handed_over
            self.registered_on = event.registered_on
        elif isinstance(event, ChildIdentified):
            self.child = True
            self.child_decision_id = event.decision_id
            self.identified_at = event.identified_at
            self.handover_deadline = event.handover_deadline
            self.decisions[event.decision_id] = "age"
        elif isinstance(event, ChildHandedOver):
            self.handed_over_at = event.handed_over_at
        elif isinstance(event, AgeAssessed):
            self.decisions[event.decision_id] = "age"
            self.suspect_documents += event.document_suspect
            if event.effect in ("adult_confirmed", "child_identified"):
                self.age_assessed = True
                self.youngest_age = event.youngest_age
        elif isinstance(event, MedicalExamined):
            self.examinations.append(
                Examination(event.decision_id, event.examination_number, event.result, event.re_examination)
            )
            self.medical_override = None
            self.re_examination_open = False
            self.decisions[event.decision_id] = "medical"
        elif isinstance(event, MedicalReExaminationRequested):
            self.re_examinations_requested += 1
            self.re_examination_open = True
        elif isinstance(event, VettingDecided):
            if event.status == "cleared" and event.source != "list_check" and self.allegation_ref is not None:
                self.cleared_allegations.add(self.allegation_ref)
            if event.allegation_ref is not None:
                self.allegation_ref = event.allegation_ref
            self.vetting = event.status
            self.vetting_decision_id = event.decision_id
            self.decisions[event.decision_id] = "vetting"
        elif isinstance(event, BenefitsHeld):
            self.held = True
            self.hold_decision_id = event.decision_id
        elif isinstance(event, BenefitsReleased):
            self.held = False
        elif isinstance(event, MembershipVerificationDecided):
            self.verified_member = event.verified
            self.decisions[event.decision_id] = "membership"
        elif isinstance(event, HandlingTestRecorded):
            self.handling_test_passed = event.passed
            self.decisions[event.decision_id] = "handling_test"
        elif isinstance(event, WeaponHandoverNoted):
            self.weapon_handed_over = True
        elif isinstance(event, ReinsertionChosen):
            self.chose_reinsertion = True
        elif isinstance(event, EligibilityDetermined):
            self.rule_version = event.rule_version
            self.eligibility = event.result
            self.eligibility_reasons = event.reasons
        elif isinstance(event, ScreeningOutcomeDecided):
            if self.track == "child_protection" and event.track != "child_protection":
                raise RuleViolated("child-stays-in-child-protection", "a child never leaves child protection")
            self.track = event.track
            self.outcome_decision_id = event.decision_id
            self.outcome_reason = event.reason_code
            self.outcomes += 1
        elif isinstance(event, CaseDetailsCorrected):
            for name in event.corrected_fields:
                if name in _CORRECTABLE and getattr(event, name) is not None:
                    setattr(self, name, getattr(event, name))
            if not self.age_assessed and event.youngest_age is not None:
                self.youngest_age = event.youngest_age
        elif isinstance(event, CaseMergedInto):
            self.merged_into = event.into_person_id
        elif isinstance(event, AppealLodged):
            self.appeals[event.appeal_id] = Appeal(event.appeal_id, event.decision_id, event.decision_kind)
        elif isinstance(event, AppealDecided):
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

    # -- commands ---------------------------------------------------------------------------------------

    def open(self, opened: ScreeningCaseOpened, now: datetime, policy: ScreeningPolicy) -> None:
        """Open the case; a child is separated in the same step (nothing else is looked at first)."""
        if self.opened:
            raise RuleViolated("case-already-open", "this person's screening case is already open")
        self.record(opened)
        if opened.category == "child":
            self._identify_child("category", now, policy)
        elif is_minor(opened.youngest_age):
            self._identify_child("birth_date" if opened.birth_kind == "exact" else "birth_year", now, policy)

    def _identify_child(self, basis: ChildBasis, now: datetime, policy: ScreeningPolicy) -> None:
        if self.child:
            return
        self.record(
            ChildIdentified(
                person_id=self.person_id,
                decision_id=self.new_id(),
                basis=basis,
                youngest_age=self.youngest_age,
                identified_at=now,
                handover_deadline=now + timedelta(hours=policy.handover_hours),
            )
        )
        if self.held:  # child protection is unconditional: nothing held stands in its way
            self.record(
                BenefitsReleased(
                    person_id=self.person_id, decision_id=self.hold_decision_id or "", reason_code="child"
                )
            )

    def record_handover(self, receiving_actor: str, at: datetime, note: str | None) -> None:
        self._require_open()
        if not self.child:
            raise RuleViolated("not-a-child", "only a separated child is handed over to child protection")
        if self.handed_over_at is not None:
            raise RuleViolated("already-handed-over", "this child was already handed over")
        self.record(
            ChildHandedOver(
                person_id=self.person_id,
                decision_id=self.new_id(),
                receiving_actor=receiving_actor,
                handed_over_at=at,
                note=note,
            )
        )

    def assess_age(
        self,
        method: str,
        youngest_age: int | None,
        document_issued_on: date | None,
        documented_age: int | None,
        note: str | None,
        now: datetime,
        policy: ScreeningPolicy,
    ) -> AgeEffect:
        """Record an assessment. A suspect document is not relied on; the youngest credible age wins."""
        self._require_open()
        suspect = document_suspect(
            document_issued_on, self.registered_on or now.date(), policy.suspect_document_days
        )
        ages = [a for a in (youngest_age, None if suspect else documented_age) if a is not None]
        age = min(ages) if ages else None
        conclusion: AgeConclusion = "undetermined" if age is None else "child" if is_minor(age) else "adult"
        effect: AgeEffect
        if self.child:
            effect = "child_determination_kept"
        elif conclusion == "child":
            effect = "child_identified"
        elif conclusion == "adult" and (self.age_pending or not is_minor(self.youngest_age)):
            effect = "adult_confirmed" if self.age_pending else "still_undetermined"
        else:
            effect = "still_undetermined"
        self.record(
            AgeAssessed(
                person_id=self.person_id,
                decision_id=self.new_id(),
                method=method,
                youngest_age=age,
                document_issued_on=document_issued_on,
                document_suspect=suspect,
                conclusion=conclusion,
                effect=effect,
                note=note,
            )
        )
        if effect == "child_identified":
            self._identify_child("assessment", now, policy)
        return effect

    def examine(self, result: MedicalResult, details: str | None) -> str:
        self._require_screenable()
        re_examination = bool(self.examinations)
        if re_examination and not (self.re_examination_open or self.medical == "temporarily_unfit"):
            raise RuleViolated(
                "re-examination-not-requested",
                "a further examination needs a request for re-examination (or a temporary unfitness)",
            )
        decision_id = self.new_id()
        self.record(
            MedicalExamined(
                person_id=self.person_id,
                decision_id=decision_id,
                examination_number=len(self.examinations) + 1,
                result=result,
                re_examination=re_examination,
                details=details,
            )
        )
        return decision_id

    def request_re_examination(self, requested_by: str, reason: str | None, policy: ScreeningPolicy) -> str:
        self._require_screenable()
        if not self.examinations or self.medical != "unfit":
            raise RuleViolated("nothing-to-re-examine", "a re-examination is requested of an unfit decision")
        if self.re_examination_open:
            raise RuleViolated("re-examination-already-requested", "a re-examination is already requested")
        if self.re_examinations_requested >= policy.max_re_examinations:
            raise RuleViolated(
                "re-examination-limit",
                f"at most {policy.max_re_examinations} re-examinations may be requested",
            )
        request_id = self.new_id()
        self.record(
            MedicalReExaminationRequested(
                person_id=self.person_id,
                request_id=request_id,
                of_decision_id=self.examinations[-1].decision_id,
                requested_by=requested_by,
                reason=reason,
            )
        )
        return request_id

    def check_vetting_list(self, list_version: int, entry: VettingListEntry | None) -> None:
        """Check against a list version: listed means held (benefits held, not refused) pending a decision.

        An allegation an officer already cleared does not hold the person again; a new one does, even after
        the outcome (the revocation path: an officer then excludes, and a new outcome supersedes).
        """
        if not self.opened or self.merged_into is not None:
            return
        if entry is None:
            if self.vetting is None:
                self._decide_vetting("cleared", "list_check", list_version, None, "not_listed", None)
            return
        if self.vetting in ("held", "excluded") or entry.allegation_ref in self.cleared_allegations:
            return
        self._decide_vetting("held", "list_check", list_version, entry.allegation_ref, entry.status, None)

    def decide_vetting(
        self, status: VettingStatus, reason_code: str, reason: str | None, source: VettingSource = "officer"
    ) -> str:
        self._require_screenable()
        if status == "cleared" and self.vetting != "held":
            raise RuleViolated("nothing-to-clear", "only a held vetting can be cleared")
        return self._decide_vetting(status, source, None, None, reason_code, reason)

    def _decide_vetting(
        self,
        status: VettingStatus,
        source: VettingSource,
        list_version: int | None,
        allegation_ref: str | None,
        reason_code: str,
        reason: str | None,
    ) -> str:
        decision_id = self.new_id()
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
            )
        )
        if status == "held" and not self.held and not self.child:
            self.record(
                BenefitsHeld(person_id=self.person_id, decision_id=decision_id, reason_code="vetting")
            )
        elif status == "cleared" and self.held:
            self.record(
                BenefitsReleased(
                    person_id=self.person_id, decision_id=decision_id, reason_code="vetting_cleared"
                )
            )
        return decision_id

    def decide_membership(self, verified: bool, reason_code: str, reason: str | None) -> str:
        self._require_screenable()
        decision_id = self.new_id()
        self.record(
            MembershipVerificationDecided(
                person_id=self.person_id,
                decision_id=decision_id,
                verified=verified,
                reason_code=reason_code,
                reason=reason,
            )
        )
        return decision_id

    def record_handling_test(self, passed: bool) -> str:
        self._require_screenable()
        decision_id = self.new_id()
        self.record(HandlingTestRecorded(person_id=self.person_id, decision_id=decision_id, passed=passed))
        return decision_id

    def note_weapon(self, weapon_id: str, receipt_number: str) -> None:
        self.record(
            WeaponHandoverNoted(person_id=self.person_id, weapon_id=weapon_id, receipt_number=receipt_number)
        )

    def choose_reinsertion(self, rules: RuleSet) -> str:
        self._require_screenable()
        if not rules.reinsertion_choice_offered:
            raise RuleViolated(
                "choice-not-offered", f"rule set {rules.rule_version} offers no choice of reinsertion"
            )
        if self.chose_reinsertion:
            raise RuleViolated("already-chosen", "reinsertion was already chosen")
        decision_id = self.new_id()
        self.record(
            ReinsertionChosen(
                person_id=self.person_id, decision_id=decision_id, rule_version=rules.rule_version
            )
        )
        return decision_id

    def correct(self, corrected: CaseDetailsCorrected, now: datetime, policy: ScreeningPolicy) -> None:
        self.record(corrected)
        if self.category == "child" or is_minor(self.youngest_age):
            self._identify_child("correction", now, policy)

    def merge_into(self, into_person_id: str) -> None:
        if self.merged_into is None:
            self.record(CaseMergedInto(person_id=self.person_id, into_person_id=into_person_id))

    def lodge_appeal(self, decision_id: str, lodged_by: str, reason: str | None) -> str:
        self._require_open()
        kind = self.decisions.get(decision_id)
        if kind is None:
            raise RuleViolated("unknown-decision", "no appealable decision with this id on this case")
        if any(a.decision_id == decision_id and not a.decided for a in self.appeals.values()):
            raise RuleViolated("appeal-pending", "an appeal of this decision is already pending")
        appeal_id = self.new_id()
        self.record(
            AppealLodged(
                person_id=self.person_id,
                appeal_id=appeal_id,
                decision_id=decision_id,
                decision_kind=kind,
                lodged_by=lodged_by,
                reason=reason,
            )
        )
        return appeal_id

    def decide_appeal(
        self,
        appeal_id: str,
        overturned: bool,
        replacement: str | None,
        decided_by: str,
        reason: str | None,
        now: datetime,
        policy: ScreeningPolicy,
    ) -> None:
        appeal = self.appeals.get(appeal_id)
        if appeal is None:
            raise RuleViolated("unknown-appeal", "no appeal with this id on this case")
        if appeal.decided:
            raise RuleViolated("appeal-decided", "this appeal was already decided")
        if overturned:
            allowed = REPLACEMENTS[appeal.kind]
            if replacement not in allowed:
                raise RuleViolated(
                    "replacement-required",
                    f"overturning a {appeal.kind} decision needs a replacement among: {', '.join(sorted(allowed))}",
                )
            if self.child:
                raise RuleViolated(
                    "child-stays-in-child-protection",
                    "a child determination stands, and a child's case has no other track to appeal for",
                )
        else:
            replacement = None
        self.record(
            AppealDecided(
                person_id=self.person_id,
                appeal_id=appeal_id,
                decision_id=appeal.decision_id,
                decision_kind=appeal.kind,
                overturned=overturned,
                replacement=replacement,
                decided_by=decided_by,
                reason=reason,
            )
        )
        if overturned:
            self._apply_replacement(appeal.kind, replacement or "", now, policy)

    def _apply_replacement(
        self, kind: DecisionKind, replacement: str, now: datetime, policy: ScreeningPolicy
    ) -> None:
        if kind == "age":  # only ever towards a child: a child determination is never overturned
            self._identify_child("assessment", now, policy)
        elif kind == "vetting":
            status: VettingStatus = replacement  # type: ignore[assignment]
            self._decide_vetting(status, "appeal", None, None, "appeal", None)
        elif kind == "membership":
            self.decide_membership(replacement == "verified", "appeal", None)
        elif kind == "handling_test":
            self.record_handling_test(replacement == "passed")
        # medical: the replacement took effect with the AppealDecided event itself

    # -- the outcome ----------------------------------------------------------------------------------------

    def settle(self, rules: RuleSet | None, *, by_appeal: bool = False) -> None:
        """Record eligibility and the outcome that follow from the decisions so far, if they changed.

        A new outcome that follows an appeal decision or a requested re-examination is marked ``by_appeal``.
        """
        if not self.opened:
            return
        by_appeal = by_appeal or any(
            isinstance(e, AppealDecided) or (isinstance(e, MedicalExamined) and e.re_examination)
            for e in self.pending
        )
        if rules is not None and not self.child and self.merged_into is None:
            result, reasons = evaluate(rules, self.facts())
            if (rules.rule_version, result, reasons) != (
                self.rule_version,
                self.eligibility,
                self.eligibility_reasons,
            ):
                self.record(
                    EligibilityDetermined(
                        person_id=self.person_id,
                        decision_id=self.new_id(),
                        rule_version=rules.rule_version,
                        result=result,
                        reasons=reasons,
                    )
                )
        decided = self._track()
        if decided is None or self.track == "child_protection":
            return
        track, reason = decided
        if track == self.track:
            return
        self.record(
            ScreeningOutcomeDecided(
                person_id=self.person_id,
                decision_id=self.new_id(),
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
            )
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
            raise RuleViolated("case-merged", "this case was merged into another person's")


_CORRECTABLE = frozenset({"category", "sex", "birth_kind", "birth_year", "region", "cercle", "rank", "armed"})
