"""CVR's command handlers on a unit of work in memory: load, decide, save with the expected version."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from ddr_cvr.domain.events import (
    CommitteeDecided,
    ParticipantEnrolled,
    PartnerRegistered,
    PersonRegistrationNoted,
    ProjectApproved,
    ProjectSubmitted,
)
from ddr_cvr.domain.participants import Enrolment
from ddr_cvr.domain.policy import CvrPolicy
from ddr_cvr.domain.projects import Decision, ProjectDraft
from ddr_cvr.service_layer import handlers, participants
from ddr_cvr.service_layer.registration import Announced, note_registrations
from ddr_runtime.auth.roles import Principal, Role
from ddr_runtime.eventstore.errors import ConcurrencyConflict
from ddr_runtime.eventstore.ports import BulkRefused, Causation, CommandContext
from ddr_runtime.kernel import BackRecording, Recording, UnknownRecord
from ddr_testkit.fakes import FakeUnitOfWork

POLICY = CvrPolicy()
NOW = datetime(2024, 1, 1, tzinfo=UTC)
REGISTERED = datetime(2015, 1, 1, tzinfo=UTC)


def command(*roles: Role, partner: str | None = None, subject: str = "someone") -> CommandContext:
    authority = BackRecording("records_officer", "migrated registers")
    principal = Principal(subject, subject, frozenset(roles), partner=partner)
    return CommandContext(
        principal, Recording(now=NOW, authority=authority), Causation(subject, back_recording=authority)
    )


OFFICER = command(Role.CNDDR_OFFICER, subject="officer")
COMMITTEE = command(Role.COMMITTEE_MEMBER, subject="member")


def draft(**overrides: Any) -> ProjectDraft:
    values: dict[str, Any] = {
        "title": "Jardins",
        "project_type": "agriculture_and_gardening",
        "programme": "crp",
        "region": "Mopti",
        "cercle": "Bandiagara",
        "commune": "Bandiagara",
        "location": "Bandiagara",
        "budget": Decimal(45_000),
        "currency": "USD",
        "duration_months": 9,
        "planned_start": date(2022, 3, 1),
        "armed_groups_active": False,
        "direct_beneficiaries_target": 400,
    }
    values.update(overrides)
    return ProjectDraft(**values)


@pytest.fixture
def unit() -> FakeUnitOfWork:
    fake = FakeUnitOfWork()
    for partner_id in ("ong-1", "ong-2"):
        registered = PartnerRegistered(
            partner_id=partner_id, display_name=partner_id, kind="ngo", registered_on=REGISTERED.date()
        )
        fake.given(f"cvr-partner-{partner_id}", registered, at=REGISTERED)
    return fake


async def test_a_partner_submits_under_its_own_id_at_the_business_time_it_gives(unit: FakeUnitOfWork) -> None:
    partner = command(Role.CVR_PARTNER, partner="ong-1")

    project_id, version = await handlers.submit_project(
        unit, partner, POLICY, "p-1", None, draft(), date(2022, 1, 10)
    )

    saved = unit.committed[-1]
    assert (project_id, version, saved.stream_id, saved.subject) == ("p-1", 1, "cvr-project-p-1", "p-1")
    assert isinstance(saved.event, ProjectSubmitted)
    assert (saved.event.partner_id, saved.event.women_target, saved.event.ex_combatants_target) == (
        "ong-1",
        200,
        240,
    )
    assert saved.at == datetime(2022, 1, 10, tzinfo=UTC)


async def test_the_national_clearance_approves_on_the_decision_s_business_day(unit: FakeUnitOfWork) -> None:
    await handlers.submit_project(unit, OFFICER, POLICY, "p-1", "ong-1", draft(), date(2022, 1, 10))
    for committee in ("local_review", "regional_appraisal", "national_appraisal"):
        vetting = "cleared" if committee == "local_review" else "not_applicable"
        decision = Decision(committee, date(2022, 2, 1), ("a", "b"), "cleared", human_rights_vetting=vetting)  # type: ignore[arg-type]
        await handlers.decide(unit, COMMITTEE, POLICY, "p-1", decision, None)

    decided, approved = unit.events("cvr-project-p-1")[-2:]
    assert isinstance(decided, CommitteeDecided)
    assert isinstance(approved, ProjectApproved)
    assert approved.approved_on == date(2022, 2, 1)
    assert unit.committed[-1].at == datetime(2022, 2, 1, tzinfo=UTC)


async def test_a_decision_on_a_version_the_caller_did_not_read_is_a_conflict_and_saves_nothing(
    unit: FakeUnitOfWork,
) -> None:
    await handlers.submit_project(unit, OFFICER, POLICY, "p-1", "ong-1", draft(), date(2022, 1, 10))
    unit.retries = 0
    review = Decision(
        "local_review", date(2022, 1, 20), ("a", "b"), "cleared", human_rights_vetting="cleared"
    )

    with pytest.raises(ConcurrencyConflict):
        await handlers.decide(unit, COMMITTEE, POLICY, "p-1", review, expected=0)

    assert len(unit.events("cvr-project-p-1")) == 1


async def test_another_partners_project_is_unknown_to_a_partner_and_nothing_is_saved(
    unit: FakeUnitOfWork,
) -> None:
    await handlers.submit_project(unit, OFFICER, POLICY, "p-1", "ong-1", draft(), date(2022, 1, 10))
    other = command(Role.CVR_PARTNER, partner="ong-2")

    with pytest.raises(UnknownRecord):
        await handlers.report_progress(unit, other, "p-1", date(2022, 5, 1), 10, "x", None)
    with pytest.raises(UnknownRecord):
        await participants.enrol_participants(
            unit, other, "p-1", [Enrolment("community", "F", date(2022, 1, 15))]
        )

    assert len(unit.committed) == 1


async def test_a_batch_enrols_its_valid_participants_in_one_save_and_refuses_the_others_by_rule(
    unit: FakeUnitOfWork,
) -> None:
    await handlers.submit_project(unit, OFFICER, POLICY, "p-1", "ong-1", draft(), date(2022, 1, 10))
    unit.given(
        "cvr-registered-person-x",
        PersonRegistrationNoted(registered_person_id="x", noted_from="PersonRegistered"),
    )
    batch = [
        Enrolment("community", "F", date(2022, 1, 15), participant_id="a"),
        Enrolment("ex_combatant", "M", date(2022, 1, 15), person_id="x", participant_id="b"),
        Enrolment("ex_combatant", "M", date(2022, 1, 15), person_id="ghost", participant_id="c"),
        Enrolment("community", "F", date(2022, 1, 15), participant_id="a"),
    ]

    outcomes = await participants.enrol_participants(unit, OFFICER, "p-1", batch)

    assert [(o.index, o.status, o.result, o.rule) for o in outcomes] == [
        (0, "recorded", "a", None),
        (1, "recorded", "b", None),
        (2, "refused", None, "unknown-person"),
        (3, "refused", None, "participant-enrolled"),
    ]
    enrolled = [e for e in unit.events() if isinstance(e, ParticipantEnrolled)]
    assert [(e.participant_id, e.person_id) for e in enrolled] == [("a", None), ("b", "x")]


async def test_an_atomic_batch_with_a_refused_participant_saves_nobody(unit: FakeUnitOfWork) -> None:
    await handlers.submit_project(unit, OFFICER, POLICY, "p-1", "ong-1", draft(), date(2022, 1, 10))
    batch = [Enrolment("community", "F", date(2022, 1, 15)), Enrolment("community", "F", date(2022, 1, 9))]

    with pytest.raises(BulkRefused) as refused:
        await participants.enrol_participants(unit, OFFICER, "p-1", batch, atomic=True)

    assert [(o.status, o.rule) for o in refused.value.outcomes] == [
        ("recorded", None),
        ("refused", "occurred-before-dependency"),
    ]
    assert not [e for e in unit.events() if isinstance(e, ParticipantEnrolled)]


async def test_registration_s_announcements_are_noted_once_each_and_merges_followed(
    unit: FakeUnitOfWork,
) -> None:
    announced = [
        Announced("old", "PersonPreRegistered"),
        Announced("old", "PersonRegistered"),
        Announced("new", "PersonRegistered"),
        Announced("old", "PersonMergedInto", "new"),
    ]

    async def note(session: Any) -> int:
        return await note_registrations(session, announced, Causation("cvr:registration-policy"))

    recorded = await unit.run(note)
    again = await unit.run(note)

    assert (recorded, again) == (3, 0)
    noted = unit.events("cvr-registered-person-old")
    assert [type(e).__name__ for e in noted] == ["PersonRegistrationNoted", "PersonMergeNoted"]
    resolved = await unit.run(lambda session: participants.resolve_persons(session, ["old", "nobody"]))
    assert resolved["old"] == "new"
    assert isinstance(resolved["nobody"], UnknownRecord)
