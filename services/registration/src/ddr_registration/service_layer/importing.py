"""Bulk import of a movement's list file as a new version of its certified list.

The file is streamed in chunks (a 100,000-row file never sits in memory whole) and every row gets a status:
pre-registered, already listed (the movement's reference is known), or rejected with its column and reason.
Nothing is half-written: the whole import is one transaction; with ``reject_whole`` a file with any bad row
is refused before anything is written. Re-importing the same file (its SHA-256, per movement) changes
nothing and answers the first import's report. The row report is itself recorded (``ListRowsChecked``, a
chunk at a time), so the read model's report is rebuilt from the history like everything else.

A file laid out otherwise is read through one of the movement's import profiles; columns nothing reads are
named in the report. Each row's declared weapon serials are compared, at once, with every serial declared
before on any list (and earlier in the file): a repeated serial is flagged on the row, naming both rows. An
identity document issued days before the list is flagged too.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Literal

from ddr_registration.domain.identity import IdentityRecord
from ddr_registration.domain.lists import (
    CertifiedList,
    ListReport,
    list_id_of,
    list_report_stream,
    list_stream,
)
from ddr_registration.domain.members import ListedMember, ParsedRow, RowError, document_days_before
from ddr_registration.domain.movements import Movement, movement_stream
from ddr_registration.domain.persons import Person, When, person_stream
from ddr_registration.domain.profiles import ImportProfile, profile_stream
from ddr_registration.domain.values import ColumnMapping, DeclaredRow, ListRow, RepeatedRow
from ddr_registration.domain.weapons import normalise_serial
from ddr_registration.service_layer.dedup import catch_up_index, suspect_duplicates
from ddr_registration.service_layer.desk import RegistrationDesk
from ddr_registration.service_layer.ports import ImportedVersion
from ddr_runtime.eventstore.ports import AggregateSession, Causation
from ddr_runtime.kernel import Recording, RuleViolated, UnknownRecord

CHUNK_ROWS = 500
MAX_LIST_ROWS = 150_000
"""A list file of more lines is refused whole (422): the largest movement listed about 30,000 members."""
Progress = Callable[[int], None]
"""Called with the number of rows read so far."""

ImportStatus = Literal["accepted", "rejected", "already-imported"]
Chunk = list[ParsedRow | RowError]


@dataclass(frozen=True)
class RowProblem:
    line: int
    column: str
    reason: str


@dataclass(frozen=True)
class SerialRepeat:
    """A serial a row declares that an earlier row, on this list or another, declared for someone else."""

    line: int
    serial: str
    declared_also: list[DeclaredRow]


@dataclass
class ImportReport:
    list_id: str
    movement: str
    file_sha256: str
    status: ImportStatus = "accepted"
    list_version: int | None = None
    profile: str | None = None
    profile_version: int | None = None
    unknown_columns: list[str] = field(default_factory=list)
    rows_total: int = 0
    rows_pre_registered: int = 0
    rows_already_listed: int = 0
    rows_rejected: int = 0
    duplicates_suspected: int = 0
    problems: list[RowProblem] = field(default_factory=list)
    serial_repeats: list[SerialRepeat] = field(default_factory=list)
    documents_recent: list[int] = field(default_factory=list)  # lines whose document was issued days before


@dataclass(frozen=True)
class ProfileChoice:
    """The import profile to read a file with: its name, and a version (the latest when ``None``)."""

    name: str
    version: int | None = None


@dataclass
class _Import:
    """One import under way: what every chunk needs, and the serials declared so far in the file."""

    reg: RegistrationDesk
    report: ImportReport
    number: int
    at: datetime
    causation: Causation
    added: list[str] = field(default_factory=list)
    declared: dict[str, DeclaredRow] = field(default_factory=dict)  # serial key -> first row in this file


def _fresh(report: ImportReport) -> ImportReport:
    """The report as the rows' pass starts it (decided again from scratch if the pass is retried)."""
    return ImportReport(
        list_id=report.list_id,
        movement=report.movement,
        file_sha256=report.file_sha256,
        profile=report.profile,
        profile_version=report.profile_version,
        unknown_columns=list(report.unknown_columns),
    )


