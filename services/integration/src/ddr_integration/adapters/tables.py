"""The integration service's read model: every table a projection of its own events (``projections.py``),
written in the transaction that stores them and rebuilt from its store alone while it serves.

Keys are natural or the id of the event a row comes from, never a counter, so a rebuild gives the same rows.
They hold person ids (pseudonymous), never names: nothing here needs scrubbing when a person is erased.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
)

metadata = MetaData()

people = Table(
    "int_people",
    metadata,
    Column("person_id", String(64), primary_key=True),
    Column("version", Integer, nullable=False),  # the person stream's version (the ETag of their record)
    Column("movement", String(40), nullable=False),
    Column(
        "region", String(100), nullable=True
    ),  # None: not known (events before v2); scoped callers see none
    Column("category", String(40), nullable=False),
    Column("path", String(30), nullable=True),
    Column("movement_rank", String(60), nullable=False),
    Column("screening_track", String(30), nullable=True),
    Column("screening_decision_id", String(64), nullable=True),
    Column("child_protection", Boolean, nullable=False),
    Column("holds", JSON, nullable=False),  # the screening decisions holding their benefits
    Column("held", Boolean, nullable=False),
    Column("reinsertion_active", Boolean, nullable=False),
    Column("dual_enrolment", Boolean, nullable=False),
    Column("status", String(20), nullable=False),
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
    Column("command_post", Boolean, nullable=False),
    Column("placed", Boolean, nullable=False),
    Column("placement", String(120), nullable=True),
    Column("service_status", String(20), nullable=True),
    Column("service_since", Date, nullable=True),
    Index("ix_int_people_movement_status", "movement", "status"),
)

candidacy_changes = Table(
    "int_candidacy_changes",
    metadata,
    Column("event_id", String(36), primary_key=True),
    Column("person_id", String(64), nullable=False, index=True),
    Column("status", String(20), nullable=False),
    Column("effective_on", Date, nullable=False),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    Column("version", Integer, nullable=False),  # on the person's stream: orders a day's changes
)

service_records = Table(
    "int_service_records",
    metadata,
    Column("event_id", String(36), primary_key=True),
    Column("person_id", String(64), nullable=False, index=True),
    Column("unit_id", String(80), nullable=True),
    Column("status", String(20), nullable=False),
    Column("effective_on", Date, nullable=False),
    Column("discharge_kind", String(20), nullable=True),
    Column("referred_to_reinsertion", Boolean, nullable=False),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    Column("version", Integer, nullable=False),
)

quotas = Table(
    "int_quotas",
    metadata,
    Column("quota_id", String(80), primary_key=True),
    Column("movement", String(40), nullable=True),
    Column("period_start", Date, nullable=False),
    Column("period_end", Date, nullable=False),
    Column("limit", Integer, nullable=False),
    Column("used", Integer, nullable=False),
)

quota_decisions = Table(
    "int_quota_decisions",
    metadata,
    Column("event_id", String(36), primary_key=True),
    Column("quota_id", String(80), nullable=False, index=True),
    Column("decision_ref", String(120), nullable=False),
    Column("previous_limit", Integer, nullable=True),
    Column("limit", Integer, nullable=False),
    Column("reason", String(500), nullable=False),
    Column("effective_on", Date, nullable=False),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
)

quota_places = Table(
    "int_quota_places",
    metadata,
    Column("event_id", String(36), primary_key=True),  # the decision that took the place
    Column("person_id", String(64), primary_key=True),
    Column("quota_id", String(80), nullable=False, index=True),
    Column("taken_on", Date, nullable=False),
    Column("released_on", Date, nullable=True),
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
    Column("display_name", String(200), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("location", String(80), nullable=False),
    Column("establishment", Integer, nullable=False),
    Column("thirds_applies", Boolean, nullable=False),
    Column("tolerance", Float, nullable=False),
)

contingents = Table(
    "int_armed_forces_contingents",
    metadata,
    Column("event_id", String(36), primary_key=True),
    Column("unit_id", String(80), nullable=False, index=True),
    Column("effective_on", Date, nullable=False),
    Column("strength", Integer, nullable=False),
    Column("command_posts", Integer, nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
)

postings = Table(
    "int_postings",
    metadata,
    Column("event_id", String(36), primary_key=True),  # the assignment or reinstatement that opened it
    Column("unit_id", String(80), nullable=False),
    Column("person_id", String(64), nullable=False, index=True),
    Column("movement", String(40), nullable=False),
    Column("command_post", Boolean, nullable=False),
    Column("start_on", Date, nullable=False),
    Column("end_on", Date, nullable=True),
    Index("ix_int_postings_unit", "unit_id", "start_on"),
)

coalitions = Table(
    "int_coalition_memberships",
    metadata,
    Column("event_id", String(36), primary_key=True),
    Column("movement", String(40), nullable=False, index=True),
    Column("coalition", String(40), nullable=False),
    Column("since", Date, nullable=False),
    Column("until", Date, nullable=True),
)

READ_MODEL = (
    people,
    candidacy_changes,
    service_records,
    quotas,
    quota_decisions,
    quota_places,
    rank_rules,
    rank_disputes,
    cohorts,
    trainees,
    units,
    contingents,
    postings,
    coalitions,
)
"""Every table the projections write: what ``/read-model/rebuild`` rebuilds."""
