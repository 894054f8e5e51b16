"""Bulk import of a movement's list file as a new version of its certified list.

The file is streamed in chunks (a 100,000-row file never sits in memory whole) and every row gets a status:
pre-registered, already listed (the movement's reference is known), or rejected with its column and reason.
Nothing is half-written: the whole import is one transaction; with ``reject_whole`` a file with any bad row
is refused before anything is written. Re-importing the same file (its SHA-256, per movement) changes
nothing and answers the first import's report.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from sqlalchemy import distinct, func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from ddr_contracts.registration import PersonPreRegistered
from ddr_registration.adapters.list_files import ParsedRow, RowError, file_sha256, read_list_file
from ddr_registration.adapters.tables import list_imports, list_rows, persons
from ddr_registration.domain.errors import RuleViolated, UnknownRecord
from ddr_registration.domain.identity import IdentityRecord
from ddr_registration.domain.lists import CertifiedList, list_id_of, list_stream
from ddr_registration.domain.movements import Movement, movement_stream
from ddr_registration.domain.persons import Person, person_stream
from ddr_registration.service_layer.dedup import catch_up_index, suspect_duplicates
from ddr_registration.service_layer.unit import Registration
from ddr_runtime.eventstore.store import Causation

CHUNK_ROWS = 500
Progress = Callable[[int], None]
"""Called with the number of rows read so far."""

ImportStatus = Literal["accepted", "rejected", "already-imported"]


@dataclass(frozen=True)
class RowProblem:
    line: int
    column: str
    reason: str


@dataclass
class ImportReport:
    list_id: str
    movement: str
    file_sha256: str
    status: ImportStatus = "accepted"
    list_version: int | None = None
    rows_total: int = 0
    rows_pre_registered: int = 0
    rows_already_listed: int = 0
    rows_rejected: int = 0
    duplicates_suspected: int = 0
    problems: list[RowProblem] = field(default_factory=list)


def _chunks(rows: Iterator[ParsedRow | RowError]) -> Iterator[list[ParsedRow | RowError]]:
    while chunk := list(itertools.islice(rows, CHUNK_ROWS)):
        yield chunk


async def _next_chunk(chunks: Iterator[list[ParsedRow | RowError]]) -> list[ParsedRow | RowError]:
    # Reading and parsing is blocking file work: keep it off the event loop.
    return await asyncio.to_thread(next, chunks, [])


async def import_list(
    reg: Registration,
    path: Path,
    movement: str,
    causation: Causation,
    *,
    reject_whole: bool = False,
    progress: Progress | None = None,
) -> ImportReport:
    sha = await asyncio.to_thread(file_sha256, path)
    report = ImportReport(list_id=list_id_of(movement), movement=movement, file_sha256=sha)
    async with reg.engine.connect() as conn:
        done = await _earlier_import(conn, sha, movement)
        if done is not None:
            return await _already_imported(conn, report, done)
        if (await reg.load(conn, movement_stream(movement), Movement)).version == 0:
            raise UnknownRecord("movement", movement)
    if reject_whole and await _has_bad_rows(path, report, progress):
        report.status = "rejected"
        return report
    report.problems.clear()
    report.rows_total = report.rows_rejected = 0
    added: list[str] = []
    try:
        async with reg.transaction() as tx:
            await catch_up_index(reg, tx)
            certified = await reg.load(tx, list_stream(report.list_id), CertifiedList)
            number = certified.latest + 1
            chunks = _chunks(read_list_file(path))
            while chunk := await _next_chunk(chunks):
                await _import_chunk(reg, tx, report, number, chunk, causation, added)
                if progress is not None:
                    progress(report.rows_total)
            accepted = report.rows_pre_registered + report.rows_already_listed
            certified.submit_version(
                report.list_id, movement, sha, total=report.rows_total, accepted=accepted,
                rejected=report.rows_rejected,
            )  # fmt: skip
            await reg.save(tx, list_stream(report.list_id), certified, report.list_id, causation)
            await tx.execute(
                insert(list_imports).values(
                    file_sha256=sha, movement=movement, list_id=report.list_id, list_version=number
                )
            )
            report.list_version = number
    except BaseException:
        for person_id in added:  # the transaction rolled back: so must the in-memory index
            reg.index.remove(person_id)
        raise
    return report


async def _import_chunk(
    reg: Registration,
    tx: AsyncConnection,
    report: ImportReport,
    number: int,
    chunk: list[ParsedRow | RowError],
    causation: Causation,
    added: list[str],
) -> None:
    """One chunk: rows checked in file order, then written in bulk, then matched against the index.

    Round trips per chunk, not per row: one for the personal-data keys, one for the references already
    listed, one append per new person (the event store's unit), one statement for their read-model rows, one
    for the row report. Duplicates are looked for after the chunk's people are stored, still in file order
    (each person against everyone before them), so a suspicion's read-model row finds both people.
    """
    parsed = [row for row in chunk if isinstance(row, ParsedRow)]
    new_ids = {row.line: reg.new_id() for row in parsed}
    # One round trip for the chunk's personal-data keys, and one for the references already listed.
    await reg.store.cipher.keystore.keys_for_writing([*new_ids.values(), report.list_id])
    known = await _listed(tx, report.movement, [row.member.movement_ref for row in parsed])
    rows: list[dict[str, object]] = []
    reasons: list[tuple[dict[str, object], str]] = []  # rejected rows' reasons, sealed together below
    rejected_lines: set[int] = set()
    people: list[tuple[Person, IdentityRecord]] = []

    def refuse(problem: RowError) -> None:
        report.problems.append(RowProblem(problem.line, problem.column, problem.reason))
        if problem.line not in rejected_lines:
            rejected_lines.add(problem.line)
            report.rows_total += 1
            report.rows_rejected += 1
        rows.append(_row(report, number, problem.line, "rejected", column=problem.column))
        reasons.append((rows[-1], problem.reason))

    for row in chunk:
        if isinstance(row, RowError):
            refuse(row)
            continue
        member = row.member
        existing = known.get(member.movement_ref)
        if existing is not None:
            report.rows_total += 1
            report.rows_already_listed += 1
            rows.append(_row(report, number, row.line, "already-listed", member.movement_ref, existing))
            continue
        person_id = new_ids[row.line]
        try:
            person = Person.pre_register(person_id, report.list_id, number, report.movement, member)
        except RuleViolated as refused:
            refuse(RowError(row.line, refused.rule, refused.detail))
            continue
        known[member.movement_ref] = person_id  # listed twice in one file: the second row is already listed
        report.rows_total += 1
        report.rows_pre_registered += 1
        rows.append(_row(report, number, row.line, "pre-registered", member.movement_ref, person_id))
        record = IdentityRecord(
            person_id=person_id,
            names=tuple(n for n in (member.full_name, member.full_name_arabic) if n),
            birth_year=member.birth.year,
            region=member.region,
            cercle=member.cercle,
            commune=member.commune,
            birth_date=member.birth.value if member.birth.kind == "exact" else None,
            sex=str(member.sex),
            father_name=member.father_name,
            mother_name=member.mother_name,
            birth_place=member.birth_place,
        )
        people.append((person, record))
    await _store_people(reg, tx, people, causation)
    for _person, record in people:
        found = await suspect_duplicates(reg, tx, record, causation, new_person=True)
        report.duplicates_suspected += len(found)
        reg.index.add(record)
        added.append(record.person_id)
    if reasons:
        # The parser's reason quotes the faulty value: kept for the uploader, sealed under the list's key.
        sealed = await reg.store.cipher.encrypt_many(
            [(report.list_id, {"reason": reason}, ["reason"]) for _, reason in reasons]
        )
        for (entry, _), sealed_reason in zip(reasons, sealed, strict=True):
            entry["sealed_reason"] = sealed_reason
    if rows:
        await tx.execute(insert(list_rows), rows)


async def _store_people(
    reg: Registration,
    tx: AsyncConnection,
    people: list[tuple[Person, IdentityRecord]],
    causation: Causation,
) -> None:
    """Each new person's stream appended in the shared transaction; their read-model rows in one statement."""
    pre_registered: list[tuple[PersonPreRegistered, int]] = []
    saved = await reg.repository.save_new(
        tx,
        [(person_stream(record.person_id), person, record.person_id) for person, record in people],
        causation,
    )
    for stored in saved:
        for event, version in stored:
            if isinstance(event, PersonPreRegistered):
                pre_registered.append((event, version))
            else:
                await reg.projector.project(tx, [(event, version)])
    await reg.projector.project_pre_registered(tx, pre_registered)


async def _listed(tx: AsyncConnection, movement: str, refs: list[str]) -> dict[str, str]:
    """The person already recorded for each of the movement's ``refs`` that is known."""
    if not refs:
        return {}
    found = await tx.execute(
        select(persons.c.movement_ref, persons.c.person_id).where(
            persons.c.movement == movement, persons.c.movement_ref.in_(set(refs))
        )
    )
    return {row.movement_ref: row.person_id for row in found}


def _row(
    report: ImportReport,
    number: int,
    line: int,
    status: str,
    movement_ref: str | None = None,
    person_id: str | None = None,
    *,
    column: str | None = None,
) -> dict[str, object]:
    return {
        "list_id": report.list_id,
        "list_version": number,
        "line": line,
        "status": status,
        "movement_ref": movement_ref,
        "person_id": person_id,
        "column_name": column,
        "sealed_reason": None,
    }


async def _has_bad_rows(path: Path, report: ImportReport, progress: Progress | None) -> bool:
    """Read the whole file once, keeping only its problems; whether it has any."""
    chunks = _chunks(read_list_file(path))
    lines: set[int] = set()
    while chunk := await _next_chunk(chunks):
        for row in chunk:
            lines.add(row.line)
            if isinstance(row, RowError):
                report.problems.append(RowProblem(row.line, row.column, row.reason))
        report.rows_total = len(lines)
        if progress is not None:
            progress(report.rows_total)
    report.rows_rejected = len({problem.line for problem in report.problems})
    return bool(report.problems)


async def _earlier_import(conn: AsyncConnection, sha: str, movement: str) -> int | None:
    found = await conn.execute(
        select(list_imports.c.list_version).where(
            list_imports.c.file_sha256 == sha, list_imports.c.movement == movement
        )
    )
    return found.scalar_one_or_none()


async def _already_imported(conn: AsyncConnection, report: ImportReport, number: int) -> ImportReport:
    rows = (
        await conn.execute(
            select(list_rows.c.status, func.count(distinct(list_rows.c.line)))
            .where(list_rows.c.list_id == report.list_id, list_rows.c.list_version == number)
            .group_by(list_rows.c.status)
        )
    ).all()
    counts = {str(row[0]): int(row[1]) for row in rows}
    report.status = "already-imported"
    report.list_version = number
    report.rows_pre_registered = counts.get("pre-registered", 0)
    report.rows_already_listed = counts.get("already-listed", 0)
    report.rows_rejected = counts.get("rejected", 0)
    report.rows_total = sum(counts.values())
    return report
