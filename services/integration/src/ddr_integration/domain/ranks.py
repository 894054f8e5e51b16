"""Rank harmonisation: versioned rules turn a movement rank, years of service and training into a rank of
the reconstituted forces and a command function. The first matching rule, in order, decides."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from ddr_runtime.kernel import RuleViolated

QUALIFICATIONS = ("none", "basic_military", "nco_course", "officer_school", "higher_education")
NO_COMMAND = "none"


@dataclass(frozen=True)
class Rule:
    movement_ranks: tuple[str, ...]  # empty: any movement rank
    min_years: int
    qualifications: tuple[str, ...]  # empty: any qualification
    rank: str
    command_function: str

    def matches(self, movement_rank: str, years: int, qualification: str) -> bool:
        return (
            (not self.movement_ranks or movement_rank in self.movement_ranks)
            and years >= self.min_years
            and (not self.qualifications or qualification in self.qualifications)
        )


@dataclass(frozen=True)
class RuleSet:
    version: str
    decree_ref: str
    effective_from: date
    rules: tuple[Rule, ...]


@dataclass(frozen=True)
class Allocation:
    rule_version: str
    rank: str
    command_function: str

    @property
    def holds_command(self) -> bool:
        return self.command_function != NO_COMMAND


def validate_rules(rules: Sequence[Rule]) -> None:
    """A rule set must decide for everyone: its last rule matches any rank, any years, any training."""
    if not rules:
        raise RuleViolated("rank_rules", "a rule set needs at least one rule")
    last = rules[-1]
    if last.movement_ranks or last.min_years > 0 or last.qualifications:
        raise RuleViolated(
            "rank_rules", "the last rule must match everyone (no ranks, 0 years, any training)"
        )
    for rule in rules:
        if rule.min_years < 0:
            raise RuleViolated("rank_rules", "min_years cannot be negative")
        unknown = set(rule.qualifications) - set(QUALIFICATIONS)
        if unknown:
            raise RuleViolated("rank_rules", f"unknown qualifications: {sorted(unknown)}")


def rules_in_force(rule_sets: Sequence[RuleSet], on: date) -> RuleSet:
    """The latest version in force on ``on``."""
    in_force = [r for r in rule_sets if r.effective_from <= on]
    if not in_force:
        raise RuleViolated(
            "no_rank_rules", f"no rank rules are in force on {on.isoformat()}", figures={"on": on.isoformat()}
        )
    return max(in_force, key=lambda r: (r.effective_from, r.version))


def allocate(rule_set: RuleSet, movement_rank: str, years_of_service: int, qualification: str) -> Allocation:
    if years_of_service < 0:
        raise RuleViolated("years_of_service", "years of service cannot be negative")
    if qualification not in QUALIFICATIONS:
        raise RuleViolated("qualification", f"unknown qualification {qualification!r}")
    for rule in rule_set.rules:
        if rule.matches(movement_rank.strip().lower(), years_of_service, qualification):
            return Allocation(rule_set.version, rule.rank, rule.command_function)
    raise RuleViolated("rank_rules", f"rule set {rule_set.version} has no rule for this case")


_OFFICER = ("officer_school", "higher_education")
_TRAINED = ("basic_military", "nco_course", "officer_school", "higher_education")

DECREE_2019 = RuleSet(
    version="2019-decree-model",
    decree_ref="Decree No 0874/P-RM of 30 October 2019 (model)",
    effective_from=date(2019, 10, 30),
    rules=(
        Rule(("general", "colonel"), 15, _OFFICER, "lieutenant_colonel", "battalion_commander"),
        Rule(("general", "colonel", "commandant"), 10, _OFFICER, "commandant", "battalion_deputy"),
        Rule(
            ("general", "colonel", "commandant", "capitaine"), 8, _TRAINED, "capitaine", "company_commander"
        ),
        Rule(("commandant", "capitaine", "lieutenant"), 5, _TRAINED, "lieutenant", "platoon_leader"),
        Rule(
            ("general", "colonel", "commandant", "capitaine", "lieutenant", "adjudant"),
            5,
            (),
            "adjudant",
            "platoon_sergeant",
        ),
        Rule(("lieutenant", "adjudant", "sergent", "chef_de_groupe"), 3, (), "sergent", "section_leader"),
        Rule(("sergent", "caporal", "chef_de_groupe"), 2, (), "caporal", "none"),
        Rule((), 0, (), "soldat_2e_classe", "none"),
    ),
)
"""A model of the 2019 decree (rank held in the movement, years of service, training -> rank and command
function). The real tables are published as new versions through the API; allocations keep their version."""
