"""Participants of a project: community members and ex-combatants (linked to their registration id), and
the project's targets (counts: ex-combatants, community members, women) set against the named participants."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from ddr_cvr.domain.events import (
    ParticipantDataErased,
    ParticipantEnrolled,
    ParticipantEvent,
    ParticipantWithdrawn,
)
from ddr_cvr.domain.terms import ParticipantCategory, Sex
from ddr_cvr.domain.timing import moment_of
from ddr_runtime.kernel import Aggregate, AlreadyDone, Recording, RuleViolated


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


class Participant(Aggregate[ParticipantEvent]):
    def __init__(self) -> None:
        super().__init__()
        self.participant_id = ""
        self.project_id = ""
        self.person_id: str | None = None
        self.enrolled_at: datetime | None = None
        self.withdrawn = False
        self.erased = False

    @classmethod
    def enrol(
        cls,
        participant_id: str,
        project_id: str,
        partner_id: str,
        enrolment: Enrolment,
        recording: Recording,
        project_submitted_at: datetime | None,
    ) -> Participant:
        """``enrolment.person_id`` must already be resolved to a registered person (see the service layer)."""
        if enrolment.category == "ex_combatant" and not enrolment.person_id:
            raise RuleViolated(
                "ex-combatant-link", "an ex-combatant participant links to their registration id"
            )
        if enrolment.category == "community" and enrolment.person_id:
            raise RuleViolated("community-no-link", "a community member has no registration id")
        at = recording.moment(
            enrolment.enrolled_on, after=project_submitted_at, after_what="the project's submission"
        )
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
            ),
            at=at,
        )
        return participant

    def refuse_another_enrolment(self) -> None:
        """A participant id names one enrolment: a retried batch finds it done, another one finds it taken."""
        raise AlreadyDone(
            "participant-enrolled",
            f"participant {self.participant_id} is already enrolled (in project {self.project_id})",
            figures={"participant_id": self.participant_id, "project_id": self.project_id},
        )

    def withdraw(self, withdrawn_on: date, reason: str | None, recording: Recording) -> None:
        """The reason is personal (sealed under the participant's key); none is kept once they are erased."""
        if self.withdrawn:
            raise RuleViolated("already-withdrawn", "the participant has already withdrawn")
        at = recording.moment(withdrawn_on, after=self.enrolled_at, after_what="the participant's enrolment")
        self.record(
            ParticipantWithdrawn(
                participant_id=self.participant_id,
                project_id=self.project_id,
                person_id=self.person_id,
                withdrawn_on=withdrawn_on,
                reason=None if self.erased else reason,
            ),
            at=at,
        )

    def erase(self, reason_code: str, person_id: str | None) -> None:
        """Their personal data is destroyed (the caller shreds their key): recorded once."""
        if not self.erased:
            self.record(
                ParticipantDataErased(
                    participant_id=self.participant_id,
                    project_id=self.project_id,
                    person_id=person_id,
                    reason_code=reason_code,
                )
            )

    def apply(self, event: ParticipantEvent) -> None:
        match event:
            case ParticipantEnrolled():
                self.participant_id = event.participant_id
                self.project_id = event.project_id
                self.person_id = event.person_id
                self.enrolled_at = moment_of(event.enrolled_on, self.at)
            case ParticipantWithdrawn():
                self.withdrawn = True
            case ParticipantDataErased():
                self.erased = True


@dataclass(frozen=True)
class Share:
    """A target count (and what share of the direct beneficiaries target it is) against the named
    participants (and what share of them it is). Percents are ``None`` when there is nothing to divide by."""

    target: int
    target_percent: float | None
    actual: int
    actual_percent: float | None


@dataclass(frozen=True)
class TargetsAgainstActuals:
    participants: int
    ex_combatants: Share
    community: Share
    women: Share


def _percent(part: int, whole: int) -> float | None:
    return None if whole == 0 else round(100 * part / whole, 1)


def _share(target: int, direct_target: int, actual: int, participants: int) -> Share:
    return Share(target, _percent(target, direct_target), actual, _percent(actual, participants))


def targets_against_actuals(
    direct_target: int,
    ex_combatants_target: int,
    women_target: int,
    *,
    participants: int,
    ex_combatants: int,
    women: int,
) -> TargetsAgainstActuals:
    return TargetsAgainstActuals(
        participants=participants,
        ex_combatants=_share(ex_combatants_target, direct_target, ex_combatants, participants),
        community=_share(
            direct_target - ex_combatants_target, direct_target, participants - ex_combatants, participants
        ),
        women=_share(women_target, direct_target, women, participants),
    )
