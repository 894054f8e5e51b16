"""The service's read model: tables kept in the same transaction as the events they follow.

``beneficiaries`` and ``budget_lines`` also serve as snapshots of their aggregates: each row carries the
version of its stream, and every write appends to the stream with that version as the expected one, so a
row can never drift from its events. No personal data is copied here (the area of return stays in the
encrypted event); person ids are kept, and only roles that may see person ids are served them.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)
from sqlalchemy.ext.asyncio import AsyncEngine

metadata = MetaData()

beneficiaries = Table(
    "rs_beneficiaries",
    metadata,
    Column("person_id", String, primary_key=True),
    # none (known, on another track), waiting, withdrawn, active, completed, dropped_out, moved_to_integration
    Column("stage", String, nullable=False, server_default="none"),
    Column("source", String),
    Column("round_id", String),
    Column("region", String),
    Column("sex", String),
    Column("category", String),
    Column("movement", String),
    Column("rank", String),
    Column("screening_track", String),
    Column("barred", Boolean, nullable=False, server_default="0"),
    Column("integration_active", Boolean, nullable=False, server_default="0"),
    Column("version", Integer, nullable=False, server_default="0"),  # of stream beneficiary-<person id>
    Column("caseload", String),
    Column("package_id", String),
    Column("package_kind", String),
    Column("commitment_id", String),
    Column("line_id", String),
    Column("committed", BigInteger, nullable=False, server_default="0"),
    Column("disbursed", BigInteger, nullable=False, server_default="0"),
    Column("training_attended", Boolean, nullable=False, server_default="0"),
    Column("visits_done", Integer, nullable=False, server_default="0"),
    Column("enrolled_on", Date),
    Column("exited_on", Date),
    Index("rs_beneficiaries_region_stage", "region", "stage"),
    Index("rs_beneficiaries_stage", "stage"),
)

holds = Table(
    "rs_holds",
    metadata,
    Column("person_id", String, primary_key=True),
    Column("decision_id", String, primary_key=True),
)

tranches = Table(
    "rs_tranches",
    metadata,
    Column("commitment_id", String, primary_key=True),
    Column("number", Integer, primary_key=True),
    Column("person_id", String, nullable=False, index=True),
    Column("amount", BigInteger, nullable=False),
    Column("due_on", Date, nullable=False),
    Column("condition", String),
    Column("paid", Boolean, nullable=False, server_default="0"),
    Column("disbursement_id", String),
    Column("paid_on", Date),
)

visits = Table(
    "rs_visits",
    metadata,
    Column("commitment_id", String, primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("person_id", String, nullable=False, index=True),
    Column("due_on", Date, nullable=False),
    Column("visit_id", String),
    Column("visited_on", Date),
    Column("outcome", String),
)

packages = Table(
    "rs_packages",
    metadata,
    Column("package_id", String, primary_key=True),
    Column("package_version", Integer, primary_key=True),
    Column("kind", String, nullable=False),
    Column("title", String, nullable=False),
    Column("terms", Text, nullable=False),  # the published event's data, JSON
    Column("effective_on", Date, nullable=False),
)

budget_lines = Table(
    "rs_budget_lines",
    metadata,
    Column("line_id", String, primary_key=True),
    Column("funding_source", String, nullable=False),
    Column("title", String, nullable=False),
    Column("currency", String, nullable=False),
    Column("allotted", BigInteger, nullable=False),
    Column("received", BigInteger, nullable=False, server_default="0"),
    Column("committed", BigInteger, nullable=False, server_default="0"),
    Column("released", BigInteger, nullable=False, server_default="0"),
    Column("disbursed", BigInteger, nullable=False, server_default="0"),
    Column("version", Integer, nullable=False),
    # The database refuses a negative balance even if a bug in the code would not.
    CheckConstraint("committed - released <= allotted", name="rs_line_commitments_within_allotment"),
    CheckConstraint("disbursed <= received", name="rs_line_cash_not_negative"),
    CheckConstraint("received <= allotted", name="rs_line_receipts_within_allotment"),
)

rounds = Table(
    "rs_rounds",
    metadata,
    Column("round_id", String, primary_key=True),
    Column("title", String, nullable=False),
    Column("size_per_region", Integer, nullable=False),
    Column("opened_on", Date, nullable=False),
    Column("version", Integer, nullable=False),
)

round_regions = Table(
    "rs_round_regions",
    metadata,
    Column("round_id", String, ForeignKey("rs_rounds.round_id"), primary_key=True),
    Column("region", String, primary_key=True),
    Column("listed", Integer, nullable=False, server_default="0"),
)

payment_requests = Table(
    "rs_payment_requests",
    metadata,
    Column("request_id", String, primary_key=True),
    Column("person_id", String, nullable=False),
    Column("commitment_id", String, nullable=False),
    Column("tranche", Integer, nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("line_id", String, nullable=False),
    Column("disbursement_id", String, nullable=False),
    Column("office", String, nullable=False),
    Column("paid_on", Date, nullable=False),
)


async def create_read_model(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
