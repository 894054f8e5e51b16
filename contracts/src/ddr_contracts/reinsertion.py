"""Contract events of the reinsertion service (topic ``ddr.reinsertion.events``); a beneficiary's events carry
the person id as subject.

The cross-service contract: :class:`BeneficiaryEnrolled` makes a person an active reinsertion beneficiary,
:class:`BeneficiaryExited` ends it. Integration uses these to refuse accepting someone who draws reinsertion
benefits. The reinsertion service adds its own events (rounds, packages, ledger, tranches, visits) here.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from ddr_contracts.events import DomainEvent, event

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
