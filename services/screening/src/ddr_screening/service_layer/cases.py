"""Loading and saving screening cases: a case's stream id and subject are the person id."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from ddr_runtime.auth.roles import Principal
from ddr_runtime.eventstore.ports import AggregateSession, Causation
from ddr_runtime.kernel import UnknownRecord
from ddr_screening.domain.case import ScreeningCase
from ddr_screening.domain.events import ChildIdentified
from ddr_screening.domain.values import DecisionKind
from ddr_screening.service_layer.access import Act, appeal_act, appeal_acts, may_act
from ddr_screening.service_layer.alerts import note_children


async def load_case(session: AggregateSession, person_id: str) -> ScreeningCase:
    """The open case of ``person_id``: UnknownRecord (404) when there is none."""
    return await session.load_existing(person_id, ScreeningCase, "case", person_id)


def may_act_on(case: ScreeningCase, principal: Principal, act: Act) -> bool:
    """Whether ``principal`` may record ``act`` on this open case, as it stands in the command's transaction."""
    return may_act(principal, act, case.movement, case.region, case.restricted)


async def case_to_act_on(
    session: AggregateSession, person_id: str, principal: Principal, act: Act
) -> ScreeningCase:
    """The open case of ``person_id`` if the caller may record ``act`` on it; else UnknownRecord (404), the
    same answer as for a case that does not exist, before anything is decided."""
    case = await load_case(session, person_id)
    if not may_act_on(case, principal, act):
        raise UnknownRecord("case", person_id)
    return case


async def case_to_appeal_on(
    session: AggregateSession,
    person_id: str,
    principal: Principal,
    appealed: Callable[[ScreeningCase], DecisionKind | None],
) -> ScreeningCase:
    """The open case of ``person_id`` for an appeal (lodged or decided) of the decision ``appealed`` names:
    UnknownRecord (404) unless the caller may act on the case at all, as for a missing case; RoleRequired
    (403, as a route the caller may not use) when that kind of decision's appeal is another role's (an age
    decision's is child protection's). Checked before the case decides anything; an unknown decision or
    appeal is the domain's to refuse."""
    case = await load_case(session, person_id)
    if not any(may_act_on(case, principal, act) for act in appeal_acts(principal)):
        raise UnknownRecord("case", person_id)
    kind = appealed(case)
    if kind is not None and not may_act_on(case, principal, appeal_act(principal, kind)):
        raise UnknownRecord("case", person_id)
    return case


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
