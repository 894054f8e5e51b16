"""The pathway service over HTTP, fed by several upstream services at once over the real broker, on both
backends: paths, figures as of a date and as known on a date, access and the record of every read."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from ddr_runtime.auth.issuer import DevelopmentTokenIssuer
from ddr_runtime.auth.roles import Role
from ddr_runtime.config import Settings
from ddr_runtime.eventstore.store import EventStore
from ddr_runtime.service import build_runtime
from ddr_testkit.ledger import ledger_rows
from ddr_testkit.upstream import UpstreamService

from .conftest import running_pathway

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]

Wait = Callable[..., Awaitable[None]]


async def path_of(api: Any, person: str, **params: Any) -> dict[str, Any]:
    response = await api.get(f"/paths/{person}", **params)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def figures(api: Any, **params: Any) -> dict[str, Any]:
    response = await api.get("/figures", **params)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def steps_seen(api: Any, person: str, count: int) -> bool:
    response = await api.get(f"/paths/{person}")
    return response.status_code == 200 and len(response.json()["steps"]) >= count


async def reads_recorded(settings: Settings, person: str) -> list[dict[str, Any]]:
    """The PathRead events in pathway's own store, read straight from it."""
    runtime = build_runtime("pathway", __import__("ddr_contracts.catalog").catalog.REGISTRY, settings)
    store: EventStore = runtime.store
    try:
        return [
            {**r.event.model_dump(mode="json"), "actor": r.envelope.actor}
            for r in await store.read_stream(f"path-reads:{person}")
        ]
    finally:
        await runtime.engine.dispose()
        await runtime.keys_engine.dispose()


async def test_a_path_gathers_every_services_events_in_business_order_with_who_and_why(
    pathway: Any, settings: Settings, events: Any, wait: Wait
) -> None:
    person = events.person()
    async with (
        UpstreamService("registration", settings) as registration,
        UpstreamService("screening", settings) as screening,
        UpstreamService("integration", settings) as integration,
    ):
        # Published out of causal order: the service record first, the pre-registration last.
        await integration.emit(
            person, events.accepted(person, "2020-02-01"), occurred_at=events.at("2020-02-01")
        )
        await integration.emit(
            person, events.service(person, "serving", "2020-05-01"), occurred_at=events.at("2020-05-01")
        )
        await screening.emit(
            person, events.screened(person), occurred_at=events.at("2019-11-20"), actor="screener-7"
        )
        await registration.emit(person, events.registered(person), occurred_at=events.at("2019-10-01"))
        await registration.emit(person, events.pre_registered(person), occurred_at=events.at("2019-06-01"))

    officer = pathway.officer
    await wait(lambda: steps_seen(officer, person, 5), "five steps in the path")
    path = await path_of(officer, person)

    assert [s["type"].rsplit(".", 1)[1] for s in path["steps"]] == [
        "PersonPreRegistered", "PersonRegistered", "ScreeningOutcomeDecided", "CandidateAccepted", "ServiceStatusChanged",
    ]  # fmt: skip
    assert path["stage"] == "integration:active"
    assert [s["stage"] for s in path["stages"]] == [
        "pre_registered", "registered", "screened:integration", "integration:active",
    ]  # fmt: skip
    screening_step = path["steps"][2]
    assert screening_step["actor"] == "screener-7"
    assert screening_step["reason_code"] == "integration_criteria_met"
    assert screening_step["rule_version"] == "eligibility-2019.1"
    assert screening_step["occurred_at"].startswith("2019-11-20")
    assert screening_step["recorded_at"] > screening_step["occurred_at"]
    assert path["stages"][0]["days"] == 122.0  # 1 June to 1 October 2019


async def test_no_personal_field_reaches_a_path_view(
    pathway: Any, settings: Settings, events: Any, wait: Wait
) -> None:
    person = events.person()
    async with UpstreamService("registration", settings) as registration:
        await registration.emit(person, events.pre_registered(person), events.registered(person))
    await wait(lambda: steps_seen(pathway.auditor, person, 2), "two steps")

    text = (await pathway.auditor.get(f"/paths/{person}")).text

    for secret in ("Ibrahim Ag Assaleh", "Anefis", "Assaleh", "bio-secret-hash", "enc:v1:"):
        assert secret not in text
    assert '"movement":"MNLA"' in text


