"""Issue 14 in screening: a caller acts only on cases within its remit, checked before deciding in the same
transaction (finding 4); a child's case answers every role but child protection exactly like a missing one,
and counts of children and of medical and vetting categories are disclosed in steps (findings 5 and 10);
medical and vetting detail only to the roles entitled (11); the what-if within the caller's regions (9);
bounded paging and a ledger of every read of a person's case (15)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from ddr_runtime.auth.roles import Role
from ddr_testkit.ledger import ledger_rows
from ddr_testkit.services import Api

from .conftest import Env
from .support import case_of, eventually, register

pytestmark = [pytest.mark.kafka]
SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def new_person() -> str:
    return str(uuid.uuid4())


def generic(response: httpx.Response, person: str) -> tuple[int, Any]:
    """An answer with the person id it names (and the request's own trace id) taken out: what is left must not
    tell one case from another."""
    body = json.loads(response.text.replace(person, "<id>"))
    body.pop("trace_id", None)
    return response.status_code, body


async def opened(env: Env, *people: str) -> None:
    reads = env.app.state.screening.reads

    async def all_open() -> bool:
        return all([await reads.case_row(person) is not None for person in people])

    await eventually(all_open)


async def events_of(env: Env, person: str) -> list[str]:
    return [r.envelope.type for r in await env.app.state.runtime.store.read_stream(person)]


async def register_child(env: Env, child: str, region: str) -> None:
    year = datetime.now(UTC).year - 15
    await register(env.registration, child, region=region, cercle=region, category="child", birth_year=year)


async def kidal_adult_and_gao_child(env: Env) -> tuple[str, str]:
    """An adult registered in Kidal, examined unfit and appealed by national staff; a child in Gao."""
    adult, child = new_person(), new_person()
    await register(env.registration, adult, region="Kidal", cercle="Kidal")
    await register_child(env, child, "Gao")
    await opened(env, adult, child)
    exam = await env.as_role(Role.EXAMINER).ok(
        f"/cases/{adult}/examinations", {"result": "unfit"}, status=201
    )
    await env.as_role(Role.SCREENING_OFFICER).ok(
        f"/cases/{adult}/appeals", {"decision_id": exam["decision_id"]}, status=201
    )
    return adult, child


async def test_an_examiner_scoped_to_gao_records_nothing_on_a_kidal_case(env: Env) -> None:
    """Finding 4: "unfit, TB positive" on a Kidal case by a Gao examiner answered 404 but committed."""
    kidal = new_person()
    await register(env.registration, kidal, region="Kidal", cercle="Kidal")
    await opened(env, kidal)
    before = await events_of(env, kidal)
    examiner = env.as_role(Role.EXAMINER, regions=["Gao"])

    answer = await examiner.post(
        f"/cases/{kidal}/examinations", {"result": "unfit", "details": "TB positive"}
    )

    assert answer.status_code == 404
    assert await events_of(env, kidal) == before


# Each single write, as a caller scoped to Gao, on the Kidal adult and on the Gao child.
WRITES: list[tuple[str, Role, dict[str, Any]]] = [
    ("examinations", Role.EXAMINER, {"result": "unfit", "details": "TB positive"}),
    ("re-examination-requests", Role.SCREENING_OFFICER, {"reason": "second opinion"}),
    ("vetting-decisions", Role.VETTING_OFFICER, {"status": "excluded", "reason_code": "allegation"}),
    ("membership-decisions", Role.SCREENING_OFFICER, {"verified": False, "reason_code": "unknown"}),
    ("handling-tests", Role.SCREENING_OFFICER, {"passed": False}),
    ("reinsertion-choice", Role.SCREENING_OFFICER, {}),
    ("appeals", Role.SCREENING_OFFICER, {"decision_id": "DECISION"}),
    ("appeals/APPEAL/decision", Role.SCREENING_OFFICER, {"overturned": True, "replacement": "fit"}),
]


@SQLITE_ONLY
@pytest.mark.parametrize(("path", "role", "body"), WRITES, ids=[w[0].replace("/", "-") for w in WRITES])
async def test_a_write_outside_the_callers_region_or_on_a_childs_case_changes_nothing_and_answers_like_an_unknown_case(
    env: Env, path: str, role: Role, body: dict[str, Any]
) -> None:
    """Findings 4 and 5: checked before deciding; the refusal never says "child-not-screened"."""
    adult, child = await kidal_adult_and_gao_child(env)
    history = (await env.as_role(Role.AUDITOR).get(f"/cases/{adult}")).json()["decisions"]
    appeal = next(d for d in history if d["type"] == "AppealLodged")
    path = path.replace("APPEAL", appeal["appeal_id"])
    body = {k: appeal["decision_id"] if v == "DECISION" else v for k, v in body.items()}
    caller = env.as_role(role, regions=["Gao"])
    before = {person: await events_of(env, person) for person in (adult, child)}
    unknown = new_person()

    missing = generic(await caller.post(f"/cases/{unknown}/{path}", body), unknown)
    other_region = generic(await caller.post(f"/cases/{adult}/{path}", body), adult)
    childs = generic(await caller.post(f"/cases/{child}/{path}", body), child)

    assert missing[0] == 404
    assert other_region == childs == missing
    assert {person: await events_of(env, person) for person in (adult, child)} == before


@SQLITE_ONLY
@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("handover", {"receiving_actor": "UNICEF Gao"}),
        ("age-assessments", {"method": "interview", "youngest_age": 14}),
    ],
)
async def test_child_protection_scoped_to_gao_acts_on_no_kidal_case(
    env: Env, path: str, body: dict[str, Any]
) -> None:
    """Finding 4, for child protection's writes."""
    child = new_person()
    await register_child(env, child, "Kidal")
    await opened(env, child)
    before = await events_of(env, child)
    protection = env.as_role(Role.CHILD_PROTECTION, regions=["Gao"])
    unknown = new_person()

    refused = generic(await protection.post(f"/cases/{child}/{path}", body), child)

    assert refused == generic(await protection.post(f"/cases/{unknown}/{path}", body), unknown)
    assert refused[0] == 404
    assert await events_of(env, child) == before


BULKS: list[tuple[str, Role, dict[str, Any]]] = [
    ("/examinations/bulk", Role.EXAMINER, {"result": "unfit", "details": "TB positive"}),
    ("/handling-tests/bulk", Role.SCREENING_OFFICER, {"passed": False}),
]


@SQLITE_ONLY
@pytest.mark.parametrize(("path", "role", "item"), BULKS, ids=["examinations", "handling-tests"])
async def test_each_bulk_item_outside_the_callers_remit_is_refused_like_an_unknown_case_and_changes_nothing(
    env: Env, path: str, role: Role, item: dict[str, Any]
) -> None:
    """Findings 4 and 5: every item is checked; one refusal per item, identical to an unknown id's."""
    adult, child = await kidal_adult_and_gao_child(env)
    gao = new_person()
    await register(env.registration, gao, region="Gao", cercle="Gao")
    await opened(env, gao)
    before = {person: await events_of(env, person) for person in (adult, child)}
    unknown = new_person()
    people = [gao, adult, child, unknown]

    answer = await env.as_role(role, regions=["Gao"]).ok(
        path, {"items": [dict(item, person_id=p) for p in people]}
    )

    refusals = [
        {k: v for k, v in json.loads(json.dumps(i).replace(person, "<id>")).items() if k != "index"}
        for i, person in zip(answer["items"], people, strict=True)
        if i["status"] == "refused"
    ]
    assert [i["status"] for i in answer["items"]] == ["recorded", "refused", "refused", "refused"]
    assert refusals[0] == refusals[1] == refusals[2]
    assert refusals[0]["rule"] == "unknown-case"
    assert {person: await events_of(env, person) for person in (adult, child)} == before


@SQLITE_ONLY
async def test_child_protection_alone_assesses_ages_in_bulk_and_its_items_outside_gao_are_refused_like_unknown_ones(
    env: Env,
) -> None:
    """Findings 4 and 5: the age-assessment upload, per item."""
    gao, kidal = new_person(), new_person()
    await register(env.registration, gao, region="Gao", cercle="Gao", birth_kind="unknown", birth_year=None)
    await register(
        env.registration, kidal, region="Kidal", cercle="Kidal", birth_kind="unknown", birth_year=None
    )
    await opened(env, gao, kidal)
    unknown = new_person()
    items = {
        "items": [{"person_id": p, "method": "interview", "youngest_age": 30} for p in (gao, kidal, unknown)]
    }

    officer = await env.as_role(Role.SCREENING_OFFICER).post("/age-assessments/bulk", items)
    answer = await env.as_role(Role.CHILD_PROTECTION, regions=["Gao"]).ok("/age-assessments/bulk", items)

    assert officer.status_code == 403
    assert [i["status"] for i in answer["items"]] == ["recorded", "refused", "refused"]
    assert answer["items"][1]["detail"].replace(kidal, "<id>") == answer["items"][2]["detail"].replace(
        unknown, "<id>"
    )
    # the assessment concluded an adult in Gao only:
    assert (await env.as_role(Role.AUDITOR).get(f"/cases/{gao}")).status_code == 200
    assert (await env.as_role(Role.AUDITOR).get(f"/cases/{kidal}")).status_code == 404


async def test_a_childs_case_answers_every_role_but_child_protection_exactly_like_a_missing_one(
    env: Env,
) -> None:
    """Findings 5 and 10: no more {"restricted": true}."""
    child = new_person()
    await register(env.registration, child, category="child", birth_year=datetime.now(UTC).year - 15)
    protection = env.as_role(Role.CHILD_PROTECTION)
    await case_of(protection, child)
    unknown = new_person()
    callers = [
        env.as_role(Role.SCREENING_OFFICER),
        env.as_role(Role.EXAMINER),
        env.as_role(Role.VETTING_OFFICER),
        env.as_role(Role.AUDITOR),
        env.as_role(Role.MOVEMENT_LIAISON, movement="MNLA"),
    ]

    answers = [generic(await c.get(f"/cases/{child}"), child) for c in callers]
    missing = [generic(await c.get(f"/cases/{unknown}"), unknown) for c in callers]

    assert answers == missing
    assert {status for status, _ in answers} == {404}
    assert (await protection.get(f"/cases/{child}")).json()["child"] is True


@SQLITE_ONLY
async def test_a_screening_officer_writes_no_age_assessment(env: Env) -> None:
    """Finding 5: only child protection assesses age."""
    person = new_person()
    await register(env.registration, person, birth_kind="unknown", birth_year=None)
    await opened(env, person)
    before = await events_of(env, person)

    answer = await env.as_role(Role.SCREENING_OFFICER).post(
        f"/cases/{person}/age-assessments", {"method": "interview", "youngest_age": 30}
    )

    assert answer.status_code == 403
    assert await events_of(env, person) == before


@SQLITE_ONLY
async def test_counts_of_children_reach_other_roles_only_through_disclose_count(env: Env) -> None:
    """Findings 5 and 10: one overdue child, two children, an adult: no small count for the auditor."""
    three_days_ago = datetime.now(UTC) - timedelta(days=3)
    children = [new_person(), new_person()]
    adult = new_person()
    for child in children:
        await register(env.registration, child, category="child", birth_year=2010, at=three_days_ago)
    await register(env.registration, adult)
    await opened(env, adult, *children)
    auditor = env.as_role(Role.AUDITOR)

    figures = (await auditor.get("/figures")).json()
    overdue = (await auditor.get("/children/overdue-handovers")).json()
    handover_queue = (await auditor.get("/queues/handover")).json()
    protection = (await env.as_role(Role.CHILD_PROTECTION).get("/children/overdue-handovers")).json()

    assert (figures["cases"], figures["children_and_possible_children"]) == (1, None)
    assert overdue == {"overdue": None}
    assert (handover_queue["total"], handover_queue["items"]) == (None, [])
    assert protection["overdue"] == 2


@SQLITE_ONLY
async def test_metrics_without_a_token_carry_no_count_of_children(env: Env) -> None:
    """Finding 5 and 15: /metrics shows operational metrics only."""
    child = new_person()
    await register(env.registration, child, category="child", birth_year=2010)
    await opened(env, child)

    public = (await env.client.get("/metrics")).text
    operator = (await env.as_role(Role.OPERATOR).get("/metrics/all")).text

    assert "ddr_screening_children" not in public
    assert "ddr_screening_children_identified_total" in operator


async def examined_and_listed(env: Env) -> str:
    """An adult examined temporarily unfit (TB) and held by the vetting list (allegation HR-7)."""
    person = new_person()
    await register(env.registration, person)
    await opened(env, person)
    await env.as_role(Role.EXAMINER).ok(
        f"/cases/{person}/examinations", {"result": "temporarily_unfit", "details": "TB"}, status=201
    )
    await env.as_role(Role.VETTING_OFFICER).ok(
        "/vetting-lists",
        {
            "source_ref": "HRDDP-1",
            "entries": [{"person_id": person, "allegation_ref": "HR-7", "status": "alleged"}],
        },
        status=201,
    )
    return person


@SQLITE_ONLY
async def test_medical_detail_reaches_only_examiners_and_auditors(env: Env) -> None:
    """Finding 11: a screening officer sees "unfit", never temporarily_unfit nor the findings."""
    person = await examined_and_listed(env)

    officer = (await env.as_role(Role.SCREENING_OFFICER).get(f"/cases/{person}")).json()
    auditor = (await env.as_role(Role.AUDITOR).get(f"/cases/{person}")).json()

    assert officer["medical"] == "unfit"
    assert "temporarily_unfit" not in json.dumps(officer)
    assert "TB" not in json.dumps(officer)
    assert auditor["medical"] == "temporarily_unfit"
    assert [d["details"] for d in auditor["decisions"] if d["type"] == "MedicalExamined"] == ["TB"]


@SQLITE_ONLY
async def test_vetting_detail_reaches_only_vetting_officers_and_auditors(env: Env) -> None:
    """Finding 11: allegation_ref only to sees_vetting_detail."""
    person = await examined_and_listed(env)

    officer = (await env.as_role(Role.SCREENING_OFFICER).get(f"/cases/{person}")).json()
    examiner = (await env.as_role(Role.EXAMINER).get(f"/cases/{person}")).json()
    vetting = (await env.as_role(Role.VETTING_OFFICER).get(f"/cases/{person}")).json()

    assert officer["vetting"] == "held"
    assert "HR-7" not in json.dumps(officer)
    assert "HR-7" not in json.dumps(examiner)
    assert [d["allegation_ref"] for d in vetting["decisions"] if d["type"] == "VettingDecided"] == ["HR-7"]


@SQLITE_ONLY
async def test_the_what_if_evaluates_only_the_cases_in_the_callers_regions(env: Env) -> None:
    """Finding 9: the regions claim, whatever the request."""
    gao, kidal = new_person(), new_person()
    await register(env.registration, gao, region="Gao", cercle="Gao")
    await register(env.registration, kidal, region="Kidal", cercle="Kidal")
    await opened(env, gao, kidal)
    proposal = {
        "rule_version": "strict",
        "effective_from": "2030-01-01",
        "description": "nobody is eligible",
        "integration_categories": [],
        "reinsertion_categories": [],
    }

    answer = await env.as_role(Role.SCREENING_OFFICER, regions=["Gao"]).ok("/rule-sets/what-if", proposal)

    assert answer["cases_evaluated"] == 1
    assert [c["person_id"] for c in answer["changed_cases"]] == [gao]


@SQLITE_ONLY
@pytest.mark.parametrize("path", ["/queues/outcome", "/outcomes"])
async def test_an_offset_beyond_the_bound_is_a_422_naming_it(env: Env, path: str) -> None:
    """Finding 15: offset=1e20 gave a 500."""
    answer = await env.as_role(Role.AUDITOR).get(path, offset="100000000000000000000")

    assert answer.status_code == 422
    assert "offset" in answer.text


@SQLITE_ONLY
async def test_every_read_of_a_case_shown_or_refused_is_in_the_read_ledger(env: Env) -> None:
    """Finding 15: who read this person's case, when, through which route and why."""
    child = new_person()
    await register(env.registration, child, category="child", birth_year=2010)
    await opened(env, child)
    officer = env.as_role(Role.SCREENING_OFFICER)
    protection = env.as_role(Role.CHILD_PROTECTION)

    await officer.client.get(f"/cases/{child}", headers={**officer.headers, "X-Purpose": "case review"})
    await protection.get(f"/cases/{child}")
    await protection.get("/queues/handover")
    ledger = (await env.as_role(Role.AUDITOR, Role.CHILD_PROTECTION).get(f"/reads/{child}")).json()
    # To an auditor without child protection, a child's record shown is no read at all (the runtime's rule).
    plain = (await env.as_role(Role.AUDITOR).get(f"/reads/{child}")).json()

    assert [(r["route"], r["outcome"], r["reader_roles"], r["purpose"]) for r in ledger] == [
        ("GET /cases/{person_id}", "not_visible", ["screening_officer"], "case review"),
        ("GET /cases/{person_id}", "shown", ["child_protection"], None),
        ("GET /queues/{kind}", "shown", ["child_protection"], None),
    ]
    assert [(r["outcome"], r["reader_roles"]) for r in plain] == [("not_visible", ["screening_officer"])]


@SQLITE_ONLY
async def test_a_decision_answers_with_the_cases_content_location_and_is_a_recorded_read(env: Env) -> None:
    """Finding 15 and the idempotency rule: a write answering a case names it, and a replay reads it anew."""
    person = new_person()
    await register(env.registration, person)
    await opened(env, person)
    examiner: Api = env.as_role(Role.EXAMINER)

    first = await examiner.post(f"/cases/{person}/examinations", {"result": "fit"}, idempotency_key="exam-1")
    again = await examiner.post(f"/cases/{person}/examinations", {"result": "fit"}, idempotency_key="exam-1")
    ledger = (await env.as_role(Role.AUDITOR).get(f"/reads/{person}")).json()

    assert first.status_code == again.status_code == 201
    assert first.headers["content-location"] == f"/cases/{person}"
    assert again.headers["idempotent-replayed"] == "true"
    assert (await examiner.get(f"/cases/{person}")).json()["examinations"] == 1
    assert [(r["route"], r["outcome"]) for r in ledger] == [
        ("POST /cases/{person_id}/examinations", "shown"),  # the answer shows the case
        ("GET /cases/{person_id}", "shown"),  # the replay reads it again
    ]


def rule_set_body(version: str) -> dict[str, Any]:
    return {
        "rule_version": version,
        "effective_from": "2030-01-01",
        "description": "a proposal",
        "integration_categories": ["combatant"],
        "reinsertion_categories": ["associated"],
    }


async def test_a_screening_officer_scoped_to_one_region_publishes_no_rule_set(env: Env) -> None:
    """Issue 14 item 8: an officer scoped to Gao published a rule set that applies programme-wide; only a
    token of every region may (403 otherwise, and nothing published)."""
    auditor = env.as_role(Role.AUDITOR)
    before = (await auditor.get("/rule-sets")).json()

    refused = await env.as_role(Role.SCREENING_OFFICER, regions=["Gao"]).post(
        "/rule-sets", rule_set_body("gao-2030")
    )

    assert refused.status_code == 403
    assert (await auditor.get("/rule-sets")).json() == before


async def test_a_vetting_officer_scoped_to_one_region_publishes_no_vetting_list(env: Env) -> None:
    """Issue 14 item 8: the vetting list applies programme-wide; a vetting officer scoped to Gao is refused
    (403) and no version is published."""
    auditor = env.as_role(Role.AUDITOR)
    before = (await auditor.get("/vetting-lists")).json()

    refused = await env.as_role(Role.VETTING_OFFICER, regions=["Gao"]).post(
        "/vetting-lists", {"source_ref": "gao-list", "entries": []}
    )

    assert refused.status_code == 403
    assert (await auditor.get("/vetting-lists")).json() == before


async def adult_with_an_age_decision(env: Env) -> tuple[str, str]:
    """An adult of Gao registered without a birth date, whose age child protection assessed (adult)."""
    adult = new_person()
    await register(env.registration, adult, region="Gao", cercle="Gao", birth_kind="unknown", birth_year=None)
    await opened(env, adult)
    await env.as_role(Role.CHILD_PROTECTION).ok(
        f"/cases/{adult}/age-assessments", {"method": "interview", "youngest_age": 30}, status=201
    )
    history = (await env.as_role(Role.AUDITOR).get(f"/cases/{adult}")).json()["decisions"]
    return adult, next(d["decision_id"] for d in history if d["type"] == "AgeAssessed")


def refusal_of(response: httpx.Response) -> tuple[int, Any]:
    """A refusal without what names the request (its path, its trace id)."""
    body = response.json()
    return response.status_code, {k: v for k, v in body.items() if k not in ("instance", "trace_id")}


async def test_a_screening_officer_appealing_an_age_decision_gets_the_refusal_of_a_route_it_may_not_use(
    env: Env,
) -> None:
    """Issue 14 item 8: appeals of age decisions belong to child protection (the age assessment and its
    appeal sit with it); a screening officer is refused exactly as on the age-assessment route, and nothing
    is lodged."""
    adult, age_decision = await adult_with_an_age_decision(env)
    officer = env.as_role(Role.SCREENING_OFFICER, regions=["Gao"])
    before = await events_of(env, adult)

    appeal = await officer.post(f"/cases/{adult}/appeals", {"decision_id": age_decision})
    route_refused = await officer.post(
        f"/cases/{adult}/age-assessments", {"method": "interview", "youngest_age": 15}
    )

    assert refusal_of(appeal) == refusal_of(route_refused)
    assert appeal.status_code == 403
    assert await events_of(env, adult) == before


async def test_child_protection_lodges_and_decides_the_appeal_of_an_adult_s_age_decision(env: Env) -> None:
    """Issue 14 item 8: the appeal of an age decision is child protection's, on an adult's case too."""
    adult, age_decision = await adult_with_an_age_decision(env)
    protection = env.as_role(Role.CHILD_PROTECTION, regions=["Gao"])

    lodged = await protection.ok(f"/cases/{adult}/appeals", {"decision_id": age_decision}, status=201)
    await protection.ok(
        f"/cases/{adult}/appeals/{lodged['appeal_id']}/decision", {"overturned": False}, status=201
    )

    history = (await env.as_role(Role.AUDITOR).get(f"/cases/{adult}")).json()["decisions"]
    assert [(d["type"], d["decision_kind"]) for d in history if d["type"].startswith("Appeal")] == [
        ("AppealLodged", "age"),
        ("AppealDecided", "age"),
    ]


@pytest.mark.parametrize("reader", [Role.VETTING_OFFICER, Role.AUDITOR])
async def test_a_regional_reader_counts_only_the_vetting_entries_of_its_regions(
    env: Env, reader: Role
) -> None:
    """Issue 14 review item 2: a vetting officer scoped to one region read the whole vetting list's count.
    Each reader of the list (vetting officer, auditor) scoped to Gao now counts the entries of Gao's open
    adult cases alone (not Kidal's, not a child's, not a person whose case is not open); scoped to every
    region, all of them."""
    gao, kidal, child, unopened = new_person(), new_person(), new_person(), new_person()
    await register(env.registration, gao, region="Gao", cercle="Gao")
    await register(env.registration, kidal, region="Kidal", cercle="Kidal")
    await register_child(env, child, "Gao")
    await opened(env, gao, kidal, child)
    entries = [
        {"person_id": person, "allegation_ref": f"HR-{n}", "status": "alleged"}
        for n, person in enumerate((gao, kidal, child, unopened))
    ]
    await env.as_role(Role.VETTING_OFFICER).ok(
        "/vetting-lists", {"source_ref": "HRDDP-12", "entries": entries}, status=201
    )

    regional = await env.as_role(reader, regions=["Gao"]).get("/vetting-lists")
    national = await env.as_role(reader).get("/vetting-lists")

    assert [(v["list_version"], v["entries"]) for v in regional.json()] == [(1, 1)]
    assert [(v["list_version"], v["entries"]) for v in national.json()] == [(1, 4)]


async def test_the_read_ledger_is_told_which_cases_read_are_childrens_and_hides_only_a_childs_reads(
    env: Env,
) -> None:
    """Issue 14 review item 4: screening recorded reads without saying which case is a child's, so the ledger
    guessed from the reader's roles: a reader holding child protection beside another role was hidden from
    auditors reading an adult too. Now every read says: an auditor sees that reader's read of the adult,
    never its read of the child."""
    child, adult = new_person(), new_person()
    await register_child(env, child, "Gao")
    await register(env.registration, adult, region="Gao", cercle="Gao")
    await opened(env, child, adult)
    both = env.as_role(Role.SCREENING_OFFICER, Role.CHILD_PROTECTION)
    for person in (child, adult):
        assert (await both.get(f"/cases/{person}")).status_code == 200
        await env.as_role(Role.SCREENING_OFFICER).get(f"/cases/{person}")
    auditor = env.as_role(Role.AUDITOR)

    seen = {person: (await auditor.get(f"/reads/{person}")).json() for person in (child, adult)}

    assert [(r["reader_roles"], r["outcome"]) for r in seen[child]] == [
        (["screening_officer"], "not_visible")
    ]
    assert (["child_protection", "screening_officer"], "shown") in [
        (r["reader_roles"], r["outcome"]) for r in seen[adult]
    ]
    engine = env.app.state.read_ledger.engine
    assert {told for _, _, told in await ledger_rows(engine, child)} == {True}
    assert {told for _, _, told in await ledger_rows(engine, adult)} == {False}
