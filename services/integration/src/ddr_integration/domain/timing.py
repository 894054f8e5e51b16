"""When a decision happened in business time: a command's date checked by the kernel's rules, or the time of
the other service's fact a policy reacts to.

Both answer :meth:`Clock.moment`, so an aggregate names the fact a decision depends on once, whoever decides:
an officer's date before that fact is refused (:class:`ddr_runtime.kernel.Recording`); a policy's decision is
placed at the upstream fact's time, or just after the fact it depends on here when that came later (topics
are not read in causal order across services).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Protocol


class Clock(Protocol):
    def moment(
        self,
        on: date | datetime | None,
        *,
        after: datetime | None = None,
        after_what: str = "the fact it depends on",
    ) -> datetime: ...


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Upstream:
    """The business time of a policy's decision: ``at``, the time of the fact it reacts to."""

    at: datetime

    def moment(
        self,
        on: date | datetime | None = None,
        *,
        after: datetime | None = None,
        after_what: str = "the fact it depends on",
    ) -> datetime:
        del on, after_what  # a policy decides at the upstream fact's time, never refused
        moment = _aware(self.at)
        return max(moment, _aware(after)) if after is not None else moment
