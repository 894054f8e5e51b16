"""Issue 14's findings on reinsertion: volunteers are judged on the region the person's record holds, the
profile is behind the child rule, offsets are bounded, reads of a beneficiary are in the read ledger, every
write on a person is judged on the store in its own transaction, and a child answers as an unknown person."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, update

from ddr_reinsertion.adapters.tables import beneficiaries
from ddr_runtime.auth.roles import Role
from ddr_runtime.eventstore.schema import events, outbox
from ddr_testkit.ledger import ledger_rows

from .conftest import (
    PACKAGE,
    SCREENED_AT,
    Service,
    enrolment,
    eventually,
    outcome,
    payment,
    screened,
    setup_catalogue_and_line,
    stage_of,
    wait_for_stage,
)

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]


def pid() -> str:
    return f"P-{uuid.uuid4().hex[:10]}"


async def a_barred_child(service: Service) -> str:
    """A person enrolled, then screened a child (barred for good, the unpaid rest released)."""
    await setup_catalogue_and_line(service)
    child = pid()
    await screened(service, outcome(child))
    await wait_for_stage(service, child, "waiting")
    await service.officer.ok(f"/beneficiaries/{child}/enrolment", enrolment(), 201)
    await screened(service, outcome(child, track="child_protection"), at=SCREENED_AT)
    await wait_for_stage(service, child, "withdrawn")
    return child


async def test_an_officer_scoped_to_gao_cannot_list_a_kidal_person_as_a_volunteer_by_saying_gao(
    service: Service,
) -> None:
    """Finding 9: reinsertion's volunteers trusted the region in the body."""
    kidal = pid()
    await screened(service, outcome(kidal, track="integration", region="Kidal"))

    async def known() -> bool:
        region: str | None = await service.app.state.queries.region_of(kidal)
        return region == "Kidal"

    await eventually(known)
    gao_officer = service.as_(Role.REINSERTION_OFFICER, Role.RECORDS_OFFICER, regions=("Gao",))
    await service.officer.ok(
        "/rounds",
        {
            "round_id": "r-1",
            "title": "Tour",
            "regions": ["Gao", "Kidal"],
            "size_per_region": 10,
            "opened_on": "2020-02-01",
        },
        201,
    )
    volunteer = {"person_id": kidal, "region": "Gao", "sex": "M", "category": "combatant", "movement": "CMA"}
    stranger = {**volunteer, "person_id": pid()}

    answer = await gao_officer.ok(
        "/rounds/r-1/volunteers", {"listed_on": "2020-02-15", "volunteers": [volunteer, stranger]}
    )

    assert [(i["status"], i["rule"]) for i in answer["items"]] == [
        ("refused", "unknown-beneficiary"),
        ("recorded", None),
    ]
    assert await stage_of(service, kidal) is None


async def test_a_child_s_counselling_profile_answers_as_a_missing_one(service: Service) -> None:
    """Finding 15: reinsertion's profile ignored ``barred``."""
    child = await a_barred_child(service)

    profile = await service.officer.get(f"/beneficiaries/{child}/profile")
    missing = await service.officer.get(f"/beneficiaries/{pid()}/profile")

    assert (profile.status_code, profile.json()["detail"]) == (404, missing.json()["detail"])
    assert "Aljanabandja" not in profile.text


async def test_an_offset_beyond_the_bound_is_a_422_naming_the_offset(service: Service) -> None:
    """Finding 15: offset=1e20 gave a 500 on every list route."""
    answer = await service.officer.get("/beneficiaries", offset="100000000000000000000")

    assert answer.status_code == 422
    assert [e["field"] for e in answer.json()["errors"]] == ["query.offset"]


async def test_reading_a_beneficiary_is_recorded_in_the_read_ledger(service: Service) -> None:
    """Finding 15: reads of a person were recorded only for pathway's paths."""
    person = pid()
    await screened(service, outcome(person))
    await wait_for_stage(service, person, "waiting")

    await service.officer.get(f"/beneficiaries/{person}")
    reads = (await service.auditor.get(f"/reads/{person}")).json()

    assert [(r["reader"], r["route"], r["outcome"]) for r in reads] == [
        ("reinsertion_officer-1", "GET /beneficiaries/{person_id}", "shown")
    ]


def generic(response: httpx.Response, person: str) -> tuple[int, Any]:
    """An answer with the person id it names (and the request's trace id) taken out: what is left must not
    tell one person from another."""
    body = json.loads(response.text.replace(person, "<id>")) if response.content else None
    if isinstance(body, dict):
        body.pop("trace_id", None)
    return response.status_code, body


