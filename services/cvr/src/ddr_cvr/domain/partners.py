"""Implementing partners: local NGOs, and consortia of 2-3 of them under a lead NGO."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from ddr_cvr.domain.events import PartnerCapacityAssessed, PartnerEvent, PartnerRegistered
from ddr_cvr.domain.terms import CapacityRating, PartnerKind
from ddr_cvr.domain.timing import latest, moment_of
from ddr_runtime.kernel import Aggregate, Recording, RuleViolated

CONSORTIUM_SIZE = (2, 3)


def partner_stream(partner_id: str) -> str:
    return f"cvr-partner-{partner_id}"


@dataclass(frozen=True)
class Capacity:
    assessed_on: date
    rating: CapacityRating
    financial_management: CapacityRating
    staff_count: int
    assessor: str
    notes: str = ""


class Partner(Aggregate[PartnerEvent]):
    def __init__(self) -> None:
        super().__init__()
        self.partner_id = ""
        self.kind: PartnerKind = "ngo"
        self.members: tuple[str, ...] = ()
        self.lead: str | None = None
        self.registered_at: datetime | None = None

    @property
    def ngo_ids(self) -> tuple[str, ...]:
        """The NGOs that do the work: the partner itself, or the consortium's members."""
        return self.members if self.kind == "consortium" else (self.partner_id,)

    @classmethod
    def register_ngo(
        cls, partner_id: str, display_name: str, regions: tuple[str, ...], on: date, recording: Recording
    ) -> Partner:
        partner = cls()
        partner.record(
            PartnerRegistered(
                partner_id=partner_id,
                display_name=display_name,
                kind="ngo",
                regions=regions,
                registered_on=on,
            ),
            at=recording.moment(on),
        )
        return partner

    @classmethod
    def form_consortium(
        cls,
        partner_id: str,
        display_name: str,
        lead: str,
        members: list[Partner],
        regions: tuple[str, ...],
        on: date,
        recording: Recording,
    ) -> Partner:
        ids = tuple(member.partner_id for member in members)
        low, high = CONSORTIUM_SIZE
        if not low <= len(set(ids)) <= high or len(set(ids)) != len(ids):
            raise RuleViolated("consortium-size", f"a consortium has {low} to {high} distinct NGOs")
        if any(member.kind != "ngo" for member in members):
            raise RuleViolated("consortium-members-are-ngos", "a consortium's members must be NGOs")
        if lead not in ids:
            raise RuleViolated("consortium-lead-is-member", "the lead NGO must be one of the members")
        after, what = latest(
            *(
                (member.registered_at, f"the registration of its member {member.partner_id}")
                for member in members
            )
        )
        at = recording.moment(on, after=after, after_what=what)
        partner = cls()
        partner.record(
            PartnerRegistered(
                partner_id=partner_id,
                display_name=display_name,
                kind="consortium",
                lead_partner_id=lead,
                member_partner_ids=ids,
                regions=regions,
                registered_on=on,
            ),
            at=at,
        )
        return partner

    def assess_capacity(self, capacity: Capacity, recording: Recording) -> None:
        if capacity.staff_count < 0:
            raise RuleViolated("staff-count", "staff_count cannot be negative")
        at = recording.moment(
            capacity.assessed_on, after=self.registered_at, after_what="the partner's registration"
        )
        self.record(
            PartnerCapacityAssessed(
                partner_id=self.partner_id,
                assessed_on=capacity.assessed_on,
                rating=capacity.rating,
                financial_management=capacity.financial_management,
                staff_count=capacity.staff_count,
                assessor=capacity.assessor,
                notes=capacity.notes,
            ),
            at=at,
        )

    def apply(self, event: PartnerEvent) -> None:
        if isinstance(event, PartnerRegistered):
            self.partner_id = event.partner_id
            self.kind = event.kind
            self.members = event.member_partner_ids
            self.lead = event.lead_partner_id
            self.registered_at = moment_of(event.registered_on, self.at)
