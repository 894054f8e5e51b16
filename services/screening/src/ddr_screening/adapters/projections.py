"""The read model, projected from screening's own events in the transaction that saves them (and again, from
the first event, when it is rebuilt).

A case's row is folded from its events alone: the rows a batch touches are read once, each event changes its
row's columns, and the rows are written back in one statement. The same code runs live and in a rebuild, so
a rebuilt read model equals the live one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Table, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from ddr_contracts.screening import (
    AgeAssessed,
    AppealDecided,
    BenefitsHeld,
    BenefitsReleased,
    CaseDetailsCorrected,
    CaseMergedInto,
    ChildHandedOver,
    ChildIdentified,
    EligibilityDetermined,
    EligibilityRuleSetPublished,
    HandlingTestRecorded,
    MedicalExamined,
    MedicalReExaminationRequested,
    MembershipVerificationDecided,
    ReinsertionChosen,
    ScreeningCaseOpened,
    ScreeningOutcomeDecided,
    VettingDecided,
    VettingListVersionPublished,
    WeaponHandoverNoted,
)
from ddr_runtime.eventstore.unit import Saved
from ddr_screening.adapters.tables import cases, rule_sets, vetting_entries, vetting_lists

CHUNK = 1000
MEDICAL_RESULTS = frozenset({"fit", "unfit", "temporarily_unfit"})
CORRECTED_COLUMNS = ("category", "sex", "birth_year", "region", "cercle", "rank", "armed")

Row = dict[str, Any]


async def upsert(conn: AsyncConnection, table: Table, rows: Sequence[Row], keys: Sequence[str]) -> None:
    """Insert ``rows``, replacing those whose ``keys`` exist (one statement, executed for all rows)."""
    if not rows:
        return
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(table)
    updated = {c: statement.excluded[c] for c in rows[0] if c not in keys}
    await conn.execute(statement.on_conflict_do_update(index_elements=list(keys), set_=updated), list(rows))


# -- a case's row, folded from its events --------------------------------------------------------------------


def opened_row(event: ScreeningCaseOpened) -> Row:
    return {
        "person_id": event.person_id,
        "ddr_id": event.ddr_id,
        "movement": event.movement,
        "category": event.category,
        "sex": event.sex,
        "region": event.region,
        "cercle": event.cercle,
        "rank": event.rank,
        "armed": event.armed,
        "birth_year": event.birth_year,
        "registered_on": event.registered_on,
        "restricted": False,
        "child": False,
        "age_pending": event.youngest_age is None,
        "handover_deadline": None,
        "handed_over_at": None,
        "verified_member": True,
        "weapon_handed_over": event.weapon_handed_over,
        "handling_test_passed": None,
        "chose_reinsertion": False,
        "medical": None,
        "examinations": 0,
        "re_examination_open": False,
        "vetting": None,
        "held": False,
        "rule_version": None,
        "eligibility": None,
        "eligibility_reasons": [],
        "track": None,
        "outcome_reason": None,
        "outcome_decision_id": None,
        "outcomes": 0,
        "merged_into": None,
        "version": 0,
    }


def _child(row: Row, event: ChildIdentified) -> None:
    row.update(child=True, age_pending=False, handover_deadline=event.handover_deadline)


def _handed_over(row: Row, event: ChildHandedOver) -> None:
    row["handed_over_at"] = event.handed_over_at


def _age(row: Row, event: AgeAssessed) -> None:
    if event.effect in ("adult_confirmed", "child_identified"):
        row["age_pending"] = False


def _examined(row: Row, event: MedicalExamined) -> None:
    row.update(medical=event.result, examinations=row["examinations"] + 1, re_examination_open=False)


def _re_examination(row: Row, _event: MedicalReExaminationRequested) -> None:
    row["re_examination_open"] = True


def _vetting(row: Row, event: VettingDecided) -> None:
    row["vetting"] = event.status


def _held(row: Row, _event: BenefitsHeld) -> None:
    row["held"] = True


def _released(row: Row, _event: BenefitsReleased) -> None:
    row["held"] = False


def _membership(row: Row, event: MembershipVerificationDecided) -> None:
    row["verified_member"] = event.verified


def _handling_test(row: Row, event: HandlingTestRecorded) -> None:
    row["handling_test_passed"] = event.passed


def _weapon(row: Row, _event: WeaponHandoverNoted) -> None:
    row["weapon_handed_over"] = True


def _chosen(row: Row, _event: ReinsertionChosen) -> None:
    row["chose_reinsertion"] = True


def _eligibility(row: Row, event: EligibilityDetermined) -> None:
    row.update(
        rule_version=event.rule_version, eligibility=event.result, eligibility_reasons=list(event.reasons)
    )


def _outcome(row: Row, event: ScreeningOutcomeDecided) -> None:
    row.update(
        track=event.track,
        outcome_reason=event.reason_code,
        outcome_decision_id=event.decision_id,
        outcomes=row["outcomes"] + 1,
    )


def _corrected(row: Row, event: CaseDetailsCorrected) -> None:
    for name in CORRECTED_COLUMNS:
        value = getattr(event, name)
        if name in event.corrected_fields and value is not None:
            row[name] = value
    if event.youngest_age is not None:  # an age now known: no longer possibly a child of unknown age
        row["age_pending"] = False


def _merged(row: Row, event: CaseMergedInto) -> None:
    row["merged_into"] = event.into_person_id


def _appeal_decided(row: Row, event: AppealDecided) -> None:
    if event.overturned and event.decision_kind == "medical" and event.replacement in MEDICAL_RESULTS:
        row["medical"] = event.replacement


FOLDS: dict[type[Any], Callable[[Row, Any], None]] = {
    ChildIdentified: _child,
    ChildHandedOver: _handed_over,
    AgeAssessed: _age,
    MedicalExamined: _examined,
    MedicalReExaminationRequested: _re_examination,
    VettingDecided: _vetting,
    BenefitsHeld: _held,
    BenefitsReleased: _released,
    MembershipVerificationDecided: _membership,
    HandlingTestRecorded: _handling_test,
    WeaponHandoverNoted: _weapon,
    ReinsertionChosen: _chosen,
    EligibilityDetermined: _eligibility,
    ScreeningOutcomeDecided: _outcome,
    CaseDetailsCorrected: _corrected,
    CaseMergedInto: _merged,
    AppealDecided: _appeal_decided,
}
"""How each event changes its case's row (an event not named here changes nothing but the version)."""


