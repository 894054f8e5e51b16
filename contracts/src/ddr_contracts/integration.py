"""Contract events of the integration service (topic ``ddr.integration.events``); a person's events carry the
person id as subject.

The cross-service contract: :class:`CandidateAccepted` makes a person an active member of the integration
track, :class:`ServiceStatusChanged` records their service record (a ``discharged`` status ends it and may
refer them to reinsertion), :class:`CandidateWithdrawn` ends a candidacy before service (e.g. an appeal moved
them to another track). Reinsertion uses these to refuse paying an active integrated member. The integration
service adds its own events (quotas, ranks, cohorts, units) here.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from ddr_contracts.events import DomainEvent, event

IntegrationPath = Literal["reconstituted_forces", "armed_forces_recall", "civil_service"]
ServiceStatus = Literal["serving", "absent", "deserted", "returned", "discharged"]
DischargeKind = Literal["medical", "voluntary", "disciplinary", "other"]


@event
class CandidateAccepted(DomainEvent):
    """The person is an active integration candidate from ``effective_on`` (counted against ``quota_id``)."""

    name = "ddr.integration.CandidateAccepted"
    version = 1

    person_id: str
    movement: str
    path: IntegrationPath
    quota_id: str | None
    screening_decision_id: str
    effective_on: date


@event
class CandidateWithdrawn(DomainEvent):
    """The candidacy ends before or instead of service (``reason_code``: e.g. ``screening_superseded``)."""

    name = "ddr.integration.CandidateWithdrawn"
    version = 1

    person_id: str
    reason_code: str
    effective_on: date


@event
class ServiceStatusChanged(DomainEvent):
    """One entry of a member's service record. ``discharged`` ends active membership."""

    name = "ddr.integration.ServiceStatusChanged"
    version = 1

    person_id: str
    unit: str | None
    status: ServiceStatus
    effective_on: date
    discharge_kind: DischargeKind | None = None
    referred_to_reinsertion: bool = False
