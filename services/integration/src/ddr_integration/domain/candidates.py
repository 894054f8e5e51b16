"""A person as the integration service knows them (stream ``person-<id>``), and what may happen to them next.

The state comes from the person's events only: what screening decided (:class:`CandidateReceived`, then
:class:`ScreeningOutcomeNoted`), the holds on their benefits and their reinsertion enrolment as this service
noted them, and its own decisions (acceptance, rank, training, placement, service record). Each decision
names the fact it depends on, so its business time is never before that fact: an acceptance after the
screening outcome, a rank after the acceptance, an enrolment after the rank, an outcome after the enrolment,
an assignment after training ended, a service-record entry after the one before it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from ddr_integration.domain.cohorts import Cohort
from ddr_integration.domain.events import (
    BenefitsHoldNoted,
    BenefitsReleaseNoted,
    CandidateAcceptanceDeferred,
    CandidateAccepted,
    CandidateReceived,
    CandidateWithdrawn,
    CivilServiceListed,
    DualEnrolmentDetected,
    RankAllocated,
    RankDisputed,
    RankDisputeDecided,
    RecalledToCorps,
    ReinsertionEnrolmentNoted,
    ReinsertionExitNoted,
    ScreeningOutcomeNoted,
    ServiceStatusChanged,
    TraineeEnrolled,
    TrainingOutcomeRecorded,
)
from ddr_integration.domain.paths import path_for
from ddr_integration.domain.quotas import QuotaBook
from ddr_integration.domain.rank_rules import RankRuleBook
from ddr_integration.domain.ranks import NO_COMMAND, Allocation
from ddr_integration.domain.timing import Clock
from ddr_integration.domain.units import Recruit, Unit
from ddr_runtime.kernel import Aggregate, LimitReached, RuleViolated, UnknownRecord

Status = Literal["none", "received", "deferred", "accepted", "withdrawn"]
ScreeningAction = Literal["receive", "withdraw", "discharge", "ignore"]
RECONSTITUTED_FORCES = "reconstituted_forces"
DISCHARGE_KINDS = ("medical", "voluntary", "disciplinary", "other")
OFF_STRENGTH = frozenset({"deserted", "discharged"})
SERVICE_TRANSITIONS: dict[str | None, frozenset[str]] = {
    "serving": frozenset({"absent", "deserted", "discharged"}),
    "absent": frozenset({"serving", "returned", "deserted", "discharged"}),
    "deserted": frozenset({"returned", "discharged"}),
    "returned": frozenset({"serving", "absent", "deserted", "discharged"}),
}
CandidateEvent = (
    CandidateReceived
    | ScreeningOutcomeNoted
    | CandidateAcceptanceDeferred
    | CandidateAccepted
    | CandidateWithdrawn
    | BenefitsHoldNoted
    | BenefitsReleaseNoted
    | ReinsertionEnrolmentNoted
    | ReinsertionExitNoted
    | DualEnrolmentDetected
    | RankAllocated
    | RankDisputed
    | RankDisputeDecided
    | TraineeEnrolled
    | TrainingOutcomeRecorded
    | RecalledToCorps
    | CivilServiceListed
    | ServiceStatusChanged
)


def person_stream(person_id: str) -> str:
    return f"person-{person_id}"


@dataclass(frozen=True)
class Outcome:
    """What screening decided for the person (the facts of a ``ScreeningOutcomeDecided`` this service uses)."""

    decision_id: str
    track: str
    movement: str
    category: str
    movement_rank: str
    region: str | None = None


@dataclass(frozen=True)
class ServiceEntry:
    """One entry of a service record asked for: ``effective_on`` ``None`` when a policy decides it."""

    person_id: str
    status: str
    effective_on: date | None
    discharge_kind: str | None = None
    referred_to_reinsertion: bool = False

    def validate(self) -> None:
        if self.status == "discharged":
            if self.discharge_kind not in DISCHARGE_KINDS:
                raise RuleViolated(
                    "discharge_kind", f"a discharge names its kind: one of {', '.join(DISCHARGE_KINDS)}"
                )
        elif self.discharge_kind is not None or self.referred_to_reinsertion:
            raise RuleViolated("discharge_kind", "only a discharge has a kind or refers to reinsertion")


@dataclass
class Dispute:
    allocated_rank: str
    claimed_rank: str
    claimed_command_function: str
    raised_at: datetime | None
    status: str = "open"


class Candidate(Aggregate[CandidateEvent]):
    def __init__(self, person_id: str = "") -> None:
        super().__init__()
        self.person_id = person_id
        self.movement = ""
        self.region: str | None = None
        self.category = ""
        self.path: str | None = None
        self.movement_rank = ""
        self.screening_decision_id: str | None = None
        self.child_protection = False
        self.holds: dict[str, str] = {}
        self.reinsertion_active = False
        self.status: Status = "none"
        self.received_at: datetime | None = None
        self.deferral_reason: str | None = None
        self._clear_candidacy()

    def _clear_candidacy(self) -> None:
        self.accepted_at: datetime | None = None
        self.rank: str | None = None
        self.command_function: str | None = None
        self.ranked_at: datetime | None = None
        self.disputes: dict[str, Dispute] = {}
        self.cohort_id: str | None = None
        self.enrolled_at: datetime | None = None
        self.training_outcome: str | None = None
        self.trained_at: datetime | None = None
        self.unit_id: str | None = None
        self.placed = False
        self.service_status: str | None = None
        self.service_at: datetime | None = None
        self.service_since: date | None = None

    # -- what the state says --------------------------------------------------------------------------------

    @property
    def known(self) -> bool:
        return self.version > 0 or bool(self.pending)

    @property
    def held(self) -> bool:
        return bool(self.holds)

    @property
    def active(self) -> bool:
        """An active member of the integration track: accepted and not discharged (deserters stay on the
        record until discharged)."""
        return self.status == "accepted" and self.service_status != "discharged"

    @property
    def in_training(self) -> bool:
        return self.cohort_id is not None and self.training_outcome is None

    def screening_action(self, track: str) -> ScreeningAction:
        """What a new screening outcome means here. ``child_protection`` ends everything, whatever came
        before; a later outcome on another track supersedes the candidacy (withdrawn before placement,
        discharged after)."""
        if track == "integration" and not self.child_protection:
            return "receive" if self.status in ("none", "withdrawn") else "ignore"
        if self.status in ("received", "deferred") or (self.status == "accepted" and not self.placed):
            return "withdraw"
        return "discharge" if self.active else "ignore"

    def why_not_now(self) -> str | None:
        """Why the candidate cannot be accepted now, before any quota is looked at; ``None`` when they can."""
        if self.held:
            return "benefits_held"
        if self.reinsertion_active:
            return "reinsertion_beneficiary"
        return None

    def overlaps_reinsertion(self, reinsertion_from: date) -> bool:
        """Whether a reinsertion enrolment from ``reinsertion_from`` overlaps this person's integration."""
        if self.active:
            return True
        return (
            self.status == "accepted"
            and self.service_status == "discharged"
            and self.service_since is not None
            and reinsertion_from < self.service_since
        )

    # -- screening, holds, reinsertion: what other services decided -----------------------------------------

    def receive(self, outcome: Outcome, clock: Clock) -> None:
        at = clock.moment(None)
        event = CandidateReceived(
            self.person_id,
            outcome.movement,
            outcome.category,
            path_for(outcome.category),
            outcome.movement_rank,
            outcome.decision_id,
            at.date(),
            outcome.region,
        )
        self.record(event, at=at)

    def note_outcome(self, outcome: Outcome, clock: Clock) -> None:
        at = clock.moment(None)
        event = ScreeningOutcomeNoted(
            self.person_id,
            outcome.decision_id,
            outcome.track,
            outcome.movement,
            outcome.category,
            outcome.movement_rank,
            at.date(),
            outcome.region,
        )
        self.record(event, at=at)

    def note_hold(self, decision_id: str, reason_code: str, clock: Clock) -> None:
        self.record(BenefitsHoldNoted(self.person_id, decision_id, reason_code), at=clock.moment(None))

    def note_release(self, decision_id: str, reason_code: str, clock: Clock) -> None:
        self.record(BenefitsReleaseNoted(self.person_id, decision_id, reason_code), at=clock.moment(None))

    def note_reinsertion_enrolment(self, on: date, clock: Clock) -> None:
        at = clock.moment(None)
        overlapping = self.overlaps_reinsertion(on)
        self.record(ReinsertionEnrolmentNoted(self.person_id, on), at=at)
        if overlapping:
            status = self.service_status or self.status
            self.record(DualEnrolmentDetected(self.person_id, status, on), at=at)

    def note_reinsertion_exit(self, on: date, clock: Clock) -> None:
        self.record(ReinsertionExitNoted(self.person_id, on), at=clock.moment(None))

    # -- candidacy ------------------------------------------------------------------------------------------

    def ensure_can_accept(self) -> None:
        if self.child_protection:
            raise RuleViolated("child_protection", "a child is never integrated")
        if self.status == "accepted":
            raise RuleViolated("already_accepted", "the candidate is already accepted")
        if self.status not in ("received", "deferred"):
            raise RuleViolated("not_a_candidate", "the person is not an integration candidate")
        reason = self.why_not_now()
        if reason == "benefits_held":
            raise RuleViolated("benefits_held", "the person's benefits are held pending screening")
        if reason == "reinsertion_beneficiary":
            raise RuleViolated(
                "reinsertion_beneficiary",
                "the person is an active reinsertion beneficiary: accepting them would pay them twice",
            )

    def accept(self, book: QuotaBook, on: date | None, clock: Clock, *, strict: bool) -> bool:
        """Accept the candidate under the quotas covering them on the day. ``strict`` (an officer's request):
        a refusal raises, with the figures. Otherwise (a policy) the refusal is recorded as a deferral."""
        if strict:
            self.ensure_can_accept()
        elif self.child_protection or self.status not in ("received", "deferred"):
            return False
        at = clock.moment(on, after=self.received_at, after_what="the screening outcome")
        reason = self.why_not_now()
        if reason is not None:
            self._defer(reason, {}, at)
            return False
        try:
            applicable, chosen = book.room_for(self.movement, at.date())
        except LimitReached as refusal:
            if strict:
                raise
            self._defer(refusal.rule, refusal.figures, at)
            return False
        book.reserve(applicable, self.person_id, at)
        event = CandidateAccepted(
            self.person_id,
            self.movement,
            self.path or RECONSTITUTED_FORCES,
            chosen.quota_id,
            self.screening_decision_id or "",
            at.date(),
        )
        self.record(event, at=at)
        return True

    def _defer(self, reason: str, figures: dict[str, object], at: datetime) -> None:
        if self.status == "deferred" and self.deferral_reason == reason:
            return

        def number(key: str) -> int | None:
            value = figures.get(key)
            return value if isinstance(value, int) else None

        quota_id = figures.get("quota_id")
        event = CandidateAcceptanceDeferred(
            self.person_id,
            reason,
            quota_id if isinstance(quota_id, str) else None,
            number("used"),
            number("limit"),
            at.date(),
        )
        self.record(event, at=at)

    def withdraw(self, reason: str, clock: Clock, *, book: QuotaBook, cohort: Cohort | None) -> None:
        """End the candidacy before placement: its quota places and its seat in training are given back."""
        at = clock.moment(None, after=self.received_at, after_what="the screening outcome")
        if self.status == "accepted":
            book.release(self.person_id, at)
        if self.in_training and cohort is not None:
            cohort.free_seat(at)
        self.record(CandidateWithdrawn(self.person_id, reason, at.date()), at=at)

    # -- rank -----------------------------------------------------------------------------------------------

    def _ensure_active_on_path(self, path: str) -> None:
        if not self.active:
            raise RuleViolated("not_accepted", "the person is not an accepted, active integration member")
        if self.path != path:
            raise RuleViolated(
                "wrong_path", f"the person's path is {self.path}, not {path}", figures={"path": self.path}
            )
        if self.held:
            raise RuleViolated("benefits_held", "the person's benefits are held pending screening")

    def allocate_rank(
        self, rules: RankRuleBook, years_of_service: int, qualification: str, on: date | None, clock: Clock
    ) -> Allocation:
        self._ensure_active_on_path(RECONSTITUTED_FORCES)
        at = clock.moment(on, after=self.accepted_at, after_what="the acceptance")
        allocation = rules.allocate(at.date(), self.movement_rank, years_of_service, qualification)
        event = RankAllocated(
            self.person_id,
            allocation.rule_version,
            self.movement_rank,
            years_of_service,
            qualification,
            allocation.rank,
            allocation.command_function,
            None,
            at.date(),
        )
        self.record(event, at=at)
        return allocation

    def dispute_rank(
        self,
        dispute_id: str,
        claimed_rank: str,
        claimed_command_function: str,
        grounds_code: str,
        on: date | None,
        clock: Clock,
    ) -> None:
        if self.rank is None:
            raise RuleViolated("rank_not_allocated", "only an allocated rank can be disputed")
        at = clock.moment(on, after=self.ranked_at, after_what="the rank allocation")
        event = RankDisputed(
            self.person_id,
            dispute_id,
            self.rank,
            claimed_rank,
            claimed_command_function,
            grounds_code,
            at.date(),
        )
        self.record(event, at=at)

    def decide_dispute(
        self, dispute_id: str, outcome: str, decision_ref: str, on: date | None, clock: Clock
    ) -> None:
        dispute = self.disputes.get(dispute_id)
        if dispute is None:
            raise UnknownRecord("rank_dispute", dispute_id)
        if outcome not in ("upheld", "rejected"):
            raise RuleViolated("outcome", "a dispute is upheld or rejected")
        if dispute.status != "open":
            raise RuleViolated(
                "dispute_decided", "the dispute is already decided", figures={"status": dispute.status}
            )
        at = clock.moment(on, after=dispute.raised_at, after_what="the dispute")
        self.record(RankDisputeDecided(self.person_id, dispute_id, outcome, decision_ref, at.date()), at=at)
        if outcome == "upheld":
            event = RankAllocated(
                self.person_id,
                None,
                self.movement_rank,
                0,
                "none",
                dispute.claimed_rank,
                dispute.claimed_command_function,
                dispute_id,
                at.date(),
            )
            self.record(event, at=at)

    # -- training -------------------------------------------------------------------------------------------

    def enrol(self, cohort: Cohort, on: date | None, clock: Clock) -> None:
        self._ensure_active_on_path(RECONSTITUTED_FORCES)
        if self.rank is None:
            raise RuleViolated("rank_not_allocated", "a rank is allocated before training")
        if self.cohort_id is not None and self.training_outcome in (None, "completed"):
            raise RuleViolated(
                "already_in_training",
                "the person is already enrolled or trained",
                figures={"cohort_id": self.cohort_id},
            )
        at = clock.moment(on, after=self.ranked_at, after_what="the rank allocation")
        cohort.reserve_seat(at.date(), at)
        self.record(TraineeEnrolled(cohort.cohort_id, self.person_id, at.date()), at=at)

    def record_training(self, cohort: Cohort, outcome: str, on: date | None, clock: Clock) -> None:
        if self.cohort_id != cohort.cohort_id or self.training_outcome is not None:
            raise RuleViolated(
                "not_enrolled",
                f"the person has no open enrolment in cohort {cohort.cohort_id}",
                figures={"cohort_id": cohort.cohort_id},
            )
        at = clock.moment(on, after=self.enrolled_at, after_what="the enrolment")
        cohort.ensure_outcome_date(outcome, at.date())
        self.record(TrainingOutcomeRecorded(cohort.cohort_id, self.person_id, outcome, at.date()), at=at)

    # -- placement and service record -----------------------------------------------------------------------

    def recruit(self, command_post: bool | None, on: date | None, clock: Clock) -> Recruit:
        """The member to be assigned to a unit, once trained; ``command_post`` ``None``: a post when the
        allocated rank carries a command function."""
        self._ensure_active_on_path(RECONSTITUTED_FORCES)
        if self.training_outcome != "completed":
            raise RuleViolated("training_not_completed", "a member is assigned after completing training")
        if self.placed:
            raise RuleViolated(
                "already_assigned", "the person is already assigned", figures={"unit_id": self.unit_id}
            )
        at = clock.moment(on, after=self.trained_at, after_what="the end of training")
        post = (
            command_post if command_post is not None else (self.command_function or NO_COMMAND) != NO_COMMAND
        )
        return Recruit(self.person_id, self.movement, post, at)

    def start_service(self, unit_id: str, at: datetime) -> None:
        self.record(ServiceStatusChanged(self.person_id, unit_id, "serving", at.date()), at=at)

    def place_outside_units(self, path: str, destination: str, on: date | None, clock: Clock) -> None:
        """Recall to ``destination`` corps (``armed_forces_recall``) or list for the civil service."""
        if not destination.strip():
            raise RuleViolated("destination", "name the corps or the civil-service list")
        self._ensure_active_on_path(path)
        if self.placed:
            raise RuleViolated("already_placed", "the person is already placed")
        at = clock.moment(on, after=self.accepted_at, after_what="the acceptance")
        placed = (
            RecalledToCorps(self.person_id, destination, at.date())
            if path == "armed_forces_recall"
            else CivilServiceListed(self.person_id, destination, at.date())
        )
        self.record(placed, at=at)
        self.record(ServiceStatusChanged(self.person_id, None, "serving", at.date()), at=at)

    def ensure_service_transition(self, status: str) -> None:
        if not self.placed or self.status != "accepted":
            raise RuleViolated("not_in_service", "a service record starts with a placement")
        allowed = SERVICE_TRANSITIONS.get(self.service_status, frozenset())
        if status not in allowed:
            raise RuleViolated(
                "service_transition",
                f"a member who is {self.service_status} cannot become {status}",
                figures={"from": self.service_status, "to": status},
            )

    def change_service(
        self, entry: ServiceEntry, clock: Clock, *, unit: Unit | None, enforce_transition: bool = True
    ) -> None:
        """One entry of the service record; a unit member who deserts or is discharged leaves the unit's
        strength, and comes back to it on return."""
        entry.validate()
        if enforce_transition:
            self.ensure_service_transition(entry.status)
        at = clock.moment(
            entry.effective_on, after=self.service_at, after_what="the last service-record entry"
        )
        before = self.service_status
        event = ServiceStatusChanged(
            self.person_id,
            self.unit_id,
            entry.status,
            at.date(),
            entry.discharge_kind,
            entry.referred_to_reinsertion,
        )
        self.record(event, at=at)
        if unit is None:
            return
        if entry.status in OFF_STRENGTH and before not in OFF_STRENGTH:
            unit.strike_off(self.person_id, entry.status, at)
        elif entry.status == "returned" and before == "deserted":
            unit.reinstate(self.person_id, at)

    # -- state ----------------------------------------------------------------------------------------------

    def apply(self, event: CandidateEvent) -> None:
        if isinstance(event, CandidateReceived | ScreeningOutcomeNoted):
            self._screened(event)
        elif isinstance(event, CandidateAcceptanceDeferred):
            self.status, self.deferral_reason = "deferred", event.reason_code
        elif isinstance(event, CandidateAccepted):
            self.status, self.deferral_reason, self.accepted_at = "accepted", None, self.at
        elif isinstance(event, CandidateWithdrawn):
            self.status, self.deferral_reason = "withdrawn", None
        elif isinstance(event, BenefitsHoldNoted):
            self.holds[event.decision_id] = event.reason_code
        elif isinstance(event, BenefitsReleaseNoted):
            self.holds.pop(event.decision_id, None)
        elif isinstance(event, ReinsertionEnrolmentNoted | ReinsertionExitNoted):
            self.reinsertion_active = isinstance(event, ReinsertionEnrolmentNoted)
        elif isinstance(event, RankAllocated):
            self.rank, self.command_function, self.ranked_at = event.rank, event.command_function, self.at
        elif isinstance(event, RankDisputed):
            self.disputes[event.dispute_id] = Dispute(
                event.allocated_rank, event.claimed_rank, event.claimed_command_function, self.at
            )
        elif isinstance(event, RankDisputeDecided):
            self.disputes[event.dispute_id].status = event.outcome
        elif isinstance(event, TraineeEnrolled):
            self.cohort_id, self.enrolled_at, self.training_outcome = event.cohort_id, self.at, None
        elif isinstance(event, TrainingOutcomeRecorded):
            self.training_outcome, self.trained_at = event.outcome, self.at
        elif isinstance(event, ServiceStatusChanged):
            self._served(event)
        # DualEnrolmentDetected, RecalledToCorps and CivilServiceListed change nothing decisions read

    def _screened(self, event: CandidateReceived | ScreeningOutcomeNoted) -> None:
        self.person_id = event.person_id
        self.movement, self.category, self.movement_rank = event.movement, event.category, event.movement_rank
        self.region = event.region or self.region
        if isinstance(event, CandidateReceived):
            self._clear_candidacy()
            self.path, self.screening_decision_id = event.path, event.screening_decision_id
            self.status, self.deferral_reason, self.received_at = "received", None, self.at
            return
        self.screening_decision_id = event.decision_id
        self.child_protection = self.child_protection or event.track == "child_protection"

    def _served(self, event: ServiceStatusChanged) -> None:
        if event.status == "serving" and not self.placed:
            self.placed, self.unit_id = True, event.unit
        self.service_status, self.service_at, self.service_since = event.status, self.at, event.effective_on