async def test_figures_as_of_30_june_2020_ignore_later_news_about_later_dates_and_take_late_corrections(
    pathway: Any, settings: Settings, events: Any, wait: Wait
) -> None:
    first, second = events.person(), events.person()
    donor = pathway.donor
    async with (
        UpstreamService("registration", settings) as registration,
        UpstreamService("screening", settings) as screening,
        UpstreamService("integration", settings) as integration,
    ):
        await registration.emit(first, events.pre_registered(first), occurred_at=events.at("2020-03-01"))
        await registration.emit(second, events.pre_registered(second), occurred_at=events.at("2020-03-02"))
        await screening.emit(first, events.screened(first), occurred_at=events.at("2020-05-01"))
        await wait(
            lambda: _funnel_is(donor, "2020-06-30", pre_registered=2, screened=1),
            "the first three events counted",
        )
        report_printed = datetime.now(UTC)
        june = await figures(donor, as_of="2020-06-30")

        # Later news about later dates: the June figure stands.
        await integration.emit(
            first, events.accepted(first, "2020-09-01"), occurred_at=events.at("2020-09-01")
        )
        await screening.emit(
            second, events.screened(second, "reinsertion"), occurred_at=events.at("2020-10-01")
        )
        await wait(lambda: _funnel_is(donor, "2020-12-31", screened=2), "the later screening counted")
        assert await figures(donor, as_of="2020-06-30") == june
        december = await figures(donor, as_of="2020-12-31")
        assert december["funnel"]["integration"]["active"] == 1
        assert december["funnel"]["waiting_for_track"] == 1

        # A correction recorded now about April 2020: the June figure changes, as known now only.
        await registration.emit(first, events.corrected(first, sex="F"), occurred_at=events.at("2020-04-01"))
        await screening.emit(
            second, events.screened(second, "reinsertion"), occurred_at=events.at("2020-06-15")
        )
        await wait(lambda: _funnel_is(donor, "2020-06-30", screened=2), "the late-recorded screening counted")

    corrected = await figures(donor, as_of="2020-06-30")
    assert corrected["by_sex"]["F"]["pre_registered"] == 1
    assert corrected["by_sex"]["M"]["pre_registered"] == 1
    assert corrected["funnel"]["screened"] == 2
    as_known_then = await figures(donor, as_of="2020-06-30", known_on=report_printed.isoformat())
    assert as_known_then["funnel"] == june["funnel"]
    assert as_known_then["by_sex"] == june["by_sex"]
    assert "F" not in as_known_then["by_sex"]


async def _funnel_is(api: Any, as_of: str, **expected: int) -> bool:
    response = await api.get("/figures", as_of=as_of)
    if response.status_code != 200:
        return False
    funnel = response.json()["funnel"]
    return all(funnel[k] == v for k, v in expected.items())


