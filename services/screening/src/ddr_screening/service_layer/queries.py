"""Reads of the screening service: queues, case views, outcomes, figures, overdue handovers.

Every read goes through ``access``: a case the caller may not see answers exactly as a missing one, is absent
from lists, and is counted only through ``disclose_count``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, Literal, overload

from ddr_contracts.screening import (
    AgeAssessed,
    AppealDecided,
    AppealLodged,
    BenefitsHeld,
    BenefitsReleased,
    CaseDetailsCorrected,
    CaseMergedInto,
    EligibilityDetermined,
    HandlingTestRecorded,
    MedicalExamined,
    MedicalReExaminationRequested,
    MembershipVerificationDecided,
    ReinsertionChosen,
    ScreeningCaseOpened,
    ScreeningOutcomeDecided,
    VettingDecided,
    WeaponHandoverNoted,
)
from ddr_runtime.auth.roles import Principal
from ddr_runtime.auth.visibility import (
    disclose_count,
    sees_children,
    sees_medical_detail,
    sees_vetting_detail,
)
from ddr_runtime.kernel import UnknownRecord
from ddr_screening.domain.visibility import CaseFilter
from ddr_screening.service_layer.access import (
    PERSONAL_TEXT_READERS,
    may_see_case,
    medical_view,
    outcome_only,
    visible_cases,
)
from ddr_screening.service_layer.service import Screening

CHILDREN_QUEUES = frozenset({"age_assessment", "handover"})
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
    """A case the caller may see, as the caller may see it."""
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
    """One page of a queue the caller may see. A queue of children (age assessments, hand-overs) is listed
    to child protection alone; anyone else reading it gets its size through ``disclose_count``."""
    if kind in CHILDREN_QUEUES and not sees_children(principal):
        children = CaseFilter(regions=principal.regions, restricted=True)
        total, _ = await scr.reads.queue(kind, children, region, 0, 0)
        return {"queue": kind, "total": disclose_count(total), "items": []}
    total, rows = await scr.reads.queue(kind, visible_cases(principal), region, offset, limit)
    return {"queue": kind, "total": total, "items": [summary(row, principal) for row in rows]}


async def get_case(
    scr: Screening, principal: Principal, person_id: str, *, with_decisions: bool = True
) -> tuple[dict[str, Any], int]:
    """The case as the caller may see it, and its version (for ``If-Match``); UnknownRecord for a case the
    caller may not know of, exactly as for one that does not exist."""
    row = await scr.reads.case_row(person_id)
    if row is None or not may_see_case(principal, row["movement"], row["region"], row["restricted"]):
        raise UnknownRecord("case", person_id)
    view = summary(row, principal)
    if with_decisions and not outcome_only(principal):
        view["decisions"] = await _decisions(scr, principal, person_id, restricted=row["restricted"])
    return view, row["version"]


def _personal_text(principal: Principal) -> bool:
    return principal.has_any(*PERSONAL_TEXT_READERS)


_TEXT_OF_APPEALS: dict[str, Callable[[Principal], bool]] = {
    "medical": sees_medical_detail,
    "vetting": sees_vetting_detail,
    "age": sees_children,
}

SHOWN_FIELDS: dict[type[Any], tuple[str, ...]] = {
    ScreeningCaseOpened: (
        "ddr_id", "movement", "category", "sex", "region", "cercle", "rank", "armed", "birth_kind",
        "birth_year", "youngest_age", "weapon_handed_over", "registered_on",
    ),
    AgeAssessed: ("decision_id", "method", "youngest_age", "document_suspect", "conclusion", "effect"),
    MedicalExamined: ("decision_id", "examination_number", "re_examination"),
    MedicalReExaminationRequested: ("request_id", "of_decision_id", "requested_by"),
    VettingDecided: ("decision_id", "status", "source", "list_version"),
    BenefitsHeld: ("decision_id",),
    BenefitsReleased: ("decision_id",),
    MembershipVerificationDecided: ("decision_id", "verified", "reason_code"),
    HandlingTestRecorded: ("decision_id", "passed"),
    WeaponHandoverNoted: ("weapon_id", "receipt_number"),
    ReinsertionChosen: ("decision_id", "rule_version"),
    EligibilityDetermined: ("decision_id", "rule_version", "result", "reasons"),
    ScreeningOutcomeDecided: (
        "decision_id", "track", "reason_code", "rule_version", "previous_track", "supersedes_decision_id",
        "by_appeal",
    ),
    CaseDetailsCorrected: (
        "corrected_fields", "category", "sex", "birth_kind", "birth_year", "region", "cercle", "rank", "armed",
        "youngest_age",
    ),
    CaseMergedInto: ("into_person_id",),
    AppealLodged: ("appeal_id", "decision_id", "decision_kind", "lodged_by"),
    AppealDecided: ("appeal_id", "decision_id", "decision_kind", "overturned", "decided_by"),
}  # fmt: skip
"""What every reader of an adult's case sees of each event (an allow-list: an event type not named here
shows its type and dates alone); what only some roles see is added by :func:`_shown_data`."""
DETAIL_FIELDS: dict[type[Any], tuple[Callable[[Principal], bool], tuple[str, ...]]] = {
    MedicalExamined: (sees_medical_detail, ("details",)),
    MedicalReExaminationRequested: (sees_medical_detail, ("reason",)),
    VettingDecided: (sees_vetting_detail, ("allegation_ref", "reason_code", "reason")),
    BenefitsHeld: (sees_vetting_detail, ("reason_code",)),
    BenefitsReleased: (sees_vetting_detail, ("reason_code",)),
    MembershipVerificationDecided: (_personal_text, ("reason",)),
}
"""Fields shown only to the roles the predicate admits (medical detail, vetting detail, personal text)."""


def _shown_data(event: Any, principal: Principal, full: bool) -> dict[str, Any]:
    """An event's fields as the caller may see them, from the allow-list."""
    data: dict[str, Any] = event.model_dump(mode="json")
    data.pop("person_id", None)
    if full:
        return data
    shown = {name: data[name] for name in SHOWN_FIELDS.get(type(event), ()) if name in data}
    if isinstance(event, MedicalExamined):
        shown["result"] = medical_view(principal, event.result)
    detail = DETAIL_FIELDS.get(type(event))
    if detail is not None and detail[0](principal):
        shown.update({name: data[name] for name in detail[1] if name in data})
    if isinstance(event, AppealLodged | AppealDecided):
        may_read = _TEXT_OF_APPEALS.get(event.decision_kind, _personal_text)
        if may_read(principal):
            shown["reason"] = data.get("reason")
    if isinstance(event, AppealDecided):
        shown["replacement"] = (
            medical_view(principal, event.replacement)
            if event.decision_kind == "medical"
            else event.replacement
        )
    return shown


