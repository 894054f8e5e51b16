"""What every handler works with: the unit of work (through its ports, so the service layer holds no SQL),
the read model's views, and the loading of the aggregates a decision needs.

A command handler is a few lines: load the aggregates, let them decide (with the command's business time),
save them together with their expected versions. Everything one command saves commits in one transaction with
the read-model rows projected from it; a concurrent writer on any of its streams makes it decide again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ddr_integration.domain.candidates import Candidate, person_stream
from ddr_integration.domain.cohorts import Cohort, cohort_stream
from ddr_integration.domain.thirds import SIGNATORY_COALITIONS
from ddr_integration.domain.units import Unit, unit_stream
from ddr_integration.service_layer.views import Views
from ddr_runtime.auth.roles import Principal
from ddr_runtime.auth.visibility import sees_children
from ddr_runtime.eventstore.errors import ConcurrencyConflict
from ddr_runtime.eventstore.ports import AggregateSession, CommandRunner
from ddr_runtime.kernel import Aggregate, UnknownRecord

POLICY_ACTOR = "integration-policy"


@dataclass
class Integration:
    """The service as its entry points see it."""

    runner: CommandRunner
    views: Views
    coalitions: tuple[str, ...] = SIGNATORY_COALITIONS  # the signatory coalitions the rule of thirds counts


async def load_candidates(session: AggregateSession, person_ids: Sequence[str]) -> dict[str, Candidate]:
    """Each person's record as of its last event (an empty record for one this service never heard of)."""
    ids = list(dict.fromkeys(person_ids))
    loaded = await session.load_many([person_stream(pid) for pid in ids], Candidate)
    found: dict[str, Candidate] = {}
    for pid in ids:
        candidate = loaded.get(person_stream(pid)) or Candidate()
        candidate.person_id = candidate.person_id or pid
        found[pid] = candidate
    return found


def ensure_candidate(candidate: Candidate, principal: Principal | None) -> Candidate:
    """The candidate, or a 404, the same for all: a person who never was one, a child (to anyone but child
    protection), another movement's member to a movement's liaison, a person outside the regions of a caller
    narrowed to regions (a region not known counts as outside). Decided in the transaction that writes.
    ``principal``: the caller (None: a policy of this service acting on what other services announced)."""
    if candidate.status == "none":
        raise UnknownRecord("person", candidate.person_id)
    if candidate.child_protection and (principal is None or not sees_children(principal)):
        raise UnknownRecord("person", candidate.person_id)
    if principal is not None and not may_see(principal, candidate.movement, candidate.region):
        raise UnknownRecord("person", candidate.person_id)
    return candidate


def may_see(principal: Principal, movement: str, region: str | None) -> bool:
    """Whether a person of ``movement`` and ``region`` is within the caller's movement and regions."""
    if not principal.covers_movement(movement):
        return False
    return not principal.regions or (region is not None and region in principal.regions)


async def load_candidate(
    session: AggregateSession, person_id: str, principal: Principal | None, expected: int | None = None
) -> Candidate:
    candidate = ensure_candidate((await load_candidates(session, [person_id]))[person_id], principal)
    if expected is not None and candidate.version != expected:
        raise ConcurrencyConflict(person_stream(person_id), expected, candidate.version)
    return candidate


async def load_cohort(session: AggregateSession, cohort_id: str) -> Cohort:
    return await session.load_existing(cohort_stream(cohort_id), Cohort, "cohort", cohort_id)


async def load_unit(session: AggregateSession, unit_id: str) -> Unit:
    return await session.load_existing(unit_stream(unit_id), Unit, "unit", unit_id)


Saving = tuple[Aggregate[Any], str, str]


def saving(*groups: Mapping[str, Candidate] | Sequence[Saving]) -> list[Saving]:
    """``(aggregate, stream, subject)`` for ``save_many``: candidates by person id, or such triples."""
    items: list[Saving] = []
    for group in groups:
        if isinstance(group, Mapping):
            items.extend((c, person_stream(pid), pid) for pid, c in group.items())
        else:
            items.extend(group)
    return items