async def test_figures_break_down_by_movement_coalition_region_sex_age_and_track(
    pathway: Any, settings: Settings, events: Any, wait: Wait
) -> None:
    a, b, c = events.person(), events.person(), events.person()
    async with (
        UpstreamService("registration", settings) as registration,
        UpstreamService("screening", settings) as screening,
        UpstreamService("reinsertion", settings) as reinsertion,
    ):
        await registration.emit(
            "MNLA", events.joined("MNLA", "CMA", "2015-01-01"), occurred_at=events.at("2015-01-01")
        )
        await registration.emit(
            a, events.pre_registered(a, movement="MNLA"), occurred_at=events.at("2019-01-01")
        )
        await registration.emit(b, events.pre_registered(b, movement="GATIA", sex="F", region="Gao", birth_year=2000),
                                occurred_at=events.at("2019-01-01"))  # fmt: skip
        await registration.emit(
            c, events.pre_registered(c, movement="MNLA", region="Gao"), occurred_at=events.at("2019-01-01")
        )
        await screening.emit(
            c, events.screened(c, "reinsertion", region="Gao"), occurred_at=events.at("2019-03-01")
        )
        await reinsertion.emit(c, events.enrolled(c, "2019-04-01"), occurred_at=events.at("2019-04-01"))
        await reinsertion.emit(
            c, events.exited(c, "2020-01-01", "dropped_out"), occurred_at=events.at("2020-01-01")
        )
    await wait(lambda: _funnel_is(pathway.officer, "2020-06-30", pre_registered=3, screened=1), "all counted")

    result = await figures(pathway.officer, as_of="2020-06-30")

    assert result["by_movement"]["MNLA"]["pre_registered"] == 2
    assert result["by_coalition"]["CMA"]["pre_registered"] == 2
    assert result["by_coalition"]["none"]["pre_registered"] == 1
    assert result["by_region"]["Gao"]["pre_registered"] == 2
    assert result["by_age_group"]["18_24"]["pre_registered"] == 1
    assert result["funnel"]["reinsertion"]["deserted"] == 1
    assert result["by_track"]["reinsertion"]["reinsertion"]["deserted"] == 1
    # 1 March 09:00 to the enrolment of 1 April, recorded at 09:00 that day (a same-day date takes its time)
    assert result["waiting"]["screening_to_track"]["median_days"] == 31.0
    only_gao = await figures(pathway.officer, as_of="2020-06-30", region="Gao", sex="M")
    assert only_gao["funnel"]["pre_registered"] == 1


async def test_a_liaison_reading_another_movements_member_gets_404_and_the_read_is_recorded(
    pathway: Any, settings: Settings, events: Any, wait: Wait
) -> None:
    member, other = events.person(), events.person()
    async with (
        UpstreamService("registration", settings) as registration,
        UpstreamService("screening", settings) as screening,
    ):
        await registration.emit(member, events.pre_registered(member, movement="MNLA"))
        await registration.emit(other, events.pre_registered(other, movement="GATIA"))
        await screening.emit(member, events.screened(member, reason="vetting_cleared"))
    await wait(lambda: steps_seen(pathway.officer, member, 2), "the member's two steps")
    await wait(lambda: steps_seen(pathway.officer, other, 1), "the other's step")

    liaison = pathway.liaison("MNLA")
    refused = await liaison.get(f"/paths/{other}")
    own = await liaison.get(f"/paths/{member}")

    assert refused.status_code == 404, refused.text
    assert own.status_code == 200, own.text
    assert own.json()["stage"] == "screened:integration"
    assert "steps" not in own.json()
    assert "vetting_cleared" not in own.text
    recorded = await reads_recorded(settings, other)
    liaison_reads = [r for r in recorded if r["viewer"] == "liaison-MNLA"]
    assert len(liaison_reads) == 1
    assert liaison_reads[0]["outcome"] == "not_found"
    assert liaison_reads[0]["reason_code"] == "other_movement"
    assert liaison_reads[0]["actor"] == "liaison-MNLA"
    granted = [r for r in await reads_recorded(settings, member) if r["viewer"] == "liaison-MNLA"]
    assert [(r["outcome"], r["view"]) for r in granted] == [("granted", "stage_only")]
    listed = await pathway.auditor.get(f"/paths/{other}/reads")
    assert listed.status_code == 200, listed.text
    assert ("liaison-MNLA", "not_found") in {(r["viewer"], r["outcome"]) for r in listed.json()}
    assert (await liaison.get(f"/paths/{other}/reads")).status_code == 403


