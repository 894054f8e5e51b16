"""Domain event types: frozen, past tense, versioned, with personal fields marked.

A contract event is a pydantic model registered under a versioned type name
(``ddr.<service>.<PastTenseName>.v<N>``). Fields that hold personal data are declared with
:data:`PERSONAL`; the runtime encrypts them per subject before anything is stored or published. A personal
field must be nullable: once a subject's key is erased it reads as ``None``, and the event still replays.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

PERSONAL_MARK = "x-personal"
PERSONAL: Any = Field(default=None, json_schema_extra={PERSONAL_MARK: True})
"""Use as ``name: Annotated[str | None, PERSONAL]``: encrypted per subject, ``None`` once erased."""

Upcaster = Callable[[dict[str, Any]], dict[str, Any]]


_PERSONAL_FIELDS: dict[type[DomainEvent], frozenset[str]] = {}


class DomainEvent(BaseModel):
    """Base of every contract event. Subclasses set ``name`` and ``version`` and register."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: ClassVar[str]
    version: ClassVar[int] = 1

    @classmethod
    def type_name(cls) -> str:
        return f"{cls.name}.v{cls.version}"

    @classmethod
    def personal_fields(cls) -> frozenset[str]:
        """Top-level fields marked personal (nested personal data is kept in a personal field whole)."""
        cached = _PERSONAL_FIELDS.get(cls)
        if cached is None:  # asked on every append: work it out once per class
            cached = frozenset(
                field
                for field, info in cls.model_fields.items()
                if isinstance(info.json_schema_extra, dict) and info.json_schema_extra.get(PERSONAL_MARK)
            )
            _PERSONAL_FIELDS[cls] = cached
        return cached


class UnknownEventType(LookupError):
    """No registered model or upcaster knows this type name."""


class EventRegistry:
    """Event models by versioned type name, and the upcasters that bring old versions to the current one."""

    def __init__(self) -> None:
        self._models: dict[str, type[DomainEvent]] = {}
        self._current: dict[str, type[DomainEvent]] = {}
        self._upcasters: dict[tuple[str, int], Upcaster] = {}

    def register(self, model: type[DomainEvent]) -> type[DomainEvent]:
        type_name = model.type_name()
        if type_name in self._models and self._models[type_name] is not model:
            raise ValueError(f"event type {type_name} registered twice")
        self._models[type_name] = model
        current = self._current.get(model.name)
        if current is None or current.version < model.version:
            self._current[model.name] = model
        return model

    def upcaster(self, name: str, from_version: int) -> Callable[[Upcaster], Upcaster]:
        """Register ``fn`` turning data of ``name`` v``from_version`` into v``from_version + 1``."""

        def decorate(fn: Upcaster) -> Upcaster:
            self._upcasters[(name, from_version)] = fn
            return fn

        return decorate

    def __iter__(self) -> Iterator[type[DomainEvent]]:
        return iter(sorted(self._models.values(), key=lambda m: m.type_name()))

    def upcasters(self) -> dict[tuple[str, int], Upcaster]:
        return dict(self._upcasters)

    def model(self, type_name: str) -> type[DomainEvent]:
        try:
            return self._models[type_name]
        except KeyError:
            raise UnknownEventType(type_name) from None

    def current(self, name: str) -> type[DomainEvent]:
        try:
            return self._current[name]
        except KeyError:
            raise UnknownEventType(name) from None

    def upcast(self, type_name: str, data: dict[str, Any]) -> tuple[type[DomainEvent], dict[str, Any]]:
        """The current model for ``type_name`` and ``data`` upcast to it, one version at a time."""
        name, _, version_text = type_name.rpartition(".v")
        if not name or not version_text.isdigit():
            raise UnknownEventType(type_name)
        target = self.current(name)
        version = int(version_text)
        while version < target.version:
            step = self._upcasters.get((name, version))
            if step is None:
                raise UnknownEventType(f"{type_name}: no upcaster from v{version}")
            data = step(data)
            version += 1
        if version != target.version:
            raise UnknownEventType(f"{type_name} is newer than this code knows (v{target.version})")
        return target, data


REGISTRY = EventRegistry()
"""The platform's registry: each service's contract module registers its events here."""


def event(cls: type[DomainEvent]) -> type[DomainEvent]:
    """Class decorator registering a contract event in :data:`REGISTRY`."""
    return REGISTRY.register(cls)