def _chunks(rows: Iterator[ParsedRow | RowError]) -> Iterator[Chunk]:
    """About ``CHUNK_ROWS`` entries at a time, never splitting the faults of one line between two chunks;
    a file of more than ``MAX_LIST_ROWS`` lines is refused when its next line is read."""
    lines = (list(entries) for _, entries in itertools.groupby(rows, key=lambda row: row.line))
    chunk: Chunk = []
    for count, entries in enumerate(lines, start=1):
        if count > MAX_LIST_ROWS:
            raise RuleViolated(
                "list-too-long",
                f"a list file has at most {MAX_LIST_ROWS:,} rows: split it into versions",
                figures={"max_rows": MAX_LIST_ROWS},
            )
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
    profile: ProfileChoice | None = None,
) -> ImportReport:
    """Import the file as the movement's next list version, submitted on ``on`` (business time: when the
    movement submitted it; its members are pre-registered then), read with ``profile`` if given."""
    at = (recording or Recording()).moment(on)
    sha = await asyncio.to_thread(reg.files.sha256, path)
    report = ImportReport(list_id=list_id_of(movement), movement=movement, file_sha256=sha)

    async def check(session: AggregateSession) -> tuple[ImportedVersion | None, ColumnMapping | None]:
        done = await reg.lookups.earlier_import(session, sha, movement)
        if done is not None:
            return done, None
        if (await session.load(movement_stream(movement), Movement)).version == 0:
            raise UnknownRecord("movement", movement)
        return None, await _mapping(session, report, profile)

    done, mapping = await reg.unit.run(check)
    if done is not None:
        return _already_imported(report, done)
    report.unknown_columns = list(await asyncio.to_thread(reg.files.unknown_columns, path, mapping))
    if reject_whole and await _has_bad_rows(reg, path, mapping, report, progress):
        report.status = "rejected"
        return report

    async def rows(session: AggregateSession) -> ImportReport:
        work = _Import(reg, _fresh(report), 0, at, causation)
        try:
            await _import_rows(work, session, reg.files.read(path, mapping), progress)
        except BaseException:
            for person_id in work.added:  # the transaction rolls back: so must the in-memory index
                reg.index.remove(person_id)
            raise
        return work.report

    return await reg.unit.run(rows)


async def _mapping(
    session: AggregateSession, report: ImportReport, profile: ProfileChoice | None
) -> ColumnMapping | None:
    if profile is None:
        return None
    found = await session.load_existing(
        profile_stream(report.movement, profile.name), ImportProfile, "import_profile", profile.name
    )
    report.profile = profile.name
    report.profile_version, mapping = found.mapping(profile.version)
    return mapping


async def _import_rows(
    work: _Import, session: AggregateSession, rows: Iterator[ParsedRow | RowError], progress: Progress | None
) -> None:
    reg, report = work.reg, work.report
    await catch_up_index(reg, session)
    certified = await session.load(list_stream(report.list_id), CertifiedList)
    work.number = certified.latest + 1
    rows_report = ListReport()
    chunks = _chunks(rows)
    while chunk := await _next_chunk(chunks):
        checked = await _import_chunk(work, session, chunk)
        rows_report.check(
            report.list_id, report.movement, work.number, checked.rows, checked.reasons, work.at
        )
        await session.save(
            rows_report, list_report_stream(report.list_id, work.number), report.list_id, work.causation
        )
        if progress is not None:
            progress(report.rows_total)
    certified.submit_version(
        report.list_id,
        report.movement,
        report.file_sha256,
        total=report.rows_total,
        accepted=report.rows_pre_registered + report.rows_already_listed,
        rejected=report.rows_rejected,
        at=work.at,
        profile=(report.profile, report.profile_version) if report.profile else None,
        unknown_columns=tuple(report.unknown_columns),
    )
    await session.save(certified, list_stream(report.list_id), report.list_id, work.causation)
    report.list_version = work.number


@dataclass
class _Checked:
    """What a chunk's rows became, for the row report: each line's status, and the refused rows' reasons."""

    rows: list[ListRow] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    refused_lines: set[int] = field(default_factory=set)  # a line's faults all come in one chunk


