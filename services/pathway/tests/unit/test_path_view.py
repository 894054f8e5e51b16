"""The path table in the terminal: 80 columns by default, event names whole; ``--wide`` for every detail."""

from __future__ import annotations

from typing import Any

from rich.console import Console

from ddr_pathway.entrypoints.path_view import NARROW, path_table

STEPS = [
    ("registration", "PersonPreRegistered", "officer-gao-registration-desk-2", None, None, {}),
    ("registration", "PersonRegistered", "officer-gao-registration-desk-2", None, None, {}),
    ("screening", "ScreeningOutcomeDecided", "service:screening-intake", "eligible_armed_member",
     "eligibility-2019.1", {"track": "integration"}),
    ("integration", "CandidateAcceptanceDeferred", "nic-officer-bamako-1", "quota_exhausted_for_movement",
     None, {}),
    ("integration", "CandidateAccepted", "nic-officer-bamako-1", None, None, {}),
    ("integration", "ArmedForcesContingentRecorded", "nic-officer-bamako-1", None, None, {}),
    ("integration", "ServiceStatusChanged", "unit-commander-batfar-gao", "left_post_without_leave", None,
     {"status": "deserted"}),
]  # fmt: skip


def a_path() -> dict[str, Any]:
    steps = [
        {
            "event_id": f"e{i:035d}",
            "type": f"ddr.{service}.{name}",
            "service": service,
            "person_id": "0f8fad5b-d9cb-469f-a165-70867728950e",
            "occurred_at": f"2019-05-{i + 1:02d}T12:00:00Z",
            "valid_from": f"2019-05-{i + 1:02d}T12:00:00Z",
            "holds_from": f"2019-05-{i + 1:02d}T12:00:00Z",
            "recorded_at": f"2026-12-01T18:{i:02d}:00Z",
            "actor": actor,
            "reason_code": reason,
            "rule_version": rule,
            "caused_by": f"c{i:035d}" if service == "screening" else None,
            "summary": summary,
        }
        for i, (service, name, actor, reason, rule, summary) in enumerate(STEPS)
    ]
    return {
        "person_id": "0f8fad5b-d9cb-469f-a165-70867728950e",
        "stage": "integration:deserted",
        "movement": "GATIA",
        "region": "Gao",
        "stages": [],
        "steps": steps,
    }


def rendered(*, wide: bool, width: int) -> list[str]:
    console = Console(width=width, record=True, color_system=None)
    console.print(path_table(a_path(), wide=wide))
    return console.export_text().splitlines()


def test_the_path_table_fits_80_columns_and_never_cuts_an_event_name() -> None:
    lines = rendered(wide=False, width=NARROW)

    rows = [line for line in lines if line.startswith("│")]
    assert max(len(line) for line in lines) <= NARROW
    assert all(line.rstrip().endswith("│") for line in rows), "a row was cropped"
    for _service, name, *_ in STEPS:
        assert any(name in line for line in lines), name
    assert not any("…" in line for line in lines)


def test_the_wide_path_table_shows_each_step_on_one_line_with_times_status_and_cause() -> None:
    lines = rendered(wide=True, width=1000)

    deserted = next(line for line in lines if "ServiceStatusChanged" in line)
    assert "2019-05-07 12:00" in deserted
    assert "2026-12-01 18:06" in deserted
    assert "deserted" in deserted
    assert "left_post_without_leave" in deserted
    outcome = next(line for line in lines if "ScreeningOutcomeDecided" in line)
    assert f"c{2:035d}" in outcome
