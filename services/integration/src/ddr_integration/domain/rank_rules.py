"""The published versions of the rank-harmonisation rules (stream ``rank-rules``): a version is published
once and never changed; an allocation takes the latest version in force on its date."""

from __future__ import annotations

from datetime import date, datetime

from ddr_integration.domain.events import RankRulesPublished
from ddr_integration.domain.ranks import Allocation, RuleSet, allocate, rules_in_force, validate_rules
from ddr_runtime.kernel import Aggregate, AlreadyDone

RANK_RULES_STREAM = "rank-rules"


class RankRuleBook(Aggregate[RankRulesPublished]):
    def __init__(self) -> None:
        super().__init__()
        self.rule_sets: dict[str, RuleSet] = {}

    def publish(self, rule_set: RuleSet, at: datetime) -> None:
        validate_rules(rule_set.rules)
        if rule_set.version in self.rule_sets:
            raise AlreadyDone(
                "rank_rules_published",
                f"rank rule version {rule_set.version} is already published",
                figures={"rule_version": rule_set.version},
            )
        self.record(
            RankRulesPublished(
                rule_set.version, rule_set.decree_ref, rule_set.effective_from, tuple(rule_set.rules)
            ),
            at=at,
        )

    def allocate(self, on: date, movement_rank: str, years_of_service: int, qualification: str) -> Allocation:
        """The rank and command function under the latest version in force on ``on``."""
        in_force = rules_in_force(list(self.rule_sets.values()), on)
        return allocate(in_force, movement_rank, years_of_service, qualification)

    def apply(self, event: RankRulesPublished) -> None:
        self.rule_sets[event.rule_version] = RuleSet(
            event.rule_version, event.decree_ref, event.effective_from, tuple(event.rules)
        )
