"""Values nested in the registration's events, and the closed sets of words they use.

Frozen dataclasses of the standard library, with the field names of their counterparts in the published
contract (``ddr_contracts.registration``), so the unit of work translates one into the other by name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

MovementKind = Literal["movement", "coalition"]
BirthKind = Literal["exact", "year", "unknown"]
EndorsingBody = Literal["CTS", "CNDDR"]
DuplicateOutcome = Literal["merged", "distinct"]
ItemKind = Literal["weapon", "ammunition"]
ErasureReason = Literal["data_subject_request", "legal_obligation", "retention_expired", "protection_risk"]
ListRowStatus = Literal["pre-registered", "already-listed", "rejected"]
SerialStatus = Literal["present", "absent", "filed_off", "illegible"]
AUTHORITY_REFERENCE = re.compile(r"[A-Z]{2,12}(?:[-/.][A-Z0-9]{1,12}){0,5}[-/.][0-9]{1,8}")
"""An erasure's decision by its reference in its authority's register (``CNDDR-2026-041``,
``TGI/BKO/2025/17``): the issuing body's acronym, segments, the last a number; never free text."""


@dataclass(frozen=True, kw_only=True)
class DeclaredWeapon:
    """A weapon a certified list says the member holds (declared, not yet handed over)."""

    type: str
    calibre: str | None = None
    serial: str | None = None
    condition: str | None = None


@dataclass(frozen=True, kw_only=True)
class DeclaredRow:
    """A row of a list, any movement's, that declared a weapon serial."""

    serial: str
    list_id: str
    movement: str
    list_version: int
    line: int


@dataclass(frozen=True, kw_only=True)
class RepeatedRow:
    """Where an earlier row that declared one of a row's serials for someone else is (never the serial)."""

    list_id: str
    movement: str
    list_version: int
    line: int


@dataclass(frozen=True, kw_only=True)
class ListRow:
    """One line of an imported list file and what became of it: the person it pre-registered, the person
    already listed under its reference, or, refused, the column at fault (one entry per fault).

    No value of the row is kept (the reference and serials are the person's, sealed in their
    pre-registration); ``repeats``: the earlier rows that declared one of its serials for someone else;
    ``flags`` name what to look at (``document-recent``: an identity document issued days before the list;
    ``serial-repeated``)."""

    line: int
    status: ListRowStatus
    person_id: str | None = None
    column: str | None = None
    repeats: tuple[RepeatedRow, ...] = ()
    flags: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class ColumnMapping:
    """How a movement lays its list out: each source column's field, and per field the values it writes for
    ours (``CBT`` for ``combatant``). Columns and values are matched without case, accents or punctuation."""

    columns: dict[str, str] = field(default_factory=dict)
    values: dict[str, dict[str, str]] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class DuplicateReason:
    """One piece of evidence for a suspected duplicate: a code and, for a similarity, its score (0..1); never
    a name, date or place of either record."""

    kind: str
    score: float | None = None
