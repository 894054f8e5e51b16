"""The whole platform end to end, through the public APIs only: the report's accelerated DDR at a small scale,
on the report's own timeline (2018-2023), every fact back-recorded with the day it happened.

Every service runs in this process on its own PostgreSQL database, meeting the others only through one topic
namespace on the real Kafka broker. What one service decides reaches the next as a contract event, and the
figures as of a date (pathway's funnel, integration's thirds) must be exactly what the run created by then,
as each reader may see them: children's records count only in ``child_protection``, which a CNDDR officer and
an auditor see through ``disclose_count`` (issue 14), as a CNDDR officer sees the vetting holds.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from ddr_runtime.auth.roles import Role
from tests.e2e.platform import Platform
from tests.e2e.scenario import Progress, Shape, run

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]

SHAPE = Shape(registered=60, finally_unfit=14, children=2, seed=11)
END_OF_2018, MID_2020, END_OF_NOVEMBER_2023 = date(2018, 12, 31), date(2020, 6, 30), date(2023, 11, 30)


async def test_the_accelerated_ddr_reconciles_from_lists_to_units_reinsertion_and_cvr(
    platform: Platform,
) -> None:
    result = await run(
        platform,
        SHAPE,
        Progress(report=lambda stage, done, total: print(f"{stage}: {done}/{total}", flush=True)),
    )
    plan = result.plan

    # What the run created, as of the end of 2018: the lists, the first registrations and their screening.
    at_2018 = result.figures[END_OF_2018]
    assert at_2018["funnel"]["registered"] == at_2018["funnel"]["disarmed"] == 37  # 1,423 of 2,300, scaled
    for reader in (Role.CNDDR_OFFICER, Role.AUDITOR):
        for on in (END_OF_2018, MID_2020, END_OF_NOVEMBER_2023):
            created = plan.figures(on, reader)
            shown = result.figures_by_reader[reader][on]
            assert {name: shown["funnel"][name] for name in created["funnel"]} == created["funnel"], (
                reader,
                on,
            )
            assert {name: Decimal(str(shown["cvr"][name])) for name in created["cvr"]} == {
                name: Decimal(value) for name, value in created["cvr"].items()
            }, (reader, on)

    # By mid-2020 every adult is screened and accepted; two reinsertion waves are enrolled; no CVR yet. The two
    # registered children count in no figure but child_protection: the lists hold six children's records
    # (two listed as children, four minors listed as combatants), which the CNDDR sees rounded down to 5.
    mid_2020 = result.figures[MID_2020]["funnel"]
    assert plan.child_records == 6
    assert mid_2020["pre_registered"] == plan.pre_registered
    assert mid_2020["registered"] == mid_2020["screened"] == 60
    assert mid_2020["child_protection"] == 5
    assert (
        mid_2020["benefits_held"] is None
    )  # nobody is held for vetting; a CNDDR officer sees no count below 5
    assert result.figures_by_reader[Role.AUDITOR][MID_2020]["funnel"]["benefits_held"] == 0
    assert mid_2020["integration"]["active"] == 46
    # Child protection reads its own count exactly (pathway's figures, its own token, at the run's last date).
    status, own = result.child_protection_figures
    assert (status, own["funnel"]["child_protection"] if own else None) == (200, plan.child_records)
    assert mid_2020["cvr"] == 0

    # At the end of November 2023: the desertions of October, every unfit person enrolled, four CVR projects.
    end = result.figures[END_OF_NOVEMBER_2023]["funnel"]
    deserted = sum(len(d.person_ids) for d in plan.desertions)
    assert end["integration"] == {"active": 46 - deserted, "completed": 0, "deserted": deserted} | {
        "discharged": 0,
        "withdrawn": 0,
    }
    assert end["reinsertion"]["active"] == 14
    assert end["cvr"] == 8  # two former combatants in each of the four projects

    # The rule of thirds per unit: exact before the fall of 2023, broken where members left.
    before, after = result.thirds[date(2023, 9, 30)], result.thirds[END_OF_NOVEMBER_2023]
    assert before == plan.thirds(date(2023, 9, 30))
    assert after == plan.thirds(END_OF_NOVEMBER_2023)
    for unit_id, figures in before.items():
        assert len(set(figures["strength"].values())) == 1, unit_id
    assert after["BATFAR-Kidal"]["strength"]["CMA"] == 0
    assert after["BATFAR-Gao"]["strength"]["CMA"] == before["BATFAR-Gao"]["strength"]["CMA"] - len(
        plan.desertions[0].person_ids
    )

    # The ledger committed and paid the first tranche of every enrolled person, and never went negative.
    assert Decimal(result.ledger["disbursed"]) > 0
    assert Decimal(result.ledger["committed"]) >= Decimal(result.ledger["disbursed"])

    # A deserter's path tells their story in order, dated as it happened.
    steps = [step["type"].split(".")[2] for step in result.sample_path["steps"]]
    for earlier, later in (
        ("PersonPreRegistered", "PersonRegistered"),
        ("PersonRegistered", "ScreeningOutcomeDecided"),
        ("ScreeningOutcomeDecided", "CandidateAccepted"),
        ("CandidateAccepted", "MemberAssigned"),
    ):
        assert steps.index(earlier) < steps.index(later), steps
    assert result.sample_path["steps"][-1]["valid_from"].startswith("2023-10-15")

    # No child ever reaches integration or reinsertion.
    nic = platform.party("nic-officer", Role.NIC_OFFICER)
    officer = platform.party("reinsertion-officer", Role.REINSERTION_OFFICER)
    for child in result.outcome.children:
        assert (await nic.request("integration", "GET", f"/candidates/{child}")).status_code == 404
        assert (await officer.request("reinsertion", "GET", f"/beneficiaries/{child}")).status_code == 404
