"""What a service is reacting to, so the events it records in answer name their cause.

The idempotent consumer calls its handler inside :func:`reacting_to` with the events it hands over; the event
store gives every event appended meanwhile without a cause of its own the consumed event about the same
subject (or the one event consumed, for a handler called per event) as ``causationid``, and that event's
``correlationid``. So a policy that reacts to another service's event names it without saying so, and a
path can be put in causal order across services whatever their clocks say.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from ddr_contracts.envelope import EventEnvelope


@dataclass(frozen=True)
class _Reaction:
    by_subject: dict[str, EventEnvelope]  # the last consumed event about each subject
    only: EventEnvelope | None  # the one event consumed, when the handler took one


_CURRENT: ContextVar[_Reaction | None] = ContextVar("ddr_reacting_to", default=None)


@contextmanager
def reacting_to(consumed: Sequence[EventEnvelope]) -> Iterator[None]:
    """Within the block, events appended without a cause answer ``consumed``."""
    by_subject: dict[str, EventEnvelope] = {}
    for envelope in consumed:
        by_subject[envelope.subject] = envelope
    token = _CURRENT.set(_Reaction(by_subject, consumed[0] if len(consumed) == 1 else None))
    try:
        yield
    finally:
        _CURRENT.reset(token)


def cause_of(subject: str) -> EventEnvelope | None:
    """The consumed event an event about ``subject`` answers, when a consumer's handler is running."""
    reaction = _CURRENT.get()
    if reaction is None:
        return None
    return reaction.by_subject.get(subject) or reaction.only
