"""A CVR project's life: submission under its cap, review and appraisal, implementation, hand-over, visit.

Review runs in a fixed order: the local review committee (which vets the participants for human rights),
then the project appraisal committee at regional level, then at national level, whose clearance approves
the project. Any committee may return the project for revision; the partner resubmits it and review starts
again from the local committee.

Every command states the day its fact happened, and none happens before what it rests on: a decision after
the submission (or the decision) before it, and after the risk analysis and technical assessment it relies
on; counts, tranches, progress, collections and completion after the approval; hand-over and the monitoring
visit after completion.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

from ddr_cvr.domain.events import (
    BeneficiaryCountsRecorded,
    CommitteeDecided,
    MonitoringVisitRecorded,
    ProgressReported,
    ProjectApproved,
    ProjectCompleted,
    ProjectEvent,
    ProjectHandedOver,
    ProjectSubmitted,
    RiskAnalysisAttached,
    TechnicalAssessmentRecorded,
    TranchePaid,
    WamItemsCollected,
)
from ddr_cvr.domain.partners import Partner
from ddr_cvr.domain.policy import CvrPolicy, share_of
from ddr_cvr.domain.terms import (
    CollectedItem,
    Committee,
    CountSource,
    DecisionOutcome,
    ProjectType,
    RiskLevel,
    VettingOutcome,
    VisitKind,
)
from ddr_cvr.domain.timing import Dependency, latest, moment_of
from ddr_runtime.kernel import Aggregate, Recording, RuleViolated

Status = Literal[
    "awaiting_local_review",
    "awaiting_regional_appraisal",
    "awaiting_national_appraisal",
    "returned",
    "rejected",
    "approved",
    "completed",
    "handed_over",
]
CENT = Decimal("0.01")
MIN_MEMBERS_PRESENT = 2

AWAITING: dict[Committee, Status] = {
    "local_review": "awaiting_local_review",
    "regional_appraisal": "awaiting_regional_appraisal",
    "national_appraisal": "awaiting_national_appraisal",
}
NEXT_STAGE: dict[Committee, Status] = {
    "local_review": "awaiting_regional_appraisal",
    "regional_appraisal": "awaiting_national_appraisal",
    "national_appraisal": "approved",
}
COMMITTEE_NAMES: dict[Committee, str] = {
    "local_review": "the local review",
    "regional_appraisal": "the regional appraisal",
    "national_appraisal": "the national appraisal",
}
PREVIOUS: dict[Committee, Committee | None] = {
    "local_review": None,
    "regional_appraisal": "local_review",
    "national_appraisal": "regional_appraisal",
}
UNDER_WAY: frozenset[Status] = frozenset({"approved", "completed", "handed_over"})


def project_stream(project_id: str) -> str:
    return f"cvr-project-{project_id}"


@dataclass(frozen=True)
class ProjectDraft:
    """What a partner proposes. ``usd_rate`` (USD per unit of ``currency``) is needed unless in USD.

    Targets are counts among ``direct_beneficiaries_target``; a percent may stand in for either count (it is
    turned into one), and the programme's default percent stands in when neither is given.
    """

    title: str
    project_type: ProjectType
    programme: str
    region: str
    cercle: str
    commune: str
    location: str
    budget: Decimal
    currency: str
    duration_months: int
    planned_start: date
    armed_groups_active: bool
    direct_beneficiaries_target: int
    usd_rate: Decimal | None = None
    ex_combatants_target: int | None = None
    women_target: int | None = None
    ex_combatant_target_percent: Decimal | None = None
    women_target_percent: Decimal | None = None


@dataclass(frozen=True)
class Decision:
    committee: Committee
    decided_on: date
    members_present: tuple[str, ...]
    outcome: DecisionOutcome
    conditions: tuple[str, ...] = ()
    human_rights_vetting: VettingOutcome = "not_applicable"
    reason: str = ""


@dataclass(frozen=True)
class TechnicalAssessment:
    agency: str
    reference: str
    assessed_on: date
    favourable: bool
    conditions: tuple[str, ...] = ()


@dataclass(frozen=True)
class RiskAnalysis:
    analysed_on: date
    political: RiskLevel
    fiduciary: RiskLevel
    legal: RiskLevel
    reputational: RiskLevel
    mitigation: str


@dataclass(frozen=True)
class Counts:
    counted_on: date
    direct: int
    direct_women: int
    indirect: int
    indirect_women: int
    source: CountSource


@dataclass(frozen=True)
class Visit:
    visit_kind: VisitKind
    visited_on: date
    findings: str
    insecurity_reason: str | None = None
    partner_report_reference: str | None = None
    testimonies: int = 0


def budget_in_usd(budget: Decimal, currency: str, usd_rate: Decimal | None) -> Decimal:
    if currency == "USD":
        return budget.quantize(CENT, ROUND_HALF_UP)
    if usd_rate is None or usd_rate <= 0:
        raise RuleViolated("usd-rate-required", f"a budget in {currency} needs usd_rate (USD per {currency})")
    return (budget * usd_rate).quantize(CENT, ROUND_HALF_UP)


def target_count(
    name: str, count: int | None, percent: Decimal | None, default_percent: Decimal, among: int
) -> int:
    """A target as a count of people among ``among``: given, or ``percent`` of them (default: the policy's)."""
    if count is not None and percent is not None:
        raise RuleViolated(
            f"{name}-target",
            f"give {name}_target or {name}_target_percent, not both",
            figures={"field": name},
        )
    value = count if count is not None else share_of(among, default_percent if percent is None else percent)
    if not 0 <= value <= among:
        raise RuleViolated(
            f"{name}-target",
            f"the {name.replace('_', '-')} target ({value}) counts people among the {among} direct beneficiaries",
            figures={"target": value, "direct_beneficiaries_target": among},
        )
    return value


class Project(Aggregate[ProjectEvent]):
    def __init__(self) -> None:
        super().__init__()
        self.project_id = ""
        self.partner_id = ""
        self.ngo_ids: tuple[str, ...] = ()
        self.region = ""
        self.cercle = ""
        self.status: Status = "awaiting_local_review"
        self.revision = -1
        self.project_type: ProjectType = "sensitization"
        self.budget = Decimal(0)
        self.currency = "USD"
        self.budget_usd = Decimal(0)
        self.armed_groups_active = False
        self.tranches_paid = 0
        self.amount_paid = Decimal(0)
        # When the facts later ones rest on happened (business time).
        self.submitted_at: datetime | None = None  # the first submission
        self.revision_submitted_at: datetime | None = None
        self.decided_at: dict[Committee, datetime] = {}  # on the current revision
        self.returned_at: datetime | None = None
        self.favourable_assessment_at: datetime | None = None
        self.risk_analysis_at: datetime | None = None
        self.approved_at: datetime | None = None
        self.completed_at: datetime | None = None

    # -- submission ------------------------------------------------------------------------------------

    @classmethod
    def submit(
        cls,
        project_id: str,
        partner: Partner,
        draft: ProjectDraft,
        policy: CvrPolicy,
        on: date,
        recording: Recording,
    ) -> Project:
        project = cls()
        project.project_id = project_id
        submitted = project._submission(partner, draft, policy, on, revision=0)
        at = recording.moment(on, after=partner.registered_at, after_what="the partner's registration")
        project.record(submitted, at=at)
        return project

    def resubmit(
        self, partner: Partner, draft: ProjectDraft, policy: CvrPolicy, on: date, recording: Recording
    ) -> None:
        if self.status != "returned":
            raise RuleViolated("resubmit-when-returned", f"the project is {self.status}, not returned")
        submitted = self._submission(partner, draft, policy, on, revision=self.revision + 1)
        at = recording.moment(on, after=self.returned_at, after_what="the committee's return")
        self.record(submitted, at=at)

    def _submission(
        self, partner: Partner, draft: ProjectDraft, policy: CvrPolicy, on: date, revision: int
    ) -> ProjectSubmitted:
        if not 1 <= draft.duration_months <= policy.max_duration_months:
            raise RuleViolated(
                "duration-limit",
                f"duration_months must be 1 to {policy.max_duration_months} (at most one year)",
            )
        if draft.programme not in policy.programmes:
            raise RuleViolated(
                "unknown-programme",
                f"programme {draft.programme!r} is not one of the programme's: {', '.join(policy.programmes)}",
                figures={"field": "programme", "programmes": list(policy.programmes)},
            )
        if draft.budget <= 0:
            raise RuleViolated("budget-positive", "budget must be above zero")
        budget_usd = budget_in_usd(draft.budget, draft.currency, draft.usd_rate)
        cap = policy.cap_for(partner.kind)
        if budget_usd > cap:
            who = "a consortium" if partner.kind == "consortium" else "a single NGO"
            raise RuleViolated(
                "budget-cap", f"budget USD {budget_usd:,.2f} exceeds the cap of USD {cap:,.2f} for {who}"
            )
        among = draft.direct_beneficiaries_target
        return ProjectSubmitted(
            project_id=self.project_id,
            partner_id=partner.partner_id,
            partner_kind=partner.kind,
            ngo_ids=partner.ngo_ids,
            revision=revision,
            title=draft.title,
            project_type=draft.project_type,
            region=draft.region,
            cercle=draft.cercle,
            commune=draft.commune,
            location=draft.location,
            budget=draft.budget,
            currency=draft.currency,
            budget_usd=budget_usd,
            cap_usd=cap,
            duration_months=draft.duration_months,
            planned_start=draft.planned_start,
            armed_groups_active=draft.armed_groups_active,
            programme=draft.programme,
            direct_beneficiaries_target=among,
            ex_combatants_target=target_count(
                "ex_combatants",
                draft.ex_combatants_target,
                draft.ex_combatant_target_percent,
                policy.ex_combatant_target_percent,
                among,
            ),
            women_target=target_count(
                "women", draft.women_target, draft.women_target_percent, policy.women_target_percent, among
            ),
            submitted_on=on,
        )

    # -- preconditions of appraisal ----------------------------------------------------------------------

    def record_technical_assessment(self, assessment: TechnicalAssessment, recording: Recording) -> None:
        self._before_approval("technical assessment")
        at = recording.moment(
            assessment.assessed_on, after=self.submitted_at, after_what="the project's submission"
        )
        self.record(
            TechnicalAssessmentRecorded(
                project_id=self.project_id,
                agency=assessment.agency,
                reference=assessment.reference,
                assessed_on=assessment.assessed_on,
                favourable=assessment.favourable,
                conditions=assessment.conditions,
            ),
            at=at,
        )

    def attach_risk_analysis(self, analysis: RiskAnalysis, recording: Recording) -> None:
        self._before_approval("risk analysis")
        at = recording.moment(
            analysis.analysed_on, after=self.submitted_at, after_what="the project's submission"
        )
        self.record(
            RiskAnalysisAttached(
                project_id=self.project_id,
                analysed_on=analysis.analysed_on,
                political=analysis.political,
                fiduciary=analysis.fiduciary,
                legal=analysis.legal,
                reputational=analysis.reputational,
                mitigation=analysis.mitigation,
            ),
            at=at,
        )

    def _before_approval(self, what: str) -> None:
        if self.status in UNDER_WAY or self.status == "rejected":
            raise RuleViolated(
                "before-approval", f"a {what} belongs before approval; the project is {self.status}"
            )

    # -- committees ------------------------------------------------------------------------------------

    def decide(self, decision: Decision, policy: CvrPolicy, recording: Recording) -> None:
        committee = decision.committee
        if self.status != AWAITING[committee]:
            raise RuleViolated(
                "committee-order", f"the project is {self.status}, not awaiting the {committee} committee"
            )
        if len(set(decision.members_present)) < MIN_MEMBERS_PRESENT:
            raise RuleViolated("quorum", f"at least {MIN_MEMBERS_PRESENT} members must be present")
        if committee == "local_review":
            self._check_local_review(decision)
        else:
            self._check_appraisal(decision, policy)
        after, what = self._decision_rests_on(decision, policy)
        at = recording.moment(decision.decided_on, after=after, after_what=what)
        self.record(
            CommitteeDecided(
                project_id=self.project_id,
                committee=committee,
                revision=self.revision,
                decided_on=decision.decided_on,
                members_present=decision.members_present,
                outcome=decision.outcome,
                conditions=decision.conditions,
                human_rights_vetting=decision.human_rights_vetting,
                reason=decision.reason,
            ),
            at=at,
        )
        if committee == "national_appraisal" and decision.outcome == "cleared":
            self.record(
                ProjectApproved(
                    project_id=self.project_id,
                    partner_id=self.partner_id,
                    approved_on=decision.decided_on,
                    budget_usd=self.budget_usd,
                ),
                at=at,
            )

    def _decision_rests_on(self, decision: Decision, policy: CvrPolicy) -> Dependency:
        """The facts a committee's decision comes after: the submission or the previous committee's decision
        on this revision; for an appraisal, the risk analysis it relies on where armed groups are active, and
        for a clearance, the technical assessment it relies on."""
        previous = PREVIOUS[decision.committee]
        if previous is None:
            return self.revision_submitted_at, "the project's submission"
        relied_on: list[Dependency] = [(self.decided_at.get(previous), COMMITTEE_NAMES[previous])]
        if self.armed_groups_active:
            relied_on.append((self.risk_analysis_at, "the risk analysis"))
        if decision.outcome == "cleared" and policy.needs_technical_assessment(self.project_type):
            relied_on.append((self.favourable_assessment_at, "the technical assessment"))
        return latest(*relied_on)

    def _check_local_review(self, decision: Decision) -> None:
        if decision.human_rights_vetting == "not_applicable":
            raise RuleViolated(
                "human-rights-vetting", "the local review committee records the participants' vetting"
            )
        if decision.outcome == "cleared" and decision.human_rights_vetting != "cleared":
            raise RuleViolated(
                "human-rights-vetting",
                "a project whose participants raise vetting concerns cannot be cleared",
            )

    def _check_appraisal(self, decision: Decision, policy: CvrPolicy) -> None:
        if self.armed_groups_active and self.risk_analysis_at is None:
            raise RuleViolated(
                "risk-analysis-required",
                "armed groups are active here: attach the risk analysis before appraisal",
            )
        if (
            decision.outcome == "cleared"
            and policy.needs_technical_assessment(self.project_type)
            and self.favourable_assessment_at is None
        ):
            raise RuleViolated(
                "technical-assessment-required",
                f"a {self.project_type} project needs a favourable technical assessment by the competent "
                "government agency before approval",
            )

    # -- implementation --------------------------------------------------------------------------------

    def record_counts(self, counts: Counts, recording: Recording) -> None:
        self._under_way("beneficiary counts")
        if min(counts.direct, counts.direct_women, counts.indirect, counts.indirect_women) < 0:
            raise RuleViolated("counts-non-negative", "beneficiary counts cannot be negative")
        if counts.direct_women > counts.direct or counts.indirect_women > counts.indirect:
            raise RuleViolated(
                "women-within-total", "women cannot outnumber the beneficiaries they are among"
            )
        self.record(
            BeneficiaryCountsRecorded(
                project_id=self.project_id,
                counted_on=counts.counted_on,
                direct=counts.direct,
                direct_women=counts.direct_women,
                indirect=counts.indirect,
                indirect_women=counts.indirect_women,
                source=counts.source,
            ),
            at=self._after_approval(counts.counted_on, recording),
        )

    def pay_tranche(self, amount: Decimal, currency: str, paid_on: date, recording: Recording) -> None:
        if self.status != "approved":
            raise RuleViolated(
                "tranche-when-approved", f"tranches are paid to approved projects ({self.status})"
            )
        if currency != self.currency:
            raise RuleViolated(
                "tranche-currency", f"tranches are paid in the budget's currency {self.currency}"
            )
        if amount <= 0:
            raise RuleViolated("tranche-positive", "a tranche must be above zero")
        if self.amount_paid + amount > self.budget:
            raise RuleViolated(
                "tranches-within-budget",
                "tranches cannot exceed the approved budget",
                figures={"budget": str(self.budget), "paid": str(self.amount_paid), "amount": str(amount)},
            )
        self.record(
            TranchePaid(
                project_id=self.project_id,
                partner_id=self.partner_id,
                tranche=self.tranches_paid + 1,
                amount=amount,
                currency=currency,
                paid_on=paid_on,
            ),
            at=self._after_approval(paid_on, recording),
        )

    def report_progress(
        self, reported_on: date, percent_complete: int, summary: str, recording: Recording
    ) -> None:
        if self.status != "approved":
            raise RuleViolated(
                "progress-when-approved", f"progress is reported while under way ({self.status})"
            )
        self.record(
            ProgressReported(
                project_id=self.project_id,
                reported_on=reported_on,
                percent_complete=percent_complete,
                summary=summary,
            ),
            at=self._after_approval(reported_on, recording),
        )

    def complete(self, completed_on: date, recording: Recording) -> None:
        if self.status != "approved":
            raise RuleViolated(
                "complete-when-approved", f"only an approved project completes ({self.status})"
            )
        at = self._after_approval(completed_on, recording)
        self.record(ProjectCompleted(project_id=self.project_id, completed_on=completed_on), at=at)

    def hand_over(self, handed_over_on: date, to: str, recording: Recording) -> None:
        if self.status != "completed":
            raise RuleViolated(
                "hand-over-when-completed", f"a project is handed over once completed ({self.status})"
            )
        at = recording.moment(handed_over_on, after=self.completed_at, after_what="the project's completion")
        self.record(
            ProjectHandedOver(project_id=self.project_id, handed_over_on=handed_over_on, handed_over_to=to),
            at=at,
        )

    def collect_wam_items(
        self,
        collection_id: str,
        collected_on: date,
        custodian: str,
        items: tuple[CollectedItem, ...],
        recording: Recording,
    ) -> None:
        self._under_way("weapons collection")
        if not items or any(item.quantity < 1 for item in items):
            raise RuleViolated("items-required", "a collection lists at least one item, each of quantity 1+")
        self.record(
            WamItemsCollected(
                project_id=self.project_id,
                collection_id=collection_id,
                collected_on=collected_on,
                region=self.region,
                cercle=self.cercle,
                custodian=custodian,
                items=items,
            ),
            at=self._after_approval(collected_on, recording),
        )

    def record_visit(self, visit: Visit, recording: Recording) -> None:
        if self.completed_at is None:
            raise RuleViolated("visit-after-completion", "the monitoring visit follows completion")
        if visit.visit_kind == "remote_insecure" and not (
            visit.insecurity_reason and visit.partner_report_reference and visit.testimonies > 0
        ):
            raise RuleViolated(
                "substitute-evidence",
                "a visit prevented by insecurity is replaced by the insecurity reason, the partner's report "
                "and at least one beneficiary testimony",
            )
        at = recording.moment(
            visit.visited_on, after=self.completed_at, after_what="the project's completion"
        )
        self.record(
            MonitoringVisitRecorded(
                project_id=self.project_id,
                visit_kind=visit.visit_kind,
                visited_on=visit.visited_on,
                findings=visit.findings,
                insecurity_reason=visit.insecurity_reason,
                partner_report_reference=visit.partner_report_reference,
                testimonies=visit.testimonies,
            ),
            at=at,
        )

    def _under_way(self, what: str) -> None:
        if self.status not in UNDER_WAY:
            raise RuleViolated("project-under-way", f"{what} is recorded once the project is approved")

    def _after_approval(self, on: date, recording: Recording) -> datetime:
        return recording.moment(on, after=self.approved_at, after_what="the project's approval")

    @property
    def accepts_participants(self) -> bool:
        return self.status not in {"rejected", "handed_over"}

    # -- state -----------------------------------------------------------------------------------------

    def apply(self, event: ProjectEvent) -> None:
        match event:
            case ProjectSubmitted():
                self._submitted(event)
            case TechnicalAssessmentRecorded():
                at = moment_of(event.assessed_on, self.at)
                self.favourable_assessment_at = at if event.favourable else None
            case RiskAnalysisAttached():
                self.risk_analysis_at = moment_of(event.analysed_on, self.at)
            case CommitteeDecided():
                self._decided(event)
            case ProjectApproved():
                self.approved_at = moment_of(event.approved_on, self.at)
            case TranchePaid():
                self.tranches_paid = event.tranche
                self.amount_paid += event.amount
            case ProjectCompleted():
                self.status = "completed"
                self.completed_at = moment_of(event.completed_on, self.at)
            case ProjectHandedOver():
                self.status = "handed_over"

    def _submitted(self, event: ProjectSubmitted) -> None:
        self.project_id = event.project_id
        self.partner_id = event.partner_id
        self.ngo_ids = event.ngo_ids
        self.revision = event.revision
        self.project_type = event.project_type
        self.budget = event.budget
        self.currency = event.currency
        self.budget_usd = event.budget_usd
        self.armed_groups_active = event.armed_groups_active
        self.region = event.region
        self.cercle = event.cercle
        self.status = "awaiting_local_review"
        self.revision_submitted_at = moment_of(event.submitted_on, self.at)
        self.submitted_at = self.submitted_at or self.revision_submitted_at
        self.decided_at = {}

    def _decided(self, event: CommitteeDecided) -> None:
        at = moment_of(event.decided_on, self.at)
        self.decided_at[event.committee] = at
        if event.outcome == "cleared":
            self.status = NEXT_STAGE[event.committee]
        elif event.outcome == "returned":
            self.status, self.returned_at = "returned", at
        else:
            self.status = "rejected"
