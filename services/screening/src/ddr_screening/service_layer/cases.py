"""Loading and saving screening cases: a case's stream id and subject are the person id."""

from __future__ import annotations

from collections.abc import Iterable

from ddr_runtime.eventstore.ports import AggregateSession, Causation
from ddr_screening.domain.case import ScreeningCase
from ddr_screening.domain.events import ChildIdentified
from ddr_screening.service_layer.alerts import note_children


async def load_case(session: AggregateSession, person_id: str) -> ScreeningCase:
    """The open case of ``person_id``: UnknownRecord (404) when there is none."""
    return await session.load_existing(person_id, ScreeningCase, "case", person_id)


def _children(cases: Iterable[ScreeningCase]) -> int:
    return sum(isinstance(c.event, ChildIdentified) for case in cases for c in case.pending)


async def save_case(
    session: AggregateSession, case: ScreeningCase, causation: Causation, expected_version: int | None = None
) -> int:
    """Store the case's new events after ``expected_version`` (default: as loaded); its new version."""
    children = _children([case])
    version = await session.save(case, case.person_id, case.person_id, causation, expected_version)
    note_children(children)
    return version


async def save_cases(session: AggregateSession, cases: Iterable[ScreeningCase], causation: Causation) -> None:
    """Store every changed case, each after the version it was loaded at, in one append."""
    changed = [case for case in cases if case.pending]
    children = _children(changed)
    await session.save_many([(case, case.person_id, case.person_id) for case in changed], causation)
    note_children(children)
