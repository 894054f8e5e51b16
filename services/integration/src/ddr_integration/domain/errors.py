"""Refusals of the integration domain: the rule broken and the figures that broke it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class IntegrationError(Exception):
    """Base of the domain's refusals; messages name rules and figures, never personal data."""


class RuleViolated(IntegrationError):
    """A well-formed request the rules refuse. ``capacity``: a limit is reached (quota, cohort, unit),
    answered 409; otherwise 422. ``figures`` carry the numbers the decision was taken on."""

    def __init__(
        self, rule: str, message: str, figures: Mapping[str, Any] | None = None, *, capacity: bool = False
    ) -> None:
        super().__init__(message)
        self.rule = rule
        self.message = message
        self.figures = dict(figures or {})
        self.capacity = capacity


class UnknownRecord(IntegrationError):
    def __init__(self, kind: str, key: str) -> None:
        super().__init__(f"no {kind} {key}")
        self.kind = kind
        self.key = key


class AlreadyExists(IntegrationError):
    def __init__(self, kind: str, key: str) -> None:
        super().__init__(f"{kind} {key} already exists")
        self.kind = kind
        self.key = key
