"""Read-model tables of the CVR service, in its own database beside its event store.

Derived from CVR's own events in the transaction that appends them, and rebuilt from them (``READ_MODEL``).
``cvr_figures`` is the report's read model: dated deltas (per project and business date) of what the
programme counts, so a report as of any date is one grouped sum over a few rows per project, never a scan of
events or participants. Participants' names
and telephones are kept only sealed under the participant's own key (``sealed``), never in clear, and not at
all once the participant's data is erased.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    inspect,
)
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

metadata = MetaData()

partners = Table(
    "cvr_partners",
    metadata,
    Column("partner_id", String(64), primary_key=True),
    Column("display_name", String(200), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("lead_partner_id", String(64), nullable=True),
    Column("member_partner_ids", JSON, nullable=False),
    Column("regions", JSON, nullable=False),
    Column("registered_on", Date, nullable=False),
    Column("capacity_rating", String(20), nullable=True),
    Column("capacity_assessed_on", Date, nullable=True),
    Column("version", Integer, nullable=False),
)

projects = Table(
    "cvr_projects",
    metadata,
    Column("project_id", String(64), primary_key=True),
    Column("partner_id", String(64), nullable=False, index=True),
    Column("partner_kind", String(20), nullable=False),
    Column("ngo_ids", JSON, nullable=False),  # as in cvr_project_ngos, kept here to answer in one query
    Column("title", String(300), nullable=False),
    Column("project_type", String(60), nullable=False),
    Column("region", String(100), nullable=False),
    Column("cercle", String(100), nullable=False),
    Column("commune", String(100), nullable=False),
    Column("location", String(300), nullable=False),
    Column("budget_cents", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("budget_usd_cents", BigInteger, nullable=False),
    Column("cap_usd_cents", BigInteger, nullable=False),
    Column("duration_months", Integer, nullable=False),
    Column("planned_start", Date, nullable=False),
    Column("armed_groups_active", Boolean, nullable=False),
    Column("programme", String(60), nullable=True, index=True),  # None: submitted before projects named one
    Column("direct_beneficiaries_target", Integer, nullable=False),
    Column("ex_combatants_target", Integer, nullable=False),
    Column("women_target", Integer, nullable=False),
    Column("revision", Integer, nullable=False),
    Column("status", String(40), nullable=False, index=True),
    Column("submitted_on", Date, nullable=False),
    Column("approved_on", Date, nullable=True),
    Column("approved_year", Integer, nullable=True),
    Column("completed_on", Date, nullable=True, index=True),
    Column("handed_over_on", Date, nullable=True),
    Column("technical_assessment_favourable", Boolean, nullable=True),
    Column("risk_analysis_attached", Boolean, nullable=False, default=False),
    Column("tranches_paid", Integer, nullable=False, default=0),
    Column("paid_cents", BigInteger, nullable=False, default=0),
    Column("percent_complete", Integer, nullable=True),
    Column("last_visit_on", Date, nullable=True),
    Column("last_visit_kind", String(20), nullable=True),
    Column("wam_items", Integer, nullable=False, default=0),
    # Current counters behind the dated figures: named participants and the recorded counts.
    Column("named", Integer, nullable=False, default=0),
    Column("named_women", Integer, nullable=False, default=0),
    Column("named_ex", Integer, nullable=False, default=0),
    Column("recorded_direct", Integer, nullable=False, default=0),
    Column("recorded_direct_women", Integer, nullable=False, default=0),
    Column("recorded_indirect", Integer, nullable=False, default=0),
    Column("recorded_indirect_women", Integer, nullable=False, default=0),
    Column("version", Integer, nullable=False),
)

project_ngos = Table(
    "cvr_project_ngos",
    metadata,
    Column("project_id", String(64), primary_key=True),
    Column("ngo_id", String(64), primary_key=True),
)

participants = Table(
    "cvr_participants",
    metadata,
    Column("participant_id", String(64), primary_key=True),
    Column("project_id", String(64), nullable=False, index=True),
    Column("partner_id", String(64), nullable=False),
    Column("category", String(20), nullable=False),
    Column("sex", String(1), nullable=False),
    Column("birth_year", Integer, nullable=True),
    Column("person_id", String(64), nullable=True, index=True),
    Column("enrolled_on", Date, nullable=False),
    Column("withdrawn_on", Date, nullable=True),
    Column("sealed", JSON, nullable=True),  # full_name and telephone, encrypted under the participant's key
    Column("version", Integer, nullable=False),
)

person_merges = Table(
    "cvr_person_merges",
    metadata,
    Column("person_id", String(64), primary_key=True),
    Column("into_person_id", String(64), nullable=False, index=True),
)
"""Registration's merges as CVR noted them: who was merged into whom, to find every participant an erasure
reaches (a participant linked to a record later merged into the erased person's)."""

child_persons = Table(
    "cvr_child_persons",
    metadata,
    Column("person_id", String(64), primary_key=True),
)
"""The registration ids CVR noted as a child's (``PersonChildNoted``): their participants answer every role but
child protection as if they did not exist (:mod:`ddr_cvr.adapters.children`)."""

figures = Table(
    "cvr_figures",
    metadata,
    Column("project_id", String(64), primary_key=True),
    Column("effective_on", Date, primary_key=True),
    Column("projects", Integer, nullable=False),
    Column("amount_usd_cents", BigInteger, nullable=False),
    Column("direct", BigInteger, nullable=False),
    Column("direct_women", BigInteger, nullable=False),
    Column("indirect", BigInteger, nullable=False),
    Column("indirect_women", BigInteger, nullable=False),
    Column("participants", BigInteger, nullable=False),
    Column("participants_women", BigInteger, nullable=False),
    Column("ex_combatants", BigInteger, nullable=False),
    Column("target_direct", BigInteger, nullable=False),
    Column("target_women", BigInteger, nullable=False),
    Column("target_ex_combatants", BigInteger, nullable=False),
    # The partner's recorded counts alone (``direct`` is the larger of these and the named participants): a
    # report takes participants linked to a child out of ``direct`` with them (ddr_cvr.adapters.reports).
    Column("recorded_direct", BigInteger, nullable=False, default=0),
    Column("recorded_direct_women", BigInteger, nullable=False, default=0),
    Index("cvr_figures_effective_on", "effective_on"),
)

FIGURE_COLUMNS = (
    "projects",
    "amount_usd_cents",
    "direct",
    "direct_women",
    "indirect",
    "indirect_women",
    "participants",
    "participants_women",
    "ex_combatants",
    "target_direct",
    "target_women",
    "target_ex_combatants",
    "recorded_direct",
    "recorded_direct_women",
)
READ_MODEL = (partners, projects, project_ngos, participants, person_merges, child_persons, figures)
"""Every table the projections write: the read model a rebuild makes again from CVR's own events."""


async def create_read_model(engine: AsyncEngine) -> bool:
    """Create the read model's tables; True when tables of an older shape were there and were dropped (the
    read model is then empty: rebuild it from the store)."""

    def create(sync_conn: Connection) -> bool:
        existing = inspect(sync_conn)
        present = [table for table in READ_MODEL if existing.has_table(table.name)]
        stale = [
            table
            for table in present
            if {c["name"] for c in existing.get_columns(table.name)} != {c.name for c in table.columns}
        ]
        if present and len(present) < len(READ_MODEL):  # a table added since: fill it from the store
            stale = present
        if stale:
            metadata.drop_all(sync_conn, tables=list(READ_MODEL))
        metadata.create_all(sync_conn, tables=list(READ_MODEL))
        return bool(stale)

    async with engine.begin() as conn:
        return await conn.run_sync(create)