async def last_written(service: Service) -> tuple[int, int]:
    """The store's last event position and the outbox's last row id (ids are never reused; the relay deletes
    rows once published, so an empty outbox gives 0)."""
    async with service.app.state.runtime.engine.connect() as conn:
        position = (await conn.execute(select(func.max(events.c.position)))).scalar()
        row = (await conn.execute(select(func.max(outbox.c.id)))).scalar()
    return position or 0, row or 0


async def written_since(service: Service, before: tuple[int, int]) -> tuple[int, int]:
    """How many events the store, and how many rows the outbox, gained after ``before``."""
    async with service.app.state.runtime.engine.connect() as conn:
        stored = (await conn.execute(select(func.count()).where(events.c.position > before[0]))).scalar()
        queued = (await conn.execute(select(func.count()).where(outbox.c.id > before[1]))).scalar()
    return stored or 0, queued or 0


def single_writes(person: str) -> list[tuple[Role, str, dict[str, Any]]]:
    """Every write on one person: who makes it, where, with what."""
    return [
        (Role.REINSERTION_OFFICER, f"/beneficiaries/{person}/enrolment", enrolment()),
        (Role.REINSERTION_OFFICER, f"/beneficiaries/{person}/training", {"provider": "FAO", "attended_on": "2020-03-10"}),
        (Role.REINSERTION_OFFICER, f"/beneficiaries/{person}/visits", {"visit_id": "v-1", "outcome": "dropped_out", "visited_on": "2020-06-02"}),
        (Role.REINSERTION_OFFICER, f"/beneficiaries/{person}/exit", {"reason": "withdrawn", "effective_on": "2020-04-01"}),
        (Role.FINANCE_OFFICER, "/disbursements", payment(person, request_id="request-1")),
    ]  # fmt: skip


async def test_a_write_on_a_person_outside_the_callers_regions_is_judged_on_the_store_and_writes_nothing(
    service: Service,
) -> None:
    """Issue 14 item 9: reinsertion's single-person writes checked the caller's regions on the read model,
    before and outside the command's transaction. Here the read model says Gao (as a projection behind the
    store, or being rebuilt, may) while the store holds Kidal: every write by a caller scoped to Gao answers
    as for an unknown person, and neither the store nor the outbox gains a row."""
    await setup_catalogue_and_line(service)
    active, waiting, unknown = pid(), pid(), pid()
    await screened(service, outcome(active, region="Kidal"), outcome(waiting, region="Kidal"))
    await wait_for_stage(service, waiting, "waiting")
    await wait_for_stage(service, active, "waiting")
    await service.officer.ok(f"/beneficiaries/{active}/enrolment", enrolment(), 201)
    async with service.app.state.runtime.engine.begin() as conn:
        await conn.execute(
            update(beneficiaries).where(beneficiaries.c.person_id.in_([active, waiting])).values(region="Gao")
        )
    gao = {
        role: service.as_(role, Role.RECORDS_OFFICER, regions=("Gao",))
        for role in (Role.REINSERTION_OFFICER, Role.FINANCE_OFFICER)
    }
    before = await last_written(service)

    answers = {}
    for role, path, body in single_writes(waiting)[:1] + single_writes(active)[1:]:
        person = waiting if path.endswith("/enrolment") else active
        outside = generic(await gao[role].post(path, body), person)
        missing_path = path.replace(person, unknown)
        missing = json.loads(json.dumps(body).replace(person, unknown))
        answers[path.replace(person, "<id>")] = (
            outside,
            generic(await gao[role].post(missing_path, missing), unknown),
        )

    assert {path: outside for path, (outside, _) in answers.items()} == {
        path: missing for path, (_, missing) in answers.items()
    }
    assert {outside[0] for outside, _ in answers.values()} == {404}
    assert await written_since(service, before) == (0, 0)


ROLES_HERE = (
    Role.REINSERTION_OFFICER, Role.FINANCE_OFFICER, Role.CNDDR_OFFICER, Role.AUDITOR, Role.DONOR,
)  # fmt: skip
"""Every role with a route here; none of them sees children."""


