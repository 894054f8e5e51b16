"""The projector as a single batch handler, on an SQLite file: idempotent per event id, independent of arrival
order, blind to personal fields (a pseudonymised history gives the same figures and paths)."""

from __future__ import annotations

import random
import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from ddr_contracts.envelope import GENESIS_HASH, EventEnvelope, schema_ref
from ddr_contracts.events import DomainEvent
from ddr_contracts.integration import (
    CandidateAccepted,
    CandidateReceived,
    RankAllocated,
    ServiceStatusChanged,
    TraineeEnrolled,
)
from ddr_contracts.registration import (
    PersonDetailsCorrected,
    PersonPreRegistered,
    PersonRegistered,
    WeaponHandedOver,
)
from ddr_contracts.screening import ScreeningOutcomeDecided
from ddr_pathway.service_layer.figures import programme_figures, read_model_table
from ddr_pathway.service_layer.paths import read_path
from ddr_pathway.service_layer.projector import Projector
from ddr_runtime.db import create_engine
from ddr_runtime.messaging.consumer import ReceivedEvent

NOW = datetime(2030, 1, 1, tzinfo=UTC)


def received(
    event: DomainEvent,
    subject: str,
    occurred: str,
    recorded: str,
    topic: str,
    *,
    caused_by: ReceivedEvent | None = None,
) -> ReceivedEvent:
    envelope = EventEnvelope(
        id=str(uuid.uuid4()),
        source=f"/ddr/{topic}",
        type=type(event).type_name(),
        subject=subject,
        time=datetime.fromisoformat(recorded),
        dataschema=schema_ref(type(event).type_name()),
        streamid=subject,
        streamversion=1,
        correlationid="c",
        causationid=caused_by.envelope.id if caused_by is not None else None,
        actor="tester",
        occurredat=datetime.fromisoformat(occurred),
        recordedat=datetime.fromisoformat(recorded),
        prevhash=GENESIS_HASH,
        data=event.model_dump(mode="json"),
    )
    return ReceivedEvent(envelope, event, f"ddr.{topic}.events", 0, 0)


def history(person: str, *, personal: bool = True) -> list[ReceivedEvent]:
    name = "Moussa Ag Acharatoumane" if personal else None
    return [
        received(
            PersonPreRegistered(
                person_id=person, list_id="l", list_version=1, movement="GATIA", movement_ref="G-1",
                category="combatant", sex="M", birth_kind="year", region="Gao", cercle="Gao", rank="soldat",
                armed=True, birth_year=1990, full_name=name, full_name_arabic=None, birth_date=None,
                commune="Gao" if personal else None, father_name=name, mother_name=None, birth_place=None,
            ),
            person, "2019-03-01T09:00:00+00:00", "2019-03-01T10:00:00+00:00", "registration",
        ),
        received(
            PersonRegistered(person_id=person, ddr_id="ML-1", biometric_hash="h" if personal else None),
            person, "2019-05-01T09:00:00+00:00", "2019-05-01T10:00:00+00:00", "registration",
        ),
        received(
            WeaponHandedOver(
                weapon_id="w-1", person_id=person, movement="GATIA", kind="weapon", type="AK-47",
                calibre="7.62x39", serial="SN-1", quantity=1, condition="bon", tag="T-1", receipt_number="RC-1",
                custodian="CTS-Gao",
            ),
            person, "2019-05-02T09:00:00+00:00", "2019-05-02T10:00:00+00:00", "registration",
        ),
        received(
            ScreeningOutcomeDecided(
                person_id=person, decision_id="d1", track="integration", reason_code="armed_member",
                rule_version="r1", previous_track=None, supersedes_decision_id=None, by_appeal=False,
                movement="GATIA", category="combatant", sex="M", region="Gao", birth_year=1990, rank="soldat",
                armed=True,
            ),
            person, "2019-07-01T09:00:00+00:00", "2019-07-01T10:00:00+00:00", "screening",
        ),
        received(
            CandidateAccepted(
                person_id=person, movement="GATIA", path="reconstituted_forces", quota_id=None,
                screening_decision_id="d1", effective_on=date(2019, 9, 1),
            ),
            person, "2019-09-01T09:00:00+00:00", "2019-09-01T10:00:00+00:00", "integration",
        ),
        received(
            PersonDetailsCorrected(
                person_id=person, corrected_fields=("sex",), sex="F", full_name=name, full_name_arabic=None,
                birth_date=None, commune=None, reason="misread form" if personal else None,
            ),
            person, "2019-04-01T09:00:00+00:00", "2021-01-01T10:00:00+00:00", "registration",
        ),
    ]  # fmt: skip


