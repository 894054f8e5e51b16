"""Reads of the screening service: queues, case views, outcomes, figures, overdue handovers.

Every read goes through ``access``: what a caller cannot see is answered as restricted or not found.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Literal, overload

from ddr_contracts.screening import (
    AgeAssessed,
    AppealDecided,
    AppealLodged,
    ChildHandedOver,
    MedicalExamined,
    MedicalReExaminationRequested,
    MembershipVerificationDecided,
    VettingDecided,
)
from ddr_runtime.auth.roles import Principal
from ddr_runtime.kernel import UnknownRecord
from ddr_screening.service_layer.access import (
    MEDICAL_DETAIL_READERS,
    PERSONAL_TEXT_READERS,
    may_see_case,
    medical_view,
    outcome_only,
    sees_restricted,
    visible_cases,
)
from ddr_screening.service_layer.service import Screening

QueueType = Literal["age_assessment", "handover", "medical", "vetting", "weapon", "outcome"]
Row = Mapping[str, Any]
SHOWN = (
    "person_id", "ddr_id", "movement", "category", "sex", "region", "cercle", "rank", "armed", "birth_year",
    "registered_on", "restricted", "child", "age_pending",
)  # fmt: skip
SHOWN_AFTER_MEDICAL = (
    "examinations", "re_examination_open", "verified_member", "weapon_handed_over", "handling_test_passed",
    "chose_reinsertion", "vetting",
)  # fmt: skip


def summary(row: Row, principal: Principal) -> dict[str, Any]:
    """A case as the caller may see it; a restricted case the caller may not see says only that."""
    if not may_see_case(principal, row["movement"], row["region"], row["restricted"]):
        return {"person_id": row["person_id"], "restricted": True}
    if outcome_only(principal):
        return {
            "person_id": row["person_id"],
            "ddr_id": row["ddr_id"],
            "movement": row["movement"],
            "track": row["track"],
            "reason": row["outcome_reason"],
        }
    return {
        **{name: row[name] for name in SHOWN},
        "handover_deadline": _aware(row["handover_deadline"]),
        "handed_over_at": _aware(row["handed_over_at"]),
        "medical": medical_view(principal, row["medical"]),
        **{name: row[name] for name in SHOWN_AFTER_MEDICAL},
        "benefits_held": row["held"],
        "rule_version": row["rule_version"],
        "eligibility": row["eligibility"],
        "eligibility_reasons": row["eligibility_reasons"],
        "track": row["track"],
        "outcome_reason": row["outcome_reason"],
        "outcome_decision_id": row["outcome_decision_id"],
        "merged_into": row["merged_into"],
        "version": row["version"],
    }


async def queue(
    scr: Screening,
    principal: Principal,
    kind: str,
    *,
    region: str | None = None,
    offset: int = 0,
    limit: int = 100,
) -> dict[str, Any]:
    total, rows = await scr.reads.queue(kind, visible_cases(principal), region, offset, limit)
    return {"queue": kind, "total": total, "items": [summary(row, principal) for row in rows]}


async def get_case(
    scr: Screening, principal: Principal, person_id: str, *, with_decisions: bool = True
) -> tuple[dict[str, Any], int]:
    """The case as the caller may see it, and its version (for ``If-Match``)."""
    row = await scr.reads.case_row(person_id)
    if (
        row is None
        or not principal.covers_movement(row["movement"])
        or not principal.covers_region(row["region"])
    ):
        raise UnknownRecord("case", person_id)
    view = summary(row, principal)
    if view.get("restricted") is True and len(view) == 2:
        return view, row["version"]
    if with_decisions and not outcome_only(principal):
        view["decisions"] = await _decisions(scr, principal, person_id, restricted=row["restricted"])
    return view, row["version"]


def _shown_data(event: Any, principal: Principal, full: bool) -> dict[str, Any]:
    """An event's fields as the caller may see them: sealed text only to those entitled."""
    data: dict[str, Any] = event.model_dump(mode="json")
    data.pop("person_id", None)
    if full:
        return data
    if isinstance(event, MedicalExamined):
        if not principal.has_any(*MEDICAL_DETAIL_READERS):
            data.pop("details", None)
            data["result"] = medical_view(principal, event.result)
    elif isinstance(event, VettingDecided | MembershipVerificationDecided | AppealLodged | AppealDecided):
        if not principal.has_any(*PERSONAL_TEXT_READERS):
            data.pop("reason", None)
    elif isinstance(event, MedicalReExaminationRequested):
        if not principal.has_any(*MEDICAL_DETAIL_READERS):
            data.pop("reason", None)
    elif isinstance(event, AgeAssessed | ChildHandedOver):
        data.pop("note", None)
    return data


