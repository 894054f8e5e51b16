"""The service's read model: projections of its own events, rebuildable from its store while it serves.

No personal data is copied here (the area of return stays in the encrypted event); person ids are kept, and
only roles that may see person ids are served them. Money is kept exactly: in thousandths of the currency's
unit as integers (:class:`Money`), so sums are exact on SQLite as on PostgreSQL.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Dialect,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)
from sqlalchemy.types import TypeDecorator

SCALE = 1000


class Money(TypeDecorator[Decimal]):
    """A decimal amount (at most three decimals) stored as an integer count of thousandths."""

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: Decimal | int | None, dialect: Dialect) -> int | None:
        if value is None:
            return None
        scaled = Decimal(value) * SCALE
        if scaled != scaled.to_integral_value():
            raise ValueError(f"{value} has more than three decimals")
        return int(scaled)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        return None if value is None else Decimal(int(value)) / SCALE


metadata = MetaData()

beneficiaries = Table(
    "rs_beneficiaries",
    metadata,
    Column("person_id", String, primary_key=True),
    # none (known, on another track), waiting, withdrawn, active, completed, dropped_out, moved_to_integration
    Column("stage", String, nullable=False),
    Column("source", String),
    Column("round_id", String),
    Column("region", String),
    Column("sex", String),
    Column("category", String),
    Column("movement", String),
    Column("rank", String),
    Column("screening_track", String),
    Column("barred", Boolean, nullable=False),
    Column("integration_active", Boolean, nullable=False),
    Column("holds", Integer, nullable=False),
    Column("version", Integer, nullable=False),  # of stream beneficiary-<person id>
    Column("caseload", String),
    Column("package_id", String),
    Column("package_kind", String),
    Column("commitment_id", String),
    Column("line_id", String),
    Column("currency", String),
    Column("committed", Money, nullable=False),
    Column("disbursed", Money, nullable=False),
    Column("training_attended", Boolean, nullable=False),
    Column("visits_done", Integer, nullable=False),
    Column("enrolled_on", Date),
    Column("exited_on", Date),
    Index("rs_beneficiaries_region_stage", "region", "stage"),
    Index("rs_beneficiaries_stage", "stage"),
)

tranches = Table(
    "rs_tranches",
    metadata,
    Column("commitment_id", String, primary_key=True),
    Column("number", Integer, primary_key=True),
    Column("person_id", String, nullable=False, index=True),
    Column("amount", Money, nullable=False),
    Column("due_on", Date, nullable=False),
    Column("condition", String),
    Column("paid", Boolean, nullable=False),
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
    Column("allotted", Money, nullable=False),
    Column("received", Money, nullable=False),
    Column("committed", Money, nullable=False),
    Column("released", Money, nullable=False),
    Column("disbursed", Money, nullable=False),
    Column("version", Integer, nullable=False),
    Column("opened_at", DateTime(timezone=True)),  # the opening's business time (a loaded line keeps it)
    # The projection refuses a negative balance even if a bug in the domain would not.
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
)

round_regions = Table(
    "rs_round_regions",
    metadata,
    Column("round_id", String, primary_key=True),
    Column("region", String, primary_key=True),
    Column("listed", Integer, nullable=False),
)

READ_MODEL = (beneficiaries, tranches, visits, packages, budget_lines, rounds, round_regions)
"""Every table the projections write: all of them rebuilt from the service's own events."""