async def _import_chunk(work: _Import, session: AggregateSession, chunk: Chunk) -> _Checked:
    """One chunk: rows checked in file order, then written in bulk, then matched against the index.

    Round trips per chunk, not per row: one for the personal-data keys, one for the references already
    listed, one for the serials declared before, one append for every new person's stream (their read-model
    rows in one statement). Duplicates are looked for after the chunk's people are stored, still in file
    order (each person against everyone before them), so a suspicion's read-model row finds both people.
    """
    reg, report = work.reg, work.report
    parsed = [row for row in chunk if isinstance(row, ParsedRow)]
    new_ids = {row.line: reg.new_id() for row in parsed}
    await reg.keys.keys_for_writing([*new_ids.values(), report.list_id])
    known = await reg.lookups.listed(session, report.movement, [row.member.movement_ref for row in parsed])
    earlier = await reg.lookups.declared_serials(
        session, [key for row in parsed for key in _serial_keys(row.member)]
    )
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
            checked.rows.append(ListRow(line=row.line, status="already-listed", person_id=existing))
            continue
        person_id = new_ids[row.line]
        try:
            person = Person.pre_register(
                person_id, report.list_id, work.number, report.movement, member, work.at, row.line
            )
        except RuleViolated as refused:
            _refuse(report, checked, RowError(row.line, refused.rule, refused.detail))
            continue
        known[member.movement_ref] = person_id  # listed twice in one file: the second row is already listed
        report.rows_total += 1
        report.rows_pre_registered += 1
        checked.rows.append(_pre_registered(work, row.line, member, person_id, earlier))
        people.append((person, _identity(person_id, member)))
    await session.save_many([(p, person_stream(r.person_id), r.person_id) for p, r in people], work.causation)
    for _person, record in people:
        found = await suspect_duplicates(reg, session, record, work.causation, new_person=True)
        report.duplicates_suspected += len(found)
        reg.index.add(record)
        work.added.append(record.person_id)
    return checked


def _serial_keys(member: ListedMember) -> list[str]:
    return [normalise_serial(w.serial) for w in member.weapons if w.serial and normalise_serial(w.serial)]


def _pre_registered(
    work: _Import, line: int, member: ListedMember, person_id: str, earlier: dict[str, list[DeclaredRow]]
) -> ListRow:
    """A new person's row: the serials it declares, the rows that declared them before, and its flags."""
    report = work.report
    serials = tuple(w.serial for w in member.weapons if w.serial and normalise_serial(w.serial))
    repeats: list[DeclaredRow] = []
    for serial in serials:
        key = normalise_serial(serial)
        before = list(earlier.get(key, ()))
        if key in work.declared and work.declared[key] not in before:
            before.append(work.declared[key])  # earlier in this chunk (earlier chunks are in the read model)
        if before:
            repeats.extend(before)
            report.serial_repeats.append(SerialRepeat(line, serial, before))
        work.declared.setdefault(
            key, DeclaredRow(serial=serial, list_id=report.list_id, movement=report.movement,
                             list_version=work.number, line=line)
        )  # fmt: skip
    flags = ["serial-repeated"] if repeats else []
    if document_days_before(member.document_issued, work.at.date()) is not None:
        flags.append("document-recent")
        report.documents_recent.append(line)
    return ListRow(
        line=line,
        status="pre-registered",
        person_id=person_id,
        repeats=tuple(
            RepeatedRow(list_id=r.list_id, movement=r.movement, list_version=r.list_version, line=r.line)
            for r in repeats
        ),
        flags=tuple(flags),
    )


def _refuse(report: ImportReport, checked: _Checked, problem: RowError) -> None:
    """A fault of a row: one problem each, the row counted once however many faults it has."""
    if problem.line not in checked.refused_lines:
        checked.refused_lines.add(problem.line)
        report.rows_total += 1
        report.rows_rejected += 1
    report.problems.append(RowProblem(problem.line, problem.column, problem.reason))
    checked.rows.append(ListRow(line=problem.line, status="rejected", column=problem.column))
    checked.reasons.append(problem.reason)


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
    reg: RegistrationDesk,
    path: Path,
    mapping: ColumnMapping | None,
    report: ImportReport,
    progress: Progress | None,
) -> bool:
    """Read the whole file once, keeping only its problems; whether it has any."""
    chunks = _chunks(reg.files.read(path, mapping))
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
