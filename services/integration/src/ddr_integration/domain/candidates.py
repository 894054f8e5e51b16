"""A person as the integration service knows them, and the rules on what may happen to them next.

The state is what this service learnt from screening (track, holds, child protection), from reinsertion
(whether they are an active beneficiary) and from its own decisions (acceptance, rank, training, unit,
service record). Every rule here is a pure function of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

from ddr_integration.domain.errors import RuleViolated

Status = Literal["none", "received", "deferred", "accepted", "withdrawn"]
ENDED_SERVICE = frozenset({"discharged"})


@dataclass(frozen=True)
class Person:
    person_id: str
    movement: str = ""
    category: str = ""
    path: str | None = None
    movement_rank: str = ""
    screening_track: str | None = None
    screening_decision_id: str | None = None
    child_protection: bool = False
    held: bool = False
    reinsertion_active: bool = False
    status: Status = "none"
    deferral_reason: str | None = None
    accepted_on: date | None = None
    rank: str | None = None
    command_function: str | None = None
    cohort_id: str | None = None
    training_outcome: str | None = None
    unit_id: str | None = None
    placed: bool = False  # assigned to a unit, recalled to a corps or listed for the civil service
    service_status: str | None = None
    service_since: date | None = None

    @property
    def active(self) -> bool:
        """An active member of the integration track: accepted and not discharged (deserters stay on the
        record until discharged)."""
        return self.status == "accepted" and self.service_status not in ENDED_SERVICE


ScreeningAction = Literal["receive", "withdraw", "discharge", "ignore"]


def on_screening_outcome(person: Person, track: str) -> ScreeningAction:
    """What a new screening outcome means here. ``child_protection`` ends everything, whatever came before;
    a later outcome on another track supersedes the candidacy (withdrawn before placement, discharged after)."""
    if track == "integration" and not person.child_protection:
        if person.status in ("none", "withdrawn"):
            return "receive"
        return "ignore"  # already a candidate: the newer decision confirms the track
    if person.status in ("received", "deferred") or (person.status == "accepted" and not person.placed):
        return "withdraw"
    if person.active:
        return "discharge"
    return "ignore"


def deferral_reason(person: Person) -> str | None:
    """Why the candidate cannot be accepted now, before any quota is looked at; ``None`` when they can."""
    if person.held:
        return "benefits_held"
    if person.reinsertion_active:
        return "reinsertion_beneficiary"
    return None


def ensure_can_accept(person: Person) -> None:
    if person.child_protection:
        raise RuleViolated("child_protection", "a child is never integrated")
    if person.status == "accepted":
        raise RuleViolated("already_accepted", "the candidate is already accepted")
    if person.status not in ("received", "deferred"):
        raise RuleViolated("not_a_candidate", "the person is not an integration candidate")
    reason = deferral_reason(person)
    if reason == "benefits_held":
        raise RuleViolated("benefits_held", "the person's benefits are held pending screening")
    if reason == "reinsertion_beneficiary":
        raise RuleViolated(
            "reinsertion_beneficiary",
            "the person is an active reinsertion beneficiary: accepting them would pay them twice",
        )


def _ensure_active_on_path(person: Person, path: str) -> None:
    if not person.active:
        raise RuleViolated("not_accepted", "the person is not an accepted, active integration member")
    if person.path != path:
        raise RuleViolated(
            "wrong_path", f"the person's path is {person.path}, not {path}", {"path": person.path}
        )
    if person.held:
        raise RuleViolated("benefits_held", "the person's benefits are held pending screening")


def ensure_can_allocate_rank(person: Person) -> None:
    _ensure_active_on_path(person, "reconstituted_forces")


def ensure_can_enrol(person: Person) -> None:
    _ensure_active_on_path(person, "reconstituted_forces")
    if person.rank is None:
        raise RuleViolated("rank_not_allocated", "a rank is allocated before training")
    if person.cohort_id is not None and person.training_outcome in (None, "completed"):
        raise RuleViolated(
            "already_in_training",
            "the person is already enrolled or trained",
            {"cohort_id": person.cohort_id},
        )


def ensure_can_record_training(person: Person, cohort_id: str) -> None:
    if person.cohort_id != cohort_id or person.training_outcome is not None:
        raise RuleViolated("not_enrolled", f"the person has no open enrolment in cohort {cohort_id}")


def ensure_can_assign(person: Person) -> None:
    _ensure_active_on_path(person, "reconstituted_forces")
    if person.training_outcome != "completed":
        raise RuleViolated("training_not_completed", "a member is assigned after completing training")
    if person.placed:
        raise RuleViolated("already_assigned", "the person is already assigned", {"unit_id": person.unit_id})


def ensure_can_place_outside_units(person: Person, path: str) -> None:
    _ensure_active_on_path(person, path)
    if person.placed:
        raise RuleViolated("already_placed", "the person is already placed")


SERVICE_TRANSITIONS: dict[str | None, frozenset[str]] = {
    "serving": frozenset({"absent", "deserted", "discharged"}),
    "absent": frozenset({"serving", "returned", "deserted", "discharged"}),
    "deserted": frozenset({"returned", "discharged"}),
    "returned": frozenset({"serving", "absent", "deserted", "discharged"}),
}


def ensure_service_transition(person: Person, status: str, on: date) -> None:
    if not person.placed or person.status != "accepted":
        raise RuleViolated("not_in_service", "a service record starts with a placement")
    allowed = SERVICE_TRANSITIONS.get(person.service_status, frozenset())
    if status not in allowed:
        raise RuleViolated(
            "service_transition",
            f"a member who is {person.service_status} cannot become {status}",
            {"from": person.service_status, "to": status},
        )
    if person.service_since is not None and on < person.service_since:
        raise RuleViolated(
            "service_date",
            "a service-record entry cannot predate the last one",
            {"last_entry_on": person.service_since.isoformat()},
        )


def overlaps_reinsertion(person: Person, reinsertion_from: date) -> bool:
    """Whether a reinsertion enrolment from ``reinsertion_from`` overlaps this person's integration."""
    if person.active:
        return True
    return (
        person.status == "accepted"
        and person.service_status == "discharged"
        and person.service_since is not None
        and reinsertion_from < person.service_since
    )
