"""Contract events of the reinsertion service (topic ``ddr.reinsertion.events``); a beneficiary's events carry
the person id as subject.

The cross-service contract: :class:`BeneficiaryEnrolled` makes a person an active reinsertion beneficiary,
:class:`BeneficiaryExited` ends it. Integration uses these to refuse accepting someone who draws reinsertion
benefits. The reinsertion service adds its own events (rounds, packages, ledger, tranches, visits) here.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ddr_contracts.events import PERSONAL, REGISTRY, DomainEvent, event

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
# Streams: ``round-<id>``, ``package-<id>``, ``budget-line-<id>`` and ``beneficiary-<person id>`` (everything
# about one person, from what other services told of them to each tranche paid: a tranche is paid once).
# Events about a person carry the person id as subject; ledger events carry no person id at all.
# Money is a decimal amount of the currency (never a float), written as a string in JSON; version 1 of the
# events with amounts carried whole units as integers and is upcast on read.

Money = Annotated[Decimal, Field(ge=0, max_digits=20, decimal_places=3)]

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
    """One tranche of a package: an amount of the package's currency, or (a convenience) a share of the
    entitlement in percent; when it falls due after enrolment and the condition it waits for. Amounts may
    decrease from one tranche to the next (IDDRS 4.30)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    number: int
    amount: Money | None = None
    share_percent: Annotated[Decimal, Field(gt=0, le=100, max_digits=7, decimal_places=4)] | None = None
    due_after_days: int
    condition: TrancheCondition | None = None


class PlannedTranche(BaseModel):
    """A tranche of one beneficiary's timetable: its amount, due date and condition."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    number: int
    amount: Money
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
    """A volunteer entered on a round's list for a region (stream: the person's; the round counts places)."""

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
class RoundPlacesTaken(DomainEvent):
    """Places of a round's region taken by volunteers listed at once (stream: the round; no person id)."""

    name = "ddr.reinsertion.RoundPlacesTaken"
    version = 1

    round_id: str
    region: str
    places: int
    listed_on: date


@event
class PackageVersionPublished(DomainEvent):
    """A version of a package of the catalogue, in ``currency``. The entitlement is ``base_amount`` plus the
    supplement of the person's category and rank plus ``per_dependant_amount`` for each dependant up to
    ``max_dependants``. Tranches given as amounts add up to ``base_amount`` exactly and the supplements are
    paid with the first; tranches given as shares add up to 100 percent, the last taking what rounding left."""

    name = "ddr.reinsertion.PackageVersionPublished"
    version = 2

    package_id: str
    package_version: int
    kind: PackageKind
    title: str
    caseloads: list[Caseload]
    currency: str
    base_amount: Money
    category_supplements: dict[str, Money]
    rank_supplements: dict[str, Money]
    per_dependant_amount: Money
    max_dependants: int
    tranches: list[TrancheTerms]
    follow_up_after_days: list[int]
    effective_on: date


@event
class BudgetLineOpened(DomainEvent):
    """A budget line of one funding source (World Bank, assessed budget...): ``allotted`` may be committed."""

    name = "ddr.reinsertion.BudgetLineOpened"
    version = 2

    line_id: str
    funding_source: str
    title: str
    currency: str
    allotted: Money
    opened_on: date


@event
class FundsReceived(DomainEvent):
    """Cash received on the line (e.g. a replenishment of the designated account): what may be disbursed."""

    name = "ddr.reinsertion.FundsReceived"
    version = 2

    line_id: str
    amount: Money
    reference: str
    received_on: date


@event
class FundsCommitted(DomainEvent):
    name = "ddr.reinsertion.FundsCommitted"
    version = 2

    line_id: str
    commitment_id: str
    amount: Money


@event
class CommitmentReleased(DomainEvent):
    """The unpaid rest of a commitment goes back to the line (dropout, exit)."""

    name = "ddr.reinsertion.CommitmentReleased"
    version = 2

    line_id: str
    commitment_id: str
    amount: Money


@event
class FundsDisbursed(DomainEvent):
    name = "ddr.reinsertion.FundsDisbursed"
    version = 2

    line_id: str
    commitment_id: str
    disbursement_id: str
    amount: Money


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
    version = 2

    person_id: str
    commitment_id: str
    package_id: str
    package_version: int
    kind: PackageKind
    line_id: str
    currency: str
    amount: Money
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
    """A tranche paid, once (in the beneficiary's stream). ``request_id`` is the payment request's."""

    name = "ddr.reinsertion.TrancheDisbursed"
    version = 2

    person_id: str
    commitment_id: str
    tranche: int
    amount: Money
    line_id: str
    disbursement_id: str
    request_id: str
    office: str
    paid_on: date


# -- what the service learnt from others, as facts of its own history -------------------------------------
# Recorded in the person's beneficiary stream when the other service's event is consumed, with that event's
# business time: a rebuild from this service's own store reproduces everything it decided on.


@event
class ScreeningOutcomeNoted(DomainEvent):
    """Screening decided the person's track (``ddr.screening.ScreeningOutcomeDecided``): a reinsertion track
    makes them wait for enrolment, another track withdraws them, ``child_protection`` bars them for good."""

    name = "ddr.reinsertion.ScreeningOutcomeNoted"
    version = 1

    person_id: str
    decision_id: str
    track: str
    region: str
    sex: str
    category: str
    movement: str
    rank: str


@event
class BenefitsHoldNoted(DomainEvent):
    """Screening holds the person's benefits (e.g. vetting pending): nothing is paid until it is released."""

    name = "ddr.reinsertion.BenefitsHoldNoted"
    version = 1

    person_id: str
    decision_id: str
    reason_code: str


@event
class BenefitsReleaseNoted(DomainEvent):
    """Screening released a hold on the person's benefits."""

    name = "ddr.reinsertion.BenefitsReleaseNoted"
    version = 1

    person_id: str
    decision_id: str
    reason_code: str


IntegrationStanding = Literal["accepted", "withdrawn", "serving", "discharged"]


@event
class IntegrationStatusNoted(DomainEvent):
    """Integration's last word on the person: ``accepted`` and ``serving`` are active there (nothing is drawn
    here meanwhile); ``withdrawn`` and ``discharged`` are not; a discharge may refer them to reinsertion."""

    name = "ddr.reinsertion.IntegrationStatusNoted"
    version = 1

    person_id: str
    standing: IntegrationStanding
    referred_to_reinsertion: bool
    effective_on: date


# -- upcasters: version 1 carried whole units as integers ----------------------------------------------------


def _same(data: dict[str, Any]) -> dict[str, Any]:
    """Integers of whole units read as decimal amounts: the data is valid as it is."""
    return data


for _name in (
    "BudgetLineOpened",
    "FundsReceived",
    "FundsCommitted",
    "CommitmentReleased",
    "FundsDisbursed",
    "PackageGranted",
    "TrancheDisbursed",
    "PackageVersionPublished",
):
    REGISTRY.upcaster(f"ddr.reinsertion.{_name}", 1)(_same)
