"""Bulk commands under row-level access: an item about a person the caller may not see is refused as an
unknown person (as a single command would be answered 404), and the others run."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from ddr_registration.service_layer.ports import Views
from ddr_runtime.auth.roles import Principal
from ddr_runtime.eventstore.unit import BulkRefused, ItemOutcome, refusal
from ddr_runtime.kernel import UnknownRecord

Run = Callable[[list[int]], Awaitable[list[ItemOutcome[Any]]]]
"""Runs the bulk command on the items at these indexes; its outcomes are numbered in that order."""


async def for_visible_people(
    reads: Views, principal: Principal, people: Sequence[str], run: Run, *, atomic: bool
) -> list[ItemOutcome[Any]]:
    """Each item's outcome, in the request's order: ``run`` on the items whose person the caller may see, the
    others refused as unknown (all refused, with ``atomic``, if any is)."""
    visible = await reads.visible_person_ids(principal, people)
    hidden: dict[int, ItemOutcome[Any]] = {
        index: refusal(index, UnknownRecord("person", person_id))
        for index, person_id in enumerate(people)
        if person_id not in visible
    }
    if hidden and atomic:
        raise BulkRefused(list(hidden.values()))
    shown = [index for index in range(len(people)) if index not in hidden]
    outcomes = dict(hidden)
    for outcome in await run(shown):
        outcomes[shown[outcome.index]] = dataclasses.replace(outcome, index=shown[outcome.index])
    return [outcomes[index] for index in range(len(people))]
