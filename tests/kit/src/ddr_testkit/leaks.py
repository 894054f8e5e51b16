"""A canary leak sweep: after a scenario with known names and movement references (some of those people
erased), search everywhere the platform writes for them in clear.

    sweep = CanarySweep(["Intalla Moussa", "MNLA-2021-00042"])
    await sweep.database(engine, "registration store")      # every table, every row, every column
    sweep.kafka_log_segments(log_dirs, topics)              # the broker's files on disk
    sweep.kafka_topics(bootstrap, topics)                   # or the topics' records (keys, values, headers)
    sweep.text(log_output, "captured logs")
    sweep.spans(exporter.get_finished_spans())
    sweep.blob(bundle, "exported bundle")                  # a .tar.gz, .zip, .gz or plain file
    await sweep.service(engine, "cvr store", bootstrap, topics, witness)  # all of one service at once
    assert not sweep.hits, sweep.report()

A canary is searched in the forms it could be written in: as given, case-folded, without diacritics, with
JSON's ``\\u`` escapes, percent-encoded (a URL), and in UTF-8 and UTF-16. Each hit names where it was found (store, table, column and
key; topic and partition; file; span and attribute).
"""

from __future__ import annotations

import asyncio
import gzip
import io
import json
import logging
import tarfile
import unicodedata
import uuid
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from sqlalchemy import MetaData, select
from sqlalchemy.ext.asyncio import AsyncEngine

from ddr_contracts.screening import MedicalExamined, VettingDecided


@dataclass(frozen=True)
class Hit:
    canary: str
    where: str

    def __str__(self) -> str:
        return f"{self.canary!r} in {self.where}"


def _variants(canary: str) -> set[bytes]:
    forms = {canary, canary.casefold(), canary.upper()}
    stripped = "".join(c for c in unicodedata.normalize("NFKD", canary) if not unicodedata.combining(c))
    forms |= {stripped, stripped.casefold()}
    forms |= {json.dumps(form)[1:-1] for form in list(forms)}
    forms |= {quote(form) for form in list(forms)} | {quote_plus(form) for form in list(forms)}
    encoded: set[bytes] = set()
    for form in forms:
        encoded.add(form.encode("utf-8"))
        encoded.add(form.encode("utf-16-le"))
    return {form for form in encoded if len(form) >= 3}


class CanarySweep:
    """Collects the places where any canary appears in clear."""

    def __init__(self, canaries: Iterable[str]) -> None:
        self.canaries = [c for c in dict.fromkeys(canaries) if c]
        if not self.canaries:
            raise ValueError("a sweep needs at least one canary")
        self._forms = {canary: _variants(canary) for canary in self.canaries}
        self.hits: list[Hit] = []
        self.searched: list[str] = []

    def blob(self, data: bytes, where: str) -> list[Hit]:
        """Search ``data`` (and, for an archive, every member) for every canary."""
        self.searched.append(where)
        found = self._search(data, where)
        for name, member in _members(data):
            found += self._search(member, f"{where}: {name}")
        self.hits += found
        return found

    def text(self, text: str, where: str) -> list[Hit]:
        return self.blob(text.encode("utf-8"), where)

    def file(self, path: Path, where: str | None = None) -> list[Hit]:
        return self.blob(path.read_bytes(), where or str(path))

    async def database(
        self, engine: AsyncEngine, where: str, tables: Sequence[str] | None = None
    ) -> list[Hit]:
        """Every row of every table of the database (or of ``tables``), each column searched."""
        metadata = MetaData()
        async with engine.connect() as conn:
            await conn.run_sync(lambda sync: metadata.reflect(sync, only=tables))
            found: list[Hit] = []
            for table in metadata.sorted_tables:
                self.searched.append(f"{where}: table {table.name}")
                rows = (await conn.execute(select(table))).all()
                for number, row in enumerate(rows):
                    for column, value in zip(table.columns.keys(), row, strict=True):
                        data = _as_bytes(value)
                        if data:
                            found += self._search(
                                data, f"{where}: table {table.name}, row {number}, column {column}"
                            )
        self.hits += found
        return found

    def kafka_log_segments(self, log_dirs: Iterable[Path], topics: Iterable[str]) -> list[Hit]:
        """The broker's files of each topic's partitions (``<log dir>/<topic>-<partition>/*``) on disk."""
        found: list[Hit] = []
        wanted = list(topics)
        for log_dir in log_dirs:
            for topic in wanted:
                folders = sorted(log_dir.glob(f"{topic}-[0-9]*"))
                if not folders:
                    raise FileNotFoundError(f"no partition folder of {topic} under {log_dir}")
                for folder in folders:
                    for path in sorted(folder.iterdir()):
                        if path.is_file():
                            found += self.blob(path.read_bytes(), f"Kafka segment {folder.name}/{path.name}")
        return found

    def kafka_topics(self, bootstrap_servers: str, topics: Iterable[str]) -> list[Hit]:
        """Every record of the topics from the beginning: key, value and headers."""
        from kafka import KafkaConsumer

        found: list[Hit] = []
        for topic in topics:
            consumer = KafkaConsumer(
                topic,
                bootstrap_servers=bootstrap_servers,
                auto_offset_reset="earliest",
                enable_auto_commit=False,
                consumer_timeout_ms=5000,
            )
            try:
                for record in consumer:
                    where = f"Kafka {record.topic}[{record.partition}]@{record.offset}"
                    parts = [record.key or b"", record.value or b""]
                    parts += [name.encode() + b"=" + (value or b"") for name, value in record.headers]
                    found += self.blob(b"\x00".join(parts), where)
            finally:
                consumer.close()
        return found

    def spans(self, spans: Iterable[ReadableSpan], where: str = "span") -> list[Hit]:
        """Names, attributes, events and status of finished spans (an in-memory exporter's)."""
        found: list[Hit] = []
        for span in spans:
            described = {
                "name": span.name,
                "attributes": dict(span.attributes or {}),
                "events": [(event.name, dict(event.attributes or {})) for event in span.events],
                "status": span.status.description,
                "resource": dict(span.resource.attributes),
            }
            found += self.text(
                json.dumps(described, default=str, ensure_ascii=False), f"{where} {span.name!r}"
            )
        return found

    async def service(
        self,
        engine: AsyncEngine,
        where: str,
        bootstrap_servers: str,
        topics: Sequence[str],
        witness: Witness,
    ) -> list[Hit]:
        """What one service writes: every table of its store, its topics' records and log segments, and
        what ``witness`` saw of its logs and finished spans. The broker is read in a thread: the service's own consumers, on this
        event loop, keep their heartbeats meanwhile."""
        found = await self.database(engine, where)
        found += await asyncio.to_thread(self.kafka_topics, bootstrap_servers, topics)
        log_dirs = await asyncio.to_thread(kafka_log_dirs, bootstrap_servers, topics)
        found += await asyncio.to_thread(self.kafka_log_segments, log_dirs, topics)
        found += self.text(witness.logs(), "logs")
        found += self.spans(witness.spans())
        return found

    def report(self) -> str:
        lines = [f"{len(self.hits)} canary hit(s):", *(f"  {hit}" for hit in self.hits)]
        return "\n".join(lines)

    def _search(self, data: bytes, where: str) -> list[Hit]:
        # The broker preallocates its index files (megabytes of zeros): a trailing run of zeros holds no
        # canary, save the last byte of a UTF-16 one.
        data = data[: len(data.rstrip(b"\x00")) + 1]
        lowered = data.lower()
        return [
            Hit(canary, where)
            for canary, forms in self._forms.items()
            if any(form in data or form.lower() in lowered for form in forms)
        ]


