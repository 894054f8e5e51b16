"""Who may enrol, and when a tranche may be paid: the rules of a person's reinsertion."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from ddr_reinsertion.domain.errors import AlreadyDone, RuleViolated

FAGA_CATEGORY = "associated_woman"


def caseload_of(category: str) -> str:
    """Women associated with armed groups are a caseload of their own, enrolled in their own right."""
    return "faga" if category == FAGA_CATEGORY else "ex_combatant"


@dataclass(frozen=True)
class Standing:
    """What other services decided about the person, as this service last heard it."""

    barred: bool  # screened a child: never a reinsertion beneficiary
    integration_active: bool
    holds: int  # benefits held by screening (e.g. pending vetting)


def check_may_draw(standing: Standing) -> None:
    """Enrolment and every disbursement: nobody draws reinsertion while active in integration."""
    if standing.barred:
        raise RuleViolated("not_eligible", "this person cannot be a reinsertion beneficiary")
    if standing.integration_active:
        raise RuleViolated("active_in_integration", "the person is an active member of the integration track")


def check_may_enrol(candidate_status: str | None, standing: Standing) -> None:
    check_may_draw(standing)
    if candidate_status == "active":
        raise AlreadyDone("already_enrolled", "the person is already an active beneficiary")
    if candidate_status != "waiting":
        raise RuleViolated(
            "not_a_candidate",
            "the person is not waiting for reinsertion (no reinsertion outcome, referral or volunteer listing)",
        )


@dataclass(frozen=True)
class TrancheDue:
    number: int
    amount: int
    due_on: date
    condition: str | None
    paid: bool


def check_payable(
    status: str,
    standing: Standing,
    tranches: list[TrancheDue],
    number: int,
    paid_on: date,
    progress: Progress,
) -> TrancheDue:
    """The tranche ``number`` if it may be paid on ``paid_on``; else the rule that holds it back."""
    if status != "active":
        raise RuleViolated("not_active", f"the beneficiary is {status}: nothing more is paid")
    check_may_draw(standing)
    if standing.holds:
        raise RuleViolated("benefits_held", "benefits are held by screening: nothing is paid until released")
    tranche = next((t for t in tranches if t.number == number), None)
    if tranche is None:
        raise RuleViolated("no_such_tranche", f"the package has no tranche {number}")
    if tranche.paid:
        raise AlreadyDone("tranche_already_paid", f"tranche {number} is already paid")
    if any(not t.paid for t in tranches if t.number < number):
        raise RuleViolated("earlier_tranche_unpaid", "tranches are paid in order")
    if paid_on < tranche.due_on:
        raise RuleViolated("tranche_not_due", f"tranche {number} falls due on {tranche.due_on.isoformat()}")
    if tranche.condition == "training_attended" and not progress.training_attended:
        raise RuleViolated("condition_not_met", f"tranche {number} waits for the training to be attended")
    if tranche.condition == "follow_up_visit":
        # The k-th tranche that waits for a visit waits for the k-th visit.
        needed = sum(1 for t in tranches if t.condition == "follow_up_visit" and t.number <= number)
        if progress.visits_done < needed:
            raise RuleViolated("condition_not_met", f"tranche {number} waits for follow-up visit {needed}")
    return tranche


@dataclass(frozen=True)
class Progress:
    training_attended: bool
    visits_done: int
