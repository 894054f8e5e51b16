"""The shape every aggregate shares: rebuilt from its events, it checks a rule, then records an event."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

E = TypeVar("E")


@dataclass(frozen=True)
class Change(Generic[E]):
    """An event an aggregate decided, not yet stored.

    ``at`` is its business time (``None``: the moment it is recorded); ``subject`` whom it is about, when that
    is not the subject the stream is saved under (a unit's stream carries its members' events, say).
    """

    event: E
    at: datetime | None = None
    subject: str | None = None


class Aggregate(Generic[E]):
    """``version`` counts the events already stored; ``pending`` holds those decided but not yet stored.

    Subclasses implement :meth:`apply`, which changes state and never refuses: the rules are checked by the
    command methods before they :meth:`record`. While an event is applied, ``at`` is its business time
    (``None`` when the history gave none), so state can keep when a fact happened.
    """

    def __init__(self) -> None:
        self.version = 0
        self.pending: list[Change[E]] = []
        self.at: datetime | None = None

    def replay(self, history: Iterable[E | tuple[E, datetime]]) -> None:
        """Apply stored events, each alone or with its business time: ``(event, occurred_at)``."""
        for past in history:
            if isinstance(past, tuple):
                event, self.at = past
            else:
                event, self.at = past, None
            self.apply(event)
            self.version += 1

    def record(self, event: E, *, at: datetime | None = None, subject: str | None = None) -> None:
        """Apply a new event and keep it to be stored."""
        self.at = at
        self.apply(event)
        self.pending.append(Change(event, at, subject))

    def take_pending(self) -> list[Change[E]]:
        """The pending changes, handed over once (the repository stores them)."""
        pending, self.pending = self.pending, []
        return pending

    def apply(self, event: E) -> None:  # pragma: no cover - every aggregate overrides it
        raise NotImplementedError
