"""A person's reinsertion: from the facts other services told of them, through counselling and the package
they chose, to each tranche paid, each visit, and the end. Its state comes from its own events only.

What other services decided reaches it as events of its own history (``ScreeningOutcomeNoted``,
``BenefitsHoldNoted``, ``IntegrationStatusNoted``...), with their business time, so a rebuild from this
service's store decides and shows exactly what the live service did.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal

from ddr_reinsertion.domain.catalogue import PackageTerms
from ddr_reinsertion.domain.events import (
    BeneficiaryEnrolled,
    BeneficiaryEvent,
    BeneficiaryExited,
    BenefitsHoldNoted,
    BenefitsReleaseNoted,
    CounsellingProfileRecorded,
    FollowUpVisitRecorded,
    IntegrationStatusNoted,
    PackageGranted,
    ScreeningOutcomeNoted,
    TrainingAttended,
    TrancheDisbursed,
    VolunteerListed,
)
from ddr_reinsertion.domain.values import PlannedTranche
from ddr_runtime.kernel import Aggregate, AlreadyDone, Recording, RuleViolated, UnknownRecord

FAGA_CATEGORY = "associated_woman"
ZERO = Decimal(0)
EXIT_REASONS = ("completed", "dropped_out", "withdrawn")
OPEN_STAGES = ("none", "withdrawn", "moved_to_integration")  # a new candidacy may start from these


def caseload_of(category: str) -> str:
    """Women associated with armed groups are a caseload of their own, enrolled in their own right."""
    return "faga" if category == FAGA_CATEGORY else "ex_combatant"


@dataclass(frozen=True)
class Release:
    """The unpaid rest of a commitment, to go back to its budget line when a beneficiary leaves."""

    line_id: str
    commitment_id: str
    amount: Decimal


@dataclass(frozen=True)
class Payment:
    """A tranche to pay (or paid: ``replayed`` when the request was answered before)."""

    request_id: str
    person_id: str
    tranche: int
    amount: Decimal
    line_id: str
    commitment_id: str
    disbursement_id: str
    office: str
    paid_on: date
    at: datetime | None = None
    replayed: bool = False


@dataclass(frozen=True)
class Choice:
    """Counselling and the package chosen."""

    package: PackageTerms
    line_id: str
    commitment_id: str
    skills: tuple[str, ...]
    literacy: str
    area_of_return: str
    dependants: int
    enrolled_on: date


@dataclass(frozen=True)
class Enrolling:
    """An enrolment decided but not yet recorded: the amount granted and its timetable."""

    choice: Choice
    caseload: str
    amount: Decimal
    tranches: tuple[PlannedTranche, ...]
    at: datetime


@dataclass
class Enrolment:
    """The current enrolment: its package, commitment and what has been done of its timetable."""

    at: datetime | None
    on: date
    commitment_id: str = ""
    line_id: str = ""
    package_id: str = ""
    package_kind: str = ""
    currency: str = ""
    amount: Decimal = ZERO
    caseload: str = ""
    tranches: tuple[PlannedTranche, ...] = ()
    visits_due: tuple[date, ...] = ()
    trained: bool = False
    training_at: datetime | None = None
    visits: list[tuple[datetime | None, FollowUpVisitRecorded]] = field(default_factory=list)
    paid: dict[int, Payment] = field(default_factory=dict)

    @property
    def disbursed(self) -> Decimal:
        return sum((p.amount for p in self.paid.values()), ZERO)

    def last_payment_at(self) -> datetime | None:
        times = [p.at for p in self.paid.values() if p.at is not None]
        return max(times) if times else None


class Beneficiary(Aggregate[BeneficiaryEvent]):
    def __init__(self) -> None:
        super().__init__()
        self.person_id = ""
        self.stage = "none"  # waiting, withdrawn, active, completed, dropped_out, moved_to_integration
        self.source: str | None = None
        self.round_id: str | None = None
        self.region = self.sex = self.category = self.movement = self.rank = ""
        self.barred = False  # screened a child: never a reinsertion beneficiary
        self.integration_active = False
        self.holds: set[str] = set()
        self.waiting_since: datetime | None = None
        self.enrolment: Enrolment | None = None
        self.requests: dict[str, Payment] = {}

    # -- facts from other services -----------------------------------------------------------------------

    def note_screening(self, noted: ScreeningOutcomeNoted, at: datetime | None) -> Release | None:
        """Screening's outcome; an active beneficiary sent to another track leaves (the rest released)."""
        was_active = self.stage == "active"
        self.record(noted, at=at)
        if not was_active or (noted.track == "reinsertion" and not self.barred):
            return None
        reason = "moved_to_integration" if noted.track == "integration" else "withdrawn"
        return self._leave(reason, at.date() if at else date.today(), at)

    def note_hold(self, noted: BenefitsHoldNoted | BenefitsReleaseNoted, at: datetime | None) -> None:
        self.record(noted, at=at)

    def note_integration(self, noted: IntegrationStatusNoted, at: datetime | None) -> None:
        self.record(noted, at=at)

    # -- candidacy and enrolment -------------------------------------------------------------------------

    def check_may_draw(self) -> None:
        """Enrolment and every disbursement: nobody draws reinsertion while active in integration."""
        if self.barred:
            raise RuleViolated("not_eligible", "this person cannot be a reinsertion beneficiary")
        if self.integration_active:
            raise RuleViolated(
                "active_in_integration", "the person is an active member of the integration track"
            )

    def list_volunteer(self, listed: VolunteerListed, at: datetime) -> None:
        self.check_may_draw()
        if self.stage in ("waiting", "active"):
            raise AlreadyDone("already_a_beneficiary", f"the person is already {self.stage}")
        self.record(listed, at=at)

    @staticmethod
    def _not_a_candidate() -> RuleViolated:
        return RuleViolated(
            "not_a_candidate",
            "the person is not waiting for reinsertion (no reinsertion outcome, referral or volunteer listing)",
        )

    def outside(self, regions: frozenset[str]) -> bool:
        """Whether a caller narrowed to ``regions`` (empty: every region) may not act on this person: a child
        never counts as within anyone's remit here, nor does a person of a region not known."""
        return self.barred or (bool(regions) and self.region not in regions)

    def prepare_enrolment(
        self, choice: Choice, recording: Recording, regions: frozenset[str] = frozenset()
    ) -> Enrolling:
        """Whether the person may enrol with ``choice``, and what it grants; nothing recorded yet (the budget
        line is asked for the amount first). A child, and a person outside the caller's ``regions``, are refused
        exactly as someone who never was a candidate."""
        if self.outside(regions):
            raise self._not_a_candidate()
        self.check_may_draw()
        if self.stage == "active":
            raise AlreadyDone("already_enrolled", "the person is already an active beneficiary")
        if self.stage != "waiting":
            raise self._not_a_candidate()
        at = recording.moment(
            choice.enrolled_on, after=self.waiting_since, after_what="the person's candidacy"
        )
        terms, caseload = choice.package, caseload_of(self.category)
        if not terms.admits(caseload):
            raise RuleViolated(
                "package_not_for_caseload",
                f"package {terms.package_id} is not offered to the {caseload} caseload",
                figures={"package_id": terms.package_id, "caseload": caseload},
            )
        amount = terms.entitlement(self.category, self.rank, choice.dependants)
        return Enrolling(choice, caseload, amount, tuple(terms.timetable(amount, choice.enrolled_on)), at)

    def enrol(self, person_id: str, enrolling: Enrolling) -> None:
        """Counselling and choice recorded: enrolment, profile and the package granted with its timetable."""
        choice, terms, at, on = (
            enrolling.choice,
            enrolling.choice.package,
            enrolling.at,
            enrolling.choice.enrolled_on,
        )
        self.record(
            BeneficiaryEnrolled(
                person_id, self.source or "screening", self.round_id, self.region, self.sex, self.category,
                self.movement, on,
            ),
            at=at,
        )  # fmt: skip
        self.record(
            CounsellingProfileRecorded(
                person_id, enrolling.caseload, choice.skills, choice.literacy, choice.area_of_return,
                choice.dependants, on,
            ),
            at=at,
        )  # fmt: skip
        self.record(
            PackageGranted(
                person_id, choice.commitment_id, terms.package_id, terms.package_version, terms.kind,
                choice.line_id, terms.currency, enrolling.amount, enrolling.tranches,
                tuple(terms.visits_due(on)), on,
            ),
            at=at,
        )  # fmt: skip

    # -- while active ------------------------------------------------------------------------------------

    def active(self) -> Enrolment:
        if self.enrolment is None:
            raise UnknownRecord("beneficiary", self.person_id or "unknown")
        if self.stage != "active":
            raise RuleViolated("not_active", f"the beneficiary is {self.stage}: nothing more is done")
        return self.enrolment

    def attend_training(self, provider: str, on: date, recording: Recording) -> None:
        enrolment = self.active()
        at = recording.moment(on, after=enrolment.at, after_what="the enrolment")
        self.record(TrainingAttended(self.person_id, enrolment.commitment_id, provider, on), at=at)

    def visit(self, visit_id: str, outcome: str, on: date, recording: Recording) -> Release | None:
        """A follow-up visit; ``dropped_out`` ends participation (the unpaid rest released)."""
        enrolment = self.active()
        at = recording.moment(on, after=enrolment.at, after_what="the enrolment")
        self.record(FollowUpVisitRecorded(self.person_id, visit_id, outcome, on), at=at)
        return self._leave("dropped_out", on, at) if outcome == "dropped_out" else None

    def end(self, reason: str, on: date, recording: Recording) -> Release | None:
        enrolment = self.active()
        after, what = enrolment.at, "the enrolment"
        if reason == "completed":
            unpaid = [t.number for t in enrolment.tranches if t.number not in enrolment.paid]
            if unpaid:
                raise RuleViolated(
                    "tranches_unpaid",
                    f"{len(unpaid)} tranche(s) are still unpaid: not complete",
                    figures={"unpaid_tranches": unpaid},
                )
            after, what = enrolment.last_payment_at() or after, "the last tranche paid"
        at = recording.moment(on, after=after, after_what=what)
        return self._leave(reason, on, at)

    def _leave(self, reason: str, on: date, at: datetime | None) -> Release | None:
        enrolment = self.enrolment
        self.record(BeneficiaryExited(self.person_id, reason, on), at=at)
        if enrolment is None or enrolment.amount <= enrolment.disbursed:
            return None
        return Release(enrolment.line_id, enrolment.commitment_id, enrolment.amount - enrolment.disbursed)

    # -- tranches ----------------------------------------------------------------------------------------

    def earlier_request(self, request_id: str, tranche: int) -> Payment | None:
        """What a payment request answered before (a retried or redelivered request pays once)."""
        earlier = self.requests.get(request_id)
        if earlier is None:
            return None
        if earlier.tranche != tranche:
            raise AlreadyDone(
                "request_id_reused",
                "this request id already paid another tranche",
                figures={"request_id": request_id, "tranche": earlier.tranche},
            )
        return replace(earlier, replayed=True)

    def prepare_payment(
        self, request_id: str, number: int, office: str, on: date, disbursement_id: str, recording: Recording
    ) -> Payment:
        """Tranche ``number`` if its turn, date and condition have come: the payment to debit from the line
        (nothing recorded yet)."""
        enrolment = self.active()
        self.check_may_draw()
        if self.holds:
            raise RuleViolated(
                "benefits_held", "benefits are held by screening: nothing is paid until released"
            )
        recording.moment(on, after=enrolment.at, after_what="the enrolment")
        tranche = self._payable(enrolment, number, on)
        after, what = self._payment_dependency(enrolment, tranche)
        at = recording.moment(on, after=after, after_what=what)
        return Payment(
            request_id, self.person_id, number, tranche.amount, enrolment.line_id, enrolment.commitment_id,
            disbursement_id, office, on, at,
        )  # fmt: skip

    def pay(self, payment: Payment) -> None:
        self.record(
            TrancheDisbursed(
                self.person_id, payment.commitment_id, payment.tranche, payment.amount, payment.line_id,
                payment.disbursement_id, payment.request_id, payment.office, payment.paid_on,
            ),
            at=payment.at,
        )  # fmt: skip

    @staticmethod
    def _payable(enrolment: Enrolment, number: int, on: date) -> PlannedTranche:
        tranche = next((t for t in enrolment.tranches if t.number == number), None)
        if tranche is None:
            raise RuleViolated(
                "no_such_tranche", f"the package has no tranche {number}", figures={"tranche": number}
            )
        if number in enrolment.paid:
            raise AlreadyDone(
                "tranche_already_paid", f"tranche {number} is already paid", figures={"tranche": number}
            )
        if any(t.number not in enrolment.paid for t in enrolment.tranches if t.number < number):
            raise RuleViolated(
                "earlier_tranche_unpaid", "tranches are paid in order", figures={"tranche": number}
            )
        if on < tranche.due_on:
            raise RuleViolated(
                "tranche_not_due",
                f"tranche {number} falls due on {tranche.due_on.isoformat()}",
                figures={"tranche": number, "due_on": tranche.due_on.isoformat()},
            )
        if tranche.condition == "training_attended" and not enrolment.trained:
            raise RuleViolated("condition_not_met", f"tranche {number} waits for the training to be attended")
        if tranche.condition == "follow_up_visit":
            needed = Beneficiary._visits_needed(enrolment, number)
            if len(enrolment.visits) < needed:
                raise RuleViolated(
                    "condition_not_met",
                    f"tranche {number} waits for follow-up visit {needed}",
                    figures={"tranche": number, "visit": needed},
                )
        return tranche

    @staticmethod
    def _visits_needed(enrolment: Enrolment, number: int) -> int:
        """The k-th tranche that waits for a visit waits for the k-th visit."""
        return sum(1 for t in enrolment.tranches if t.condition == "follow_up_visit" and t.number <= number)

    @staticmethod
    def _payment_dependency(enrolment: Enrolment, tranche: PlannedTranche) -> tuple[datetime | None, str]:
        """The latest fact a payment depends on: the enrolment, the tranche before, and its condition."""
        facts: list[tuple[datetime | None, str]] = [(enrolment.at, "the enrolment")]
        before = enrolment.paid.get(tranche.number - 1)
        if before is not None:
            facts.append((before.at, f"the payment of tranche {tranche.number - 1}"))
        if tranche.condition == "training_attended":
            facts.append((enrolment.training_at, "the training attended"))
        if tranche.condition == "follow_up_visit":
            needed = Beneficiary._visits_needed(enrolment, tranche.number)
            facts.append((enrolment.visits[needed - 1][0], f"follow-up visit {needed}"))
        known = [(at, what) for at, what in facts if at is not None]
        return max(known, key=lambda fact: fact[0]) if known else (None, "the enrolment")

    # -- state -------------------------------------------------------------------------------------------

    def apply(self, event: BeneficiaryEvent) -> None:
        self.person_id = event.person_id
        if isinstance(event, ScreeningOutcomeNoted | VolunteerListed | IntegrationStatusNoted):
            self._apply_candidacy(event)
        elif isinstance(event, BenefitsHoldNoted):
            self.holds.add(event.decision_id)
        elif isinstance(event, BenefitsReleaseNoted):
            self.holds.discard(event.decision_id)
        elif isinstance(event, BeneficiaryEnrolled):
            self.stage, self.enrolment = "active", Enrolment(self.at, event.effective_on)
        elif isinstance(event, BeneficiaryExited):
            self.stage = event.reason
        else:
            self._apply_enrolment(event)

    def _apply_candidacy(
        self, event: ScreeningOutcomeNoted | VolunteerListed | IntegrationStatusNoted
    ) -> None:
        if isinstance(event, IntegrationStatusNoted):
            self.integration_active = event.standing in ("accepted", "serving")
            if event.referred_to_reinsertion and not self.barred and self.stage != "active":
                self._wait("integration_discharge", None)
            return
        self.region, self.sex, self.category = event.region, event.sex, event.category
        self.movement, self.rank = event.movement, event.rank
        if isinstance(event, VolunteerListed):
            self._wait("volunteer_round", event.round_id)
            return
        if event.track == "child_protection":
            self.barred = True  # a child never enters reinsertion, whatever arrives before or after
        if self.barred or event.track != "reinsertion":
            self.stage = "withdrawn" if self.stage == "waiting" else self.stage
        elif self.stage in OPEN_STAGES:
            self._wait("screening", None)

    def _wait(self, source: str, round_id: str | None) -> None:
        self.stage, self.source, self.round_id, self.waiting_since = "waiting", source, round_id, self.at

    def _apply_enrolment(
        self,
        event: CounsellingProfileRecorded
        | PackageGranted
        | TrainingAttended
        | FollowUpVisitRecorded
        | TrancheDisbursed,
    ) -> None:
        enrolment = self.enrolment
        assert enrolment is not None, "an enrolment's events follow BeneficiaryEnrolled"
        if isinstance(event, CounsellingProfileRecorded):
            enrolment.caseload = event.caseload
        elif isinstance(event, PackageGranted):
            enrolment.commitment_id, enrolment.line_id = event.commitment_id, event.line_id
            enrolment.package_id, enrolment.package_kind = event.package_id, event.kind
            enrolment.currency, enrolment.amount = event.currency, event.amount
            enrolment.tranches, enrolment.visits_due = tuple(event.tranches), tuple(event.visits_due)
        elif isinstance(event, TrainingAttended):
            enrolment.trained, enrolment.training_at = True, enrolment.training_at or self.at
        elif isinstance(event, FollowUpVisitRecorded):
            enrolment.visits.append((self.at, event))
        else:
            payment = Payment(
                event.request_id, event.person_id, event.tranche, event.amount, event.line_id,
                event.commitment_id, event.disbursement_id, event.office, event.paid_on, self.at,
            )  # fmt: skip
            enrolment.paid[event.tranche] = payment
            self.requests[event.request_id] = payment
