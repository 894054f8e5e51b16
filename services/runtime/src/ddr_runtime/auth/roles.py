"""The platform's roles and the principal a verified token stands for."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class Role(StrEnum):
    """A party's role on the platform (see the roles table of the domain brief)."""

    CNDDR_OFFICER = "cnddr_officer"
    SCREENING_OFFICER = "screening_officer"
    EXAMINER = "examiner"
    VETTING_OFFICER = "vetting_officer"
    CHILD_PROTECTION = "child_protection"
    NIC_OFFICER = "nic_officer"
    MOD_LIAISON = "mod_liaison"  # ministry of defence
    CTS_OFFICER = "cts_officer"
    MOVEMENT_LIAISON = "movement_liaison"
    REINSERTION_OFFICER = "reinsertion_officer"
    FINANCE_OFFICER = "finance_officer"
    CVR_PARTNER = "cvr_partner"
    COMMITTEE_MEMBER = "committee_member"
    DONOR = "donor"
    AUDITOR = "auditor"
    OPERATOR = "operator"
    # Held beside an acting role: may record facts older than the back-recording window, with a reason
    # (a commission migrating its history, a field team back online). See ddr_runtime.kernel.timeline.
    RECORDS_OFFICER = "records_officer"


@dataclass(frozen=True)
class Principal:
    """An authenticated caller: who they are, what roles they hold and which remit they cover.

    ``movement`` and ``partner`` bind row-level rules: a movement liaison sees their own movement's
    members only, a CVR partner its own projects only, so those roles are meaningless without them.
    ``regions`` narrows a caller to some regions; empty means every region.
    """

    subject: str
    name: str
    roles: frozenset[Role]
    movement: str | None = None
    partner: str | None = None
    regions: frozenset[str] = field(default_factory=frozenset)
    # The token's id (``jti``) and issue time, for revocation; None for a principal made in code.
    token_id: str | None = field(default=None, compare=False)
    issued_at: datetime | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if not self.subject:
            raise ValueError("a principal needs a subject")
        if Role.MOVEMENT_LIAISON in self.roles and not self.movement:
            raise ValueError("a movement liaison must name their movement")
        if Role.CVR_PARTNER in self.roles and not self.partner:
            raise ValueError("a CVR partner must name their partner organisation")

    def has_role(self, role: Role) -> bool:
        return role in self.roles

    def has_any(self, *roles: Role) -> bool:
        return not self.roles.isdisjoint(roles)

    def covers_region(self, region: str) -> bool:
        return not self.regions or region in self.regions

    def covers_movement(self, movement: str) -> bool:
        """Whether the caller may see members of ``movement``.

        A movement liaison is held to their own movement even if they hold other roles too:
        the narrower rule wins, so a second role can never widen a liaison's view.
        """
        return Role.MOVEMENT_LIAISON not in self.roles or movement == self.movement

    def covers_partner(self, partner: str) -> bool:
        """Whether the caller may see the projects of CVR partner ``partner`` (same rule as movements)."""
        return Role.CVR_PARTNER not in self.roles or partner == self.partner