async def test_a_child_gets_exactly_the_answer_an_unknown_person_gets_on_every_single_person_route(
    service: Service,
) -> None:
    """Issue 14 item 10: a child's refusal must not tell the caller the person is a child: on every route on
    one person (reads and writes), for every role, the same status, problem type and body as an unknown
    person's."""
    child, unknown = await a_barred_child(service), pid()
    reads = [f"/beneficiaries/{child}", f"/beneficiaries/{child}/profile"]

    differences = []
    for role in ROLES_HERE:
        caller = service.as_(role, Role.RECORDS_OFFICER)
        for path in reads:
            childs = generic(await caller.get(path), child)
            missing = generic(await caller.get(path.replace(child, unknown)), unknown)
            if childs != missing:
                differences.append((role, "GET " + path, childs, missing))
        for _, path, body in single_writes(child):
            childs = generic(await caller.post(path, body), child)
            missing_body = json.loads(json.dumps(body).replace(child, unknown))
            missing = generic(await caller.post(path.replace(child, unknown), missing_body), unknown)
            if childs != missing:
                differences.append((role, "POST " + path, childs, missing))

    assert differences == []


def item_answers(answer: dict[str, Any], people: list[str]) -> list[dict[str, Any]]:
    """Each item's answer without its index and with the person it names taken out."""
    return [
        {k: v for k, v in json.loads(json.dumps(item).replace(person, "<id>")).items() if k != "index"}
        for item, person in zip(answer["items"], people, strict=True)
    ]


async def test_a_child_gets_exactly_the_answer_an_unknown_person_gets_on_the_bulk_enrolment_and_payment_routes(
    service: Service,
) -> None:
    """Issue 14 item 10, on the bulk routes: a child's item is refused exactly as an unknown person's."""
    child, unknown = await a_barred_child(service), pid()
    people = [child, unknown]

    enrolled = await service.officer.ok(
        "/enrolments", {"enrolments": [{"person_id": p, **enrolment()} for p in people]}
    )
    paid = await service.finance.ok(
        "/disbursements/batch", {"disbursements": [payment(p, request_id=f"req-{p}") for p in people]}
    )

    enrolments, payments = item_answers(enrolled, people), item_answers(paid, people)
    assert enrolments[0] == enrolments[1]
    assert enrolments[0]["status"] == "refused"
    assert payments[0] == payments[1]
    assert payments[0]["status"] == "refused"


async def stream_ids_written_since(service: Service, before: tuple[int, int]) -> set[str]:
    async with service.app.state.runtime.engine.connect() as conn:
        rows = await conn.execute(select(events.c.stream_id).where(events.c.position > before[0]))
        return set(rows.scalars())


@pytest.mark.parametrize("regions", [(), ("Gao",)], ids=["national", "scoped-to-gao"])
async def test_a_child_on_a_volunteer_list_answers_as_a_stranger_and_is_in_no_list_or_count(
    service: Service, regions: tuple[str, ...]
) -> None:
    """Issue 14 review item 3: a child on a volunteer list was refused ``unknown-beneficiary`` where a person
    this service never heard of is listed, so a nationally scoped officer could tell a child. Now the child's
    item is exactly a stranger's, for every officer who lists volunteers (national and regional), and nothing
    is recorded of the child: no listing, no place taken in the round, no row in any list."""
    child, stranger = await a_barred_child(service), pid()
    await service.officer.ok(
        "/rounds",
        {"round_id": "r-1", "title": "Tour", "regions": ["Gao", "Kidal"], "size_per_region": 10, "opened_on": "2020-02-01"},
        201,
    )  # fmt: skip
    volunteer = {"region": "Gao", "sex": "M", "category": "combatant", "movement": "CMA"}
    officer = service.as_(Role.REINSERTION_OFFICER, Role.RECORDS_OFFICER, regions=regions)
    before = await last_written(service)

    answer = await officer.ok(
        "/rounds/r-1/volunteers",
        {"listed_on": "2020-02-15", "volunteers": [{**volunteer, "person_id": p} for p in (child, stranger)]},
    )

    items = item_answers(answer, [child, stranger])
    assert items[0] == items[1]
    assert (answer["recorded"], items[0]["status"], items[0]["result"]) == (2, "recorded", "Gao")
    assert {"beneficiary-" + child, "beneficiary-" + stranger} & await stream_ids_written_since(
        service, before
    ) == {"beneficiary-" + stranger}

    async def stranger_shown() -> bool:
        found = await service.officer.get("/beneficiaries", stage="waiting")
        return stranger in {row["person_id"] for row in found.json()}

    await eventually(stranger_shown)
    the_round = await service.officer.read("/rounds/r-1")
    listed = {region["region"]: region["listed"] for region in the_round["regions"]}
    assert listed == {"Gao": 1, "Kidal": 0}
    for caller in (service.officer, officer, service.auditor):
        rows = (await caller.get("/beneficiaries")).json()
        assert child not in {row["person_id"] for row in rows}
    assert await stage_of(service, child) == "withdrawn"


