"""What of each step each role sees: the allow-list of ``domain.disclosure``, denying by default."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from ddr_contracts.catalog import REGISTRY
from ddr_pathway.domain.disclosure import STEP_RULES
from ddr_pathway.domain.path import PersonPath, Step, disclosed
from ddr_pathway.service_layer.access import sights
from ddr_runtime.auth.roles import Principal, Role

AT = datetime(2020, 1, 1, tzinfo=UTC)


def step(type_name: str, summary: dict[str, Any], reason_code: str | None = None, **more: Any) -> Step:
    return Step(
        event_id=more.get("event_id", type_name), type=type_name, service=type_name.split(".")[1],
        person_id="p-1", occurred_at=AT, valid_from=AT, holds_from=AT, recorded_at=AT, actor="someone",
        reason_code=reason_code, caused_by=more.get("caused_by"), summary=summary,
    )  # fmt: skip


def a_path(*steps: Step) -> PersonPath:
    return PersonPath(
        person_id="p-1", stage="screened:reinsertion", merged_into=None, absorbed=[], movement="MNLA",
        region="Kidal", stages=[], overdue=[], steps=list(steps),
    )  # fmt: skip


MEDICAL = step(
    "ddr.screening.MedicalExamined",
    {"decision_id": "d-1", "examination_number": 1, "result": "temporarily_unfit", "re_examination": False},
)
VETTING = step(
    "ddr.screening.VettingDecided",
    {"decision_id": "d-2", "status": "held", "source": "list_check", "list_version": 3},
    reason_code="on_vetting_list",
)
OUTCOME = step(
    "ddr.screening.ScreeningOutcomeDecided",
    {"decision_id": "d-3", "track": "reinsertion", "movement": "MNLA"},
    reason_code="medically_unfit",
)


def who(*roles: Role) -> Principal:
    return Principal(subject="u-1", name="u", roles=frozenset(roles))


def seen(principal: Principal, *steps: Step) -> str:
    return disclosed(a_path(*steps), sights(principal)).model_dump_json()


def test_a_cnddr_officer_sees_neither_a_medical_result_nor_a_vetting_decision() -> None:
    """Finding 11 (issue 14): a CNDDR officer's path view showed `temporarily_unfit` and `allegation_ref`."""
    view = disclosed(a_path(MEDICAL, VETTING, OUTCOME), sights(who(Role.CNDDR_OFFICER)))

    assert [s.type for s in view.steps] == ["ddr.screening.ScreeningOutcomeDecided"]
    assert view.steps[0].summary == {"decision_id": "d-3", "track": "reinsertion", "movement": "MNLA"}
    assert view.steps[0].reason_code is None  # "medically_unfit" is medical detail


def test_an_auditor_sees_medical_and_vetting_detail() -> None:
    view = disclosed(a_path(MEDICAL, VETTING, OUTCOME), sights(who(Role.AUDITOR)))

    assert view.steps[0].summary["result"] == "temporarily_unfit"
    assert view.steps[1].summary == {
        "decision_id": "d-2",
        "status": "held",
        "source": "list_check",
        "list_version": 3,
    }
    assert view.steps[2].reason_code == "medically_unfit"


@pytest.mark.parametrize(
    ("role", "medical", "vetting"),
    [
        (Role.CNDDR_OFFICER, False, False),
        (Role.CHILD_PROTECTION, False, False),
        (Role.EXAMINER, True, False),
        (Role.VETTING_OFFICER, False, True),
        (Role.AUDITOR, True, True),
    ],
)
def test_each_role_sees_the_detail_of_its_own_category_only(role: Role, medical: bool, vetting: bool) -> None:
    text = seen(who(role), MEDICAL, VETTING)

    assert ("temporarily_unfit" in text, '"held"' in text) == (medical, vetting)


def test_a_field_not_on_the_allow_list_shows_to_no_one() -> None:
    listed = step("ddr.registration.PersonPreRegistered", {"movement": "MNLA", "movement_ref": "R-0042"})

    assert "R-0042" not in seen(who(Role.AUDITOR), listed)
    assert "MNLA" in seen(who(Role.AUDITOR), listed)


def test_an_event_type_not_on_the_allow_list_shows_to_no_one() -> None:
    unknown = step("ddr.screening.SomethingNew", {"finding": "x"})

    for role in (Role.AUDITOR, Role.CNDDR_OFFICER, Role.CHILD_PROTECTION):
        assert disclosed(a_path(unknown), sights(who(role))).steps == []


def test_a_reason_code_value_not_on_the_allow_list_shows_to_no_one() -> None:
    novel = step("ddr.screening.ScreeningOutcomeDecided", {"track": "reinsertion"}, reason_code="new_reason")

    assert disclosed(a_path(novel), sights(who(Role.AUDITOR))).steps[0].reason_code is None


def test_an_appeal_of_a_medical_decision_is_medical_detail() -> None:
    appeal = step("ddr.screening.AppealLodged", {"appeal_id": "a-1", "decision_kind": "medical"})

    assert disclosed(a_path(appeal), sights(who(Role.CNDDR_OFFICER))).steps == []
    assert len(disclosed(a_path(appeal), sights(who(Role.EXAMINER))).steps) == 1


def test_a_hidden_step_is_not_named_as_the_cause_of_a_shown_one() -> None:
    caused = step(
        "ddr.screening.ScreeningOutcomeDecided",
        {"track": "reinsertion"},
        event_id="e-2",
        caused_by=MEDICAL.event_id,
    )

    assert disclosed(a_path(MEDICAL, caused), sights(who(Role.CNDDR_OFFICER))).steps[0].caused_by is None
    assert (
        disclosed(a_path(MEDICAL, caused), sights(who(Role.AUDITOR))).steps[1].caused_by == MEDICAL.event_id
    )


def test_no_listed_field_is_a_personal_field_of_its_event() -> None:
    """Personal fields are dropped before a step is classified: listing one (allegation_ref, sealed since
    VettingDecided v2) would promise a reader a value the path never holds."""
    listed = {
        (type_name, name)
        for type_name, rule in STEP_RULES.items()
        for name in rule.fields
        if name in REGISTRY.current(type_name).personal_fields()
    }

    assert listed == set()


def test_every_listed_event_type_names_a_sight_for_each_field() -> None:
    sights_known = {"path", "medical", "vetting", "child"}
    for rule in STEP_RULES.values():
        for sight in rule.fields.values():
            values = {sight} if isinstance(sight, str) else set(sight.values())
            assert values <= sights_known


def test_a_unit_assignment_strike_off_and_reinstatement_show_on_an_officers_path() -> None:
    """A deserter's path must still show where they served once the allow-list denies by default."""
    steps = [
        step(
            "ddr.integration.MemberAssigned", {"unit_id": "u-1", "movement": "MNLA", "command_post": "none"}
        ),
        step("ddr.integration.MemberStruckOff", {"unit_id": "u-1", "status": "deserted"}, event_id="e2"),
        step("ddr.integration.MemberReinstated", {"unit_id": "u-1", "command_post": "none"}, event_id="e3"),
    ]

    view = disclosed(a_path(*steps), sights(who(Role.CNDDR_OFFICER)))

    assert [(s.type, s.summary.get("unit_id")) for s in view.steps] == [
        ("ddr.integration.MemberAssigned", "u-1"),
        ("ddr.integration.MemberStruckOff", "u-1"),
        ("ddr.integration.MemberReinstated", "u-1"),
    ]
