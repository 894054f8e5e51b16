"""Read-model rows written from the domain's state, in the transaction of the events they follow from."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from ddr_screening.adapters.tables import cases, persons
from ddr_screening.domain.case import ScreeningCase


async def upsert(
    conn: AsyncConnection, table: Table, rows: Sequence[dict[str, Any]], keys: Sequence[str]
) -> None:
    """Insert ``rows``, replacing those whose ``keys`` exist (one statement, executed for all rows)."""
    if not rows:
        return
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(table)
    updated = {c: statement.excluded[c] for c in rows[0] if c not in keys}
    await conn.execute(statement.on_conflict_do_update(index_elements=list(keys), set_=updated), list(rows))


def case_row(case: ScreeningCase) -> dict[str, Any]:
    return {
        "person_id": case.person_id,
        "ddr_id": case.ddr_id,
        "movement": case.movement,
        "category": case.category,
        "sex": case.sex,
        "region": case.region,
        "cercle": case.cercle,
        "rank": case.rank,
        "armed": case.armed,
        "birth_year": case.birth_year,
        "registered_on": case.registered_on or date.min,
        "restricted": case.restricted,
        "child": case.child,
        "age_pending": case.age_pending,
        "handover_deadline": case.handover_deadline,
        "handed_over_at": case.handed_over_at,
        "verified_member": case.verified_member,
        "weapon_handed_over": case.weapon_handed_over,
        "handling_test_passed": case.handling_test_passed,
        "chose_reinsertion": case.chose_reinsertion,
        "medical": case.medical,
        "examinations": len(case.examinations),
        "re_examination_open": case.re_examination_open,
        "vetting": case.vetting,
        "held": case.held,
        "rule_version": case.rule_version,
        "eligibility": case.eligibility,
        "eligibility_reasons": list(case.eligibility_reasons),
        "track": case.track,
        "outcome_reason": case.outcome_reason,
        "outcome_decision_id": case.outcome_decision_id,
        "outcomes": case.outcomes,
        "merged_into": case.merged_into,
        "version": case.version,
    }


async def project_cases(conn: AsyncConnection, saved: Sequence[ScreeningCase]) -> None:
    await upsert(conn, cases, [case_row(c) for c in saved if c.opened], ["person_id"])


async def upsert_persons(conn: AsyncConnection, rows: Sequence[dict[str, Any]]) -> None:
    await upsert(conn, persons, rows, ["person_id"])


def case_from_row(row: Any) -> ScreeningCase:
    """A case rebuilt from its read-model row, enough to evaluate rules over it (a what-if); not for saving."""
    case = ScreeningCase(person_id=row.person_id)
    case.opened = True
    for name in (
        "ddr_id", "movement", "category", "sex", "region", "cercle", "rank", "armed", "birth_year",
        "child", "verified_member", "weapon_handed_over", "handling_test_passed", "chose_reinsertion",
        "vetting", "merged_into", "track", "rule_version", "eligibility",
    ):  # fmt: skip
        setattr(case, name, getattr(row, name))
    case.eligibility_reasons = tuple(row.eligibility_reasons or ())
    case.age_assessed = not row.age_pending
    case.medical_override = row.medical
    return case
