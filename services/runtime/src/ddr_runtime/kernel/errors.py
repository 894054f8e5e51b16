"""What a domain refuses. One set for every service; the HTTP layer maps each kind to a problem once.

Messages and figures reach HTTP answers and logs: they name rules, records and numbers, never personal data.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class DomainError(Exception):
    """A command the domain refuses. ``rule`` names the rule so a client can react to it; ``figures`` are
    the facts the refusal was decided on (counts, limits, dates), shown to the caller."""

    def __init__(self, rule: str, detail: str, *, figures: Mapping[str, Any] | None = None) -> None:
        super().__init__(detail)
        self.rule = rule
        self.detail = detail
        self.figures: dict[str, Any] = dict(figures or {})


class RuleViolated(DomainError):
    """A well-formed command that breaks a rule of the domain (422)."""


class LimitReached(RuleViolated):
    """A limit is reached: a quota, a camp's capacity, a budget line (409: it may pass later)."""


class AlreadyDone(DomainError):
    """The command conflicts with what already happened: a record that exists, a tranche already paid (409)."""


class UnknownRecord(DomainError):
    """The command names a record that does not exist, or that the caller may not know of (404)."""

    def __init__(self, kind: str, key: str) -> None:
        super().__init__(f"unknown-{kind.replace('_', '-')}", f"no {kind.replace('_', ' ')} {key}")
        self.kind = kind
        self.key = key


class OutsideRemit(DomainError):
    """The command reaches beyond the caller's remit (the regions its token names): a round of another region,
    a catalogue that applies to every region (403). One generic refusal, checked in the command's transaction
    before anything is decided, that names no record and says nothing of what exists outside the remit."""

    def __init__(self) -> None:
        super().__init__("outside-remit", "this reaches beyond the regions of your remit")


class BusinessTimeRefused(RuleViolated):
    """The business time given for a fact cannot be right: in the future, before the fact it depends on,
    or older than the back-recording window without the authority to record the past (422, with dates)."""
