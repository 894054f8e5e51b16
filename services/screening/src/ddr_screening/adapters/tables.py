"""Tables of the screening service, in its own database beside its event store.

The read model (:data:`READ_MODEL`) is projected from screening's events in the transaction of their
append, and rebuilt from them on demand. ``scr_persons`` is the intake's memory of registration's events
about people whose case is not open yet. Nothing personal is kept in clear: a pre-registered person's exact
birth date is held sealed under their key only until the case opens (to assess the age at registration) and
is then dropped; medical details and reasons stay in the sealed events. A vetting list's entries keep the
person, the allegation's status and the entry's place in the list: the allegation reference stays in the list
event, sealed.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
)
from sqlalchemy.ext.asyncio import AsyncEngine

metadata = MetaData()

# What screening keeps of registration's events, per person (its own copy; it never reads their store).
persons = Table(
    "scr_persons",
    metadata,
    Column("person_id", String(36), primary_key=True),
    Column("movement", String(40), nullable=False),
    Column("category", String(40), nullable=False),
    Column("sex", String(1), nullable=False),
    Column("birth_kind", String(10), nullable=False),
    Column("birth_year", Integer, nullable=True),
    Column("sealed_birth_date", String(400), nullable=True),  # sealed under the person's key; NULL once used
    Column("region", String(100), nullable=False),
    Column("cercle", String(100), nullable=False),
    Column("rank", String(100), nullable=False),
    Column("armed", Boolean, nullable=False),
    Column("weapon_handed_over", Boolean, nullable=False),
    Column("merged_into", String(36), nullable=True),
)

cases = Table(
    "scr_cases",
    metadata,
    Column("person_id", String(36), primary_key=True),
    Column("ddr_id", String(20), nullable=False),
    Column("movement", String(40), nullable=False, index=True),
    Column("category", String(40), nullable=False),
    Column("sex", String(1), nullable=False),
    Column("region", String(100), nullable=False, index=True),
    Column("cercle", String(100), nullable=False),
    Column("rank", String(100), nullable=False),
    Column("armed", Boolean, nullable=False),
    Column("birth_year", Integer, nullable=True),
    Column("registered_on", Date, nullable=False),
    Column("restricted", Boolean, nullable=False),
    Column("child", Boolean, nullable=False),
    Column("age_pending", Boolean, nullable=False),
    Column("handover_deadline", DateTime(timezone=True), nullable=True),
    Column("handed_over_at", DateTime(timezone=True), nullable=True),
    Column("verified_member", Boolean, nullable=False),
    Column("weapon_handed_over", Boolean, nullable=False),
    Column("handling_test_passed", Boolean, nullable=True),
    Column("chose_reinsertion", Boolean, nullable=False),
    Column("medical", String(20), nullable=True),
    Column("examinations", Integer, nullable=False),
    Column("re_examination_open", Boolean, nullable=False),
    Column("vetting", String(20), nullable=True),
    Column("held", Boolean, nullable=False),
    Column("rule_version", String(40), nullable=True),
    Column("eligibility", String(20), nullable=True),
    Column("eligibility_reasons", JSON, nullable=False),
    Column("track", String(20), nullable=True, index=True),
    Column("outcome_reason", String(60), nullable=True),
    Column("outcome_decision_id", String(36), nullable=True),
    Column("outcomes", Integer, nullable=False),
    Column("merged_into", String(36), nullable=True),
    Column("version", Integer, nullable=False),
    Index("ix_scr_cases_queue", "region", "eligibility", "medical"),
)

rule_sets = Table(
    "scr_rule_sets",
    metadata,
    Column("rule_version", String(40), primary_key=True),
    Column("effective_from", Date, nullable=False),
    Column("body", JSON, nullable=False),
)

vetting_lists = Table(
    "scr_vetting_lists",
    metadata,
    Column("list_version", Integer, primary_key=True),
    Column("source_ref", String(200), nullable=False),
    Column("entries", Integer, nullable=False),
    Column("published_at", DateTime(timezone=True), nullable=False),
)

vetting_entries = Table(
    "scr_vetting_entries",
    metadata,
    Column("list_version", Integer, primary_key=True),
    Column("person_id", String(36), primary_key=True),
    # The entry's place in its (sealed) list event, where its allegation reference is read when a list check
    # needs it: no reference is kept here, in clear or otherwise.
    Column("position", Integer, nullable=False),
    Column("status", String(20), nullable=False),
)

READ_MODEL = (cases, rule_sets, vetting_lists, vetting_entries)
"""The tables projected from screening's own events, rebuilt from its history (``scr_persons`` is not one:
it holds what registration's events said of people whose case is not open yet)."""


async def create_read_model(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
