"""Bulk import of a movement's list file as a new version of its certified list.

The file is streamed in chunks (a 100,000-row file never sits in memory whole) and every row gets a status:
pre-registered, already listed (the movement's reference is known), or rejected with its column and reason.
Nothing is half-written: the whole import is one transaction; with ``reject_whole`` a file with any bad row
is refused before anything is written. Re-importing the same file (its SHA-256, per movement) changes
nothing and answers the first import's report. The row report is itself recorded (``ListRowsChecked``, a
chunk at a time), so the read model's report is rebuilt from the history like everything else.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from ddr_registration.domain.identity import IdentityRecord
from ddr_registration.domain.lists import (
    CertifiedList,
    ListReport,
    list_id_of,
    list_report_stream,
    list_stream,
)
from ddr_registration.domain.members import ListedMember, ParsedRow, RowError
from ddr_registration.domain.movements import Movement, movement_stream
from ddr_registration.domain.persons import Person, When, person_stream
from ddr_registration.domain.values import ListRow, ListRowStatus
from ddr_registration.service_layer.dedup import catch_up_index, suspect_duplicates
from ddr_registration.service_layer.desk import RegistrationDesk
from ddr_registration.service_layer.ports import ImportedVersion
from ddr_runtime.kernel import Recording, RuleViolated, UnknownRecord

if TYPE_CHECKING:
    from ddr_runtime.eventstore.store import Causation
    from ddr_runtime.eventstore.unit import Session

CHUNK_ROWS = 500
Progress = Callable[[int], None]
"""Called with the number of rows read so far."""

ImportStatus = Literal["accepted", "rejected", "already-imported"]
Chunk = list[ParsedRow | RowError]


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


def _chunks(rows: Iterator[ParsedRow | RowError]) -> Iterator[Chunk]:
    """About ``CHUNK_ROWS`` entries at a time, never splitting the faults of one line between two chunks."""
    lines = (list(entries) for _, entries in itertools.groupby(rows, key=lambda row: row.line))
    chunk: Chunk = []
    for entries in lines:
        chunk.extend(entries)
        if len(chunk) >= CHUNK_ROWS:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


async def _next_chunk(chunks: Iterator[Chunk]) -> Chunk:
    # Reading and parsing is blocking file work: keep it off the event loop.
    return await asyncio.to_thread(next, chunks, [])


async def import_list(
    reg: RegistrationDesk,
    path: Path,
    movement: str,
    causation: Causation,
    *,
    reject_whole: bool = False,
    progress: Progress | None = None,
    recording: Recording | None = None,
    on: When = None,
) -> ImportReport:
    """Import the file as the movement's next list version, submitted on ``on`` (business time: when the
    movement submitted it; its members are pre-registered then)."""
    at = (recording or Recording()).moment(on)
    sha = await asyncio.to_thread(reg.files.sha256, path)
    report = ImportReport(list_id=list_id_of(movement), movement=movement, file_sha256=sha)
    async with reg.unit.transaction() as session:
        done = await reg.lookups.earlier_import(session, sha, movement)
        if done is not None:
            return _already_imported(report, done)
        if (await session.load(movement_stream(movement), Movement)).version == 0:
            raise UnknownRecord("movement", movement)
    if reject_whole and await _has_bad_rows(reg, path, report, progress):
        report.status = "rejected"
        return report
    report.problems.clear()
    report.rows_total = report.rows_rejected = 0
    added: list[str] = []
    try:
        async with reg.unit.transaction() as session:
            await catch_up_index(reg, session)
            certified = await session.load(list_stream(report.list_id), CertifiedList)
            number = certified.latest + 1
            rows_report = ListReport()
            chunks = _chunks(reg.files.read(path))
            while chunk := await _next_chunk(chunks):
                checked = await _import_chunk(reg, session, report, (number, at), chunk, causation, added)
                rows_report.check(report.list_id, movement, number, checked.rows, checked.reasons, at)
                stream = list_report_stream(report.list_id, number)
                await session.save(rows_report, stream, report.list_id, causation)
                if progress is not None:
                    progress(report.rows_total)
            accepted = report.rows_pre_registered + report.rows_already_listed
            certified.submit_version(
                report.list_id, movement, sha, total=report.rows_total, accepted=accepted,
                rejected=report.rows_rejected, at=at,
            )  # fmt: skip
            await session.save(certified, list_stream(report.list_id), report.list_id, causation)
            report.list_version = number
    except BaseException:
        for person_id in added:  # the transaction rolled back: so must the in-memory index
            reg.index.remove(person_id)
        raise
    return report


@dataclass
class _Checked:
    """What a chunk's rows became, for the row report: each line's status, and the refused rows' reasons."""

    rows: list[ListRow] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    refused_lines: set[int] = field(default_factory=set)  # a line's faults all come in one chunk


