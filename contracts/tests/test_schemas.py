"""The published language: checked-in schemas agree with the code, and changes stay backward compatible."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Annotated, Any

import pytest

import ddr_contracts.catalog
from ddr_contracts.events import PERSONAL, REGISTRY, DomainEvent, EventRegistry, UnknownEventType
from ddr_contracts.schemas import SCHEMA_DIR, breaking_changes, check, generate, write


class PersonListedV1(DomainEvent):
    name = "ddr.test.PersonListed"
    version = 1

    person_id: str
    full_name: Annotated[str | None, PERSONAL]


class PersonListedV2(DomainEvent):
    name = "ddr.test.PersonListed"
    version = 2

    person_id: str
    given_name: Annotated[str | None, PERSONAL]
    family_name: Annotated[str | None, PERSONAL]


def registry_with(*models: type[DomainEvent]) -> EventRegistry:
    registry = EventRegistry()
    for model in models:
        registry.register(model)
    return registry


def test_checked_in_schemas_agree_with_the_code() -> None:
    assert ddr_contracts.catalog.REGISTRY is REGISTRY
    assert check() == []


def test_every_personal_field_is_nullable_so_erased_subjects_still_replay() -> None:
    for model in REGISTRY:
        for field in model.personal_fields():
            assert not model.model_fields[field].is_required(), f"{model.type_name()}.{field}"
            model.model_validate({**_minimal(model), field: None})


def _minimal(model: type[DomainEvent]) -> dict[str, Any]:
    schema = model.model_json_schema()
    defs = schema.get("$defs", {})
    return {name: _example(schema["properties"][name], defs) for name in schema.get("required", [])}


def _example(prop: dict[str, Any], defs: dict[str, Any]) -> Any:
    """A value that validates against ``prop`` (enough of JSON Schema for the contract events)."""
    if "$ref" in prop:
        return _example(defs[prop["$ref"].rsplit("/", 1)[-1]], defs)
    if "const" in prop:
        return prop["const"]
    if "enum" in prop:
        return prop["enum"][0]
    for combinator in ("anyOf", "oneOf", "allOf"):
        if combinator in prop:
            options = [o for o in prop[combinator] if o.get("type") != "null"] or prop[combinator]
            return _example(options[0], defs)
    formats = {"date": "2020-06-30", "date-time": "2020-06-30T00:00:00Z", "uuid": str(uuid.UUID(int=1))}
    if prop.get("format") in formats:
        return formats[prop["format"]]
    if prop.get("type") == "object" and "properties" in prop:
        required = prop.get("required", [])
        return {name: _example(prop["properties"][name], defs) for name in required}
    if prop.get("type") == "array":
        return [_example(prop["items"], defs)] if prop.get("minItems") and "items" in prop else []
    number = max(1, prop.get("minimum", 1), prop.get("exclusiveMinimum", 0) + 1)
    text = "x" * max(1, prop.get("minLength", 1))
    return {"string": text, "integer": number, "number": float(number), "boolean": True, "object": {}}.get(
        str(prop.get("type")), text
    )


def test_a_change_to_the_code_without_regenerating_is_caught(tmp_path: Path) -> None:
    assert write(registry_with(PersonListedV1), tmp_path) == []

    class PersonListedRenamed(PersonListedV1):
        person_id: int  # type: ignore[assignment]

    problems = check(registry_with(PersonListedRenamed), tmp_path)

    assert problems == ["ddr.test.PersonListed.v1.json: differs from the code (run `make schemas`)"]


def test_write_refuses_a_breaking_change_to_an_existing_version(tmp_path: Path) -> None:
    write(registry_with(PersonListedV1), tmp_path)
    before = (tmp_path / "ddr.test.PersonListed.v1.json").read_text()

    class Breaking(DomainEvent):
        name = "ddr.test.PersonListed"
        version = 1
        person_id: str
        region: str  # a new required field: old events would no longer validate

    refusals = write(registry_with(Breaking), tmp_path)

    assert any("full_name: property removed" in r for r in refusals)
    assert any("region: became required" in r for r in refusals)
    assert (tmp_path / "ddr.test.PersonListed.v1.json").read_text() == before


def test_adding_an_optional_field_is_backward_compatible() -> None:
    class WithOptional(PersonListedV1):
        region: str | None = None

    old = generate(registry_with(PersonListedV1))["ddr.test.PersonListed.v1.json"]
    new = generate(registry_with(WithOptional))["ddr.test.PersonListed.v1.json"]

    assert breaking_changes(old, new) == []


def test_a_new_version_with_an_upcaster_reads_old_events_and_keeps_the_old_schema(tmp_path: Path) -> None:
    registry = registry_with(PersonListedV2)

    @registry.upcaster("ddr.test.PersonListed", 1)
    def split_name(data: dict[str, Any]) -> dict[str, Any]:
        given, _, family = (data.pop("full_name") or "").partition(" ")
        return {**data, "given_name": given or None, "family_name": family or None}

    write(registry_with(PersonListedV1), tmp_path)
    write(registry, tmp_path)
    model, data = registry.upcast(
        "ddr.test.PersonListed.v1", {"person_id": "p1", "full_name": "Aminata Traoré"}
    )

    assert model is PersonListedV2
    assert model.model_validate(data) == PersonListedV2(
        person_id="p1", given_name="Aminata", family_name="Traoré"
    )
    assert check(registry, tmp_path) == []


def test_dropping_an_old_version_without_an_upcaster_is_caught(tmp_path: Path) -> None:
    write(registry_with(PersonListedV1), tmp_path)
    write(registry_with(PersonListedV2), tmp_path)

    problems = check(registry_with(PersonListedV2), tmp_path)

    assert problems == [
        "ddr.test.PersonListed.v1.json: checked in, but no model or upcaster reads this version any more"
    ]


def test_an_unknown_or_too_new_type_is_refused() -> None:
    registry = registry_with(PersonListedV1)

    with pytest.raises(UnknownEventType):
        registry.upcast("ddr.test.Unheard.v1", {})
    with pytest.raises(UnknownEventType):
        registry.upcast("ddr.test.PersonListed.v3", {})


def test_the_envelope_schema_is_checked_in() -> None:
    schema = json.loads((Path(__file__).parents[1] / "schemas" / "EventEnvelope.json").read_text())

    assert {"id", "source", "type", "subject", "time", "specversion", "dataschema"} <= set(
        schema["properties"]
    )
    assert {
        "streamid",
        "streamversion",
        "correlationid",
        "causationid",
        "actor",
        "occurredat",
        "recordedat",
        "traceparent",
        "prevhash",
    } <= set(schema["properties"])


def test_the_asyncapi_document_is_valid_asyncapi_3_and_names_every_event_version() -> None:
    import jsonschema

    import ddr_contracts.catalog  # noqa: F401  (registers every service's events)
    from ddr_contracts import asyncapi
    from ddr_contracts.events import REGISTRY

    document = json.loads((SCHEMA_DIR / asyncapi.ASYNCAPI_FILE).read_text())
    spec = json.loads((SCHEMA_DIR.parent / "vendor" / "asyncapi-3.0.0.schema.json").read_text())

    jsonschema.validate(document, spec)
    named = {m["name"] for m in document["components"]["messages"].values()}
    assert {model.type_name() for model in REGISTRY} <= named
    assert document["channels"]["registrationEvents"]["address"] == "ddr.registration.events"
