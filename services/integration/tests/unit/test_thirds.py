"""The rule of thirds as a pure rule: the unit a decision leaves, tolerance, command posts, other parties."""

from __future__ import annotations

from datetime import date

import pytest

from ddr_integration.domain.thirds import ARMED_FORCES, Composition, check_assignment
from ddr_runtime.kernel import RuleViolated

COALITIONS = ("CMA", "Platform")
DAY = date(2022, 7, 1)
THIRDS = {ARMED_FORCES: 100, "CMA": 100, "Platform": 100}


def unit(strength: dict[str, int], posts: dict[str, int] | None = None) -> Composition:
    return Composition("BATFAR-Gao", DAY, strength, posts or {})


def members(party: str, count: int, command_posts: int = 0) -> list[tuple[str, bool]]:
    return [(party, i < command_posts) for i in range(count)]


def test_an_empty_unit_takes_its_first_member() -> None:
    check_assignment(unit({}), members("CMA", 1), COALITIONS, 0.0)


def test_a_unit_is_formed_by_one_decision_bringing_every_party_to_its_third() -> None:
    after = check_assignment(
        unit({ARMED_FORCES: 100}), members("CMA", 100) + members("Platform", 100), COALITIONS, 0.0
    )
    assert after.strength == THIRDS


def test_one_coalition_alone_cannot_take_two_thirds_of_a_unit() -> None:
    with pytest.raises(RuleViolated) as refused:
        check_assignment(unit({ARMED_FORCES: 100}), members("CMA", 100), COALITIONS, 0.02)
    assert refused.value.rule == "rule_of_thirds_strength"
    assert refused.value.figures["strength"] == {ARMED_FORCES: 100, "CMA": 0, "Platform": 0}


def test_a_party_at_its_third_may_grow_within_the_tolerance_only() -> None:
    check_assignment(unit(THIRDS), members("CMA", 1), COALITIONS, 0.02)  # 101 of 301
    with pytest.raises(RuleViolated) as refused:
        check_assignment(unit(THIRDS), members("CMA", 1), COALITIONS, 0.0)
    assert refused.value.figures["strength"] == THIRDS
    assert refused.value.figures["total_strength"] == 300


def test_the_tolerance_edge_is_exact() -> None:
    check_assignment(
        unit({ARMED_FORCES: 100, "CMA": 108, "Platform": 100}), members("CMA", 1), COALITIONS, 0.02
    )
    with pytest.raises(RuleViolated):
        check_assignment(
            unit({ARMED_FORCES: 100, "CMA": 109, "Platform": 100}), members("CMA", 1), COALITIONS, 0.02
        )


def test_command_posts_are_held_to_thirds_separately_from_strength() -> None:
    composition = unit(THIRDS, {ARMED_FORCES: 10, "CMA": 10, "Platform": 10})
    check_assignment(composition, members("CMA", 1), COALITIONS, 0.02)
    with pytest.raises(RuleViolated) as refused:
        check_assignment(composition, members("CMA", 1, command_posts=1), COALITIONS, 0.02)  # 11 of 31 posts
    assert refused.value.rule == "rule_of_thirds_command"
    assert refused.value.figures["command_posts"] == {ARMED_FORCES: 10, "CMA": 10, "Platform": 10}


def test_after_desertions_the_depleted_party_may_be_replenished_and_the_others_not() -> None:
    depleted = unit({ARMED_FORCES: 170, "CMA": 7, "Platform": 170})
    check_assignment(depleted, members("CMA", 50), COALITIONS, 0.02)
    with pytest.raises(RuleViolated):
        check_assignment(depleted, members("Platform", 1), COALITIONS, 0.02)


def test_a_movement_in_no_signatory_coalition_is_not_a_party() -> None:
    with pytest.raises(RuleViolated) as refused:
        check_assignment(unit({}), members("CMI", 1), COALITIONS, 0.02)
    assert refused.value.rule == "not_a_signatory_party"