@pytest.mark.parametrize(
    ("role", "claims", "status"),
    [
        (Role.DONOR, {}, 403),
        (Role.OPERATOR, {}, 403),
        (Role.CVR_PARTNER, {"partner": "ngo-1"}, 403),
        (Role.CNDDR_OFFICER, {"regions": ["Timbuktu"]}, 404),
        (Role.CNDDR_OFFICER, {"regions": ["Kidal"]}, 200),
        (Role.AUDITOR, {}, 200),
        (Role.CHILD_PROTECTION, {}, 404),
    ],
)
async def test_who_may_read_a_path_and_every_read_is_recorded(
    pathway: Any, settings: Settings, events: Any, wait: Wait, role: Role, claims: dict[str, Any], status: int
) -> None:
    person = events.person()
    async with UpstreamService("registration", settings) as registration:
        await registration.emit(person, events.pre_registered(person, region="Kidal"))
    await wait(lambda: steps_seen(pathway.auditor, person, 1), "the step")

    response = await pathway.as_("caller-1", role, **claims).get(f"/paths/{person}")

    assert response.status_code == status, response.text
    mine = [r for r in await reads_recorded(settings, person) if r["viewer"] == "caller-1"]
    assert [r["outcome"] for r in mine] == [{200: "granted", 403: "refused", 404: "not_found"}[status]]


async def test_donors_read_figures_but_liaisons_and_operators_do_not(pathway: Any) -> None:
    assert (await pathway.donor.get("/figures", as_of="2020-06-30")).status_code == 200
    assert (await pathway.liaison("MNLA").get("/figures")).status_code == 403
    assert (await pathway.operator.get("/figures")).status_code == 403
    assert (await pathway.auditor.get("/figures", as_of="2020-13-01")).status_code in (400, 422)
    gao_only = pathway.as_("officer-gao", Role.CNDDR_OFFICER, regions=["Gao"])
    scoped = await gao_only.get("/figures", as_of="2020-06-30")
    assert scoped.status_code == 200, scoped.text
    assert scoped.json()["filters"] == {"region": "Gao"}
    assert (await gao_only.get("/figures", region="Kidal")).status_code == 403


async def test_a_merged_duplicate_folds_into_the_survivors_path_and_counts_once(
    pathway: Any, settings: Settings, events: Any, wait: Wait
) -> None:
    survivor, duplicate = events.person(), events.person()
    async with (
        UpstreamService("registration", settings) as registration,
        UpstreamService("screening", settings) as screening,
    ):
        await screening.emit(duplicate, events.screened(duplicate), occurred_at=events.at("2019-09-01"))
        await registration.emit(
            duplicate, events.merged(duplicate, survivor), occurred_at=events.at("2019-10-01")
        )
        await registration.emit(
            duplicate, events.pre_registered(duplicate), occurred_at=events.at("2019-06-02")
        )
        await registration.emit(
            survivor, events.pre_registered(survivor), occurred_at=events.at("2019-06-01")
        )
    await wait(
        lambda: steps_seen(pathway.officer, survivor, 4), "the survivor's path with the absorbed steps"
    )

    path = await path_of(pathway.officer, survivor)
    absorbed = await path_of(pathway.officer, duplicate)
    counted = await figures(pathway.officer, as_of="2020-01-01")

    assert path["absorbed"] == [duplicate]
    assert path["stage"] == "screened:integration"
    assert {s["person_id"] for s in path["steps"]} == {survivor, duplicate}
    assert absorbed["stage"] == "merged"
    assert absorbed["merged_into"] == survivor
    assert counted["funnel"]["pre_registered"] == 1
    assert counted["funnel"]["screened"] == 1


async def test_a_child_not_handed_over_within_48_hours_is_overdue_for_child_protection_alone(
    pathway: Any, settings: Settings, events: Any, wait: Wait
) -> None:
    child = events.person()
    async with (
        UpstreamService("registration", settings) as registration,
        UpstreamService("screening", settings) as screening,
    ):
        await registration.emit(
            child, events.pre_registered(child, birth_year=2005), occurred_at=events.at("2020-01-01")
        )
        await screening.emit(child, events.screened(child, "child_protection", reason="under_18"), occurred_at=events.at("2020-01-02"))  # fmt: skip
    await wait(lambda: steps_seen(pathway.child_protection, child, 2), "the child's steps")

    full = await path_of(pathway.child_protection, child)

    assert full["stage"] == "child_protection:separated"
    assert [o["item"] for o in full["overdue"]] == ["child_handover"]
    assert full["overdue"][0]["due_at"].startswith("2020-01-04T09:00")