async def project(tmp_path: Path, name: str, batches: Sequence[Sequence[ReceivedEvent]], person: str) -> Any:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / name}.sqlite")
    try:
        projector = Projector(engine)
        await projector.create_schema()
        for batch in batches:
            async with engine.begin() as conn:
                await projector.apply(conn, batch)
        async with engine.connect() as conn:
            figures = [await programme_figures(conn, as_of=date(y, 12, 31)) for y in (2019, 2020, 2021)]
            known = await programme_figures(
                conn, as_of=date(2019, 12, 31), known_on=datetime(2020, 1, 1, tzinfo=UTC)
            )
            path = await read_path(conn, await read_model_table(conn), person, now=NOW)
        return figures, known, path
    finally:
        await engine.dispose()


async def in_three_arrival_orders(tmp_path: Path, events: list[ReceivedEvent], person: str) -> list[Any]:
    """Figures and path after ``events`` arrive topic by topic, backwards one at a time, and shuffled."""
    by_topic = sorted(events, key=lambda e: e.topic)
    return [
        await project(tmp_path, "topic", [by_topic[:2], by_topic[2:]], person),
        await project(tmp_path, "backwards", [[e] for e in reversed(events)], person),
        await project(tmp_path, "shuffled", [random.Random(3).sample(events, len(events))], person),
    ]


async def test_three_arrival_orders_give_the_same_figures_and_path(tmp_path: Path) -> None:
    person = str(uuid.uuid4())

    results = await in_three_arrival_orders(tmp_path, history(person), person)

    assert results[0] == results[1] == results[2]
    figures, known, path = results[0]
    assert figures[0].funnel.integration.active == 1
    assert figures[0].funnel.disarmed == 1
    assert path is not None
    assert path.stage == "integration:active"
    assert set(figures[0].by_sex) == {"F"}  # the correction, recorded in 2021, about April 2019
    assert figures[0].by_sex["F"].integration.active == 1
    assert set(known.by_sex) == {"M"}  # as known on 1 January 2020


async def test_a_redelivered_event_changes_nothing(tmp_path: Path) -> None:
    person = str(uuid.uuid4())
    events = history(person)

    once = await project(tmp_path, "once", [events], person)
    twice = await project(tmp_path, "twice", [events, events[1:3], events], person)

    assert once == twice


async def test_a_pseudonymised_history_gives_the_same_figures_and_path(tmp_path: Path) -> None:
    person = str(uuid.uuid4())
    clear = history(person)
    stripped = history(person, personal=False)
    stripped = [
        ReceivedEvent(s.envelope.model_copy(update={"id": c.envelope.id}), s.event, s.topic, 0, 0)
        for c, s in zip(clear, stripped, strict=True)
    ]

    assert await project(tmp_path, "clear", [clear], person) == await project(
        tmp_path, "stripped", [stripped], person
    )


