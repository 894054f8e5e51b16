"""Reference data screening decides by, each version an event: the eligibility rule sets and the vetting list."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from ddr_runtime.kernel import Aggregate, AlreadyDone, RuleViolated
from ddr_screening.domain.events import EligibilityRuleSetPublished, VettingListVersionPublished
from ddr_screening.domain.rules import RuleSet
from ddr_screening.domain.values import VettingListEntry

VETTING_LIST_STREAM = "vetting-list"


def rule_set_stream(rule_version: str) -> str:
    return f"rule-set-{rule_version}"


def rule_set_of(published: EligibilityRuleSetPublished) -> RuleSet:
    return RuleSet(**dataclasses.asdict(published))


class PublishedRuleSet(Aggregate[EligibilityRuleSetPublished]):
    """One version of the eligibility criteria: published once, never changed (a change is a new version)."""

    def __init__(self) -> None:
        super().__init__()
        self.rules: RuleSet | None = None

    def publish(self, rules: RuleSet) -> None:
        if self.rules is not None:
            raise AlreadyDone(
                "rule-set-exists",
                f"rule set {rules.rule_version} is already published; publish a new version",
                figures={"rule_version": rules.rule_version},
            )
        self.record(EligibilityRuleSetPublished(**dataclasses.asdict(rules)))

    def apply(self, event: EligibilityRuleSetPublished) -> None:
        self.rules = rule_set_of(event)


class VettingList(Aggregate[VettingListVersionPublished]):
    """The list of persons alleged of grave crimes: each version replaces the previous one whole."""

    def __init__(self) -> None:
        super().__init__()
        self.list_version = 0

    def publish(self, entries: Sequence[VettingListEntry], source_ref: str) -> int:
        seen = [e.person_id for e in entries]
        if len(set(seen)) != len(seen):
            raise RuleViolated(
                "duplicate-entry", "a person appears twice in the list; give one entry per person"
            )
        self.record(
            VettingListVersionPublished(
                list_version=self.list_version + 1,
                entry_count=len(entries),
                source_ref=source_ref,
                entries=tuple(entries),
            )
        )
        return self.list_version

    def apply(self, event: VettingListVersionPublished) -> None:
        self.list_version = event.list_version
