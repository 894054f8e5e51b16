"""Read-model tables of the integration service, in its own database beside its event store.

Written in the same transaction as the events they derive from. They hold person ids (pseudonymous), never
names: nothing here needs scrubbing when a person is erased.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
)
from sqlalchemy.ext.asyncio import AsyncEngine

metadata = MetaData()

people = Table(
    "int_people",
    metadata,
    Column("person_id", String(64), primary_key=True),
    Column("version", Integer, nullable=False, default=0),  # the person stream's version
    Column("movement", String(40), nullable=False, default=""),
    Column("category", String(40), nullable=False, default=""),
    Column("path", String(30), nullable=True),
    Column("movement_rank", String(60), nullable=False, default=""),
    Column("screening_track", String(30), nullable=True),
    Column("screening_decision_id", String(64), nullable=True),
    Column("child_protection", Boolean, nullable=False, default=False),
    Column("held", Boolean, nullable=False, default=False),
    Column("reinsertion_active", Boolean, nullable=False, default=False),
    Column("dual_enrolment", Boolean, nullable=False, default=False),
    Column("status", String(20), nullable=False, default="none"),
    Column("deferral_reason", String(40), nullable=True),
    Column("received_on", Date, nullable=True),
    Column("accepted_on", Date, nullable=True),
    Column("ended_on", Date, nullable=True),
    Column("quota_id", String(80), nullable=True),
    Column("rank", String(60), nullable=True),
    Column("command_function", String(60), nullable=True),
    Column("rank_rule_version", String(60), nullable=True),
    Column("cohort_id", String(80), nullable=True),
    Column("training_outcome", String(20), nullable=True),
    Column("unit_id", String(80), nullable=True),
    Column("command_post", Boolean, nullable=False, default=False),
    Column("placed", Boolean, nullable=False, default=False),
    Column("placement", String(120), nullable=True),
    Column("service_status", String(20), nullable=True),
    Column("service_since", Date, nullable=True),
    Index("ix_int_people_movement_status", "movement", "status"),
)

holds = Table(
    "int_holds",
    metadata,
    Column("person_id", String(64), primary_key=True),
    Column("decision_id", String(64), primary_key=True),
    Column("reason_code", String(60), nullable=False),
)

coalitions = Table(
    "int_coalition_memberships",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("movement", String(40), nullable=False, index=True),
    Column("coalition", String(40), nullable=False),
    Column("since", Date, nullable=False),
    Column("until", Date, nullable=True),
)

movements = Table(
    "int_movements",
    metadata,
    Column("code", String(40), primary_key=True),
    Column("display_name", String(200), nullable=False),
)

quotas = Table(
    "int_quotas",
    metadata,
    Column("quota_id", String(80), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("movement", String(40), nullable=True),
    Column("period_start", Date, nullable=False),
    Column("period_end", Date, nullable=False),
    Column("limit", Integer, nullable=False),
    Column("used", Integer, nullable=False),
)

quota_decisions = Table(
    "int_quota_decisions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("quota_id", String(80), nullable=False, index=True),
    Column("decision_ref", String(120), nullable=False),
    Column("previous_limit", Integer, nullable=True),
    Column("limit", Integer, nullable=False),
    Column("reason", String(500), nullable=False),
    Column("effective_on", Date, nullable=False),
)

quota_uses = Table(
    "int_quota_uses",
    metadata,
    Column("quota_id", String(80), primary_key=True),
    Column("person_id", String(64), primary_key=True),
    Index("ix_int_quota_uses_person", "person_id"),
)

rank_rules = Table(
    "int_rank_rules",
    metadata,
    Column("rule_version", String(60), primary_key=True),
    Column("decree_ref", String(200), nullable=False),
    Column("effective_from", Date, nullable=False),
    Column("rules", JSON, nullable=False),
)

rank_disputes = Table(
    "int_rank_disputes",
    metadata,
    Column("dispute_id", String(64), primary_key=True),
    Column("person_id", String(64), nullable=False, index=True),
    Column("allocated_rank", String(60), nullable=False),
    Column("claimed_rank", String(60), nullable=False),
    Column("claimed_command_function", String(60), nullable=False),
    Column("grounds_code", String(60), nullable=False),
    Column("status", String(20), nullable=False),
    Column("decision_ref", String(120), nullable=True),
    Column("raised_on", Date, nullable=False),
    Column("decided_on", Date, nullable=True),
)

cohorts = Table(
    "int_cohorts",
    metadata,
    Column("cohort_id", String(80), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("camp", String(80), nullable=False),
    Column("capacity", Integer, nullable=False),
    Column("starts_on", Date, nullable=False),
    Column("ends_on", Date, nullable=False),
    Column("enrolled", Integer, nullable=False),
)

trainees = Table(
    "int_trainees",
    metadata,
    Column("cohort_id", String(80), primary_key=True),
    Column("person_id", String(64), primary_key=True),
    Column("enrolled_on", Date, nullable=False),
    Column("outcome", String(20), nullable=True),
    Column("outcome_on", Date, nullable=True),
)

units = Table(
    "int_units",
    metadata,
    Column("unit_id", String(80), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("display_name", String(200), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("location", String(80), nullable=False),
    Column("establishment", Integer, nullable=False),
    Column("thirds_applies", Boolean, nullable=False),
    Column("tolerance", Float, nullable=False),
    Column("last_change_on", Date, nullable=True),
)

contingents = Table(
    "int_armed_forces_contingents",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("unit_id", String(80), nullable=False, index=True),
    Column("effective_on", Date, nullable=False),
    Column("strength", Integer, nullable=False),
    Column("command_posts", Integer, nullable=False),
)

postings = Table(
    "int_postings",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("unit_id", String(80), nullable=False),
    Column("person_id", String(64), nullable=False, index=True),
    Column("movement", String(40), nullable=False),
    Column("command_post", Boolean, nullable=False),
    Column("start_on", Date, nullable=False),
    Column("end_on", Date, nullable=True),
    Index("ix_int_postings_unit", "unit_id", "start_on"),
)

service_records = Table(
    "int_service_records",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("person_id", String(64), nullable=False, index=True),
    Column("unit_id", String(80), nullable=True),
    Column("status", String(20), nullable=False),
    Column("effective_on", Date, nullable=False),
    Column("discharge_kind", String(20), nullable=True),
    Column("referred_to_reinsertion", Boolean, nullable=False),
)


async def create_read_model(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
