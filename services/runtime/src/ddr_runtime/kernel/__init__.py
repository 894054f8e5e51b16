"""The event-sourcing kernel every service's domain is built on: standard library only, so domains may import it.

* :class:`Aggregate`: rebuilt from its events; a method checks a rule, then records an event;
* the refusals a domain raises (:class:`RuleViolated`, :class:`LimitReached`, :class:`AlreadyDone`,
  :class:`UnknownRecord`), which the HTTP layer maps once to problems;
* :class:`Recording`: when a command is recorded and what authority it carries to record the past, and the
  rules every business time obeys (never in the future, never before the fact it depends on, back-recording
  older than the window only with a role allowed to and a reason).

The rest of the kernel (repository, unit of work, translation of domain events to contract events) does I/O
and lives in ``ddr_runtime.eventstore``.
"""

from ddr_runtime.kernel.aggregate import Aggregate, Change
from ddr_runtime.kernel.errors import (
    AlreadyDone,
    BusinessTimeRefused,
    DomainError,
    LimitReached,
    OutsideRemit,
    RuleViolated,
    UnknownRecord,
)
from ddr_runtime.kernel.timeline import (
    BACK_RECORDING_ROLE,
    DEFAULT_WINDOW,
    BackRecording,
    Recording,
    start_of_day,
)

__all__ = [
    "BACK_RECORDING_ROLE",
    "DEFAULT_WINDOW",
    "Aggregate",
    "AlreadyDone",
    "BackRecording",
    "BusinessTimeRefused",
    "Change",
    "DomainError",
    "LimitReached",
    "OutsideRemit",
    "Recording",
    "RuleViolated",
    "UnknownRecord",
    "start_of_day",
]
