"""The AsyncAPI 3.0 document of the platform's topics and event versions, generated from the code.

One channel per service's event topic and one for its dead-letter topic; the service sends every event
type of its contract module (each version that code still reads) on its topic, keyed by the subject. Each
message is the envelope (``schemas/EventEnvelope.json``) whose ``data`` is the event type's own schema, with
the Kafka headers every message carries. ``python -m ddr_contracts.schemas write`` writes it beside the JSON
Schemas (``contracts/schemas/asyncapi.json``) and ``check`` compares it, so code and document never drift.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from ddr_contracts.events import EventRegistry
from ddr_contracts.topics import CHECKPOINTS_TOPIC, SERVICES, dead_letter_topic, events_topic
from ddr_contracts.wire import DEAD_LETTER_HEADERS, HASH_HEADER

ASYNCAPI_FILE = "asyncapi.json"
TRACE_HEADERS = ("traceparent", "tracestate")


def _service_of(type_name: str) -> str:
    parts = type_name.split(".")
    return parts[1] if len(parts) > 2 and parts[0] == "ddr" else "unknown"


def _message(type_name: str, description: str) -> dict[str, Any]:
    return {
        "name": type_name,
        "title": type_name,
        "summary": description,
        "contentType": "application/json",
        "correlationId": {"location": "$message.payload#/correlationid"},
        "headers": {
            "type": "object",
            "properties": {
                HASH_HEADER: {"type": "string", "description": "SHA-256 of the value's bytes (hex)"},
                **{name: {"type": "string", "description": "W3C trace context"} for name in TRACE_HEADERS},
            },
            "required": [HASH_HEADER],
        },
        "payload": {
            "allOf": [
                {"$ref": "EventEnvelope.json"},
                {
                    "type": "object",
                    "properties": {"type": {"const": type_name}, "data": {"$ref": f"{type_name}.json"}},
                },
            ]
        },
        "bindings": {
            "kafka": {
                "key": {"type": "string", "description": "The event's subject (person or project id)"},
                "bindingVersion": "0.5.0",
            }
        },
    }


def _dead_letter_message() -> dict[str, Any]:
    return {
        "name": "DeadLetter",
        "title": "A message a consumer could never process",
        "summary": "The original key, value and headers, with the reason and the original coordinates.",
        "contentType": "application/octet-stream",
        "headers": {
            "type": "object",
            "properties": {name: {"type": "string"} for name in DEAD_LETTER_HEADERS},
            "required": list(DEAD_LETTER_HEADERS),
        },
        "payload": {"type": "string", "description": "The original message's value, unchanged"},
    }


def generate(registry: EventRegistry) -> dict[str, Any]:
    """The AsyncAPI 3.0 document of every topic and every event version the code knows."""
    by_service: dict[str, list[str]] = defaultdict(list)
    messages: dict[str, Any] = {"DeadLetter": _dead_letter_message()}
    for model in registry:
        type_name = model.type_name()
        key = type_name.replace(".", "_")
        by_service[_service_of(type_name)].append(key)
        messages[key] = _message(type_name, (model.__doc__ or type_name).strip().splitlines()[0])
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    for service in SERVICES:
        keys = sorted(by_service.get(service, []))
        if not keys:
            continue
        channel, dlq = f"{service}Events", f"{service}DeadLetters"
        channels[channel] = {
            "address": events_topic(service),
            "description": f"{service}'s domain events, keyed by subject, kept forever (retention -1).",
            "messages": {key: {"$ref": f"#/components/messages/{key}"} for key in keys},
        }
        channels[dlq] = {
            "address": dead_letter_topic(events_topic(service)),
            "description": f"What consumers of {service}'s events could never process, with the reason.",
            "messages": {"DeadLetter": {"$ref": "#/components/messages/DeadLetter"}},
        }
        operations[f"{service}Publishes"] = {
            "action": "send",
            "channel": {"$ref": f"#/channels/{channel}"},
            "summary": f"The {service} service's outbox relay publishes each stored event once acknowledged.",
            "messages": [{"$ref": f"#/channels/{channel}/messages/{key}"} for key in keys],
        }
    checkpoints = sorted(by_service.get("audit", []))
    channels["checkpoints"] = {
        "address": CHECKPOINTS_TOPIC,
        "description": "Every service's signed tree heads of its own store, keyed store:<service>, kept forever.",
        "messages": {key: {"$ref": f"#/components/messages/{key}"} for key in checkpoints},
    }
    channels["checkpointsDeadLetters"] = {
        "address": dead_letter_topic(CHECKPOINTS_TOPIC),
        "description": "What consumers of the checkpoints could never process, with the reason.",
        "messages": {"DeadLetter": {"$ref": "#/components/messages/DeadLetter"}},
    }
    operations["servicesSignCheckpoints"] = {
        "action": "send",
        "channel": {"$ref": "#/channels/checkpoints"},
        "summary": "Each service signs its own store's checkpoint, periodically and on demand, and publishes it.",
        "messages": [{"$ref": f"#/channels/checkpoints/messages/{key}"} for key in checkpoints],
    }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "DDR platform events",
            "version": "1.0.0",
            "description": "Every topic and event version of the platform, generated from the contracts.",
        },
        "defaultContentType": "application/json",
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages},
    }