async def _decisions(
    scr: Screening, principal: Principal, person_id: str, *, restricted: bool
) -> list[dict[str, Any]]:
    """The case's history as the caller may see it: every decision, its author, when it happened (business
    time) and when it was recorded; sealed text only to those entitled (medical details: examiners and
    screening officers)."""
    full = restricted and sees_restricted(principal)
    return [
        {
            "type": type(recorded["event"]).name.rsplit(".", 1)[-1],
            "version": recorded["version"],
            "actor": recorded["actor"],
            "occurred_at": recorded["occurred_at"],
            "recorded_at": recorded["recorded_at"],
            **_shown_data(recorded["event"], principal, full),
        }
        for recorded in await scr.reads.history(person_id)
    ]


async def outcomes(
    scr: Screening,
    principal: Principal,
    *,
    movement: str | None = None,
    track: str | None = None,
    offset: int = 0,
    limit: int = 100,
) -> list[dict[str, Any]]:
    rows = await scr.reads.outcomes(visible_cases(principal), movement, track, offset, limit)
    return [
        {
            "person_id": r["person_id"],
            "ddr_id": r["ddr_id"],
            "movement": r["movement"],
            "track": r["track"],
            "reason": r["outcome_reason"],
            "benefits_held": r["held"],
            "decision_id": r["outcome_decision_id"],
        }
        for r in rows
    ]


async def figures(scr: Screening, principal: Principal, *, region: str | None = None) -> dict[str, Any]:
    """Counts that reconcile: cases = each track + undecided; restricted cases counted, never listed."""
    counted = await scr.reads.figures(region, principal.regions)
    by_track = {str(track or "undecided"): count for track, count in counted["by_track"].items()}
    return {
        "cases": sum(by_track.values()),
        "by_track": by_track,
        "benefits_held": counted["held"],
        "outcomes_superseded": counted["superseded"],
    }


async def overdue_handovers(
    scr: Screening, principal: Principal, now: datetime | None = None
) -> dict[str, Any]:
    """Children not handed over by their deadline (48 hours from the separation's business time): listed for
    child protection, counted for anyone else."""
    now = now or datetime.now(UTC)
    rows = await scr.reads.overdue_children(now, principal.regions)
    answer: dict[str, Any] = {"overdue": len(rows)}
    if sees_restricted(principal) and not outcome_only(principal):
        answer["items"] = [
            {
                "person_id": r["person_id"],
                "ddr_id": r["ddr_id"],
                "region": r["region"],
                "cercle": r["cercle"],
                "handover_deadline": _aware(r["handover_deadline"]),
                "hours_overdue": round((now - _aware(r["handover_deadline"])).total_seconds() / 3600, 1),
            }
            for r in rows
        ]
    return answer


@overload
def _aware(moment: datetime) -> datetime: ...


@overload
def _aware(moment: None) -> None: ...


def _aware(moment: datetime | None) -> datetime | None:
    """A time read back from the read model, in UTC (SQLite keeps no time zone)."""
    return moment if moment is None or moment.tzinfo is not None else moment.replace(tzinfo=UTC)


async def rule_sets(scr: Screening) -> list[dict[str, Any]]:
    return await scr.reads.rule_set_bodies()


async def vetting_lists(scr: Screening) -> list[dict[str, Any]]:
    return [dict(row) for row in await scr.reads.published_vetting_lists()]
