"""Read-model tables of the registration service, in its own database beside its event store.

They are projections of the service's own events (written in the transaction that appends them, and
rebuilt from the store while the service serves), and hold only what queries and row-level access need.
Surrogate keys are avoided, so a rebuilt table equals the live one row for row. Personal details are never
copied in clear: a person's names, exact date of birth, commune and movement reference sit in
``sealed_identity``, their declared weapons in ``sealed_weapons``, a weapon's serial in ``sealed_serial``, as
the event sealed them under that person's key. What is compared (a reference, a serial) is compared by its
keyed hash (``adapters.name_index``): ``ref_key``, ``serial_key``.
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
    UniqueConstraint,
)
from sqlalchemy.ext.asyncio import AsyncEngine

metadata = MetaData()

movements = Table(
    "reg_movements",
    metadata,
    Column("code", String(40), primary_key=True),
    Column("display_name", String(200), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("version", Integer, nullable=False),
)

coalition_memberships = Table(
    "reg_coalition_memberships",
    metadata,
    Column("movement", String(40), primary_key=True),
    Column("coalition", String(40), primary_key=True, index=True),
    Column("since", Date, primary_key=True),
    Column("until", Date, nullable=True),
)

lists = Table(
    "reg_lists",
    metadata,
    Column("list_id", String(36), primary_key=True),
    Column("movement", String(40), nullable=False, unique=True),
    Column("latest_version", Integer, nullable=False),
    Column("version", Integer, nullable=False),
)

list_versions = Table(
    "reg_list_versions",
    metadata,
    Column("list_id", String(36), primary_key=True),
    Column("list_version", Integer, primary_key=True),
    Column("movement", String(40), nullable=False),
    Column("file_sha256", String(64), nullable=False),
    Column("rows_total", Integer, nullable=False),
    Column("rows_accepted", Integer, nullable=False),
    Column("rows_rejected", Integer, nullable=False),
    Column("profile", String(60), nullable=True),
    Column("profile_version", Integer, nullable=True),
    Column("unknown_columns", JSON, nullable=False),
    Column("certified", Boolean, nullable=False, default=False),
    Column("endorsed_cts", Boolean, nullable=False, default=False),
    Column("endorsed_cnddr", Boolean, nullable=False, default=False),
    Column("submitted_at", DateTime(timezone=True), nullable=False),
)

# One row per line of an imported file (a refused line: one per fault): its status, or the column at fault.
list_rows = Table(
    "reg_list_rows",
    metadata,
    Column("list_id", String(36), primary_key=True),
    Column("list_version", Integer, primary_key=True),
    Column("line", Integer, primary_key=True),
    Column("position", Integer, primary_key=True),  # the fault's rank on its line (0 for a line without)
    Column("status", String(20), nullable=False),  # pre-registered, already-listed, rejected
    # No value of the row: its person's reference is theirs (reg_persons, gone with an erasure).
    Column("person_id", String(36), nullable=True, index=True),
    Column("column_name", String(100), nullable=True),
    Column("chunk", Integer, nullable=False),  # the report event it came in (its version on its stream)
    # A refused row: its reason's place in the chunk's reasons.
    Column("reason_index", Integer, nullable=True),
    Column("flags", JSON, nullable=False),  # document-recent, serial-repeated
)

# Every weapon serial a list declared, by row and by its keyed hash: what an import compares a new list's
# serials with (the serial itself is in the person's sealed_weapons).
declared_serials = Table(
    "reg_declared_serials",
    metadata,
    Column("serial_key", String(100), primary_key=True),
    Column("list_id", String(36), primary_key=True),
    Column("list_version", Integer, primary_key=True),
    Column("line", Integer, primary_key=True),
    Column("movement", String(40), nullable=False),
    Column("person_id", String(36), nullable=False, index=True),
)

# The keyed hashes of the weapon serials a person's list row declared (by their place among the declared
# weapons; deleted with an erasure): what the row's declared serials are made of.
person_serials = Table(
    "reg_person_serials",
    metadata,
    Column("person_id", String(36), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("serial_key", String(100), nullable=False),
)

# A serial declared on two rows for different people, kept from each row's side (so both lists' reports
# name the other row).
serial_repeats = Table(
    "reg_serial_repeats",
    metadata,
    Column("list_id", String(36), primary_key=True),
    Column("list_version", Integer, primary_key=True),
    Column("line", Integer, primary_key=True),
    Column("other_list_id", String(36), primary_key=True),
    Column("other_list_version", Integer, primary_key=True),
    Column("other_line", Integer, primary_key=True),
    Column("serial_key", String(100), nullable=False),  # the keyed hash of the serial both rows declare
    Column("other_movement", String(40), nullable=False),
)

# Import mapping profiles, every version.
import_profiles = Table(
    "reg_import_profiles",
    metadata,
    Column("movement", String(40), primary_key=True),
    Column("profile", String(60), primary_key=True),
    Column("profile_version", Integer, primary_key=True),
    Column("columns", JSON, nullable=False),
    Column("value_maps", JSON, nullable=False),
    Column("published_at", DateTime(timezone=True), nullable=False),
)

# The reasons of a chunk of refused rows, as the event sealed them under the list's key (they quote the
# values at fault, which may be personal).
list_reasons = Table(
    "reg_list_reasons",
    metadata,
    Column("list_id", String(36), primary_key=True),
    Column("list_version", Integer, primary_key=True),
    Column("chunk", Integer, primary_key=True),
    Column("sealed_reasons", JSON, nullable=False),
)

# Idempotent re-import: a file (by SHA-256) is imported once per movement.
list_imports = Table(
    "reg_list_imports",
    metadata,
    Column("file_sha256", String(64), primary_key=True),
    Column("movement", String(40), primary_key=True),
    Column("list_id", String(36), nullable=False),
    Column("list_version", Integer, nullable=False),
)

persons = Table(
    "reg_persons",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("person_id", String(36), nullable=False, unique=True),
    Column("movement", String(40), nullable=False, index=True),
    # The keyed hash of the movement's reference for them (``erased:<id>`` once erased); the reference
    # itself is in sealed_identity.
    Column("ref_key", String(100), nullable=False),
    Column("list_id", String(36), nullable=False),
    Column("list_version", Integer, nullable=False),
    Column("category", String(40), nullable=False),
    Column("sex", String(1), nullable=False),
    Column("birth_kind", String(10), nullable=False),
    Column("birth_year", Integer, nullable=True),
    Column("region", String(100), nullable=False, index=True),
    Column("cercle", String(100), nullable=False),
    Column("rank", String(100), nullable=False),
    Column("armed", Boolean, nullable=False),
    Column("status", String(20), nullable=False),  # pre-registered, registered, merged
    Column("listed_at", DateTime(timezone=True), nullable=False),  # business time of the pre-registration
    Column("registered_at", DateTime(timezone=True), nullable=True),  # business time of the registration
    Column("site", String(100), nullable=True, index=True),  # where they registered
    Column("document_type", String(100), nullable=True),
    Column("document_issued", Date, nullable=True),
    Column("document_flagged", Boolean, nullable=False),  # issued days before registration, or after it
    Column("ddr_id", String(20), nullable=True, unique=True),
    # A keyed hash (HMAC) of the enrolment device's template reference: equal hashes are one person, so one
    # registration (two requests racing with one biometric: the second commit fails, and is answered 409).
    Column("biometric_hash", String(64), nullable=True, unique=True),
    Column("merged_into", String(36), nullable=True),
    Column("sealed_identity", JSON, nullable=False),
    Column("sealed_weapons", String, nullable=True),  # the declared weapons, sealed under their key
    Column("version", Integer, nullable=False),
    UniqueConstraint("movement", "ref_key", name="uq_reg_persons_ref_key"),
)

# The blind index of names (adapters.name_index): per person and name field, the keyed hash of each token.
name_tokens = Table(
    "reg_name_tokens",
    metadata,
    Column("person_id", String(36), primary_key=True),
    Column("field", String(20), primary_key=True),
    Column("token", String(32), primary_key=True),
    Index("ix_reg_name_tokens_token", "token", "person_id"),
)

duplicates = Table(
    "reg_duplicates",
    metadata,
    Column("case_id", String(36), primary_key=True),
    Column("person_id", String(36), nullable=False, index=True),
    Column("other_person_id", String(36), nullable=False, index=True),
    Column("movement", String(40), nullable=False),
    Column("other_movement", String(40), nullable=False),
    Column("score", Float, nullable=False),
    Column("certain", Boolean, nullable=False),
    Column("reasons", JSON, nullable=False),
    Column("status", String(20), nullable=False, index=True),  # open, merged, distinct
    Column("surviving_person_id", String(36), nullable=True),
    Column("version", Integer, nullable=False),
)

weapons = Table(
    "reg_weapons",
    metadata,
    Column("weapon_id", String(36), primary_key=True),
    Column("person_id", String(36), nullable=False, index=True),
    Column("movement", String(40), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("type", String(100), nullable=False),
    Column("calibre", String(40), nullable=False),
    Column("sealed_serial", String, nullable=True),  # sealed under the person's key; None once erased
    Column("serial_key", String(100), nullable=True, index=True),  # its keyed hash; None once erased
    Column("quantity", Integer, nullable=False),
    Column("condition", String(40), nullable=False),
    Column("tag", String(100), nullable=False),
    Column("receipt_number", String(40), nullable=False, unique=True),
    Column("custodian", String(200), nullable=False),
    Column("flagged", Boolean, nullable=False),  # its serial was handed over before
    Column("serial_status", String(20), nullable=True),  # present, absent, filed_off, illegible
    Column("programme_mark", String(40), nullable=True, unique=True),  # IDDRS 4.10, when no readable serial
    Column("needs_tracing", Boolean, nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("version", Integer, nullable=False),
)

READ_MODEL = tuple(metadata.sorted_tables)
"""Every table of the read model: all are projections of the service's own events, all rebuilt."""


async def create_read_model(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
