"""Bulk commands decided in one transaction, answered item by item.

Every item is decided on the aggregates loaded once for the whole request, in order, so each sees the ones
before it (a cohort's seats, a unit's figures); a refused item records nothing, because an aggregate checks
every rule before it records. By default the valid items are then saved together (one append for all their
streams) and each refused one is answered with its rule and figures; ``atomic`` refuses the whole request
when any item is refused, and nothing is recorded. Retrying the same request is safe: what was recorded is
refused the second time (already done), nothing twice.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import Any, TypeVar

from ddr_runtime.eventstore.ports import BulkRefused, ItemOutcome, refusal
from ddr_runtime.kernel import DomainError, RuleViolated

I = TypeVar("I")  # noqa: E741 - an item of a bulk command
T = TypeVar("T")


def decide_each(
    items: Sequence[I], decide: Callable[[I], T], *, key: Callable[[I], Hashable]
) -> list[ItemOutcome[T]]:
    """Each item's outcome; an item naming the same record as an earlier one is refused."""
    outcomes: list[ItemOutcome[T]] = []
    first: dict[Hashable, int] = {}
    for index, item in enumerate(items):
        try:
            seen = first.setdefault(key(item), index)
            if seen != index:
                raise RuleViolated(
                    "listed_twice",
                    f"item {index} names the same record as item {seen}",
                    figures={"first_index": seen},
                )
            outcomes.append(ItemOutcome(index, "recorded", decide(item)))
        except DomainError as error:
            outcomes.append(refusal(index, error))
    return outcomes


def settle(outcomes: Sequence[ItemOutcome[Any]], *, atomic: bool) -> None:
    """All or nothing: with ``atomic``, one refused item refuses the request before anything is saved."""
    if atomic and any(outcome.status == "refused" for outcome in outcomes):
        raise BulkRefused(outcomes)


def recorded(outcomes: Sequence[ItemOutcome[T]]) -> list[int]:
    return [outcome.index for outcome in outcomes if outcome.status == "recorded"]
