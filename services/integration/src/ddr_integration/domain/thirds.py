"""The rule of thirds: in a reconstituted unit, the armed forces and each signatory coalition hold a third,
in strength and in command posts, within a tolerance. Figures are computed as of a date; an assignment
decision (one member or a contingent) is judged on the unit it leaves behind."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from ddr_runtime.kernel import RuleViolated

ARMED_FORCES = "armed_forces"
SIGNATORY_COALITIONS: tuple[str, ...] = ("CMA", "Platform")


@dataclass(frozen=True)
class Composition:
    """A unit's members by party on a date: strength and the command posts among them."""

    unit_id: str
    as_of: date
    strength: Mapping[str, int] = field(default_factory=dict)
    command_posts: Mapping[str, int] = field(default_factory=dict)

    @property
    def total_strength(self) -> int:
        return sum(self.strength.values())

    @property
    def total_command_posts(self) -> int:
        return sum(self.command_posts.values())

    def figures(self, parties: Sequence[str]) -> dict[str, object]:
        def shares(counts: Mapping[str, int], total: int) -> dict[str, float]:
            return {p: round(counts.get(p, 0) / total, 4) if total else 0.0 for p in parties}

        return {
            "as_of": self.as_of.isoformat(),
            "strength": {p: self.strength.get(p, 0) for p in parties},
            "command_posts": {p: self.command_posts.get(p, 0) for p in parties},
            "total_strength": self.total_strength,
            "total_command_posts": self.total_command_posts,
            "strength_share": shares(self.strength, self.total_strength),
            "command_post_share": shares(self.command_posts, self.total_command_posts),
        }


def parties_of(coalitions: Sequence[str]) -> tuple[str, ...]:
    return (ARMED_FORCES, *coalitions)


def _over(counts: Mapping[str, int], party: str, parties: Sequence[str], tolerance: float) -> bool:
    """Whether ``party`` holds more than a third plus the tolerance of ``counts`` (one member is always
    allowed: that is how an empty unit starts)."""
    count = counts.get(party, 0)
    total = sum(counts.get(p, 0) for p in parties)
    return count > 1 and count > (1 / len(parties) + tolerance) * total + 1e-9


def with_members(composition: Composition, added: Sequence[tuple[str, bool]]) -> Composition:
    """The composition after adding members, each (party, holds a command post)."""
    strength = Counter(composition.strength)
    posts = Counter(composition.command_posts)
    for party, command_post in added:
        strength[party] += 1
        if command_post:
            posts[party] += 1
    return Composition(composition.unit_id, composition.as_of, dict(strength), dict(posts))


def check_assignment(
    before: Composition,
    added: Sequence[tuple[str, bool]],
    coalitions: Sequence[str],
    tolerance: float,
) -> Composition:
    """The unit after one assignment decision (one member or a whole contingent, each (party, command
    post)); refused, with the current figures, when a party it adds to would hold more than a third plus the
    tolerance of the strength or of the command posts. A decision that brings parties back towards thirds
    is allowed even while others are still over (a unit after desertions)."""
    parties = parties_of(coalitions)
    for party, _ in added:
        if party not in parties:
            raise RuleViolated(
                "not_a_signatory_party",
                f"the rule of thirds counts the armed forces and {', '.join(coalitions)}; {party} is none of them",
                figures={"party": party, **before.figures(parties)},
            )
    after = with_members(before, added)
    for party in sorted({p for p, _ in added}):
        if _over(after.strength, party, parties, tolerance):
            raise RuleViolated(
                "rule_of_thirds_strength",
                f"this assignment would give {party} more than a third of {before.unit_id}'s strength",
                figures={
                    "party": party,
                    "tolerance": tolerance,
                    **before.figures(parties),
                    "after": after.figures(parties),
                },
            )
    for party in sorted({p for p, command in added if command}):
        if _over(after.command_posts, party, parties, tolerance):
            raise RuleViolated(
                "rule_of_thirds_command",
                f"this assignment would give {party} more than a third of {before.unit_id}'s command posts",
                figures={
                    "party": party,
                    "tolerance": tolerance,
                    **before.figures(parties),
                    "after": after.figures(parties),
                },
            )
    return after


def validate_tolerance(tolerance: float) -> None:
    if not 0 <= tolerance < 2 / 3:
        raise RuleViolated("tolerance", "the tolerance is a share between 0 and 2/3")
