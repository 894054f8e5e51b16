"""The programme's configurable rules: budget caps, duration, who needs a technical assessment, default
targets, the monitoring visit's delay, and the programmes a project may belong to."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from types import MappingProxyType

from ddr_cvr.domain.terms import PartnerKind, ProjectType

WATER_AND_CONSTRUCTION: frozenset[ProjectType] = frozenset({"solar_water", "infrastructure_rehabilitation"})
PROGRAMMES: Mapping[str, str] = MappingProxyType(
    {
        "crp": "Community Rehabilitation Programme (central Mali)",
        "northern": "CVR programme in the northern regions",
    }
)
"""The programmes CVR projects belong to, by code; configuration may name others."""


def share_of(count: int, percent: Decimal | int) -> int:
    """``percent`` of ``count`` as a whole number of people, halves rounded up."""
    return int((Decimal(count) * Decimal(percent) / 100).to_integral_value(ROUND_HALF_UP))


@dataclass(frozen=True)
class CvrPolicy:
    """Defaults are the SOP's: USD 100,000 for one NGO, 300,000 for a consortium, one year at most,
    60% ex-combatants and a women's share near half, monitoring visit one year after completion."""

    single_ngo_cap_usd: Decimal = Decimal(100_000)
    consortium_cap_usd: Decimal = Decimal(300_000)
    max_duration_months: int = 12
    ex_combatant_target_percent: Decimal = Decimal(60)
    women_target_percent: Decimal = Decimal(50)
    visit_due_after_days: int = 365
    technical_assessment_types: frozenset[ProjectType] = field(default=WATER_AND_CONSTRUCTION)
    programmes: Mapping[str, str] = field(default_factory=lambda: PROGRAMMES)

    def cap_for(self, kind: PartnerKind) -> Decimal:
        return self.consortium_cap_usd if kind == "consortium" else self.single_ngo_cap_usd

    def needs_technical_assessment(self, project_type: ProjectType) -> bool:
        return project_type in self.technical_assessment_types
