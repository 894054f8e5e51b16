"""The programme's configurable rules: budget caps, duration, who needs a technical assessment, targets."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from ddr_contracts.cvr import PartnerKind, ProjectType

WATER_AND_CONSTRUCTION: frozenset[ProjectType] = frozenset({"solar_water", "infrastructure_rehabilitation"})


@dataclass(frozen=True)
class CvrPolicy:
    """Defaults are the SOP's: USD 100,000 for one NGO, 300,000 for a consortium, one year at most,
    60% ex-combatants and a women's share near half, monitoring visit one year after completion."""

    single_ngo_cap_usd: Decimal = Decimal(100_000)
    consortium_cap_usd: Decimal = Decimal(300_000)
    max_duration_months: int = 12
    ex_combatant_target_percent: int = 60
    women_target_percent: int = 50
    visit_due_after_days: int = 365
    technical_assessment_types: frozenset[ProjectType] = field(default=WATER_AND_CONSTRUCTION)

    def cap_for(self, kind: PartnerKind) -> Decimal:
        return self.consortium_cap_usd if kind == "consortium" else self.single_ngo_cap_usd

    def needs_technical_assessment(self, project_type: ProjectType) -> bool:
        return project_type in self.technical_assessment_types
