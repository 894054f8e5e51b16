"""JSON Schemas of the published language, generated from the code into ``contracts/schemas/``.

``python -m ddr_contracts.schemas write`` regenerates the checked-in files (and ``asyncapi.json`` among them,
the AsyncAPI document of every topic) and refuses a change that would
break readers of an existing version (bump the version and register an upcaster instead); ``check`` lists
every difference between the code and the checked-in files. The test suite runs ``check``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from ddr_contracts import asyncapi
from ddr_contracts.envelope import EventEnvelope, schema_ref
from ddr_contracts.events import REGISTRY, EventRegistry

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "schemas"
ENVELOPE_FILE = "EventEnvelope.json"


def generate(registry: EventRegistry) -> dict[str, dict[str, Any]]:
    """Every schema the code defines, by file name."""
    schemas: dict[str, dict[str, Any]] = {
        ENVELOPE_FILE: _with_id(EventEnvelope.model_json_schema(), ENVELOPE_FILE)
    }
    for model in registry:
        file_name = f"{model.type_name()}.json"
        schema = model.model_json_schema()
        schema["title"] = model.type_name()
        schemas[file_name] = _with_id(schema, file_name)
    return schemas


def _with_id(schema: dict[str, Any], file_name: str) -> dict[str, Any]:
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": schema_ref(file_name[:-5]),
        **schema,
    }


def render(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def breaking_changes(old: dict[str, Any], new: dict[str, Any], path: str = "") -> list[str]:
    """Why a reader of ``old`` data would fail on ``new`` (or a writer of old data fail ``new``'s rules).

    Backward compatible: adding an optional property, relaxing a constraint, adding a description.
    Breaking: removing or retyping a property, making a property required, closing the schema further.
    """
    problems: list[str] = []
    old_props: dict[str, Any] = old.get("properties", {})
    new_props: dict[str, Any] = new.get("properties", {})
    for name, old_prop in old_props.items():
        where = f"{path}.{name}" if path else name
        if name not in new_props:
            problems.append(f"{where}: property removed")
            continue
        new_prop = new_props[name]
        if _shape(old_prop) != _shape(new_prop):
            problems.append(f"{where}: type changed from {_shape(old_prop)} to {_shape(new_prop)}")
        elif "properties" in old_prop:
            problems.extend(breaking_changes(old_prop, new_prop, where))
    for name in sorted(set(new.get("required", [])) - set(old.get("required", []))):
        problems.append(f"{path + '.' if path else ''}{name}: became required")
    if old.get("additionalProperties", True) is not False and new.get("additionalProperties") is False:
        problems.append(f"{path or '(root)'}: additional properties no longer allowed")
    return problems


def _shape(prop: dict[str, Any]) -> Any:
    """The part of a property's schema that decides which values it accepts, as a comparable value."""
    keys = ("type", "$ref", "anyOf", "oneOf", "allOf", "items", "enum", "const", "format")
    return json.dumps({k: prop[k] for k in keys if k in prop}, sort_keys=True)


def check(registry: EventRegistry = REGISTRY, directory: Path = SCHEMA_DIR) -> list[str]:
    """Differences between the code's schemas and the checked-in files; empty when they agree."""
    generated = generate(registry)
    problems: list[str] = []
    on_disk = {p.name for p in directory.glob("*.json")}
    for file_name, schema in generated.items():
        target = directory / file_name
        if not target.exists():
            problems.append(f"{file_name}: not checked in (run `make schemas`)")
        elif target.read_text() != render(schema):
            problems.append(f"{file_name}: differs from the code (run `make schemas`)")
    document = directory / asyncapi.ASYNCAPI_FILE
    if not document.exists() or document.read_text() != render(asyncapi.generate(registry)):
        problems.append(f"{asyncapi.ASYNCAPI_FILE}: differs from the code (run `make schemas`)")
    upcast_sources = {f"{name}.v{version}.json" for name, version in registry.upcasters()}
    for orphan in sorted(on_disk - set(generated) - upcast_sources - {asyncapi.ASYNCAPI_FILE}):
        problems.append(f"{orphan}: checked in, but no model or upcaster reads this version any more")
    return problems


def write(registry: EventRegistry = REGISTRY, directory: Path = SCHEMA_DIR) -> list[str]:
    """Write the generated schemas; refuse (and write nothing) when one would break an existing version."""
    generated = generate(registry)
    refusals: list[str] = []
    for file_name, schema in generated.items():
        target = directory / file_name
        if target.exists():
            refusals.extend(
                f"{file_name}: {p}" for p in breaking_changes(json.loads(target.read_text()), schema)
            )
    if refusals:
        return refusals
    directory.mkdir(parents=True, exist_ok=True)
    for file_name, schema in generated.items():
        (directory / file_name).write_text(render(schema))
    (directory / asyncapi.ASYNCAPI_FILE).write_text(render(asyncapi.generate(registry)))
    return []


def main(argv: list[str]) -> int:
    import ddr_contracts.catalog  # noqa: F401  (registers every service's events)

    command = argv[1] if len(argv) > 1 else "check"
    problems = write() if command == "write" else check()
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
