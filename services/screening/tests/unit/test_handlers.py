"""Screening's command handlers and intake on a unit of work in memory: no database, no broker."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, cast

import pytest

from ddr_contracts.registration import PersonPreRegistered, PersonRegistered
from ddr_runtime.auth.roles import Principal, Role
from ddr_runtime.eventstore.errors import ConcurrencyConflict
from ddr_runtime.eventstore.ports import AggregateSession, BulkRefused, Causation
from ddr_runtime.kernel import Recording, RuleViolated, UnknownRecord
from ddr_screening.domain.case import AgeEvidence
from ddr_screening.domain.events import (
    AgeAssessed,
    CaseMergedInto,
    ChildIdentified,
    EligibilityDetermined,
    MedicalExamined,
    ScreeningCaseOpened,
    ScreeningOutcomeDecided,
)
from ddr_screening.domain.rules import DEFAULT_RULE_SETS, RuleSet
from ddr_screening.domain.values import VettingListEntry
from ddr_screening.service_layer import bulk, handlers
from ddr_screening.service_layer.access import RoleRequired
from ddr_screening.service_layer.handlers import AgeAssessment, Examination, HandlingTest
from ddr_screening.service_layer.intake import take_registration_events
from ddr_screening.service_layer.service import Reads, Screening
from ddr_testkit.fakes import FakeSession, FakeUnitOfWork

REGISTERED = datetime(2019, 11, 4, 9, 0, tzinfo=UTC)
NOW = REGISTERED + timedelta(days=10)


@dataclass
class FixedReference:
    rule_sets_in_store: list[RuleSet] = field(default_factory=lambda: list(DEFAULT_RULE_SETS))

    async def rule_sets(self, session: AggregateSession) -> list[RuleSet]:
        return self.rule_sets_in_store

    async def vetting_list(
        self, session: AggregateSession, person_ids: Collection[str]
    ) -> tuple[int | None, dict[str, VettingListEntry]]:
        return None, {}

    async def cases_to_recheck(self, session: AggregateSession, named: Collection[str]) -> list[str]:
        return []


@dataclass
class MemoryPersons:
    rows: dict[str, dict[str, Any]] = field(default_factory=dict)
    births: dict[str, date | None] = field(default_factory=dict)

    async def load(
        self, session: AggregateSession, person_ids: Collection[str]
    ) -> tuple[dict[str, dict[str, Any]], dict[str, date | None]]:
        wanted = set(person_ids)
        return (
            {pid: dict(row) for pid, row in self.rows.items() if pid in wanted},
            {pid: born for pid, born in self.births.items() if pid in wanted and born is not None},
        )

    async def save(
        self, session: AggregateSession, rows: Sequence[Mapping[str, Any]], births: Mapping[str, date | None]
    ) -> None:
        for row in rows:
            self.rows[row["person_id"]] = dict(row)
            self.births[row["person_id"]] = births.get(row["person_id"])


def staff(*roles: Role, **claims: Any) -> Principal:
    return Principal(f"{roles[0]}-1", "Staff", frozenset(roles), **claims)


@dataclass(frozen=True)
class Ctx:
    recording: Recording = field(default_factory=lambda: Recording(now=NOW))
    causation: Causation = field(default_factory=lambda: Causation("examiner-1"))
    principal: Principal = field(default_factory=lambda: staff(Role.EXAMINER))


@pytest.fixture
def unit() -> FakeUnitOfWork:
    return FakeUnitOfWork()


@pytest.fixture
def scr(unit: FakeUnitOfWork) -> Screening:
    # The handlers read no read model: only the views and alerts do (integration tests).
    return Screening(unit=unit, reference=FixedReference(), persons=MemoryPersons(), reads=cast(Reads, None))


def opened(person_id: str, **overrides: Any) -> ScreeningCaseOpened:
    values: dict[str, Any] = {
        "person_id": person_id,
        "ddr_id": f"DDR-{person_id}",
        "movement": "MNLA",
        "category": "combatant",
        "sex": "M",
        "region": "Kidal",
        "cercle": "Kidal",
        "rank": "sergent",
        "armed": True,
        "birth_kind": "year",
        "birth_year": 1990,
        "youngest_age": 28,
        "weapon_handed_over": True,
        "registered_on": REGISTERED.date(),
    }
    return ScreeningCaseOpened(**{**values, **overrides})


def eligible(person_id: str) -> EligibilityDetermined:
    return EligibilityDetermined(person_id, "d-0", "2019", "integration", ("integration_criteria_met",))


def given_case(unit: FakeUnitOfWork, person_id: str, *more: Any, **facts: Any) -> None:
    unit.given(person_id, opened(person_id, **facts), eligible(person_id), *more, at=REGISTERED)


async def test_an_examination_records_the_result_and_the_outcome_it_leads_to_on_the_day_examined(
    unit: FakeUnitOfWork, scr: Screening
) -> None:
    given_case(unit, "p-1")
    examined_on = (REGISTERED + timedelta(days=2)).date()

    done = await handlers.examine(scr, Examination("p-1", "fit", None, examined_on), Ctx())

    saved = [c for c in unit.committed if c.stream_id == "p-1"]
    assert [type(c.event) for c in saved] == [MedicalExamined, ScreeningOutcomeDecided]
    assert [c.at for c in saved] == [datetime(2019, 11, 6, tzinfo=UTC)] * 2
    assert saved[1].event.track == "integration"
    assert done.version == 4


async def test_a_refused_examination_records_nothing(unit: FakeUnitOfWork, scr: Screening) -> None:
    given_case(unit, "p-1", CaseMergedInto("p-1", "p-2"))

    with pytest.raises(RuleViolated) as refused:
        await handlers.examine(scr, Examination("p-1", "fit"), Ctx())

    assert refused.value.rule == "case-merged"
    assert unit.committed == []


async def test_an_examination_on_a_stale_version_is_a_conflict_and_records_nothing(
    unit: FakeUnitOfWork, scr: Screening
) -> None:
    given_case(unit, "p-1")
    unit.retries = 0

    with pytest.raises(ConcurrencyConflict):
        await handlers.examine(scr, Examination("p-1", "fit"), Ctx(), expected=1)

    assert unit.committed == []


async def test_a_bulk_upload_records_the_valid_items_and_answers_each_refused_one_with_its_rule(
    unit: FakeUnitOfWork, scr: Screening
) -> None:
    given_case(unit, "p-1")
    given_case(unit, "p-2", CaseMergedInto("p-2", "p-1"))
    given_case(unit, "p-3")
    items = [
        Examination("p-1", "fit"),
        Examination("p-2", "fit"),
        Examination("p-9", "fit"),
        Examination("p-3", "unfit"),
    ]

    outcomes = await bulk.record_examinations(scr, items, Ctx())

    assert [(o.index, o.status, o.rule) for o in outcomes] == [
        (0, "recorded", None),
        (1, "refused", "case-merged"),
        (2, "refused", "unknown-case"),
        (3, "recorded", None),
    ]
    assert {c.stream_id for c in unit.committed} == {"p-1", "p-3"}


async def test_an_atomic_bulk_upload_with_a_refused_item_records_nothing(
    unit: FakeUnitOfWork, scr: Screening
) -> None:
    given_case(unit, "p-1")
    given_case(unit, "p-2", CaseMergedInto("p-2", "p-1"))

    with pytest.raises(BulkRefused) as refused:
        await bulk.record_examinations(
            scr, [Examination("p-1", "fit"), Examination("p-2", "fit")], Ctx(), atomic=True
        )

    assert [o.status for o in refused.value.outcomes] == ["recorded", "refused"]
    assert unit.committed == []


async def test_a_person_twice_in_one_upload_is_examined_then_examined_again(
    unit: FakeUnitOfWork, scr: Screening
) -> None:
    given_case(unit, "p-1")
    items = [Examination("p-1", "temporarily_unfit"), Examination("p-1", "fit")]

    outcomes = await bulk.record_examinations(scr, items, Ctx())

    assert [o.status for o in outcomes] == ["recorded", "recorded"]
    exams = [c.event for c in unit.committed if isinstance(c.event, MedicalExamined)]
    assert [(e.examination_number, e.result, e.re_examination) for e in exams] == [
        (1, "temporarily_unfit", False),
        (2, "fit", True),
    ]


async def test_registration_opens_a_case_and_separates_a_child_with_a_deadline_from_the_registration_day(
    unit: FakeUnitOfWork, scr: Screening
) -> None:
    listed = PersonPreRegistered.model_validate(
        {
            "person_id": "c-1",
            "list_id": "l-1",
            "list_version": 1,
            "movement": "MNLA",
            "movement_ref": "MNLA-1",
            "category": "combatant",
            "sex": "M",
            "birth_kind": "year",
            "birth_year": 2004,
            "region": "Gao",
            "cercle": "Gao",
            "rank": "",
            "armed": True,
            "full_name": "X",
        }
    )
    registered = PersonRegistered(person_id="c-1", ddr_id="DDR-1", biometric_hash=None)

    await take_registration_events(scr, FakeSession(unit), [(listed, REGISTERED), (registered, REGISTERED)])

    child = next(c for c in unit.committed if isinstance(c.event, ChildIdentified))
    assert child.at == REGISTERED
    assert child.event.handover_deadline == REGISTERED + timedelta(hours=48)
    outcome = next(c.event for c in unit.committed if isinstance(c.event, ScreeningOutcomeDecided))
    assert outcome.track == "child_protection"


# -- issue 14, finding 4: the caller's remit is checked on the case, in the command, before deciding ---------

GAO = {"regions": frozenset({"Gao"})}
CHILD = ChildIdentified("p-1", "d-c", "category", 15, REGISTERED, REGISTERED + timedelta(hours=48))
SCREENING: list[tuple[str, Role, Callable[[Screening, Ctx], Awaitable[Any]]]] = [
    (
        "examine",
        Role.EXAMINER,
        lambda scr, ctx: handlers.examine(scr, Examination("p-1", "unfit", "TB"), ctx),
    ),
    (
        "request_re_examination",
        Role.SCREENING_OFFICER,
        lambda scr, ctx: handlers.request_re_examination(scr, "p-1", None, None, ctx),
    ),
    (
        "decide_vetting",
        Role.VETTING_OFFICER,
        lambda scr, ctx: handlers.decide_vetting(scr, "p-1", "excluded", "x", None, None, ctx),
    ),
    (
        "decide_membership",
        Role.SCREENING_OFFICER,
        lambda scr, ctx: handlers.decide_membership(scr, "p-1", False, "x", None, None, ctx),
    ),
    (
        "record_handling_test",
        Role.SCREENING_OFFICER,
        lambda scr, ctx: handlers.record_handling_test(scr, HandlingTest("p-1", False), ctx),
    ),
    (
        "choose_reinsertion",
        Role.SCREENING_OFFICER,
        lambda scr, ctx: handlers.choose_reinsertion(scr, "p-1", None, ctx),
    ),
    (
        "lodge_appeal",
        Role.SCREENING_OFFICER,
        lambda scr, ctx: handlers.lodge_appeal(scr, "p-1", "d-1", None, None, ctx),
    ),
]


@pytest.mark.parametrize(("name", "role", "command"), SCREENING, ids=[c[0] for c in SCREENING])
async def test_a_decision_on_a_case_outside_the_callers_regions_is_refused_as_unknown_before_deciding(
    unit: FakeUnitOfWork,
    scr: Screening,
    name: str,
    role: Role,
    command: Callable[[Screening, Ctx], Awaitable[Any]],
) -> None:
    given_case(unit, "p-1")  # in Kidal

    with pytest.raises(UnknownRecord):
        await command(scr, Ctx(principal=staff(role, **GAO)))

    assert unit.committed == []


@pytest.mark.parametrize(("name", "role", "command"), SCREENING, ids=[c[0] for c in SCREENING])
async def test_a_decision_on_a_childs_case_is_refused_as_unknown_before_deciding(
    unit: FakeUnitOfWork,
    scr: Screening,
    name: str,
    role: Role,
    command: Callable[[Screening, Ctx], Awaitable[Any]],
) -> None:
    # Examined before the child was identified: appealing that examination is still screening's act.
    given_case(unit, "p-1", CHILD, MedicalExamined("p-1", "d-1", 1, "fit", False, None))

    with pytest.raises(UnknownRecord):
        await command(scr, Ctx(principal=staff(role, Role.CHILD_PROTECTION)))

    assert unit.committed == []


async def test_a_handover_outside_child_protections_regions_is_refused_as_unknown(
    unit: FakeUnitOfWork, scr: Screening
) -> None:
    given_case(unit, "p-1", CHILD)

    with pytest.raises(UnknownRecord):
        await handlers.hand_over(
            scr, "p-1", "UNICEF", None, None, Ctx(principal=staff(Role.CHILD_PROTECTION, **GAO))
        )

    assert unit.committed == []


async def test_an_age_assessment_by_anyone_but_child_protection_is_refused_as_unknown(
    unit: FakeUnitOfWork, scr: Screening
) -> None:
    given_case(unit, "p-1")
    item = AgeAssessment("p-1", AgeEvidence("interview", 15, None, None, None))

    with pytest.raises(UnknownRecord):
        await handlers.assess_age(scr, item, Ctx(principal=staff(Role.SCREENING_OFFICER)))

    assert unit.committed == []


async def test_child_protection_may_challenge_an_adults_age(unit: FakeUnitOfWork, scr: Screening) -> None:
    given_case(unit, "p-1")
    item = AgeAssessment("p-1", AgeEvidence("interview", 15, None, None, None))

    done = await handlers.assess_age(scr, item, Ctx(principal=staff(Role.CHILD_PROTECTION)))

    assert done.result == "child_identified"


async def test_each_bulk_item_outside_the_callers_remit_is_refused_like_an_unknown_case(
    unit: FakeUnitOfWork, scr: Screening
) -> None:
    given_case(unit, "p-1", region="Gao")
    given_case(unit, "p-2")  # in Kidal
    given_case(
        unit, "p-3", ChildIdentified("p-3", "d-c", "category", 15, REGISTERED, REGISTERED), region="Gao"
    )
    items = [Examination(p, "unfit", "TB") for p in ("p-1", "p-2", "p-3", "p-9")]

    outcomes = await bulk.record_examinations(scr, items, Ctx(principal=staff(Role.EXAMINER, **GAO)))

    assert [(o.status, o.rule) for o in outcomes] == [
        ("recorded", None),
        ("refused", "unknown-case"),
        ("refused", "unknown-case"),
        ("refused", "unknown-case"),
    ]
    assert {c.stream_id for c in unit.committed} == {"p-1"}


async def test_a_screening_officer_appealing_an_age_decision_is_refused_for_want_of_child_protection(
    unit: FakeUnitOfWork, scr: Screening
) -> None:
    """Issue 14 item 8: the appeal of an age decision is child protection's; nothing is lodged."""
    given_case(
        unit,
        "p-1",
        AgeAssessed("p-1", "d-age", "interview", 30, None, False, "adult", "adult_confirmed", None),
    )

    with pytest.raises(RoleRequired) as refused:
        await handlers.lodge_appeal(
            scr, "p-1", "d-age", None, None, Ctx(principal=staff(Role.SCREENING_OFFICER))
        )

    assert refused.value.role == Role.CHILD_PROTECTION
    assert unit.committed == []


async def test_child_protection_appealing_a_medical_decision_is_refused_for_want_of_a_screening_officer(
    unit: FakeUnitOfWork, scr: Screening
) -> None:
    """Issue 14 item 8: child protection appeals age decisions only."""
    given_case(unit, "p-1", MedicalExamined("p-1", "d-1", 1, "unfit", False, None))

    with pytest.raises(RoleRequired) as refused:
        await handlers.lodge_appeal(
            scr, "p-1", "d-1", None, None, Ctx(principal=staff(Role.CHILD_PROTECTION))
        )

    assert refused.value.role == Role.SCREENING_OFFICER
    assert unit.committed == []
