"""The CVR programme's vocabulary: kinds of partner, project types, committees and their outcomes, and the
items a weapons-and-ammunition-management component collects. The same values as the published contract."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

PartnerKind = Literal["ngo", "consortium"]
CapacityRating = Literal["weak", "adequate", "strong"]
ProjectType = Literal[
    "vocational_training",
    "infrastructure_rehabilitation",
    "income_generating_activity",
    "lighting_and_security",
    "agriculture_and_gardening",
    "solar_water",
    "animal_husbandry",
    "sensitization",
    "labour_intensive_work",
    "weapons_and_ammunition_management",
]
Committee = Literal["local_review", "regional_appraisal", "national_appraisal"]
DecisionOutcome = Literal["cleared", "returned", "rejected"]
VettingOutcome = Literal["cleared", "concerns", "not_applicable"]
RiskLevel = Literal["low", "medium", "high"]
ParticipantCategory = Literal["ex_combatant", "community"]
Sex = Literal["F", "M"]
CountSource = Literal["partner_report", "monitoring_visit", "programme_records"]
VisitKind = Literal["on_site", "remote_insecure"]
RegistrationSource = Literal["PersonPreRegistered", "PersonRegistered"]
ChildSource = Literal["PersonPreRegistered", "ChildIdentified"]


@dataclass(frozen=True, kw_only=True)
class CollectedItem:
    """A weapon or a lot of ammunition collected by the project's WAM component."""

    kind: Literal["weapon", "ammunition"]
    type: str
    calibre: str
    serial: str | None = None
    quantity: int
    condition: str
