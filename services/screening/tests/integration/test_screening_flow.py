"""The behaviours of issue 4, registration events in over real Kafka, outcome events out on real Kafka."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from kafka import KafkaProducer

from ddr_runtime.auth.roles import Role
from ddr_runtime.eventstore.store import StoredEvent

from .conftest import Env
from .support import case_of, eventually, has, of_type, register, registered, topic_events

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]


def new_person() -> str:
    return str(uuid.uuid4())


async def test_a_sixteen_year_old_is_separated_and_never_enters_a_track(env: Env) -> None:
    vetting = env.as_role(Role.VETTING_OFFICER)
    examiner = env.as_role(Role.EXAMINER)
    protection = env.as_role(Role.CHILD_PROTECTION)
    child = new_person()
    # An allegation is pending against the person before they are registered.
    answer = await vetting.post(
        "/vetting-lists",
        {
            "source_ref": "HRDDP-2019-1",
            "entries": [{"person_id": child, "allegation_ref": "HR-1", "status": "alleged"}],
        },
    )
    assert answer.status_code == 201, answer.text
    now = datetime.now(UTC)
    born = now.date().replace(year=now.year - 16) - timedelta(days=30)
    await register(
        env.registration, child, birth_kind="exact", birth_year=born.year, birth_date=born, armed=True
    )

    case = await case_of(protection, child)
    assert case["child"] is True
    assert case["track"] == "child_protection"
    assert case["vetting"] == "held"
    assert case["benefits_held"] is False
    # A document claiming adulthood, issued days before registration: flagged, and changes nothing.
    doc = await protection.post(
        f"/cases/{child}/age-assessments",
        {
            "method": "document",
            "document_issued_on": str(now.date() - timedelta(days=4)),
            "documented_age": 19,
        },
    )
    assert doc.status_code == 201, doc.text
    assert doc.json()["effect"] == "child_determination_kept"
    assert doc.json()["case"]["child"] is True
    refused = await examiner.post(f"/cases/{child}/examinations", {"result": "fit"})
    assert refused.status_code == 404  # as for a case that does not exist: never "child-not-screened"

    handover = await protection.post(f"/cases/{child}/handover", {"receiving_actor": "UNICEF Gao"})
    assert handover.status_code == 201, handover.text
    case = await case_of(protection, child)
    assert case["handed_over_at"] is not None
    assert case["track"] == "child_protection"
    assessed = next(d for d in case["decisions"] if d["type"] == "AgeAssessed")
    assert assessed["document_suspect"] is True

    envelopes = await topic_events(
        env.settings.kafka_bootstrap_servers, env.topic, has("ChildHandedOver", child)
    )
    outcomes = of_type(envelopes, "ScreeningOutcomeDecided")
    assert [o.data["track"] for o in outcomes] == ["child_protection"]
    assert of_type(envelopes, "BenefitsHeld") == []
    identified = of_type(envelopes, "ChildIdentified")[0]
    assert identified.data["handover_deadline"] is not None
    about_child = [e for e in envelopes if e.subject == child]
    assert len(about_child) == 6
    listed = of_type(envelopes, "VettingListVersionPublished")[0]
    assert listed.data["entry_count"] == 1
    assert child not in str(listed.data)


async def test_an_overdue_handover_is_listed_for_child_protection_and_counted_for_others(env: Env) -> None:
    protection = env.as_role(Role.CHILD_PROTECTION)
    auditor = env.as_role(Role.AUDITOR)
    child = new_person()
    three_days_ago = datetime.now(UTC) - timedelta(days=3)
    await register(env.registration, child, category="child", birth_year=2008, at=three_days_ago)
    await case_of(protection, child)
    listed = (await protection.get("/children/overdue-handovers")).json()
    assert listed["overdue"] == 1
    assert listed["items"][0]["person_id"] == child
    assert listed["items"][0]["hours_overdue"] >= 23
    assert (await auditor.get("/children/overdue-handovers")).json() == {"overdue": None}  # fewer than 5
    # Counts of children are on /metrics/all, to an operator's token only (never on the open /metrics).
    operator = env.as_role(Role.OPERATOR)
    metrics = (await operator.get("/metrics/all")).text

    async def alerted() -> bool:
        text = (await operator.get("/metrics/all")).text
        return "ddr_screening_child_handovers_overdue 1.0" in text

    await eventually(alerted, 15)
    assert "ddr_screening_children_identified" in metrics


async def test_the_same_registration_event_delivered_twice_opens_one_case(env: Env) -> None:
    officer = env.as_role(Role.SCREENING_OFFICER)
    person = new_person()
    stored: list[StoredEvent] = await env.registration.emit(
        person, *_person_events(person), occurred_at=datetime.now(UTC)
    )
    await case_of(officer, person)
    # The very same message again (same event id and bytes), then a second registration of the same person.
    producer = KafkaProducer(bootstrap_servers=env.settings.kafka_bootstrap_servers)
    for event in stored:
        producer.send(env.registration.topic, key=person.encode(), value=event.payload)
    producer.flush()
    producer.close()
    await env.registration.emit(person, registered(person))
    marker = new_person()
    await register(env.registration, marker)  # once its case is open, everything before it was consumed
    await case_of(officer, marker)
    case = await case_of(officer, person)
    opened = [d for d in case["decisions"] if d["type"] == "ScreeningCaseOpened"]
    assert len(opened) == 1
    figures = (await officer.get("/figures")).json()
    assert figures["cases"] == 2


def _person_events(person: str) -> list:  # type: ignore[type-arg]
    from .support import pre_registered, weapon

    return [pre_registered(person), weapon(person), registered(person)]


async def test_a_vetting_hold_blocks_benefits_until_cleared(env: Env) -> None:
    vetting = env.as_role(Role.VETTING_OFFICER)
    examiner = env.as_role(Role.EXAMINER)
    officer = env.as_role(Role.SCREENING_OFFICER)
    held, free = new_person(), new_person()
    await vetting.post(
        "/vetting-lists",
        {
            "source_ref": "HRDDP-1",
            "entries": [{"person_id": held, "allegation_ref": "HR-2", "status": "alleged"}],
        },
    )
    await register(env.registration, held)
    await register(env.registration, free)
    await case_of(officer, held)
    await case_of(officer, free)
    for person in (held, free):
        answer = await examiner.post(f"/cases/{person}/examinations", {"result": "fit", "details": "sound"})
        assert answer.status_code == 201, answer.text
    queue = (await vetting.get("/queues/vetting")).json()
    assert [item["person_id"] for item in queue["items"]] == [held]
    case = await case_of(officer, held)
    assert case["benefits_held"] is True
    assert case["track"] == "integration"
    cleared = await vetting.post(
        f"/cases/{held}/vetting-decisions", {"status": "cleared", "reason_code": "allegation_unfounded"}
    )
    assert cleared.status_code == 201, cleared.text
    assert cleared.json()["case"]["benefits_held"] is False

    envelopes = [
        e
        for e in await topic_events(
            env.settings.kafka_bootstrap_servers, env.topic, has("BenefitsReleased", held)
        )
        if e.subject == held
    ]
    names = [e.type.rsplit(".", 2)[-2] for e in envelopes]
    assert (
        names.index("BenefitsHeld") < names.index("ScreeningOutcomeDecided") < names.index("BenefitsReleased")
    )
    released = of_type(envelopes, "BenefitsReleased")[0]
    assert released.data["decision_id"] == cleared.json()["decision_id"]


async def test_an_appeal_overturning_unfit_moves_the_person_with_both_outcomes_on_the_topic(env: Env) -> None:
    examiner = env.as_role(Role.EXAMINER)
    officer = env.as_role(Role.SCREENING_OFFICER)
    person = new_person()
    await register(env.registration, person)
    await case_of(officer, person)
    unfit = await examiner.post(
        f"/cases/{person}/examinations", {"result": "unfit", "details": "hearing loss"}
    )
    assert unfit.json()["case"]["track"] == "reinsertion"
    appeal = await officer.post(
        f"/cases/{person}/appeals",
        {"decision_id": unfit.json()["decision_id"], "reason": "contested"},
        idempotency_key="appeal-1",
    )
    assert appeal.status_code == 201, appeal.text
    again = await officer.post(
        f"/cases/{person}/appeals",
        {"decision_id": unfit.json()["decision_id"], "reason": "contested"},
        idempotency_key="appeal-1",
    )
    # A retry records nothing new, and answers with the case as it is now (Content-Location), not a stored copy.
    assert again.headers["idempotent-replayed"] == "true"
    lodged = [d["appeal_id"] for d in again.json()["decisions"] if d["type"] == "AppealLodged"]
    assert lodged == [appeal.json()["appeal_id"]]
    decided = await officer.post(
        f"/cases/{person}/appeals/{appeal.json()['appeal_id']}/decision",
        {"overturned": True, "replacement": "fit", "reason": "second opinion: fit"},
    )
    assert decided.status_code == 201, decided.text
    assert decided.json()["case"]["track"] == "integration"

    envelopes = await topic_events(
        env.settings.kafka_bootstrap_servers, env.topic, has("AppealDecided", person)
    )
    outcomes = of_type(envelopes, "ScreeningOutcomeDecided")
    assert [o.data["track"] for o in outcomes] == ["reinsertion", "integration"]
    first, second = outcomes
    assert second.data["supersedes_decision_id"] == first.data["decision_id"]
    assert second.data["previous_track"] == "reinsertion"
    assert second.data["by_appeal"] is True
    assert first.streamversion < second.streamversion
    assert second.data["movement"] == "MNLA"
    assert second.data["birth_year"] == 1988
    lodged = of_type(envelopes, "AppealLodged")
    assert len(lodged) == 1
    assert lodged[0].actor.startswith("screening_officer")


async def test_a_what_if_of_another_rule_set_reports_changes_and_changes_nothing(env: Env) -> None:
    officer = env.as_role(Role.SCREENING_OFFICER)
    examiner = env.as_role(Role.EXAMINER)
    cadre = new_person()
    await register(env.registration, cadre, category="civilian_cadre")
    await case_of(officer, cadre)
    await examiner.post(f"/cases/{cadre}/examinations", {"result": "fit"})
    before = await case_of(officer, cadre)
    assert before["track"] == "integration"
    assert before["rule_version"] == "2019"
    rules = (await officer.get("/rule-sets")).json()
    proposed = {**next(r for r in rules if r["rule_version"] == "2015"), "rule_version": "2024-draft"}
    answer = await officer.post("/rule-sets/what-if", proposed)
    assert answer.status_code == 200, answer.text
    assert answer.json()["changes"] == {"integration->reinsertion": 1}
    assert answer.json()["changed_cases"][0]["person_id"] == cadre
    after = await case_of(officer, cadre)
    assert after["version"] == before["version"]
    assert after["track"] == "integration"
    assert [r["rule_version"] for r in (await officer.get("/rule-sets")).json()] == ["2015", "2019"]
