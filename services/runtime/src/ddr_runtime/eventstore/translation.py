"""Domain events and contract events, translated in one place.

A domain records its own events: frozen dataclasses of the standard library, so the domain imports nothing
of pydantic or of the published contracts. What is stored and published is the contract event of the same
name (a pydantic model in ``ddr_contracts``): versioned, with personal fields marked. A service declares the
pairs once (:meth:`EventMap.by_name` pairs the classes of two modules that share a name) and the unit of work
translates on save and on load. Fields are matched by name; nested dataclasses, tuples, enums, dates and
decimals convert through pydantic's validation, so a mismatch fails loudly the first time it is used.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from types import ModuleType
from typing import Any, Protocol

from pydantic import TypeAdapter

from ddr_contracts.events import DomainEvent


class Translation(Protocol):
    def to_contract(self, event: Any) -> DomainEvent: ...

    def from_contract(self, event: DomainEvent) -> Any: ...


class SameEvents:
    """No translation: a domain that records contract events directly (read models, policies)."""

    def to_contract(self, event: Any) -> DomainEvent:
        if not isinstance(event, DomainEvent):
            raise TypeError(f"{type(event).__qualname__} is not a contract event and no translation is set")
        return event

    def from_contract(self, event: DomainEvent) -> Any:
        return event


class UntranslatedEvent(LookupError):
    """An event class with no counterpart in the map."""


class EventMap:
    """Pairs of (domain dataclass, contract model), translated field by field."""

    def __init__(self, pairs: Iterable[tuple[type[Any], type[DomainEvent]]]) -> None:
        self._to_contract: dict[type[Any], type[DomainEvent]] = {}
        self._from_contract: dict[type[DomainEvent], type[Any]] = {}
        for domain_type, contract_type in pairs:
            if not dataclasses.is_dataclass(domain_type):
                raise TypeError(f"{domain_type.__qualname__} is not a dataclass")
            self._to_contract[domain_type] = contract_type
            self._from_contract[contract_type] = domain_type

    @classmethod
    def by_name(cls, domain: ModuleType | Iterable[ModuleType], contracts: ModuleType) -> EventMap:
        """Pair every dataclass of ``domain`` (one module or several) with the contract event of ``contracts``
        that has the same class name; a domain event without a contract counterpart is an error."""
        modules = [domain] if isinstance(domain, ModuleType) else list(domain)
        pairs: list[tuple[type[Any], type[DomainEvent]]] = []
        for module in modules:
            for name, value in vars(module).items():
                if not (isinstance(value, type) and dataclasses.is_dataclass(value)):
                    continue
                if value.__module__ != module.__name__:
                    continue  # imported from elsewhere, not declared here
                contract = getattr(contracts, name, None)
                if not (isinstance(contract, type) and issubclass(contract, DomainEvent)):
                    raise UntranslatedEvent(
                        f"{module.__name__}.{name} has no contract event in {contracts.__name__}"
                    )
                pairs.append((value, contract))
        return cls(pairs)

    def to_contract(self, event: Any) -> DomainEvent:
        contract = self._to_contract.get(type(event))
        if contract is None:
            if isinstance(event, DomainEvent):
                return event
            raise UntranslatedEvent(type(event).__qualname__)
        return contract.model_validate(_dump(type(event), event))

    def from_contract(self, event: DomainEvent) -> Any:
        domain = self._from_contract.get(type(event))
        if domain is None:
            return event  # another service's event, or one the domain reads as it is
        return _adapter(domain).validate_python(event.model_dump())


_ADAPTERS: dict[type[Any], TypeAdapter[Any]] = {}


def _adapter(domain_type: type[Any]) -> TypeAdapter[Any]:
    adapter = _ADAPTERS.get(domain_type)
    if adapter is None:
        adapter = _ADAPTERS[domain_type] = TypeAdapter(domain_type)
    return adapter


def _dump(domain_type: type[Any], event: Any) -> Any:
    return _adapter(domain_type).dump_python(event)
