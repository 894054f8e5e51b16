"""Traces and logs: one tracer provider per process, W3C trace context across Kafka, JSON logs.

Nothing here logs or records payloads: event ids and types identify what happened without
carrying the personal data the events hold.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import traceback
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.trace import Span
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from opentelemetry.util.types import AttributeValue

from ddr_runtime.config import PlatformSettings

TRACEPARENT = "traceparent"
TRACESTATE = "tracestate"
# Only W3C trace context crosses process boundaries; baggage is left out because it could carry anything.
_propagator = TraceContextTextMapPropagator()


def configure_telemetry(service_name: str, settings: PlatformSettings) -> TracerProvider:
    """The process's tracer provider, made global on the first call and returned as is afterwards.

    Spans are always recorded, so trace context flows from HTTP through Kafka to consumers; they are
    exported over OTLP/HTTP only when ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set.
    """
    current = trace.get_tracer_provider()
    if isinstance(current, TracerProvider):
        return current
    resource = Resource.create(
        {
            "service.name": service_name,
            "service.namespace": "ddr",
            "deployment.environment.name": settings.environment,
        }
    )
    provider = TracerProvider(resource=resource)
    endpoint = settings.otel_exporter_otlp_endpoint.strip()
    if endpoint:
        # The variable names the collector's base URL; the HTTP exporter wants the traces signal's URL.
        exporter = OTLPSpanExporter(endpoint=endpoint.rstrip("/") + "/v1/traces")
        provider.add_span_processor(BatchSpanProcessor(ScrubbingSpanExporter(exporter)))
    trace.set_tracer_provider(provider)
    return provider


def inject_headers(context: Context | None = None) -> list[tuple[str, bytes]]:
    """Kafka message headers carrying the trace context of ``context`` (default: the current one)."""
    carrier: dict[str, str] = {}
    _propagator.inject(carrier, context=context)
    return [(key, value.encode("ascii")) for key, value in carrier.items()]


def extract_context(headers: Sequence[tuple[str, bytes]]) -> Context:
    """The trace context carried by Kafka message headers; an empty context when there is none."""
    carrier: dict[str, str] = {}
    for key, value in headers:
        name = key.lower()
        if name in (TRACEPARENT, TRACESTATE) and name not in carrier and value is not None:
            carrier[name] = value.decode("ascii", errors="replace")
    return _propagator.extract(carrier)


def current_traceparent() -> str | None:
    """The W3C ``traceparent`` of the current span, to store in an event envelope; None outside a trace."""
    carrier: dict[str, str] = {}
    _propagator.inject(carrier)
    return carrier.get(TRACEPARENT)


def context_from_traceparent(traceparent: str, tracestate: str | None = None) -> Context:
    """A context whose parent is the span ``traceparent`` names (e.g. read back from an event envelope)."""
    carrier = {TRACEPARENT: traceparent}
    if tracestate:
        carrier[TRACESTATE] = tracestate
    return _propagator.extract(carrier)


# Span attributes that carry a URL or its query (old and new HTTP semantic conventions): a query string can
# carry a name (``GET /persons?name=...``), so no span keeps one.
URL_ATTRIBUTES = ("http.url", "url.full", "http.target")
QUERY_ATTRIBUTES = ("url.query",)
SCRUBBED = "[scrubbed]"
# A query string after a URL or a path, in free text (a log message, an exception's string).
_QUERY_IN_TEXT = re.compile(r"(?<=[\w/.-])\?[^\s\"'<>]+")


def scrub_url(url: str) -> str:
    """``url`` without its query string, fragment and user info (a path or a full URL)."""
    parts = urlsplit(url)
    netloc = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def scrub_text(text: str) -> str:
    """``text`` with every query string that follows a URL or a path replaced."""
    return _QUERY_IN_TEXT.sub("?" + SCRUBBED, text)


def scrubbed_attributes(attributes: Mapping[str, AttributeValue]) -> dict[str, AttributeValue]:
    """The span attributes with URLs cut to their paths and query strings dropped."""
    cleaned: dict[str, AttributeValue] = {}
    for key, value in attributes.items():
        if key in QUERY_ATTRIBUTES:
            continue
        cleaned[key] = scrub_url(value) if key in URL_ATTRIBUTES and isinstance(value, str) else value
    return cleaned


def scrub_server_span(span: Span, _scope: Mapping[str, Any]) -> None:
    """The HTTP instrumentation's request hook: it runs once the request's attributes are on the span."""
    attributes = getattr(span, "attributes", None) or {}
    for key in URL_ATTRIBUTES:
        value = attributes.get(key)
        if isinstance(value, str):
            span.set_attribute(key, scrub_url(value))
    for key in QUERY_ATTRIBUTES:
        if key in attributes:
            span.set_attribute(key, SCRUBBED)


class ScrubbingSpanExporter(SpanExporter):
    """Exports spans with URL attributes scrubbed and query attributes dropped: the last line, whatever
    instrumentation made the span."""

    def __init__(self, inner: SpanExporter) -> None:
        self.inner = inner

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return self.inner.export([_scrubbed_span(span) for span in spans])

    def shutdown(self) -> None:
        self.inner.shutdown()

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return self.inner.force_flush(timeout_millis)


def _scrubbed_span(span: ReadableSpan) -> ReadableSpan:
    return ReadableSpan(
        name=span.name,
        context=span.context,
        parent=span.parent,
        resource=span.resource,
        attributes=scrubbed_attributes(span.attributes or {}),
        events=span.events,
        links=span.links,
        kind=span.kind,
        status=span.status,
        start_time=span.start_time,
        end_time=span.end_time,
        instrumentation_scope=span.instrumentation_scope,
    )


class JsonLogFormatter(logging.Formatter):
    """One JSON object per line, with the service and the current span's trace and span ids.

    An exception is logged by its type and code path only: exception messages can quote
    personal data (a database error echoes its parameters), and operators must not see it.
    Fields passed with ``extra=`` are included, so log ``event_id`` and ``event_type`` that way.
    Query strings are scrubbed from the message and from text fields (a request line or a URL that a
    library logs can carry ``?name=...``).
    """

    def __init__(self, service_name: str) -> None:
        super().__init__()
        self.service_name = service_name

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": scrub_text(record.getMessage()),
            "service": self.service_name,
        }
        span_context = trace.get_current_span().get_span_context()
        if span_context.is_valid:
            entry["trace_id"] = format(span_context.trace_id, "032x")
            entry["span_id"] = format(span_context.span_id, "016x")
        entry.update(
            (key, scrub_text(value) if isinstance(value, str) else value)
            for key, value in record.__dict__.items()
            if key not in _STANDARD_RECORD_FIELDS
        )
        if record.exc_info and record.exc_info[0] is not None:
            entry.setdefault("exc_type", record.exc_info[0].__qualname__)
            entry.setdefault(
                "stack",
                [f"{f.filename}:{f.lineno} in {f.name}" for f in traceback.extract_tb(record.exc_info[2])],
            )
        return json.dumps(entry, default=str, ensure_ascii=False)


_STANDARD_RECORD_FIELDS = frozenset(
    {
        *logging.LogRecord("", logging.INFO, "", 0, "", None, None).__dict__,
        "message",
        "asctime",
        "taskName",
    }
)
_HANDLER_NAME = "ddr-json"


def quiet_noisy_loggers() -> None:
    """Libraries' loggers whose records are noise or quote data, kept above the level that does so whatever
    the root's level: an HTTP client's line per request (the key service's revocation list every few
    seconds), and aiosqlite's DEBUG line per statement, which quotes its parameters (names, references)."""
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("aiosqlite").setLevel(logging.INFO)


def configure_logging(service_name: str, level: int | str = logging.INFO) -> None:
    """Send the root logger's records to stderr as JSON lines; calling it again replaces the handler.

    Every service process calls it once, when its runtime is built.
    """
    root = logging.getLogger()
    for handler in [h for h in root.handlers if h.get_name() == _HANDLER_NAME]:
        root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(JsonLogFormatter(service_name))
    root.addHandler(handler)
    root.setLevel(level)
    # uvicorn configures its own plain-text handlers before it builds the app: its records come here instead.
    # Its access log is silenced: a request line carries the query string, which can carry a name.
    for name in ("uvicorn", "uvicorn.error"):
        server_log = logging.getLogger(name)
        server_log.handlers.clear()
        server_log.propagate = True
    quiet_noisy_loggers()
    access = logging.getLogger("uvicorn.access")
    access.handlers.clear()
    access.propagate = False
    access.disabled = True