async def _decisions(
    scr: Screening, principal: Principal, person_id: str, *, restricted: bool
) -> list[dict[str, Any]]:
    """The case's history as the caller may see it: every decision, its author, when it happened (business
    time) and when it was recorded; each event's fields from the allow-list, detail only to those entitled."""
    full = restricted and sees_children(principal)
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
    """Adults' cases by track, reconciling (cases = each track + undecided); children's and possible
    children's cases as one count, and benefits held (a vetting category), through ``disclose_count`` for
    roles outside them."""
    counted = await scr.reads.figures(region, principal.regions)
    by_track = {str(track or "undecided"): count for track, count in counted["by_track"].items()}
    restricted: int | None = counted["restricted"]
    held: int | None = counted["held"]
    if not sees_children(principal):
        restricted = disclose_count(counted["restricted"])
    if not sees_vetting_detail(principal):
        held = disclose_count(counted["held"])
    return {
        "cases": sum(by_track.values()),
        "by_track": by_track,
        "children_and_possible_children": restricted,
        "benefits_held": held,
        "outcomes_superseded": counted["superseded"],
    }


async def overdue_handovers(
    scr: Screening, principal: Principal, now: datetime | None = None
) -> dict[str, Any]:
    """Children not handed over by their deadline (48 hours from the separation's business time): listed for
    child protection, counted through ``disclose_count`` for anyone else."""
    now = now or datetime.now(UTC)
    rows = await scr.reads.overdue_children(now, principal.regions)
    if not (sees_children(principal) and not outcome_only(principal)):
        return {"overdue": disclose_count(len(rows))}
    return {
        "overdue": len(rows),
        "items": [
            {
                "person_id": r["person_id"],
                "ddr_id": r["ddr_id"],
                "region": r["region"],
                "cercle": r["cercle"],
                "handover_deadline": _aware(r["handover_deadline"]),
                "hours_overdue": round((now - _aware(r["handover_deadline"])).total_seconds() / 3600, 1),
            }
            for r in rows
        ],
    }


@overload
def _aware(moment: datetime) -> datetime: ...


@overload
def _aware(moment: None) -> None: ...


def _aware(moment: datetime | None) -> datetime | None:
    """A time read back from the read model, in UTC (SQLite keeps no time zone)."""
    return moment if moment is None or moment.tzinfo is not None else moment.replace(tzinfo=UTC)


async def rule_sets(scr: Screening) -> list[dict[str, Any]]:
    return await scr.reads.rule_set_bodies()


async def children_among(scr: Screening, person_ids: Iterable[str]) -> set[str]:
    """Which of the persons read are children (a restricted case), for the read ledger's child rule."""
    return await scr.reads.children_among(list(person_ids))


async def vetting_lists(scr: Screening, principal: Principal) -> list[dict[str, Any]]:
    """The vetting list's versions. A nationally scoped reader sees each version's whole count of entries; a
    caller narrowed to regions, the count of the entries it may see (open cases of its regions, children's
    left out unless it sees children), never the others'."""
    shown = visible_cases(principal) if principal.regions else None
    return [dict(row) for row in await scr.reads.published_vetting_lists(shown)]