async def test_an_event_of_a_type_not_yet_known_is_a_bare_step_of_the_path(tmp_path: Path) -> None:
    person = str(uuid.uuid4())
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'unknown'}.sqlite")
    try:
        projector = Projector(engine)
        await projector.create_schema()
        envelope = received(history(person)[0].event, person, "2019-03-01T09:00:00+00:00",
                            "2019-03-01T10:00:00+00:00", "registration").envelope  # fmt: skip
        future = envelope.model_dump(mode="json") | {
            "id": str(uuid.uuid4()),
            "type": "ddr.screening.SomethingNew.v1",
            "occurredat": "2019-04-01T09:00:00+00:00",
            "data": {"person_id": person, "note": "x"},
        }
        facts = projector.facts_from_payloads(
            [
                EventEnvelope.model_validate(d).canonical_bytes()
                for d in (envelope.model_dump(mode="json"), future)
            ]
        )
        async with engine.begin() as conn:
            await projector.apply_facts(conn, facts)
        async with engine.connect() as conn:
            path = await read_path(conn, await read_model_table(conn), person, now=NOW)
    finally:
        await engine.dispose()
    assert path is not None
    assert [s.type for s in path.steps] == [
        "ddr.registration.PersonPreRegistered",
        "ddr.screening.SomethingNew",
    ]
    assert path.steps[-1].summary == {}
    assert path.steps[0].summary["movement"] == "GATIA"
    assert "full_name" not in path.steps[0].summary


async def test_a_path_as_of_a_date_and_as_known_on_a_date_shows_only_what_held_and_was_known(
    tmp_path: Path,
) -> None:
    person = str(uuid.uuid4())
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'as_of'}.sqlite")
    try:
        projector = Projector(engine)
        await projector.create_schema()
        async with engine.begin() as conn:
            await projector.apply(conn, history(person))
        async with engine.connect() as conn:
            table = await read_model_table(conn)
            june = await read_path(conn, table, person, now=NOW, as_of=date(2019, 6, 30))
            known_2020 = await read_path(
                conn,
                table,
                person,
                now=NOW,
                as_of=date(2019, 6, 30),
                known_on=datetime(2020, 1, 1, tzinfo=UTC),
            )
    finally:
        await engine.dispose()
    assert june is not None
    assert known_2020 is not None
    assert june.stage == "registered"
    assert [s.type.rsplit(".", 1)[1] for s in june.steps] == [
        "PersonPreRegistered", "PersonDetailsCorrected", "PersonRegistered", "WeaponHandedOver",
    ]  # fmt: skip
    assert "PersonDetailsCorrected" not in {s.type.rsplit(".", 1)[1] for s in known_2020.steps}
    assert june.stages[-1].until is None
    assert june.stages[-1].days == 60.62  # 1 May 09:00 to the end of 30 June


def deserter(person: str) -> list[ReceivedEvent]:
    """A deserter's path as the services record it: registered at 18:04 on 1 May 2019; the screening outcome
    and the integration decisions of that day dated by day (noon); screening's clock 4 minutes behind
    registration's and integration's 10 behind screening's, so by every clock the steps run backwards."""
    pre = received(
        history(person)[0].event,
        person,
        "2019-03-01T09:00:00+00:00",
        "2019-03-01T10:00:00+00:00",
        "registration",
    )
    registered = received(
        PersonRegistered(person_id=person, ddr_id="ML-1", biometric_hash=None),
        person,
        "2019-05-01T18:04:00+00:00",
        "2019-05-01T18:04:05+00:00",
        "registration",
    )
    outcome = received(
        ScreeningOutcomeDecided(
            person_id=person,
            decision_id="d1",
            track="integration",
            reason_code="armed_member",
            rule_version="r1",
            previous_track=None,
            supersedes_decision_id=None,
            by_appeal=False,
            movement="GATIA",
            category="combatant",
            sex="M",
            region="Gao",
            birth_year=1990,
            rank="soldat",
            armed=True,
        ),
        person,
        "2019-05-01T12:00:00+00:00",
        "2019-05-01T18:00:30+00:00",
        "screening",
    )
    day = date(2019, 5, 1)
    candidate = received(
        CandidateReceived(
            person_id=person,
            movement="GATIA",
            category="combatant",
            path="reconstituted_forces",
            movement_rank="soldat",
            screening_decision_id="d1",
            effective_on=day,
        ),
        person,
        "2019-05-01T12:00:00+00:00",
        "2019-05-01T17:51:00+00:00",
        "integration",
        caused_by=outcome,
    )
    accepted = received(
        CandidateAccepted(
            person_id=person,
            movement="GATIA",
            path="reconstituted_forces",
            quota_id=None,
            screening_decision_id="d1",
            effective_on=day,
        ),
        person,
        "2019-05-01T12:00:00+00:00",
        "2019-05-01T17:52:00+00:00",
        "integration",
    )
    rank = received(
        RankAllocated(
            person_id=person,
            rule_version="decree-0874",
            movement_rank="soldat",
            years_of_service=3,
            qualification="none",
            rank="soldat de 2e classe",
            command_function="none",
            by_dispute_id=None,
            effective_on=day,
        ),
        person,
        "2019-05-01T12:00:00+00:00",
        "2019-05-01T17:53:00+00:00",
        "integration",
    )
    trainee = received(
        TraineeEnrolled(cohort_id="kati-1", person_id=person, effective_on=day),
        "kati-1",
        "2019-05-01T12:00:00+00:00",
        "2019-05-01T17:53:30+00:00",
        "integration",
    )
    deserted = received(
        ServiceStatusChanged(
            person_id=person, unit="BATFAR-Gao", status="deserted", effective_on=date(2023, 10, 15)
        ),
        person,
        "2023-10-15T12:00:00+00:00",
        "2023-10-16T08:00:00+00:00",
        "integration",
    )
    return [pre, registered, outcome, candidate, accepted, rank, trainee, deserted]  # fmt: skip


