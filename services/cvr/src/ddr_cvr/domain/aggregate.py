"""The shape every aggregate shares: rebuilt from its events, it checks a rule, then records an event."""

from __future__ import annotations

from collections.abc import Iterable

from ddr_contracts.events import DomainEvent


class Aggregate:
    """``version`` counts the events already stored; ``pending`` holds those decided but not yet stored."""

    def __init__(self) -> None:
        self.version = 0
        self.pending: list[DomainEvent] = []

    def replay(self, history: Iterable[DomainEvent]) -> None:
        for past in history:
            self.apply(past)
            self.version += 1

    def record(self, new: DomainEvent) -> None:
        self.apply(new)
        self.pending.append(new)

    def apply(self, event: DomainEvent) -> None:  # pragma: no cover - every aggregate overrides it
        raise NotImplementedError
