"""Business times of the facts a CVR command depends on.

A command states the day its fact happened; the kernel's :class:`~ddr_runtime.kernel.Recording` places it in
time and refuses it in the future, before the fact it depends on, or older than the back-recording window
without the authority to record the past. The aggregates keep when each fact they depend on happened.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from ddr_runtime.kernel import start_of_day

Dependency = tuple[datetime | None, str]
"""When a fact happened (``None``: it has not) and how a refusal names it ("the local review")."""


def moment_of(on: date, at: datetime | None) -> datetime:
    """The business time of a fact dated ``on``: the instant it was recorded as happening when that falls on
    its date, else the start of the day (history stored before business times were kept carries its
    recording time, not its date)."""
    return at if at is not None and at.astimezone(UTC).date() == on else start_of_day(on)


def latest(*dependencies: Dependency) -> Dependency:
    """The latest of the facts a new one depends on, among those that happened."""
    happened = [(at, what) for at, what in dependencies if at is not None]
    if not happened:
        return None, dependencies[0][1] if dependencies else "the fact it depends on"
    return max(happened, key=lambda dependency: dependency[0])
