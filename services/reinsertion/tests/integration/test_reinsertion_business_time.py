"""Business time on every dated command: never in the future, never before the fact it depends on, and older
than the back-recording window only for a records officer with a reason (issue 12)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from ddr_runtime.auth.roles import Role

from .conftest import (
    Service,
    enrolment,
    outcome,
    payment,
    refusal,
    screened,
    setup_catalogue_and_line,
    volunteers,
    wait_for_stage,
)

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]

TODAY = datetime.now(UTC).date()


async def test_an_enrolment_before_the_candidacy_it_depends_on_is_refused_naming_both_dates(
    service: Service,
) -> None:
    await setup_catalogue_and_line(service)
    await screened(service, outcome("P-early"), at=datetime(2020, 2, 10, 9, 0, tzinfo=UTC))
    await wait_for_stage(service, "P-early", "waiting")

    early = await service.officer.post(
        "/beneficiaries/P-early/enrolment", enrolment(enrolled_on="2020-02-09")
    )

    assert refusal(early) == (422, "occurred-before-dependency")
    assert (early.json()["not_before"], early.json()["depends_on"]) == (
        "2020-02-10T09:00:00Z",
        "the person's candidacy",
    )
    same_day = await service.officer.post(
        "/beneficiaries/P-early/enrolment", enrolment(enrolled_on="2020-02-10")
    )
    assert same_day.status_code == 201, same_day.text


async def test_an_enrolment_in_the_future_is_refused(service: Service) -> None:
    await setup_catalogue_and_line(service)
    await volunteers(service, "r-future", ["P-future"])

    future = (TODAY + timedelta(days=3)).isoformat()
    refused = await service.officer.post("/beneficiaries/P-future/enrolment", enrolment(enrolled_on=future))

    assert refusal(refused) == (422, "occurred-in-future")


async def test_back_recording_an_enrolment_needs_the_records_officer_and_a_reason(service: Service) -> None:
    await setup_catalogue_and_line(service)
    await volunteers(service, "r-back", ["P-back"])
    plain_officer = service.as_(Role.REINSERTION_OFFICER, subject="officer-plain")
    no_reason = service.as_(Role.REINSERTION_OFFICER, Role.RECORDS_OFFICER, subject="records-2", reason=None)

    without_role = await plain_officer.post("/beneficiaries/P-back/enrolment", enrolment())
    without_reason = await no_reason.post("/beneficiaries/P-back/enrolment", enrolment())
    accepted = await service.officer.post("/beneficiaries/P-back/enrolment", enrolment())

    assert refusal(without_role) == refusal(without_reason) == (422, "back-recording-not-authorised")
    assert without_role.json()["occurred_at"] == "2020-03-01T00:00:00Z"
    assert accepted.status_code == 201, accepted.text
    history = await service.app.state.runtime.store.read_stream("beneficiary-P-back")
    enrolled = [
        e.envelope for e in history if e.envelope.type.startswith("ddr.reinsertion.BeneficiaryEnrolled")
    ]
    assert [(e.occurredat, e.backrecordrole, e.backrecordreason) for e in enrolled] == [
        (
            datetime(2020, 3, 1, tzinfo=UTC),
            "records_officer",
            "migrated from the CNDDR's 2020 reinsertion registers",
        )
    ]


async def test_a_recent_enrolment_needs_no_back_recording_authority(service: Service) -> None:
    await setup_catalogue_and_line(service)
    await screened(service, outcome("P-recent"), at=datetime.now(UTC) - timedelta(days=2))
    await wait_for_stage(service, "P-recent", "waiting")
    plain_officer = service.as_(Role.REINSERTION_OFFICER, subject="officer-plain", reason=None)

    enrolled = await plain_officer.post(
        "/beneficiaries/P-recent/enrolment", enrolment(enrolled_on=(TODAY - timedelta(days=1)).isoformat())
    )

    assert enrolled.status_code == 201, enrolled.text


async def test_a_tranche_is_never_paid_before_the_enrolment(service: Service) -> None:
    await setup_catalogue_and_line(service)
    await volunteers(service, "r-pay", ["P-pay"])
    await service.officer.ok("/beneficiaries/P-pay/enrolment", enrolment(enrolled_on="2020-03-01"), 201)

    early = await service.finance.post("/disbursements", payment("P-pay", paid_on="2020-02-28"))
    future = await service.finance.post(
        "/disbursements", payment("P-pay", paid_on=(TODAY + timedelta(days=2)).isoformat())
    )

    assert refusal(early) == (422, "occurred-before-dependency")
    assert early.json()["depends_on"] == "the enrolment"
    assert refusal(future) == (422, "occurred-in-future")


async def test_a_visit_training_and_dropout_are_never_before_the_enrolment(service: Service) -> None:
    await setup_catalogue_and_line(service)
    await volunteers(service, "r-visit", ["P-visit"])
    await service.officer.ok("/beneficiaries/P-visit/enrolment", enrolment(enrolled_on="2020-03-01"), 201)

    visit = await service.officer.post(
        "/beneficiaries/P-visit/visits", {"visit_id": "v0", "outcome": "employed", "visited_on": "2020-02-20"}
    )
    training = await service.officer.post(
        "/beneficiaries/P-visit/training", {"provider": "CFP", "attended_on": "2020-02-20"}
    )
    dropout = await service.officer.post(
        "/beneficiaries/P-visit/exit", {"reason": "dropped_out", "effective_on": "2020-02-20"}
    )

    assert [refusal(r) for r in (visit, training, dropout)] == [(422, "occurred-before-dependency")] * 3


async def test_completion_is_never_before_the_last_tranche_paid(service: Service) -> None:
    await setup_catalogue_and_line(service)
    one_tranche = {
        "package_id": "one-off",
        "kind": "transport",
        "title": "Moto-taxi",
        "caseloads": ["ex_combatant"],
        "currency": "XOF",
        "base_amount": 300_000,
        "tranches": [{"number": 1, "amount": 300_000, "due_after_days": 0}],
        "effective_on": "2020-01-01",
    }
    await service.officer.ok("/packages", one_tranche, 201)
    await volunteers(service, "r-done", ["P-done"])
    await service.officer.ok(
        "/beneficiaries/P-done/enrolment", enrolment(package_id="one-off", dependants=0), 201
    )
    await service.finance.ok("/disbursements", payment("P-done", paid_on="2020-04-01"), 201)

    early = await service.officer.post(
        "/beneficiaries/P-done/exit", {"reason": "completed", "effective_on": "2020-03-15"}
    )
    done = await service.officer.post(
        "/beneficiaries/P-done/exit", {"reason": "completed", "effective_on": "2020-04-01"}
    )

    assert refusal(early) == (422, "occurred-before-dependency")
    assert early.json()["depends_on"] == "the last tranche paid"
    assert done.status_code == 204


async def test_volunteers_are_never_listed_before_their_round_opened(service: Service) -> None:
    await service.officer.ok(
        "/rounds",
        {
            "round_id": "r-late",
            "title": "R",
            "regions": ["Gao"],
            "size_per_region": 5,
            "opened_on": "2020-02-01",
        },
        201,
    )

    early = await service.officer.post(
        "/rounds/r-late/volunteers",
        {
            "listed_on": date(2020, 1, 31).isoformat(),
            "volunteers": [
                {"person_id": "P-v", "region": "Gao", "sex": "F", "category": "combatant", "movement": "CMA"}
            ],
        },
    )

    assert refusal(early) == (422, "occurred-before-dependency")
    assert early.json()["depends_on"] == "the round's opening"
