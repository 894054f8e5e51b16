"""What the reinsertion domain refuses, each refusal named by the rule it keeps."""

from __future__ import annotations


class ReinsertionError(Exception):
    """A refusal the caller can act on; ``rule`` names it for clients and tests."""

    def __init__(self, rule: str, detail: str) -> None:
        super().__init__(detail)
        self.rule = rule
        self.detail = detail


class RuleViolated(ReinsertionError):
    """A well-formed request the rules refuse (422)."""


class AlreadyDone(ReinsertionError):
    """The request conflicts with what already happened, e.g. a tranche already paid (409)."""


class UnknownRecord(ReinsertionError):
    """No such round, package, budget line or beneficiary (404)."""

    def __init__(self, kind: str, key: str) -> None:
        super().__init__(f"unknown_{kind}", f"no {kind.replace('_', ' ')} {key!r}")
