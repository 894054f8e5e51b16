"""Contract events of the screening service (topic ``ddr.screening.events``); subject: the person id.

The cross-service contract is :class:`ScreeningOutcomeDecided` (which track a person is on, and what it
supersedes) with :class:`BenefitsHeld` / :class:`BenefitsReleased` (a pending vetting holds benefits, it does not
refuse them). Integration and reinsertion act on these alone; they carry what those services need of the
person (movement, category, sex, region, birth year, rank, armed) so nobody reads another service's store.
The screening service adds its own decision events (age, medical, vetting, eligibility, appeals) here.
"""

from __future__ import annotations

from typing import Literal

from ddr_contracts.events import DomainEvent, event

Track = Literal["integration", "reinsertion", "cvr", "not_eligible", "child_protection"]


@event
class ScreeningOutcomeDecided(DomainEvent):
    """Where the person's path goes now. A later outcome for the same person supersedes the earlier one
    (``supersedes_decision_id``), e.g. an appeal overturning an unfit decision; both stay in the history.

    ``child_protection``: the person is a child, separated and handed to child protection; they never enter
    integration or reinsertion, and downstream services must drop them from any track they were on.
    """

    name = "ddr.screening.ScreeningOutcomeDecided"
    version = 1

    person_id: str
    decision_id: str
    track: Track
    reason_code: str
    rule_version: str | None
    previous_track: Track | None
    supersedes_decision_id: str | None
    by_appeal: bool
    movement: str
    category: str
    sex: str
    region: str
    birth_year: int | None
    rank: str
    armed: bool


@event
class BenefitsHeld(DomainEvent):
    """Benefits of the person are held (not refused) while ``reason_code`` is pending, e.g. an allegation
    under human-rights vetting. Downstream services keep the person but pay and place nothing until released."""

    name = "ddr.screening.BenefitsHeld"
    version = 1

    person_id: str
    decision_id: str
    reason_code: str


@event
class BenefitsReleased(DomainEvent):
    name = "ddr.screening.BenefitsReleased"
    version = 1

    person_id: str
    decision_id: str
    reason_code: str
