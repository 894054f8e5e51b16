"""Many items of one command decided in one transaction, each answered on its own.

The aggregates a batch touches are loaded once and saved together (one append for all their streams): a
batch of a thousand enrolments on one budget line is one append, not a thousand. Each item is decided in
turn; a refused one records nothing, since every rule is checked before an item records its events. By
default the valid items are recorded and each refused one answered with its rule; ``atomic``: one refusal
refuses the batch and nothing is recorded (:class:`BulkRefused`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from typing import TypeVar

from ddr_runtime.eventstore.ports import BulkRefused, ItemOutcome, refusal
from ddr_runtime.kernel import DomainError

I = TypeVar("I")  # noqa: E741 - an item of a bulk command
T = TypeVar("T")


async def decide_items(
    items: Sequence[I], decide: Callable[[I], Awaitable[T]], key: Callable[[I], str], *, atomic: bool
) -> list[ItemOutcome[T]]:
    """Each item decided in turn; ``key`` names what an item is about (its person) in a refusal."""
    outcomes: list[ItemOutcome[T]] = []
    for index, item in enumerate(items):
        try:
            result = await decide(item)
        except DomainError as error:
            outcomes.append(refusal(index, error))
        else:
            outcomes.append(ItemOutcome(index, "recorded", result))
    if atomic and any(outcome.status == "refused" for outcome in outcomes):
        # Nothing is recorded: the valid items are answered without what they would have recorded.
        raise BulkRefused(
            [replace(outcome, result=None) for outcome in outcomes], [key(item) for item in items]
        )
    return outcomes
