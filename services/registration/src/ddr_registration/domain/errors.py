"""What the registration domain refuses. Messages never quote personal data: they reach HTTP answers."""

from __future__ import annotations


class DomainError(Exception):
    """A command the domain refuses; ``rule`` names the rule so that a client can react to it."""

    def __init__(self, rule: str, detail: str) -> None:
        super().__init__(detail)
        self.rule = rule
        self.detail = detail


class RuleViolated(DomainError):
    """A well-formed command that breaks a rule of the domain."""


class UnknownRecord(DomainError):
    """The command names a record (movement, list, person, case, weapon) that does not exist."""

    def __init__(self, kind: str, key: str) -> None:
        super().__init__(f"unknown-{kind}", f"no {kind} {key}")
        self.kind = kind


class AlreadyRegistered(DomainError):
    """The biometric reference presented is already registered to another record: one person, one DDR ID.

    Carries the existing registration and the certain duplicate case recorded for the CNDDR; an entry point
    names them only to a caller allowed to see that record."""

    def __init__(
        self, person_id: str, ddr_id: str, case_id: str, *, movement: str, category: str, region: str
    ) -> None:
        super().__init__("one-person-one-ddr-id", "this biometric reference is already registered")
        self.person_id, self.ddr_id, self.case_id = person_id, ddr_id, case_id
        self.movement, self.category, self.region = movement, category, region
