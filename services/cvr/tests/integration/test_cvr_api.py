"""The CVR service over HTTP, on PostgreSQL and SQLite, with a real Kafka broker (own topic namespace)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import FastAPI

from ddr_contracts.envelope import ENCRYPTED_PREFIX
from ddr_contracts.registration import PersonMergedInto, PersonPreRegistered
from ddr_cvr.bootstrap import build_app
from ddr_cvr.domain.participants import participant_stream
from ddr_cvr.service_layer.rebuild import rebuild_read_model
from ddr_cvr.service_layer.unit import Cvr
from ddr_runtime.auth.issuer import DevelopmentTokenIssuer
from ddr_runtime.auth.roles import Role
from ddr_runtime.auth.tokens import TokenVerifier
from ddr_runtime.config import Settings
from ddr_testkit.upstream import UpstreamService, create_namespace_topics, new_namespace

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]

MEMBERS = ["chair-1", "member-2", "member-3"]


@pytest.fixture(scope="module")
def issuer() -> DevelopmentTokenIssuer:
    return DevelopmentTokenIssuer(Ed25519PrivateKey.generate(), issuer="test", audience="test")


@pytest.fixture(params=["postgres", "sqlite"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'cvr.sqlite'}"
    url: str = request.getfixturevalue("fresh_postgres_database")
    return url


@pytest.fixture
def settings(database_url: str, kafka_bootstrap_servers: str, tmp_path: Path) -> Settings:
    namespace = new_namespace()
    create_namespace_topics(kafka_bootstrap_servers, namespace)
    return Settings(
        service_name="cvr",
        database_url=database_url,
        var_dir=tmp_path,
        kafka_bootstrap_servers=kafka_bootstrap_servers,
        topic_namespace=namespace,
    )


@pytest.fixture
async def app(settings: Settings, issuer: DevelopmentTokenIssuer) -> AsyncIterator[FastAPI]:
    built = build_app(
        settings, token_verifier=TokenVerifier(issuer.public_key_pem, issuer="test", audience="test")
    )
    async with built.router.lifespan_context(built):
        yield built


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://cvr") as c:
        yield c


class Api:
    """An HTTP client of the app, acting as one caller."""

    def __init__(self, client: httpx.AsyncClient, token: str) -> None:
        self.client = client
        self.headers = {"Authorization": f"Bearer {token}"}

    async def get(self, path: str, **params: Any) -> httpx.Response:
        return await self.client.get(path, params=params, headers=self.headers)

    async def post(self, path: str, body: Any = None, **headers: str) -> httpx.Response:
        return await self.client.post(path, json=body, headers={**self.headers, **headers})

    async def ok(self, path: str, body: Any = None, status: int = 200) -> dict[str, Any]:
        response = await self.post(path, body)
        assert response.status_code == status, response.text
        answer: dict[str, Any] = response.json()
        return answer


Caller = Callable[..., Api]


@pytest.fixture
def caller(client: httpx.AsyncClient, issuer: DevelopmentTokenIssuer) -> Caller:
    def make(role: Role, subject: str | None = None, **claims: Any) -> Api:
        return Api(client, issuer.issue(subject=subject or f"{role}-1", roles=[role], **claims))

    return make


@pytest.fixture
def officer(caller: Caller) -> Api:
    return caller(Role.CNDDR_OFFICER)


@pytest.fixture
def committee(caller: Caller) -> Api:
    return caller(Role.COMMITTEE_MEMBER)


def proposal(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": "Formation professionnelle des jeunes",
        "project_type": "vocational_training",
        "region": "Mopti",
        "cercle": "Mopti",
        "commune": "Sio",
        "location": "Sévaré",
        "budget": "80000",
        "currency": "USD",
        "duration_months": 9,
        "planned_start": "2022-03-01",
        "armed_groups_active": False,
        "direct_beneficiaries_target": 400,
        "submitted_on": "2022-01-10",
    }
    body.update(overrides)
    return body


async def ngo(officer: Api, partner_id: str, region: str = "Mopti") -> None:
    await officer.ok(
        "/partners/ngos",
        {
            "partner_id": partner_id,
            "display_name": f"ONG {partner_id}",
            "regions": [region],
            "registered_on": "2015-01-01",
        },
        201,
    )


async def approve(committee: Api, project_id: str, on: str = "2022-02-01") -> dict[str, Any]:
    """Local review (with vetting), regional then national appraisal, all cleared on ``on``."""
    await committee.ok(
        f"/projects/{project_id}/decisions",
        {
            "committee": "local_review",
            "decided_on": on,
            "members_present": MEMBERS,
            "outcome": "cleared",
            "human_rights_vetting": "cleared",
        },
    )
    for level in ("regional_appraisal", "national_appraisal"):
        answer = await committee.ok(
            f"/projects/{project_id}/decisions",
            {"committee": level, "decided_on": on, "members_present": MEMBERS, "outcome": "cleared"},
        )
    return answer


async def eventually(check: Callable[[], Awaitable[bool]], seconds: float = 30.0) -> bool:
    deadline = time.monotonic() + seconds
    while True:
        result = await check()
        if result or time.monotonic() > deadline:
            return result
        await asyncio.sleep(0.2)


# -- the issue's behaviours ------------------------------------------------------------------------------


async def test_single_ngo_over_cap_is_refused_naming_the_cap_and_a_consortium_is_accepted(
    officer: Api, caller: Caller
) -> None:
    for partner in ("ong-a", "ong-b", "ong-c"):
        await ngo(officer, partner)
    await officer.ok(
        "/partners/consortia",
        {
            "partner_id": "cons-ab",
            "display_name": "Consortium A-B",
            "lead_partner_id": "ong-a",
            "member_partner_ids": ["ong-a", "ong-b"],
            "registered_on": "2020-01-01",
        },
        201,
    )
    single = caller(Role.CVR_PARTNER, partner="ong-c")
    refused = await single.post("/projects", proposal(budget="120000"))
    assert refused.status_code == 422
    assert refused.json()["rule"] == "budget-cap"
    assert "100,000.00" in refused.json()["detail"]
    assert (await single.get("/projects")).json() == []

    consortium = caller(Role.CVR_PARTNER, partner="cons-ab")
    accepted = await consortium.ok("/projects", proposal(budget="120000"), 201)
    assert accepted["budget_usd"] == 120000
    assert accepted["cap_usd"] == 300000
    assert accepted["ngo_ids"] == ["ong-a", "ong-b"]
    assert accepted["status"] == "awaiting_local_review"


async def test_a_solar_water_project_without_technical_assessment_cannot_be_approved(
    officer: Api, committee: Api
) -> None:
    await ngo(officer, "ong-eau")
    project = await officer.ok("/projects", proposal(partner_id="ong-eau", project_type="solar_water"), 201)
    pid = project["project_id"]
    await committee.ok(
        f"/projects/{pid}/decisions",
        {
            "committee": "local_review",
            "decided_on": "2022-01-20",
            "members_present": MEMBERS,
            "outcome": "cleared",
            "human_rights_vetting": "cleared",
        },
    )
    decision = {
        "committee": "regional_appraisal",
        "decided_on": "2022-01-25",
        "members_present": MEMBERS,
        "outcome": "cleared",
    }
    refused = await committee.post(f"/projects/{pid}/decisions", decision)
    assert refused.status_code == 422
    assert refused.json()["rule"] == "technical-assessment-required"
    assert (await officer.get(f"/projects/{pid}")).json()["status"] == "awaiting_regional_appraisal"

    await officer.ok(
        f"/projects/{pid}/technical-assessment",
        {
            "agency": "DNH (Direction nationale de l'hydraulique)",
            "reference": "DRH-MO-2022-14",
            "assessed_on": "2022-01-22",
            "favourable": True,
        },
    )
    await committee.ok(f"/projects/{pid}/decisions", decision)
    approved = await committee.ok(
        f"/projects/{pid}/decisions",
        {**decision, "committee": "national_appraisal", "decided_on": "2022-02-02"},
    )
    assert approved["status"] == "approved"
    assert approved["approved_on"] == "2022-02-02"


async def test_a_partner_reading_or_editing_another_partners_project_gets_not_found(
    officer: Api, caller: Caller
) -> None:
    await ngo(officer, "ong-1")
    await ngo(officer, "ong-2")
    mine = caller(Role.CVR_PARTNER, subject="p1", partner="ong-1")
    theirs = caller(Role.CVR_PARTNER, subject="p2", partner="ong-2")
    pid = (await mine.ok("/projects", proposal(), 201))["project_id"]

    assert (await mine.get(f"/projects/{pid}")).status_code == 200
    for path in (
        f"/projects/{pid}",
        f"/projects/{pid}/participants",
        f"/projects/{pid}/targets",
        f"/projects/{pid}/history",
    ):
        assert (await theirs.get(path)).status_code in (403, 404), path
    enrol = {"participants": [{"category": "community", "sex": "F", "enrolled_on": "2022-01-15"}]}
    assert (await theirs.post(f"/projects/{pid}/participants", enrol)).status_code in (403, 404)
    progress = {"reported_on": "2022-05-01", "percent_complete": 10, "summary": "x"}
    assert (await theirs.post(f"/projects/{pid}/progress-reports", progress)).status_code in (403, 404)
    assert (await theirs.get("/projects")).json() == []
    submitted_as_other = await theirs.post("/projects", proposal(partner_id="ong-1"))
    assert submitted_as_other.status_code == 422


async def test_forty_participants_ten_ex_combatants_report_60_40_target_against_25_75_actual(
    officer: Api, committee: Api, caller: Caller, app: FastAPI, settings: Settings
) -> None:
    await ngo(officer, "ong-t")
    partner = caller(Role.CVR_PARTNER, partner="ong-t")
    pid = (await partner.ok("/projects", proposal(), 201))["project_id"]
    people = [f"person-{i}" for i in range(10)]
    async with UpstreamService("registration", settings) as registration:
        for person_id in people:
            await registration.emit(person_id, _pre_registered(person_id))
    cvr: Cvr = app.state.cvr
    await _wait_known(cvr, people)

    members = [
        {
            "category": "ex_combatant",
            "sex": "M",
            "person_id": people[i],
            "enrolled_on": "2022-01-15",
            "full_name": f"Ex {i}",
        }
        for i in range(10)
    ] + [
        {
            "category": "community",
            "sex": "F" if i % 2 else "M",
            "enrolled_on": "2022-01-15",
            "full_name": f"Com {i}",
            "telephone": "+22370000000",
        }
        for i in range(30)
    ]
    await partner.ok(f"/projects/{pid}/participants", {"participants": members}, 201)
    targets = (await partner.get(f"/projects/{pid}/targets")).json()
    assert targets["participants"] == 40
    assert targets["ex_combatants"] == {"target_percent": 60.0, "actual_percent": 25.0}
    assert targets["community"] == {"target_percent": 40.0, "actual_percent": 75.0}
    assert targets["women"] == {"target_percent": 50.0, "actual_percent": 37.5}

    listed = (await partner.get(f"/projects/{pid}/participants")).json()
    leaver = next(p for p in listed if p["category"] == "ex_combatant")
    await partner.ok(
        f"/participants/{leaver['participant_id']}/withdrawal",
        {"withdrawn_on": "2022-03-01", "reason": "départ"},
    )
    after = (await partner.get(f"/projects/{pid}/targets")).json()
    assert (after["participants"], after["ex_combatants"]["actual_percent"]) == (39, 23.1)


async def test_the_central_mali_figures_entered_as_data_come_back_identical(
    officer: Api, committee: Api, caller: Caller
) -> None:
    cercles = {
        "Mopti": ("Mopti", 36),
        "Bandiagara": ("Mopti", 13),
        "Douentza": ("Mopti", 10),
        "Ségou": ("Ségou", 4),
        "San": ("Ségou", 2),
    }
    ngos = [f"ong-centre-{i:02d}" for i in range(23)]
    for partner_id in ngos:
        await ngo(officer, partner_id)
    places = [(cercle, region) for cercle, (region, count) in cercles.items() for _ in range(count)]
    direct, women = _split(54_131, 65), _split(28_148, 65)
    expected: dict[str, list[int]] = {c: [0, 0, 0] for c in cercles}
    for k, (cercle, region) in enumerate(places):
        year = 2015 + k % 9
        body = proposal(
            partner_id=ngos[k % 23],
            region=region,
            cercle=cercle,
            commune=cercle,
            submitted_on=f"{year}-01-10",
            budget="45000",
        )
        pid = (await officer.ok("/projects", body, 201))["project_id"]
        await approve(committee, pid, on=f"{year}-03-01")
        counts = {
            "counted_on": f"{year}-12-01",
            "direct": direct[k],
            "direct_women": women[k],
            "source": "programme_records",
        }
        await officer.ok(f"/projects/{pid}/beneficiary-counts", counts)
        expected[cercle][0] += 1
        expected[cercle][1] += direct[k]
        expected[cercle][2] += women[k]

    donor = caller(Role.DONOR)
    response = await donor.get(
        "/reports/projects",
        group_by="cercle",
        region=["Mopti", "Ségou"],
        from_year=2015,
        to_year=2023,
        as_of="2024-01-01",
    )
    assert response.status_code == 200, response.text
    report = response.json()
    by_cercle = {row["key"]: row for row in report["rows"]}
    assert {c: by_cercle[c]["projects"] for c in cercles} == {
        "Mopti": 36,
        "Bandiagara": 13,
        "Douentza": 10,
        "Ségou": 4,
        "San": 2,
    }
    assert {
        c: [by_cercle[c]["projects"], by_cercle[c]["beneficiaries"], by_cercle[c]["beneficiaries_women"]]
        for c in cercles
    } == expected
    total = report["total"]
    assert (total["projects"], total["ngos"], total["beneficiaries"], total["beneficiaries_women"]) == (
        65,
        23,
        54_131,
        28_148,
    )

    period = (
        await donor.get(
            "/reports/projects", periods="2015-2023", region=["Mopti", "Ségou"], as_of="2024-01-01"
        )
    ).json()
    assert period["rows"][0]["key"] == "2015-2023"
    assert (period["rows"][0]["projects"], period["rows"][0]["ngos"], period["rows"][0]["beneficiaries"]) == (
        65,
        23,
        54_131,
    )


async def test_a_project_completed_thirteen_months_ago_without_a_visit_is_listed_overdue(
    officer: Api, committee: Api
) -> None:
    await ngo(officer, "ong-v")
    today = datetime.now(UTC).date()
    completed = today - timedelta(days=13 * 30)
    approved = completed - timedelta(days=200)
    pids = []
    for _ in range(3):
        pid = (
            await officer.ok(
                "/projects",
                proposal(partner_id="ong-v", submitted_on=str(approved - timedelta(days=30))),
                201,
            )
        )["project_id"]
        await approve(committee, pid, on=str(approved))
        await officer.ok(f"/projects/{pid}/completion", {"completed_on": str(completed)})
        pids.append(pid)
    recent = (await officer.ok("/projects", proposal(partner_id="ong-v", submitted_on=str(approved)), 201))[
        "project_id"
    ]
    await approve(committee, recent, on=str(approved))
    await officer.ok(f"/projects/{recent}/completion", {"completed_on": str(today - timedelta(days=100))})

    await officer.ok(
        f"/projects/{pids[1]}/monitoring-visits",
        {
            "visit_kind": "on_site",
            "visited_on": str(completed + timedelta(days=360)),
            "findings": "Forage fonctionnel",
        },
    )
    insecure = {
        "visit_kind": "remote_insecure",
        "visited_on": str(completed + timedelta(days=370)),
        "findings": "Jardin maraîcher exploité",
    }
    refused = await officer.post(f"/projects/{pids[2]}/monitoring-visits", insecure)
    assert refused.json()["rule"] == "substitute-evidence"
    substitute = await officer.ok(
        f"/projects/{pids[2]}/monitoring-visits",
        {
            **insecure,
            "insecurity_reason": "route Mopti-Djenné minée",
            "partner_report_reference": "RAP-2023-07",
            "testimonies": 6,
        },
    )
    assert substitute["last_visit_kind"] == "remote_insecure"

    overdue = (await officer.get("/monitoring/overdue-visits")).json()
    assert [item["project_id"] for item in overdue] == [pids[0]]
    assert overdue[0]["days_overdue"] > 0
    assert date.fromisoformat(overdue[0]["visit_due_on"]) == completed + timedelta(days=365)


# -- workflow, link, privacy, roles ------------------------------------------------------------------------


async def test_partner_capacity_history_and_a_consortium_member_sees_its_consortiums_projects(
    officer: Api, caller: Caller
) -> None:
    for partner_id in ("ong-l", "ong-m", "ong-n"):
        await ngo(officer, partner_id)
    consortium = {
        "partner_id": "cons-lm",
        "display_name": "Consortium L-M",
        "lead_partner_id": "ong-l",
        "member_partner_ids": ["ong-l", "ong-m"],
        "registered_on": "2021-01-01",
    }
    await officer.ok("/partners/consortia", consortium, 201)
    outsider_lead = {**consortium, "partner_id": "cons-bad", "lead_partner_id": "ong-n"}
    assert (await officer.post("/partners/consortia", outsider_lead)).json()[
        "rule"
    ] == "consortium-lead-is-member"
    for rating, on in (("weak", "2021-02-01"), ("adequate", "2022-02-01")):
        assessment = {
            "assessed_on": on,
            "rating": rating,
            "financial_management": "adequate",
            "staff_count": 12,
            "assessor": "MINUSMA SSR-DDR Mopti",
        }
        await officer.ok("/partners/ong-l/capacity-assessments", assessment)
    history = (await caller(Role.AUDITOR).get("/partners/ong-l/history")).json()
    assert [e["data"].get("rating") for e in history] == [None, "weak", "adequate"]
    assert (await officer.get("/partners/ong-l")).json()["capacity_rating"] == "adequate"

    pid = (await caller(Role.CVR_PARTNER, partner="cons-lm").ok("/projects", proposal(budget="250000"), 201))[
        "project_id"
    ]
    member = caller(Role.CVR_PARTNER, subject="m", partner="ong-m")
    assert (await member.get(f"/projects/{pid}")).status_code == 200
    progress = {"reported_on": "2022-05-01", "percent_complete": 10, "summary": "x"}
    assert (await member.post(f"/projects/{pid}/progress-reports", progress)).status_code == 404
    assert (
        await caller(Role.CVR_PARTNER, subject="n", partner="ong-n").get(f"/projects/{pid}")
    ).status_code == 404
    assert (
        await caller(Role.CVR_PARTNER, subject="n", partner="ong-n").get("/partners/cons-lm")
    ).status_code == 404


async def test_returned_project_is_resubmitted_and_every_decision_is_an_event_with_members_and_conditions(
    officer: Api, committee: Api, caller: Caller
) -> None:
    await ngo(officer, "ong-r")
    partner = caller(Role.CVR_PARTNER, partner="ong-r")
    pid = (await partner.ok("/projects", proposal(armed_groups_active=True), 201))["project_id"]
    await committee.ok(
        f"/projects/{pid}/decisions",
        {
            "committee": "local_review",
            "decided_on": "2022-01-20",
            "members_present": MEMBERS,
            "outcome": "cleared",
            "human_rights_vetting": "cleared",
        },
    )
    appraisal = {
        "committee": "regional_appraisal",
        "decided_on": "2022-01-25",
        "members_present": MEMBERS,
        "outcome": "returned",
        "conditions": ["réduire le budget matériel"],
    }
    no_risk = await committee.post(f"/projects/{pid}/decisions", appraisal)
    assert no_risk.json()["rule"] == "risk-analysis-required"
    await officer.ok(
        f"/projects/{pid}/risk-analysis",
        {
            "analysed_on": "2022-01-22",
            "political": "high",
            "fiduciary": "medium",
            "legal": "low",
            "reputational": "medium",
            "mitigation": "paiements par banque",
        },
    )
    returned = await committee.ok(f"/projects/{pid}/decisions", appraisal)
    assert returned["status"] == "returned"
    assert (await committee.get("/committees/regional_appraisal/queue")).json() == []

    stale = (await partner.get(f"/projects/{pid}")).headers["ETag"]
    await officer.ok(
        f"/projects/{pid}/risk-analysis",
        {
            "analysed_on": "2022-01-30",
            "political": "medium",
            "fiduciary": "medium",
            "legal": "low",
            "reputational": "low",
            "mitigation": "comité de suivi local",
        },
    )
    body = proposal(armed_groups_active=True, budget="70000", submitted_on="2022-02-01")
    conflict = await partner.post(f"/projects/{pid}/resubmission", body, **{"If-Match": stale})
    assert conflict.status_code == 409
    resubmitted = await partner.ok(
        f"/projects/{pid}/resubmission",
        proposal(armed_groups_active=True, budget="70000", submitted_on="2022-02-01"),
    )
    assert (resubmitted["status"], resubmitted["revision"], resubmitted["budget"]) == (
        "awaiting_local_review",
        1,
        70000,
    )
    queue = (await committee.get("/committees/local_review/queue")).json()
    assert [p["project_id"] for p in queue] == [pid]
    await approve(committee, pid, on="2022-02-10")

    history = (await caller(Role.AUDITOR).get(f"/projects/{pid}/history")).json()
    decisions = [e["data"] for e in history if e["type"] == "ddr.cvr.CommitteeDecided.v1"]
    assert [(d["committee"], d["outcome"], d["revision"]) for d in decisions] == [
        ("local_review", "cleared", 0),
        ("regional_appraisal", "returned", 0),
        ("local_review", "cleared", 1),
        ("regional_appraisal", "cleared", 1),
        ("national_appraisal", "cleared", 1),
    ]
    assert decisions[1]["members_present"] == MEMBERS
    assert decisions[1]["conditions"] == ["réduire le budget matériel"]
    assert all(e["actor"] for e in history)


async def test_an_ex_combatant_links_only_to_a_registered_person_following_merges_over_kafka(
    officer: Api, caller: Caller, app: FastAPI, settings: Settings
) -> None:
    await ngo(officer, "ong-x")
    partner = caller(Role.CVR_PARTNER, partner="ong-x")
    pid = (await partner.ok("/projects", proposal(), 201))["project_id"]
    unknown = {
        "participants": [
            {"category": "ex_combatant", "sex": "M", "person_id": "nobody", "enrolled_on": "2022-01-15"}
        ]
    }
    assert (await partner.post(f"/projects/{pid}/participants", unknown)).status_code == 404
    community_with_link = {
        "participants": [
            {"category": "community", "sex": "M", "person_id": "p-old", "enrolled_on": "2022-01-15"}
        ]
    }
    assert (await partner.post(f"/projects/{pid}/participants", community_with_link)).status_code in (
        404,
        422,
    )

    async with UpstreamService("registration", settings) as registration:
        await registration.emit("p-old", _pre_registered("p-old"))
        await registration.emit("p-new", _pre_registered("p-new"))
        await registration.emit(
            "p-old", PersonMergedInto(person_id="p-old", into_person_id="p-new", case_id="case-1")
        )
    cvr: Cvr = app.state.cvr
    await _wait_known(cvr, ["p-new"], merged={"p-old": "p-new"})

    body = {
        "participants": [
            {
                "category": "ex_combatant",
                "sex": "M",
                "person_id": "p-old",
                "enrolled_on": "2022-01-15",
                "full_name": "Moussa Ag Ahmed",
                "telephone": "+22376000000",
            }
        ]
    }
    participant_id = (await partner.ok(f"/projects/{pid}/participants", body, 201))["participant_ids"][0]
    listed = (await partner.get(f"/projects/{pid}/participants")).json()
    assert listed[0]["person_id"] == "p-new"
    assert listed[0]["full_name"] == "Moussa Ag Ahmed"
    assert set(listed[0]) == {
        "participant_id",
        "project_id",
        "category",
        "sex",
        "birth_year",
        "person_id",
        "enrolled_on",
        "withdrawn_on",
        "full_name",
        "telephone",
        "version",
    }

    stored = await cvr.store.read_stream(participant_stream(participant_id))
    data = stored[0].envelope.data
    assert stored[0].envelope.subject == participant_id
    assert data["full_name"].startswith(ENCRYPTED_PREFIX)
    assert data["telephone"].startswith(ENCRYPTED_PREFIX)
    assert data["person_id"] == "p-new"

    await cvr.store.cipher.keystore.erase(participant_id)
    erased = (await officer.get(f"/projects/{pid}/participants")).json()
    assert (erased[0]["full_name"], erased[0]["telephone"], erased[0]["person_id"]) == (None, None, "p-new")


async def test_figures_as_of_a_date_count_a_project_from_its_approval_and_survive_a_rebuild(
    officer: Api, committee: Api, caller: Caller, app: FastAPI
) -> None:
    await ngo(officer, "ong-d")
    pid = (await officer.ok("/projects", proposal(partner_id="ong-d", budget="50000"), 201))["project_id"]
    batch = {
        "participants": [
            {"participant_id": f"part-{n}", "category": "community", "sex": "F", "enrolled_on": "2022-01-15"}
            for n in range(5)
        ]
    }
    await officer.ok(f"/projects/{pid}/participants", batch, 201)
    retried = await officer.post(f"/projects/{pid}/participants", batch)
    assert retried.status_code == 409
    assert len((await officer.get(f"/projects/{pid}/participants")).json()) == 5
    await approve(committee, pid, on="2022-03-01")
    await officer.ok(
        f"/projects/{pid}/beneficiary-counts",
        {
            "counted_on": "2022-09-01",
            "direct": 300,
            "direct_women": 160,
            "indirect": 1200,
            "indirect_women": 640,
        },
    )
    donor = caller(Role.DONOR)

    async def at(day: str) -> dict[str, Any]:
        total: dict[str, Any] = (await donor.get("/reports/projects", group_by="region", as_of=day)).json()[
            "total"
        ]
        return total

    before = await at("2022-02-28")
    assert (before["projects"], before["amount_usd"], before["beneficiaries"]) == (0, 0, 0)
    approved = await at("2022-03-01")
    assert (
        approved["projects"],
        approved["amount_usd"],
        approved["beneficiaries"],
        approved["beneficiaries_women"],
    ) == (1, 50000, 5, 5)
    counted = await at("2022-12-31")
    assert (counted["beneficiaries"], counted["beneficiaries_women"], counted["indirect_beneficiaries"]) == (
        300,
        160,
        1200,
    )

    cvr: Cvr = app.state.cvr
    listed = (await officer.get(f"/projects/{pid}/participants")).json()
    assert await rebuild_read_model(cvr, page=3) > 5
    assert await at("2022-12-31") == counted
    assert await at("2022-03-01") == approved
    assert (await officer.get(f"/projects/{pid}/participants")).json() == listed


async def test_roles_donor_sees_aggregates_only_auditor_reads_only_committee_decides_only(
    officer: Api, committee: Api, caller: Caller
) -> None:
    await ngo(officer, "ong-z")
    partner = caller(Role.CVR_PARTNER, partner="ong-z")
    pid = (await partner.ok("/projects", proposal(), 201))["project_id"]
    donor, auditor = caller(Role.DONOR), caller(Role.AUDITOR)
    assert (await donor.get(f"/projects/{pid}")).status_code == 403
    assert (await donor.get(f"/projects/{pid}/participants")).status_code == 403
    assert (await donor.get("/reports/projects")).status_code == 200
    assert (await partner.get("/reports/projects")).status_code == 403
    assert (await auditor.get(f"/projects/{pid}")).status_code == 200
    assert (await auditor.post("/projects", proposal(partner_id="ong-z"))).status_code == 403
    decision = {
        "committee": "local_review",
        "decided_on": "2022-01-20",
        "members_present": MEMBERS,
        "outcome": "cleared",
        "human_rights_vetting": "cleared",
    }
    assert (await partner.post(f"/projects/{pid}/decisions", decision)).status_code == 403
    assert (await officer.post(f"/projects/{pid}/decisions", decision)).status_code == 403
    assert (await committee.post("/projects", proposal(partner_id="ong-z"))).status_code == 403
    assert (await committee.get("/committees/local_review/queue")).status_code == 200
    assert (
        await partner.post(
            f"/projects/{pid}/tranches", {"amount": "100", "currency": "USD", "paid_on": "2022-03-01"}
        )
    ).status_code == 403
    narrowed = caller(Role.COMMITTEE_MEMBER, subject="gao", regions=["Gao"])
    assert (await narrowed.get(f"/projects/{pid}")).status_code == 404
    assert (await narrowed.get("/committees/local_review/queue")).json() == []


async def test_implementation_tranches_within_budget_completion_handover_and_wam_collection(
    officer: Api, committee: Api
) -> None:
    await ngo(officer, "ong-w")
    body = proposal(
        partner_id="ong-w",
        project_type="weapons_and_ammunition_management",
        budget="40000000",
        currency="XOF",
        usd_rate="0.0016",
    )
    project = await officer.ok("/projects", body, 201)
    pid = project["project_id"]
    assert project["budget_usd"] == 64000
    assert (
        await officer.post(
            f"/projects/{pid}/tranches", {"amount": "100", "currency": "XOF", "paid_on": "2022-01-20"}
        )
    ).json()["rule"] == "tranche-when-approved"
    await approve(committee, pid, on="2022-02-01")
    await officer.ok(
        f"/projects/{pid}/tranches", {"amount": "24000000", "currency": "XOF", "paid_on": "2022-02-10"}
    )
    over = await officer.post(
        f"/projects/{pid}/tranches", {"amount": "20000000", "currency": "XOF", "paid_on": "2022-06-10"}
    )
    assert over.json()["rule"] == "tranches-within-budget"
    paid = await officer.ok(
        f"/projects/{pid}/tranches", {"amount": "16000000", "currency": "XOF", "paid_on": "2022-06-10"}
    )
    assert (paid["tranches_paid"], paid["paid"]) == (2, 40000000)
    items = [
        {"kind": "weapon", "type": "fusil de chasse", "calibre": "12", "quantity": 3, "condition": "usagé"},
        {"kind": "ammunition", "type": "cartouches", "calibre": "12", "quantity": 40, "condition": "bon"},
    ]
    wam = await officer.ok(
        f"/projects/{pid}/wam-collections",
        {"collected_on": "2022-05-02", "custodian": "CNDDR Mopti", "items": items},
    )
    assert wam["wam_items"] == 3
    assert (
        await officer.post(
            f"/projects/{pid}/handover", {"handed_over_on": "2022-11-01", "handed_over_to": "mairie"}
        )
    ).status_code == 422
    await officer.ok(f"/projects/{pid}/completion", {"completed_on": "2022-10-30"})
    done = await officer.ok(
        f"/projects/{pid}/handover",
        {"handed_over_on": "2022-11-01", "handed_over_to": "Conseil communal de Sio"},
    )
    assert done["status"] == "handed_over"


async def test_bad_input_is_a_4xx_naming_the_field(officer: Api) -> None:
    await ngo(officer, "ong-e")
    long = await officer.post("/projects", proposal(partner_id="ong-e", duration_months=13))
    assert long.status_code == 422
    assert long.json()["rule"] == "duration-limit"
    bad_type = await officer.post("/projects", proposal(partner_id="ong-e", project_type="casino"))
    assert bad_type.status_code == 422
    assert "project_type" in bad_type.text
    no_rate = await officer.post("/projects", proposal(partner_id="ong-e", currency="XOF"))
    assert no_rate.json()["rule"] == "usd-rate-required"
    assert (await officer.post("/projects", proposal(partner_id="nobody"))).status_code == 404


# -- helpers ------------------------------------------------------------------------------------------------


def _split(total: int, parts: int) -> list[int]:
    base, extra = divmod(total, parts)
    return [base + (1 if i < extra else 0) for i in range(parts)]


def _pre_registered(person_id: str) -> PersonPreRegistered:
    return PersonPreRegistered(
        person_id=person_id,
        list_id="list-1",
        list_version=1,
        movement="CMA",
        movement_ref=person_id,
        category="combatant",
        sex="M",
        birth_kind="year",
        region="Mopti",
        cercle="Mopti",
        rank="",
        armed=True,
        birth_year=1990,
        full_name="Nom Secret",
        full_name_arabic=None,
        birth_date=None,
        commune=None,
        father_name=None,
        mother_name=None,
        birth_place=None,
    )


async def _wait_known(cvr: Cvr, people: list[str], merged: dict[str, str] | None = None) -> None:
    from sqlalchemy import select

    from ddr_cvr.adapters.tables import known_persons

    async def check() -> bool:
        async with cvr.engine.connect() as conn:
            rows = {r.person_id: r.merged_into for r in await conn.execute(select(known_persons))}
        return all(p in rows for p in people) and all(rows.get(k) == v for k, v in (merged or {}).items())

    assert await eventually(check), "the registration events never reached the CVR read model"