def _as_bytes(value: Any) -> bytes:
    if value is None:
        return b""
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, dict | list):
        return json.dumps(value, default=str, ensure_ascii=False).encode("utf-8")
    return str(value).encode("utf-8")


def _members(data: bytes) -> list[tuple[str, bytes]]:
    """The members of a tar (plain or gzipped), zip or gzip archive; none for anything else."""
    members: list[tuple[str, bytes]] = []
    try:
        if zipfile.is_zipfile(io.BytesIO(data)):
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                return [(name, archive.read(name)) for name in archive.namelist()]
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as archive:
            for member in archive.getmembers():
                extracted = archive.extractfile(member) if member.isfile() else None
                if extracted is not None:
                    members.append((member.name, extracted.read()))
            return members
    except (tarfile.TarError, zipfile.BadZipFile, EOFError, OSError):
        pass
    if data[:2] == b"\x1f\x8b":
        try:
            return [("(gunzipped)", gzip.decompress(data))]
        except (OSError, EOFError):
            return []
    return members


@dataclass
class Witness:
    """What a service under test leaves besides its store and topics: give ``tracer_provider`` to its app."""

    tracer_provider: TracerProvider
    exporter: InMemorySpanExporter
    log: io.StringIO

    def logs(self) -> str:
        return self.log.getvalue()

    def spans(self) -> Sequence[ReadableSpan]:
        return self.exporter.get_finished_spans()


@contextmanager
def witnessing(service: str) -> Iterator[Witness]:
    """The process's logs captured (:func:`captured_logs`) and a tracer provider keeping finished spans."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    with captured_logs(service) as stream:
        yield Witness(provider, exporter, stream)


def witness_fixture(service: str) -> Any:
    """A canary sweep module's ``witness`` fixture (:func:`witnessing` ``service``), bound by name::

    witness = witness_fixture("cvr")
    """

    @pytest.fixture(name="witness")
    def witness() -> Iterator[Witness]:
        with witnessing(service) as seen:
            yield seen

    return witness


def screening_detail(person_id: str, *, medical: str, vetting: str, result: str = "fit") -> list[Any]:
    """What screening publishes of ``person_id``'s examination and vetting, with the canary texts ``medical``
    and ``vetting`` in their sealed free-text fields (an examination ``result``, a vetting cleared)."""
    return [
        MedicalExamined(
            person_id=person_id, decision_id=str(uuid.uuid4()), examination_number=1, result=result,
            re_examination=False, details=medical,
        ),
        VettingDecided(
            person_id=person_id, decision_id=str(uuid.uuid4()), status="cleared", source="officer",
            list_version=None, allegation_ref=None, reason_code="no_record", reason=vetting,
        ),
    ]  # fmt: skip


def kafka_log_dirs(bootstrap_servers: str, topics: Iterable[str]) -> list[Path]:
    """The broker's data folders holding ``topics``, as the broker reports them (DescribeLogDirs): readable
    when the broker runs on this machine (natively, or the test kit's broker)."""
    from kafka import KafkaAdminClient

    admin = KafkaAdminClient(bootstrap_servers=bootstrap_servers, client_id="ddr-leak-sweep")
    try:
        answers = admin.describe_log_dirs(list(topics))
    finally:
        admin.close()
    folders = {
        Path(str(entry["log_dir"]))
        for answer in answers
        for entry in answer["log_dirs"]
        if entry.get("topics")
    }
    return sorted(folders)


@contextmanager
def captured_logs(service: str) -> Iterator[io.StringIO]:
    """What the process writes to its log meanwhile, through the runtime's JSON formatter, at every level
    (the libraries' loggers kept as a service process keeps them)."""
    from ddr_runtime.telemetry import JsonLogFormatter, quiet_noisy_loggers

    quiet_noisy_loggers()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonLogFormatter(service))
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
