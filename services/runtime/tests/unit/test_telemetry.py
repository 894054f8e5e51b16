"""Trace context flows from an HTTP request into the work it causes and across Kafka headers."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import APIRouter, Depends
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from ddr_runtime.auth.dependencies import public_route
from ddr_runtime.auth.issuer import DevelopmentTokenIssuer
from ddr_runtime.auth.tokens import TokenVerifier
from ddr_runtime.config import Settings
from ddr_runtime.http.app import create_app
from ddr_runtime.telemetry import (
    JsonLogFormatter,
    ScrubbingSpanExporter,
    configure_telemetry,
    context_from_traceparent,
    current_traceparent,
    extract_context,
    inject_headers,
)

CALLER_TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def provider(exporter: InMemorySpanExporter) -> TracerProvider:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider


def trace_id_of(context: Context) -> int:
    return trace.get_current_span(context).get_span_context().trace_id


def test_kafka_headers_carry_the_trace_id_across(provider: TracerProvider) -> None:
    with provider.get_tracer("test").start_as_current_span("publish") as span:
        headers = inject_headers()

    received = extract_context(headers)

    assert trace_id_of(received) == span.get_span_context().trace_id
    assert dict(headers)["traceparent"].startswith(b"00-")


def test_headers_without_trace_context_extract_to_no_parent() -> None:
    received = extract_context([("content-type", b"application/json")])

    assert not trace.get_current_span(received).get_span_context().is_valid


def test_a_stored_traceparent_restores_the_trace(provider: TracerProvider) -> None:
    with provider.get_tracer("test").start_as_current_span("append") as span:
        traceparent = current_traceparent()

    assert traceparent is not None
    restored = context_from_traceparent(traceparent)
    assert trace.get_current_span(restored).get_span_context().span_id == span.get_span_context().span_id
    assert trace_id_of(restored) == span.get_span_context().trace_id


def test_there_is_no_traceparent_outside_a_span() -> None:
    assert current_traceparent() is None


def test_telemetry_is_configured_once_per_process() -> None:
    settings = Settings(environment="test")

    first = configure_telemetry("one", settings)
    second = configure_telemetry("two", settings)

    assert first is second
    assert trace.get_tracer_provider() is first


async def test_a_request_span_is_the_parent_of_the_work_done_in_the_route(
    provider: TracerProvider, exporter: InMemorySpanExporter, tmp_path: Path
) -> None:
    router = APIRouter(dependencies=[Depends(public_route)])

    @router.get("/figures")
    async def figures() -> dict[str, int]:
        with provider.get_tracer("test").start_as_current_span("compute figures"):
            return {"beneficiaries": 54131}

    issuer = DevelopmentTokenIssuer(Ed25519PrivateKey.generate(), issuer="ddr", audience="ddr")
    app = create_app(
        service_name="telemetry-test",
        settings=Settings(environment="test", var_dir=tmp_path),
        routers=[router],
        token_verifier=TokenVerifier(issuer.public_key_pem, issuer="ddr", audience="ddr"),
        tracer_provider=provider,
    )
    caller = {"traceparent": f"00-{CALLER_TRACE_ID}-00f067aa0ba902b7-01"}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        response = await client.get("/figures", headers=caller)

    assert response.status_code == 200
    spans: tuple[ReadableSpan, ...] = exporter.get_finished_spans()
    server = next(span for span in spans if span.kind is SpanKind.SERVER)
    work = next(span for span in spans if span.name == "compute figures")
    assert server.context is not None
    assert work.context is not None
    assert work.parent is not None
    assert work.context.trace_id == server.context.trace_id
    assert work.parent.span_id == server.context.span_id
    assert format(server.context.trace_id, "032x") == CALLER_TRACE_ID


def test_log_lines_are_json_with_the_current_trace_id(provider: TracerProvider) -> None:
    formatter = JsonLogFormatter("registration")
    record = logging.LogRecord("ddr.test", logging.INFO, __file__, 1, "appended %s", ("PersonListed",), None)
    record.event_id = "e-1"

    with provider.get_tracer("test").start_as_current_span("append") as span:
        line = json.loads(formatter.format(record))

    assert line["message"] == "appended PersonListed"
    assert line["service"] == "registration"
    assert line["event_id"] == "e-1"
    assert line["trace_id"] == format(span.get_span_context().trace_id, "032x")


def fail_with_personal_data() -> None:
    raise ValueError("Aminata Traoré, born 2009")


def test_a_logged_exception_keeps_its_type_but_not_its_message() -> None:
    formatter = JsonLogFormatter("registration")
    try:
        fail_with_personal_data()
    except ValueError:
        record = logging.LogRecord("ddr.test", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())

    line = formatter.format(record)

    assert json.loads(line)["exc_type"] == "ValueError"
    assert "Aminata" not in line


def test_a_service_process_logs_json_and_never_the_access_log(capsys: pytest.CaptureFixture[str]) -> None:
    import json
    import logging

    from ddr_runtime.telemetry import configure_logging

    # An in-process uvicorn.Config elsewhere in the run (log_level="warning") leaves its level behind.
    logging.getLogger("uvicorn.error").setLevel(logging.NOTSET)
    configure_logging("registration")
    logging.getLogger("uvicorn.error").info("started server process")
    logging.getLogger("uvicorn.access").info('127.0.0.1 - "GET /persons?name=Intalla HTTP/1.1" 200')

    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert [(line["logger"], line["message"], line["service"]) for line in lines] == [
        ("uvicorn.error", "started server process", "registration")
    ]


async def test_a_name_in_a_query_string_never_reaches_a_span(
    provider: TracerProvider, exporter: InMemorySpanExporter, tmp_path: Path
) -> None:
    router = APIRouter(dependencies=[Depends(public_route)])

    @router.get("/persons")
    async def persons(name: str = "") -> dict[str, int]:
        return {"found": len(name)}

    issuer = DevelopmentTokenIssuer(Ed25519PrivateKey.generate(), issuer="ddr", audience="ddr")
    app = create_app(
        service_name="telemetry-test",
        settings=Settings(environment="test", var_dir=tmp_path),
        routers=[router],
        token_verifier=TokenVerifier(issuer.public_key_pem, issuer="ddr", audience="ddr"),
        tracer_provider=provider,
    )
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        response = await client.get("/persons", params={"name": "Intalla Moussa"})

    server = next(span for span in exporter.get_finished_spans() if span.kind is SpanKind.SERVER)
    assert response.status_code == 200
    assert server.attributes is not None
    assert server.attributes["http.url"] == "http://test/persons"
    assert server.attributes["http.target"] == "/persons"
    assert "Intalla" not in json.dumps(dict(server.attributes))


def test_the_exporter_drops_query_strings_whatever_made_the_span(provider: TracerProvider) -> None:
    inner = InMemorySpanExporter()
    with provider.get_tracer("test").start_as_current_span("GET", kind=SpanKind.CLIENT) as span:
        span.set_attribute("url.full", "https://keys.internal/v1/find?name=Intalla%20Moussa")
        span.set_attribute("url.query", "name=Intalla%20Moussa")
    finished = next(s for s in provider_spans(provider) if s.name == "GET")

    ScrubbingSpanExporter(inner).export([finished])

    (exported,) = inner.get_finished_spans()
    assert dict(exported.attributes or {}) == {"url.full": "https://keys.internal/v1/find"}


def provider_spans(provider: TracerProvider) -> tuple[ReadableSpan, ...]:
    exporters = [
        processor.span_exporter  # type: ignore[attr-defined]
        for processor in provider._active_span_processor._span_processors
    ]
    return tuple(span for exporter in exporters for span in exporter.get_finished_spans())


def test_a_query_string_in_a_log_line_is_scrubbed() -> None:
    formatter = JsonLogFormatter("registration")
    record = logging.LogRecord(
        "httpx",
        logging.INFO,
        __file__,
        1,
        'HTTP Request: GET %s "200 OK"',
        ("http://x/persons?name=Aminata",),
        None,
    )
    record.url = "/persons?name=Aminata&born=2009"

    line = formatter.format(record)

    assert "Aminata" not in line
    assert json.loads(line)["message"] == 'HTTP Request: GET http://x/persons?[scrubbed] "200 OK"'