async def test_cvr_projects_count_in_the_totals_and_an_ex_combatant_participant_in_their_path(
    pathway: Any, settings: Settings, events: Any, wait: Wait
) -> None:
    from decimal import Decimal

    from ddr_contracts.cvr import (
        BeneficiaryCountsRecorded,
        ParticipantEnrolled,
        ProjectApproved,
        ProjectCompleted,
    )

    person, project, participant = events.person(), "cvr-project-1", "participant-1"
    on = events.at
    async with (
        UpstreamService("registration", settings) as registration,
        UpstreamService("cvr", settings) as cvr,
    ):
        await registration.emit(person, events.pre_registered(person), occurred_at=on("2021-01-05"))
        await cvr.emit(
            project,
            ProjectApproved(
                project_id=project,
                partner_id="ngo-1",
                approved_on=on("2021-02-01").date(),
                budget_usd=Decimal("95000.50"),
            ),
        )
        await cvr.emit(
            project,
            BeneficiaryCountsRecorded(
                project_id=project,
                counted_on=on("2021-06-01").date(),
                direct=420,
                direct_women=200,
                indirect=900,
                indirect_women=450,
                source="partner_report",
            ),
        )
        await cvr.emit(project, ProjectCompleted(project_id=project, completed_on=on("2022-03-01").date()))
        await cvr.emit(participant, ParticipantEnrolled(
            participant_id=participant, project_id=project, partner_id="ngo-1", category="ex_combatant", sex="M",
            birth_year=1990, person_id=person, enrolled_on=on("2021-03-01").date(), full_name="Hamma Ould Mahmoud",
            telephone="+223 70 00 00 00"))  # fmt: skip
    await wait(lambda: steps_seen(pathway.auditor, person, 2), "the participation in the person's path")

    path = await pathway.auditor.get(f"/paths/{person}")
    mid_2021 = (await figures(pathway.donor, as_of="2021-12-31"))["cvr"]
    end_2022 = (await figures(pathway.donor, as_of="2022-12-31"))["cvr"]

    assert path.json()["steps"][-1]["type"] == "ddr.cvr.ParticipantEnrolled"
    assert "Hamma" not in path.text
    assert "+223" not in path.text
    assert mid_2021["projects_approved"] == 1
    assert Decimal(mid_2021["budget_usd"]) == Decimal("95000.50")
    assert mid_2021["direct_beneficiaries"] == 420
    assert mid_2021["direct_beneficiaries_women"] == 200
    assert mid_2021["ex_combatant_participants"] == 1
    assert mid_2021["projects_completed"] == 0
    assert end_2022["projects_completed"] == 1


async def test_the_runtime_read_ledger_and_pathways_read_records_agree_read_for_read(
    pathway: Any, settings: Settings, events: Any, wait: Wait
) -> None:
    person = events.person()
    async with UpstreamService("registration", settings) as registration:
        await registration.emit(person, events.pre_registered(person, movement="MNLA"))
    await wait(lambda: steps_seen(pathway.auditor, person, 1), "the path")
    for api in (pathway.officer, pathway.liaison("GATIA"), pathway.donor, pathway.liaison("MNLA")):
        await api.client.get(f"/paths/{person}", headers={**api.headers, "X-Purpose": "case review"})

    ledger = (await pathway.auditor.get(f"/reads/{person}")).json()
    recorded = (await pathway.auditor.get(f"/paths/{person}/reads")).json()

    shown = {"granted": "shown", "refused": "not_visible", "not_found": "not_visible"}
    assert [(r["reader"], r["outcome"]) for r in ledger] == [
        (r["viewer"], shown[r["outcome"]]) for r in recorded
    ]
    assert [r["reader"] for r in ledger][-4:] == ["officer-1", "liaison-GATIA", "donor-1", "liaison-MNLA"]
    assert {r["purpose"] for r in ledger[-4:]} == {"case review"}
    assert {r["route"] for r in ledger} == {"GET /paths/{person_id}"}


