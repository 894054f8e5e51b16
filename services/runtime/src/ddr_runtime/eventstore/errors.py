"""Errors of the event store, translated at the HTTP edge (409 for a conflict)."""

from __future__ import annotations


class ConcurrencyConflict(Exception):
    """Someone appended to the stream since the writer read it: reload and decide again."""

    def __init__(self, stream_id: str, expected: int, actual: int | None = None) -> None:
        self.stream_id = stream_id
        self.expected = expected
        self.actual = actual
        found = "a concurrent append" if actual is None else f"version {actual}"
        super().__init__(f"stream {stream_id}: expected version {expected}, found {found}")
