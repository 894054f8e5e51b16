"""Participants of a project: community members and ex-combatants (linked to their registration id), and
the SOP's targets (60% ex-combatants, 40% community, a women's share) set against the actual shares."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from ddr_contracts.cvr import ParticipantCategory, ParticipantEnrolled, ParticipantWithdrawn, Sex
from ddr_contracts.events import DomainEvent
from ddr_cvr.domain.aggregate import Aggregate
from ddr_cvr.domain.errors import RuleViolated


def participant_stream(participant_id: str) -> str:
    return f"cvr-participant-{participant_id}"


@dataclass(frozen=True)
class Enrolment:
    category: ParticipantCategory
    sex: Sex
    enrolled_on: date
    birth_year: int | None = None
    person_id: str | None = None  # required for an ex-combatant: the registration person id
    participant_id: str | None = None  # chosen by the client so that a retried batch cannot enrol twice
    full_name: str | None = None
    telephone: str | None = None


class Participant(Aggregate):
    def __init__(self) -> None:
        super().__init__()
        self.participant_id = ""
        self.project_id = ""
        self.person_id: str | None = None
        self.withdrawn = False

    @classmethod
    def enrol(
        cls, participant_id: str, project_id: str, partner_id: str, enrolment: Enrolment
    ) -> Participant:
        """``enrolment.person_id`` must already be resolved to a registered person (see the service layer)."""
        if enrolment.category == "ex_combatant" and not enrolment.person_id:
            raise RuleViolated(
                "ex-combatant-link", "an ex-combatant participant links to their registration id"
            )
        if enrolment.category == "community" and enrolment.person_id:
            raise RuleViolated("community-no-link", "a community member has no registration id")
        participant = cls()
        participant.record(
            ParticipantEnrolled(
                participant_id=participant_id,
                project_id=project_id,
                partner_id=partner_id,
                category=enrolment.category,
                sex=enrolment.sex,
                birth_year=enrolment.birth_year,
                person_id=enrolment.person_id,
                enrolled_on=enrolment.enrolled_on,
                full_name=enrolment.full_name,
                telephone=enrolment.telephone,
            )
        )
        return participant

    def withdraw(self, withdrawn_on: date, reason: str) -> None:
        if self.withdrawn:
            raise RuleViolated("already-withdrawn", "the participant has already withdrawn")
        self.record(
            ParticipantWithdrawn(
                participant_id=self.participant_id,
                project_id=self.project_id,
                person_id=self.person_id,
                withdrawn_on=withdrawn_on,
                reason=reason,
            )
        )

    def apply(self, event: DomainEvent) -> None:
        match event:
            case ParticipantEnrolled():
                self.participant_id = event.participant_id
                self.project_id = event.project_id
                self.person_id = event.person_id
            case ParticipantWithdrawn():
                self.withdrawn = True


@dataclass(frozen=True)
class Share:
    target_percent: float
    actual_percent: float | None  # None while there is nobody to count


@dataclass(frozen=True)
class TargetsAgainstActuals:
    participants: int
    ex_combatants: Share
    community: Share
    women: Share


def _percent(part: int, whole: int) -> float | None:
    return None if whole == 0 else round(100 * part / whole, 1)


def targets_against_actuals(
    ex_target_percent: int, women_target_percent: int, participants: int, ex_combatants: int, women: int
) -> TargetsAgainstActuals:
    community = participants - ex_combatants
    return TargetsAgainstActuals(
        participants=participants,
        ex_combatants=Share(float(ex_target_percent), _percent(ex_combatants, participants)),
        community=Share(float(100 - ex_target_percent), _percent(community, participants)),
        women=Share(float(women_target_percent), _percent(women, participants)),
    )