async def test_concurrent_reads_are_each_recorded_once_in_both_records_before_their_answers(
    pathway: Any, settings: Settings, events: Any, wait: Wait
) -> None:
    """Reads made at once share commits (group commit): each is still in the store and the ledger once, and
    the same person read by several readers in one commit gets consecutive versions of their read stream."""
    first, second = events.person(), events.person()
    async with UpstreamService("registration", settings) as registration:
        await registration.emit(first, events.pre_registered(first, movement="MNLA"))
        await registration.emit(second, events.pre_registered(second, movement="MNLA"))
    await wait(lambda: steps_seen(pathway.auditor, first, 1), "the first path")
    await wait(lambda: steps_seen(pathway.auditor, second, 1), "the second path")
    before = {p: len(await reads_recorded(settings, p)) for p in (first, second)}
    readers = [
        ("officer-1", pathway.officer, 200),
        ("liaison-MNLA", pathway.liaison("MNLA"), 200),
        ("liaison-GATIA", pathway.liaison("GATIA"), 404),  # refused, and recorded too
    ] * 4
    asked = [(subject, person, status) for subject, _, status in readers for person in (first, second)]

    answers = await asyncio.gather(
        *(
            api.client.get(f"/paths/{p}", headers=api.headers)
            for _, api, _ in readers
            for p in (first, second)
        )
    )

    assert [a.status_code for a in answers] == [status for _, _, status in asked]
    for person in (first, second):
        recorded = (await reads_recorded(settings, person))[before[person] :]
        ledger = (await pathway.auditor.get(f"/reads/{person}", params={"limit": 500})).json()
        assert sorted(r["viewer"] for r in recorded) == sorted(subject for subject, _, _ in readers)
        assert sorted(r["reader"] for r in ledger if r["reader"] != "auditor-1") == sorted(
            subject for subject, _, _ in readers
        )


async def test_the_read_ledger_is_told_whose_path_is_a_childs_and_hides_only_a_childs_reads(
    settings: Settings, issuer: DevelopmentTokenIssuer, events: Any, wait: Wait
) -> None:
    """Issue 14 review item 4: pathway recorded reads without saying whose path is a child's, so the ledger
    guessed from the reader's roles (a reader holding child protection hid every read it made). Now every
    read says: the child's rows are marked a child's, an adult's not, and a plain auditor sees the adult's
    reads and, of the child, only the refusal any unknown id gets."""
    child, adult = events.person(), events.person()
    async with (
        running_pathway(settings, issuer) as (app, pathway),
        UpstreamService("registration", settings) as registration,
        UpstreamService("screening", settings) as screening,
    ):
        await registration.emit(child, events.pre_registered(child, birth_year=2005), occurred_at=events.at("2020-01-01"))  # fmt: skip
        await screening.emit(child, events.screened(child, "child_protection", reason="under_18"), occurred_at=events.at("2020-01-02"))  # fmt: skip
        await registration.emit(adult, events.pre_registered(adult, movement="MNLA"))
        await wait(lambda: steps_seen(pathway.child_protection, child, 2), "the child's steps")
        await wait(lambda: steps_seen(pathway.auditor, adult, 1), "the adult's path")
        await pathway.officer.get(f"/paths/{child}")
        await pathway.officer.get(f"/paths/{adult}")

        seen = {p: (await pathway.auditor.get(f"/reads/{p}")).json() for p in (child, adult)}
        rows = {p: await ledger_rows(app.state.read_ledger.engine, p) for p in (child, adult)}

    assert {r["outcome"] for r in seen[child]} == {"not_visible"}
    assert ("officer-1", "not_visible") in [(r["reader"], r["outcome"]) for r in seen[child]]
    assert ("officer-1", "shown") in [(r["reader"], r["outcome"]) for r in seen[adult]]
    assert {told for _, outcome, told in rows[child] if outcome == "shown"} == {True}
    assert rows[child][-1][1:] == ("not_visible", True)  # the officer's refusal, the path known a child's
    assert {told for _, _, told in rows[adult]} == {False}