class CaseProjection:
    """``scr_cases``: one row per case, as its events left it."""

    async def project(self, conn: AsyncConnection, saved: Sequence[Saved]) -> None:
        about = [item for item in saved if item.envelope.streamid == getattr(item.event, "person_id", None)]
        if not about:
            return
        opened = {item.event.person_id for item in about if isinstance(item.event, ScreeningCaseOpened)}
        rows = await self._rows(conn, {item.event.person_id for item in about} - opened)  # type: ignore[attr-defined]
        for item in about:
            event: Any = item.event
            if isinstance(event, ScreeningCaseOpened):
                rows[event.person_id] = opened_row(event)
            row = rows[event.person_id]
            fold = FOLDS.get(type(event))
            if fold is not None:
                fold(row, event)
            row["restricted"] = row["child"] or row["age_pending"] or row["category"] == "child"
            row["version"] = item.version
        await upsert(conn, cases, list(rows.values()), ["person_id"])

    @staticmethod
    async def _rows(conn: AsyncConnection, person_ids: set[str]) -> dict[str, Row]:
        wanted = sorted(person_ids)
        found: dict[str, Row] = {}
        for start in range(0, len(wanted), CHUNK):
            result = await conn.execute(
                select(cases).where(cases.c.person_id.in_(wanted[start : start + CHUNK]))
            )
            found.update({row.person_id: dict(row._mapping) for row in result})
        missing = person_ids - found.keys()
        if missing:
            raise LookupError(f"{len(missing)} case(s) have events but no opened row in the read model")
        return found


class ReferenceProjection:
    """``scr_rule_sets``, ``scr_vetting_lists`` and ``scr_vetting_entries``: each published version (an entry
    by its place in the list, never with its allegation reference: see ``StoredReference.vetting_list``)."""

    async def project(self, conn: AsyncConnection, saved: Sequence[Saved]) -> None:
        for item in saved:
            event = item.event
            if isinstance(event, EligibilityRuleSetPublished):
                await conn.execute(
                    insert(rule_sets).values(
                        rule_version=event.rule_version,
                        effective_from=event.effective_from,
                        body=event.model_dump(mode="json"),
                    )
                )
            elif isinstance(event, VettingListVersionPublished):
                await self._vetting_list(conn, event, item)

    @staticmethod
    async def _vetting_list(conn: AsyncConnection, event: VettingListVersionPublished, item: Saved) -> None:
        await conn.execute(
            insert(vetting_lists).values(
                list_version=event.list_version,
                source_ref=event.source_ref,
                entries=event.entry_count,
                published_at=item.envelope.recordedat,
            )
        )
        entries = [
            {
                "list_version": event.list_version,
                "person_id": entry.person_id,
                "position": position,
                "status": entry.status,
            }
            for position, entry in enumerate(event.entries or ())
        ]
        if entries:
            await conn.execute(insert(vetting_entries), entries)
