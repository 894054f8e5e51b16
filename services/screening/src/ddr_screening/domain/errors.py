"""What the screening domain refuses. Messages never quote personal data: they reach HTTP answers."""

from __future__ import annotations


class DomainError(Exception):
    """A command the domain refuses; ``rule`` names the rule so that a client can react to it."""

    def __init__(self, rule: str, detail: str) -> None:
        super().__init__(detail)
        self.rule = rule
        self.detail = detail


class RuleViolated(DomainError):
    """A well-formed command that breaks a rule of screening."""


class UnknownRecord(DomainError):
    """The command names a case, decision, appeal or rule set that does not exist."""

    def __init__(self, kind: str, key: str) -> None:
        super().__init__(f"unknown-{kind}", f"no {kind} {key}")
        self.kind = kind
