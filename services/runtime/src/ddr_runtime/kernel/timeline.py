"""Business time: when something happened in the world, as distinct from when the platform records it.

History arrives late (a programme migrating its records, a field team back online), so every command that
records something done on a given day takes that day. Three rules hold for every one of them:

1. never in the future: nothing is recorded as having happened after the moment it is recorded
   (a few minutes of clock skew between a field device and the server are tolerated);
2. never before the fact it depends on: an outcome is not before the registration, an assignment not before
   the training ends; a date-only fact on the same day as its dependency happens just after it;
3. back-recording: a fact older than the window (14 days unless configured) is recorded only by a caller
   holding the role allowed to back-record, with a reason; both travel in the stored event's envelope.

A date-only fact is taken at the start of its day (UTC), or at its dependency's time when both fall on the
same day, and never later than now: a deadline counted from it (the 48 hours of a child's hand-over) is never
shortened by a time of day somebody made up.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from ddr_runtime.kernel.errors import BusinessTimeRefused

DEFAULT_WINDOW = timedelta(days=14)
CLOCK_SKEW = timedelta(minutes=5)
BACK_RECORDING_ROLE = "records_officer"
"""The role allowed to record facts older than the window (with a reason), besides the role acting."""


def start_of_day(on: date) -> datetime:
    return datetime.combine(on, time(0), tzinfo=UTC)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _show(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class BackRecording:
    """The authority to record facts older than the window: the role that grants it and the stated reason.

    The reason travels in clear in the event's envelope: it says why history is recorded late ("migrated
    from the CNDDR's 2019 registers"), never anything about a person.
    """

    role: str
    reason: str


@dataclass(frozen=True)
class Recording:
    """When a command is recorded, and what authority it carries to record the past."""

    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    window: timedelta = DEFAULT_WINDOW
    authority: BackRecording | None = None

    def moment(
        self,
        on: date | datetime | None,
        *,
        after: datetime | None = None,
        after_what: str = "the fact it depends on",
    ) -> datetime:
        """The business time of a fact said to have happened ``on`` (``None``: now), checked against the
        three rules; ``after`` is the business time of the fact it depends on, ``after_what`` names it."""
        now = _aware(self.now)
        dependency = _aware(after) if after is not None else None
        if on is None:
            moment = now
        elif isinstance(on, datetime):
            moment = _aware(on)
        else:
            moment = start_of_day(on)
            if dependency is not None and dependency.date() == on:
                moment = max(moment, dependency)
            moment = min(moment, now) if on == now.date() else moment
        if moment > now + CLOCK_SKEW:
            raise BusinessTimeRefused(
                "occurred-in-future",
                f"occurred at {_show(moment)}, after the time of recording ({_show(now)})",
                figures={"occurred_at": _show(moment), "recorded_at": _show(now)},
            )
        if dependency is not None and moment < dependency:
            raise BusinessTimeRefused(
                "occurred-before-dependency",
                f"occurred at {_show(moment)}, before {after_what} ({_show(dependency)})",
                figures={
                    "occurred_at": _show(moment),
                    "not_before": _show(dependency),
                    "depends_on": after_what,
                },
            )
        oldest = now - self.window
        if moment < oldest and self.authority is None:
            raise BusinessTimeRefused(
                "back-recording-not-authorised",
                f"occurred at {_show(moment)}, more than {self.window.days} days before it is recorded: "
                f"only the {BACK_RECORDING_ROLE} role may record it, with a reason (Back-Recording-Reason)",
                figures={
                    "occurred_at": _show(moment),
                    "window_days": self.window.days,
                    "oldest_without_authority": _show(oldest),
                },
            )
        return moment

    def day(
        self, on: date | None, *, after: date | None = None, after_what: str = "the fact it depends on"
    ) -> date:
        """A date-only business date, checked like :meth:`moment` (for facts that are days, not instants)."""
        return self.moment(
            on if on is not None else None,
            after=start_of_day(after) if after is not None else None,
            after_what=after_what,
        ).date()
