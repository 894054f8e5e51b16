"""The whole platform end to end, through the public APIs only: the report's accelerated DDR at a small scale.

Every service runs in this process on its own PostgreSQL database, meeting the others only through one topic
namespace on the real Kafka broker. What one service decides reaches the next as a contract event, and the
pathway's figures must reconcile with what the run did.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from ddr_runtime.auth.roles import Role
from tests.e2e.platform import Platform
from tests.e2e.scenario import Progress, Shape, run

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]


async def test_the_accelerated_ddr_reconciles_from_lists_to_units_reinsertion_and_cvr(
    platform: Platform,
) -> None:
    shape = Shape(registered=60, finally_unfit=14, children=2, seed=11)

    result = await run(
        platform,
        shape,
        Progress(report=lambda stage, done, total: print(f"{stage}: {done}/{total}", flush=True)),
    )

    outcome = result.outcome
    funnel = result.figures["funnel"]
    assert len(outcome.registered) == 60
    assert {track: len(people) for track, people in outcome.tracks.items() if people} == {
        "integration": 46,
        "reinsertion": 14,
    }
    assert funnel["registered"] == 60 + 2
    assert funnel["child_protection"] == 2
    integrated = funnel["integration"]
    assert integrated["active"] + integrated["deserted"] == 60 - 14
    assert integrated["deserted"] == len(outcome.deserters) > 0
    assert funnel["reinsertion"]["active"] == 14
    assert funnel["cvr"] == 8  # two registered ex-combatants linked in each of the four projects

    # Gao's strength after the desertions, in thirds figures as of the date shown.
    assert result.gao["strength"]["CMA"] == result.gao["strength"]["Platform"] - len(outcome.deserters)
    # The ledger committed and paid the first tranche of every enrolled person, and never went negative.
    assert Decimal(result.ledger["disbursed"]) > 0
    assert Decimal(result.ledger["committed"]) >= Decimal(result.ledger["disbursed"])

    # A deserter's path tells their story in order, with who decided.
    steps = [step["type"].split(".")[2] for step in result.sample_path["steps"]]
    for earlier, later in (
        ("PersonPreRegistered", "PersonRegistered"),
        ("PersonRegistered", "ScreeningOutcomeDecided"),
        ("ScreeningOutcomeDecided", "CandidateAccepted"),
        ("CandidateAccepted", "MemberAssigned"),
    ):
        assert steps.index(earlier) < steps.index(later), steps
    assert result.sample_path["stage"] in ("deserted", "integration_deserted") or "desert" in str(
        result.sample_path["stage"]
    )

    # No child ever reaches integration or reinsertion, and their path is closed to the CNDDR officer's eyes.
    nic = platform.party("nic-officer", Role.NIC_OFFICER)
    officer = platform.party("reinsertion-officer", Role.REINSERTION_OFFICER)
    for child in outcome.children:
        assert (await nic.request("integration", "GET", f"/candidates/{child}")).status_code == 404
        assert (await officer.request("reinsertion", "GET", f"/beneficiaries/{child}")).status_code == 404