async def test_a_path_is_in_causal_order_under_three_arrival_orders_whatever_the_clocks_say(
    tmp_path: Path,
) -> None:
    person = str(uuid.uuid4())
    events = deserter(person)

    results = await in_three_arrival_orders(tmp_path, events, person)

    assert results[0] == results[1] == results[2]
    path = results[0][2]
    assert [s.type.rsplit(".", 1)[1] for s in path.steps] == [
        "PersonPreRegistered", "PersonRegistered", "ScreeningOutcomeDecided", "CandidateReceived",
        "CandidateAccepted", "RankAllocated", "TraineeEnrolled", "ServiceStatusChanged",
    ]  # fmt: skip
    assert path.steps[3].caused_by == events[2].envelope.id


async def test_a_decision_dated_by_day_holds_from_the_registration_it_follows_that_day(
    tmp_path: Path,
) -> None:
    person = str(uuid.uuid4())

    path = (await project(tmp_path, "day", [deserter(person)], person))[2]

    registered_at = datetime(2019, 5, 1, 18, 4, tzinfo=UTC)
    outcome = path.steps[2]
    assert outcome.valid_from == datetime(2019, 5, 1, 12, tzinfo=UTC)
    assert outcome.holds_from == registered_at
    assert [(s.stage, s.since) for s in path.stages[:3]] == [
        ("pre_registered", datetime(2019, 3, 1, 9, tzinfo=UTC)),
        ("registered", registered_at),
        ("screened:integration", registered_at),
    ]


async def test_a_step_dated_before_the_decision_it_rests_on_counts_only_from_that_decision(
    tmp_path: Path,
) -> None:
    person = str(uuid.uuid4())
    events = deserter(person)
    early = received(
        CandidateAccepted(
            person_id=person, movement="GATIA", path="reconstituted_forces", quota_id=None,
            screening_decision_id="d1", effective_on=date(2019, 4, 30),
        ),
        person, "2019-04-30T12:00:00+00:00", "2019-05-01T18:02:00+00:00", "integration",
    )  # fmt: skip
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'early'}.sqlite")
    try:
        projector = Projector(engine)
        await projector.create_schema()
        async with engine.begin() as conn:
            await projector.apply(conn, [*events[:3], early])
        async with engine.connect() as conn:
            before = await programme_figures(conn, as_of=date(2019, 4, 30))
            on_the_day = await programme_figures(conn, as_of=date(2019, 5, 1))
    finally:
        await engine.dispose()

    assert before.funnel.integration.active == 0
    assert before.funnel.pre_registered == 1
    assert on_the_day.funnel.integration.active == 1