async def test_a_round_or_package_beyond_the_callers_regions_is_refused_in_its_transaction_writing_nothing(
    service: Service,
) -> None:
    """Issue 14 review item 1: a reinsertion officer scoped to Gao opened rounds of any region and published
    packages (which apply to every region). Each is refused with one generic 403, whether the round id is
    free or taken by a round of another region, and neither the store nor the outbox gains a row."""
    round_of = {"title": "Tour", "size_per_region": 10, "opened_on": "2020-02-01"}
    await service.officer.ok("/rounds", {**round_of, "round_id": "r-kidal", "regions": ["Kidal"]}, 201)
    gao = service.as_(Role.REINSERTION_OFFICER, Role.RECORDS_OFFICER, regions=("Gao",))
    before = await last_written(service)

    refused = [
        await gao.post("/rounds", {**round_of, "round_id": "r-new", "regions": ["Kidal"]}),
        await gao.post("/rounds", {**round_of, "round_id": "r-both", "regions": ["Gao", "Kidal"]}),
        await gao.post("/rounds", {**round_of, "round_id": "r-kidal", "regions": ["Gao"]}),
        await gao.post("/packages", {**PACKAGE, "package_id": "pk-gao"}),
    ]

    assert {generic(answer, "-")[0] for answer in refused} == {403}
    assert len({json.dumps(generic(answer, "-")[1]["detail"]) for answer in refused}) == 1
    assert await written_since(service, before) == (0, 0)
    assert (
        await gao.post("/rounds", {**round_of, "round_id": "r-gao", "regions": ["Gao"]})
    ).status_code == 201


async def test_the_read_ledger_is_told_which_persons_read_are_children_and_an_auditor_sees_a_child_as_unknown(
    service: Service,
) -> None:
    """Issue 14 review item 4: reinsertion recorded reads without saying which person is a child. Now every
    read says so: reads of a child by every role here are answered to an auditor exactly as those of an id
    nobody knows, and the ledger marks the child's rows as a child's and an adult's as not."""
    child, unknown, adult = await a_barred_child(service), pid(), pid()
    await screened(service, outcome(adult))
    await wait_for_stage(service, adult, "waiting")
    for role in ROLES_HERE:
        caller = service.as_(role, Role.RECORDS_OFFICER)
        for person in (child, unknown, adult):
            await caller.get(f"/beneficiaries/{person}")
            await caller.get(f"/beneficiaries/{person}/profile")
        await caller.get("/beneficiaries")

    seen = {p: (await service.auditor.get(f"/reads/{p}")).json() for p in (child, unknown, adult)}

    def without_times(rows: list[dict[str, Any]], person: str) -> list[dict[str, Any]]:
        return [{k: v for k, v in row.items() if k not in ("read_at", "person_id")} for row in rows]

    assert without_times(seen[child], child) == without_times(seen[unknown], unknown)
    assert "shown" in {row["outcome"] for row in seen[adult]}
    engine = service.app.state.read_ledger.engine
    assert {told for _, _, told in await ledger_rows(engine, child)} == {True}
    assert {told for _, _, told in await ledger_rows(engine, adult)} == {False}


async def test_a_child_on_a_volunteer_list_holds_a_place_for_the_items_after_it_as_a_stranger_would(
    service: Service,
) -> None:
    """Issue 14, item 5 (residual): a child's item took no place, so in a region one place short of full the
    item after a child was listed where the item after a stranger was refused ``round_region_full``. Both
    lists now answer alike, item by item; the child is still recorded nowhere."""
    child = await a_barred_child(service)
    for round_id in ("r-1", "r-2"):
        await service.officer.ok(
            "/rounds",
            {"round_id": round_id, "title": "Tour", "regions": ["Gao"], "size_per_region": 1, "opened_on": "2020-02-01"},
            201,
        )  # fmt: skip
    volunteer = {"region": "Gao", "sex": "M", "category": "combatant", "movement": "CMA"}
    with_child, with_stranger = [child, pid()], [pid(), pid()]

    def listing(people: list[str]) -> dict[str, Any]:
        return {"listed_on": "2020-02-15", "volunteers": [{**volunteer, "person_id": p} for p in people]}

    first = await service.officer.ok("/rounds/r-1/volunteers", listing(with_child))
    second = await service.officer.ok("/rounds/r-2/volunteers", listing(with_stranger))

    assert item_answers(first, with_child) == item_answers(second, with_stranger)
    assert [item["status"] for item in first["items"]] == ["recorded", "refused"]
    assert first["items"][1]["rule"] == "round_region_full"
    assert await stage_of(service, child) == "withdrawn"
