"""What a service layer sees of the unit of work: the standard library alone, so it imports no SQL.

A command handler is typed against :class:`AggregateSession` (load, decide, save with the expected version) and
:class:`CommandRunner` (one transaction per command, decided again on a conflict; bulk commands item by item).
:class:`ddr_runtime.eventstore.unit.UnitOfWork` and its ``Session`` implement them over the event store, and the
test kit's ``FakeUnitOfWork`` in memory; a service's bootstrap hands the real one to its entry points. The
handler gets who gives the command, when it is recorded and its causation as a :class:`CommandContext`.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Generic, Literal, Protocol, TypeVar

from ddr_runtime.auth.roles import Principal
from ddr_runtime.kernel import Aggregate, DomainError, Recording, UnknownRecord
from ddr_runtime.kernel.timeline import DEFAULT_WINDOW, BackRecording

A = TypeVar("A", bound=Aggregate[Any])
T = TypeVar("T")
I = TypeVar("I")  # noqa: E741 - an item of a bulk command


@dataclass(frozen=True)
class Causation:
    """Who asked, and in answer to what: carried onto every event of one command.

    ``back_recording``: the authority under which the command records facts older than the back-recording
    window (the role and the reason); it is written into the envelope of each event recorded that late.
    """

    actor: str
    correlation_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    causation_id: str | None = None
    back_recording: BackRecording | None = None
    window: timedelta = DEFAULT_WINDOW


@dataclass(frozen=True)
class CommandContext:
    """Who gives a command, when it is recorded, and the causation its events carry."""

    principal: Principal
    recording: Recording
    causation: Causation


@dataclass(frozen=True)
class ItemOutcome(Generic[T]):
    """What became of one item of a bulk command: recorded (with its result), or refused with the rule.
    ``key`` names what the item is about (a person, a case), when the command knows it."""

    index: int
    status: Literal["recorded", "refused"]
    result: T | None = None
    rule: str | None = None
    detail: str | None = None
    figures: dict[str, Any] = field(default_factory=dict)
    not_found: bool = False
    key: str | None = None


class BulkRefused(DomainError):
    """An all-or-nothing bulk command with refused items: nothing was recorded. ``keys``: what each item
    names (a person, a case), in the items' order, so the answer names the item it refuses."""

    def __init__(self, outcomes: Sequence[ItemOutcome[Any]], keys: Sequence[str | None] = ()) -> None:
        refused = [o for o in outcomes if o.status == "refused"]
        super().__init__("bulk-refused", f"{len(refused)} item(s) refused; nothing was recorded")
        self.outcomes = list(outcomes)
        self.keys = list(keys)

    def key(self, index: int) -> str | None:
        return self.keys[index] if index < len(self.keys) else None


def refusal(index: int, error: DomainError) -> ItemOutcome[Any]:
    return ItemOutcome(
        index,
        "refused",
        rule=error.rule,
        detail=error.detail,
        figures=dict(error.figures),
        not_found=isinstance(error, UnknownRecord),
    )


class AggregateSession(Protocol):
    """One transaction of a unit of work: aggregates loaded from their streams and saved back."""

    async def load(self, stream_id: str, factory: Callable[[], A]) -> A: ...

    async def load_many(self, stream_ids: Sequence[str], factory: Callable[[], A]) -> dict[str, A]: ...

    async def load_existing(self, stream_id: str, factory: Callable[[], A], kind: str, key: str) -> A: ...

    async def save(
        self,
        aggregate: Aggregate[Any],
        stream_id: str,
        subject: str,
        causation: Causation,
        expected_version: int | None = None,
    ) -> int: ...

    async def save_many(
        self, items: Sequence[tuple[Aggregate[Any], str, str]], causation: Causation
    ) -> None: ...


class CommandRunner(Protocol):
    """Runs a command's work in one transaction (decided again when a stream moved under it)."""

    async def run(
        self, work: Callable[[AggregateSession], Awaitable[T]], *, subjects: Iterable[str] = ()
    ) -> T: ...

    async def run_items(
        self,
        items: Sequence[I],
        work: Callable[[AggregateSession, I], Awaitable[T]],
        *,
        atomic: bool = False,
        subjects: Callable[[I], str] | None = None,
    ) -> list[ItemOutcome[T]]: ...
