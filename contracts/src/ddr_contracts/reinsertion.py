"""Contract events of the reinsertion service (topic ``ddr.reinsertion.events``); a beneficiary's events carry
the person id as subject.

The cross-service contract: :class:`BeneficiaryEnrolled` makes a person an active reinsertion beneficiary,
:class:`BeneficiaryExited` ends it. Integration uses these to refuse accepting someone who draws reinsertion
benefits. The reinsertion service adds its own events (rounds, packages, ledger, tranches, visits) here.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict

from ddr_contracts.events import PERSONAL, DomainEvent, event

EnrolmentSource = Literal["screening", "integration_discharge", "volunteer_round"]
ExitReason = Literal["completed", "dropped_out", "moved_to_integration", "withdrawn"]


@event
class BeneficiaryEnrolled(DomainEvent):
    name = "ddr.reinsertion.BeneficiaryEnrolled"
    version = 1

    person_id: str
    source: EnrolmentSource
    round_id: str | None
    region: str
    sex: str
    category: str
    movement: str
    effective_on: date


@event
class BeneficiaryExited(DomainEvent):
    name = "ddr.reinsertion.BeneficiaryExited"
    version = 1

    person_id: str
    reason: ExitReason
    effective_on: date


# -- the service's own events ------------------------------------------------------------------------------
# Streams: ``round-<id>``, ``package-<id>``, ``budget-line-<id>``, ``beneficiary-<person id>`` and one
# ``tranche-<commitment id>-<n>`` stream per tranche (its single event is its payment: paid at most once).
# Events about a person carry the person id as subject; ledger events carry no person id at all.

Caseload = Literal["ex_combatant", "faga"]
"""``faga``: women associated with armed groups, a caseload of their own with their own package options."""
PackageKind = Literal[
    "vocational_training",
    "income_generating_activity",
    "agriculture",
    "livestock",
    "small_trade",
    "transport",
    "education",
]
TrancheCondition = Literal["training_attended", "follow_up_visit"]
Literacy = Literal["none", "basic", "functional", "fluent"]
VisitOutcome = Literal["business_running", "employed", "dropped_out", "relocated", "not_found"]


class TrancheTerms(BaseModel):
    """One tranche of a package: its share of the entitlement, when it falls due after enrolment and the
    condition it waits for. Shares may decrease from one tranche to the next (IDDRS 4.30)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    number: int
    share_percent: int
    due_after_days: int
    condition: TrancheCondition | None = None


class PlannedTranche(BaseModel):
    """A tranche of one beneficiary's timetable: its amount, due date and condition."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    number: int
    amount: int
    due_on: date
    condition: TrancheCondition | None = None


@event
class VolunteerRoundOpened(DomainEvent):
    """A round of volunteer lists (the 2020 roadmap: 300 per region in six regions)."""

    name = "ddr.reinsertion.VolunteerRoundOpened"
    version = 1

    round_id: str
    title: str
    regions: list[str]
    size_per_region: int
    opened_on: date


@event
class VolunteerListed(DomainEvent):
    """A volunteer entered on a round's list for a region (stream: the round; subject: the person)."""

    name = "ddr.reinsertion.VolunteerListed"
    version = 1

    round_id: str
    person_id: str
    region: str
    sex: str
    category: str
    movement: str
    rank: str
    listed_on: date


@event
class PackageVersionPublished(DomainEvent):
    """A version of a package of the catalogue. Amounts are whole units of ``currency``; the entitlement is
    ``base_amount`` plus the supplement of the person's category and rank plus ``per_dependant_amount`` for
    each dependant up to ``max_dependants``."""

    name = "ddr.reinsertion.PackageVersionPublished"
    version = 1

    package_id: str
    package_version: int
    kind: PackageKind
    title: str
    caseloads: list[Caseload]
    currency: str
    base_amount: int
    category_supplements: dict[str, int]
    rank_supplements: dict[str, int]
    per_dependant_amount: int
    max_dependants: int
    tranches: list[TrancheTerms]
    follow_up_after_days: list[int]
    effective_on: date


@event
class BudgetLineOpened(DomainEvent):
    """A budget line of one funding source (World Bank, assessed budget...): ``allotted`` may be committed."""

    name = "ddr.reinsertion.BudgetLineOpened"
    version = 1

    line_id: str
    funding_source: str
    title: str
    currency: str
    allotted: int
    opened_on: date


@event
class FundsReceived(DomainEvent):
    """Cash received on the line (e.g. a replenishment of the designated account): what may be disbursed."""

    name = "ddr.reinsertion.FundsReceived"
    version = 1

    line_id: str
    amount: int
    reference: str
    received_on: date


@event
class FundsCommitted(DomainEvent):
    name = "ddr.reinsertion.FundsCommitted"
    version = 1

    line_id: str
    commitment_id: str
    amount: int


@event
class CommitmentReleased(DomainEvent):
    """The unpaid rest of a commitment goes back to the line (dropout, exit)."""

    name = "ddr.reinsertion.CommitmentReleased"
    version = 1

    line_id: str
    commitment_id: str
    amount: int


@event
class FundsDisbursed(DomainEvent):
    name = "ddr.reinsertion.FundsDisbursed"
    version = 1

    line_id: str
    commitment_id: str
    disbursement_id: str
    amount: int


@event
class CounsellingProfileRecorded(DomainEvent):
    """What counselling found. The area of return can identify someone: it is personal."""

    name = "ddr.reinsertion.CounsellingProfileRecorded"
    version = 1

    person_id: str
    caseload: Caseload
    skills: list[str]
    literacy: Literacy
    area_of_return: Annotated[str | None, PERSONAL]
    dependants: int
    counselled_on: date


@event
class PackageGranted(DomainEvent):
    """The package the person chose, its commitment on a budget line and the timetable shown to them."""

    name = "ddr.reinsertion.PackageGranted"
    version = 1

    person_id: str
    commitment_id: str
    package_id: str
    package_version: int
    kind: PackageKind
    line_id: str
    currency: str
    amount: int
    tranches: list[PlannedTranche]
    visits_due: list[date]
    granted_on: date


@event
class TrainingAttended(DomainEvent):
    name = "ddr.reinsertion.TrainingAttended"
    version = 1

    person_id: str
    commitment_id: str
    provider: str
    attended_on: date


@event
class FollowUpVisitRecorded(DomainEvent):
    name = "ddr.reinsertion.FollowUpVisitRecorded"
    version = 1

    person_id: str
    visit_id: str
    outcome: VisitOutcome
    visited_on: date


@event
class TrancheDisbursed(DomainEvent):
    """A tranche paid, once: the only event of its tranche stream. ``request_id`` is the payment request's."""

    name = "ddr.reinsertion.TrancheDisbursed"
    version = 1

    person_id: str
    commitment_id: str
    tranche: int
    amount: int
    line_id: str
    disbursement_id: str
    request_id: str
    office: str
    paid_on: date