async def _import_chunk(
    reg: RegistrationDesk,
    session: Session,
    report: ImportReport,
    version: tuple[int, datetime],
    chunk: Chunk,
    causation: Causation,
    added: list[str],
) -> _Checked:
    """One chunk: rows checked in file order, then written in bulk, then matched against the index.

    Round trips per chunk, not per row: one for the personal-data keys, one for the references already
    listed, one append for every new person's stream (their read-model rows in one statement). Duplicates are
    looked for after the chunk's people are stored, still in file order (each person against everyone before
    them), so a suspicion's read-model row finds both people.
    """
    number, at = version
    parsed = [row for row in chunk if isinstance(row, ParsedRow)]
    new_ids = {row.line: reg.new_id() for row in parsed}
    await reg.unit.store.cipher.keystore.keys_for_writing([*new_ids.values(), report.list_id])
    known = await reg.lookups.listed(session, report.movement, [row.member.movement_ref for row in parsed])
    checked = _Checked()
    people: list[tuple[Person, IdentityRecord]] = []
    for row in chunk:
        if isinstance(row, RowError):
            _refuse(report, checked, row)
            continue
        member, existing = row.member, known.get(row.member.movement_ref)
        if existing is not None:
            report.rows_total += 1
            report.rows_already_listed += 1
            checked.rows.append(_row(row.line, "already-listed", member.movement_ref, existing))
            continue
        person_id = new_ids[row.line]
        try:
            person = Person.pre_register(person_id, report.list_id, number, report.movement, member, at)
        except RuleViolated as refused:
            _refuse(report, checked, RowError(row.line, refused.rule, refused.detail))
            continue
        known[member.movement_ref] = person_id  # listed twice in one file: the second row is already listed
        report.rows_total += 1
        report.rows_pre_registered += 1
        checked.rows.append(_row(row.line, "pre-registered", member.movement_ref, person_id))
        people.append((person, _identity(person_id, member)))
    await session.save_many(
        [(person, person_stream(record.person_id), record.person_id) for person, record in people], causation
    )
    for _person, record in people:
        found = await suspect_duplicates(reg, session, record, causation, new_person=True)
        report.duplicates_suspected += len(found)
        reg.index.add(record)
        added.append(record.person_id)
    return checked


def _refuse(report: ImportReport, checked: _Checked, problem: RowError) -> None:
    """A fault of a row: one problem each, the row counted once however many faults it has."""
    if problem.line not in checked.refused_lines:
        checked.refused_lines.add(problem.line)
        report.rows_total += 1
        report.rows_rejected += 1
    report.problems.append(RowProblem(problem.line, problem.column, problem.reason))
    checked.rows.append(ListRow(line=problem.line, status="rejected", column=problem.column))
    checked.reasons.append(problem.reason)


def _row(line: int, status: ListRowStatus, movement_ref: str, person_id: str) -> ListRow:
    return ListRow(line=line, status=status, movement_ref=movement_ref, person_id=person_id)


def _identity(person_id: str, member: ListedMember) -> IdentityRecord:
    return IdentityRecord(
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


async def _has_bad_rows(
    reg: RegistrationDesk, path: Path, report: ImportReport, progress: Progress | None
) -> bool:
    """Read the whole file once, keeping only its problems; whether it has any."""
    chunks = _chunks(reg.files.read(path))
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


def _already_imported(report: ImportReport, done: ImportedVersion) -> ImportReport:
    report.status = "already-imported"
    report.list_version, counts = done
    report.rows_pre_registered = counts.get("pre-registered", 0)
    report.rows_already_listed = counts.get("already-listed", 0)
    report.rows_rejected = counts.get("rejected", 0)
    report.rows_total = sum(counts.values())
    return report
