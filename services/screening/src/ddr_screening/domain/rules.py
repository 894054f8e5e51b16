"""Eligibility by versioned rule sets: the rules are data; each decision names the version it applied."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from ddr_screening.domain.values import Eligibility


@dataclass(frozen=True, slots=True)
class RuleSet:
    rule_version: str
    effective_from: date
    description: str
    integration_categories: tuple[str, ...]
    reinsertion_categories: tuple[str, ...]
    cvr_movements: tuple[str, ...] = ()
    require_armed: bool = True
    require_verified_member: bool = True
    require_weapon_or_handling_test: bool = True
    reinsertion_choice_offered: bool = False


@dataclass(frozen=True, slots=True)
class EligibilityFacts:
    """What the rules look at, as screening knows it about one person."""

    movement: str
    category: str
    armed: bool
    verified_member: bool
    weapon_handed_over: bool
    handling_test_passed: bool | None  # None: no test taken


def evaluate(rules: RuleSet, facts: EligibilityFacts) -> tuple[Eligibility, tuple[str, ...]]:
    """Which track the rules open to the person, with the reasons; ``pending`` while a criterion awaits."""
    if facts.movement in rules.cvr_movements:
        return "cvr", ("cvr_movement",)
    integration = facts.category in rules.integration_categories
    reinsertion = facts.category in rules.reinsertion_categories
    if not integration and not reinsertion:
        return "not_eligible", ("category_not_eligible",)
    if rules.require_verified_member and not facts.verified_member:
        return "not_eligible", ("membership_not_verified",)
    if not integration:
        return "reinsertion", ("category_reinsertion",)
    if rules.require_armed and not facts.armed:
        return ("reinsertion", ("unarmed",)) if reinsertion else ("not_eligible", ("unarmed",))
    if rules.require_weapon_or_handling_test and not facts.weapon_handed_over:
        if facts.handling_test_passed is None:
            return "pending", ("weapon_or_handling_test_pending",)
        if not facts.handling_test_passed:
            failed = ("handling_test_failed",)
            return ("reinsertion", failed) if reinsertion else ("not_eligible", failed)
    return "integration", ("integration_criteria_met",)


def in_force(rule_sets: Sequence[RuleSet], on: date) -> RuleSet | None:
    """The rule set in force on ``on``: the latest effective on or before that day."""
    candidates = [r for r in rule_sets if r.effective_from <= on]
    return max(candidates, key=lambda r: (r.effective_from, r.rule_version), default=None)


# The criteria of the two programmes the report describes, published at a store's first start so that a
# new deployment decides from day one; later versions are published as data through the API.
RULES_2015 = RuleSet(
    rule_version="2015",
    effective_from=date(2015, 6, 20),
    description="Agreement for Peace and Reconciliation: armed, verified members who hand over a weapon "
    "go to integration; other listed categories to socio-economic reinsertion.",
    integration_categories=("combatant", "former_armed_forces"),
    reinsertion_categories=("combatant", "associated_woman", "civilian_cadre", "former_armed_forces"),
    require_armed=True,
    require_verified_member=True,
    require_weapon_or_handling_test=True,
    reinsertion_choice_offered=False,
)
RULES_2019 = RuleSet(
    rule_version="2019",
    effective_from=date(2019, 10, 30),
    description="Accelerated DDR (decree 0874/P-RM): a weapon handed over or a weapon handling test passed; "
    "civilian cadres to the civil service; integration-eligible members may choose reinsertion.",
    integration_categories=("combatant", "former_armed_forces", "civilian_cadre"),
    reinsertion_categories=("combatant", "associated_woman", "civilian_cadre", "former_armed_forces"),
    require_armed=True,
    require_verified_member=True,
    require_weapon_or_handling_test=True,
    reinsertion_choice_offered=True,
)
DEFAULT_RULE_SETS = (RULES_2015, RULES_2019)
