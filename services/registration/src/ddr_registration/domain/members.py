"""A member as a movement lists them: who they say the person is, before anyone has verified it.

Value objects only. A listed member is a claim made by a movement on a certified list; registration,
screening and deduplication decide later what is true. Women are listed, screened and supported as
individuals: nothing here ties a person to another one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Literal

BirthDateKind = Literal["exact", "year", "unknown"]


@dataclass(frozen=True, slots=True)
class BirthDate:
    """A birth date as far as it is known: a full date, a year alone, or nothing at all."""

    kind: BirthDateKind
    value: date | None = None
    year: int | None = None

    def __post_init__(self) -> None:
        if self.kind == "exact":
            if self.value is None or self.year != self.value.year:
                raise ValueError("an exact birth date needs its date, and its year must be the date's")
        elif self.kind == "year":
            if self.year is None or self.value is not None:
                raise ValueError("a year-only birth date has a year and no date")
        elif self.value is not None or self.year is not None:
            raise ValueError("an unknown birth date has neither a date nor a year")

    @classmethod
    def exact(cls, day: date) -> BirthDate:
        return cls(kind="exact", value=day, year=day.year)

    @classmethod
    def year_only(cls, year: int) -> BirthDate:
        return cls(kind="year", year=year)

    @classmethod
    def unknown(cls) -> BirthDate:
        return cls(kind="unknown")

    def age_on(self, day: date) -> int | None:
        """Age in whole years on ``day``; for a year alone, the youngest the person can be.

        Age assessment gives the benefit of the doubt (IDDRS 5.20): someone born "in 2001" is taken as born
        on 31 December 2001, so a possible minor is never counted as an adult.
        """
        if self.kind == "unknown":
            return None
        born = self.value if self.value is not None else date(self._known_year(), 12, 31)
        return day.year - born.year - ((day.month, day.day) < (born.month, born.day))

    def _known_year(self) -> int:
        if self.year is None:
            raise ValueError("no year is known")
        return self.year


class Sex(StrEnum):
    F = "F"
    M = "M"


class Category(StrEnum):
    COMBATANT = "combatant"
    ASSOCIATED_WOMAN = "associated_woman"
    CIVILIAN_CADRE = "civilian_cadre"
    FORMER_ARMED_FORCES = "former_armed_forces"
    CHILD = "child"


@dataclass(frozen=True, slots=True)
class WeaponHandedOver:
    """A weapon a movement lists against a member: kind (e.g. AK-47), calibre, serial, condition."""

    kind: str
    calibre: str | None = None
    serial: str | None = None
    condition: str | None = None

    def __post_init__(self) -> None:
        if not self.kind.strip():
            raise ValueError("a weapon needs its kind")


@dataclass(frozen=True, slots=True)
class ListedMember:
    """One row of a movement's certified list.

    ``movement_ref`` is the movement's own number for the person, unique only within that movement's list.
    ``full_name`` is as written by the movement (normally Latin script); ``full_name_arabic`` is the
    Arabic-script form when the list gives one. ``armed`` is the pre-registration's distinction (2018: 26,000
    armed of 74,000), which decides the track; ``weapons`` are those listed against the member.

    ``father_name``, ``mother_name`` ("fils de ... et de ...") and ``birth_place`` (commune or locality) are
    what registration forms in the Sahel record to tell namesakes apart; lists give them or not. They are
    names as written, identity details of this member, not links to another listed person.

    ``document_type`` and ``document_issued`` describe the identity document the movement recorded: a document
    issued a few days before registration is not relied on for age (IDDRS 5.20), so it is flagged at once.
    """

    movement_ref: str
    full_name: str
    full_name_arabic: str | None
    sex: Sex
    birth: BirthDate
    category: Category
    region: str
    cercle: str
    commune: str | None
    rank: str | None
    armed: bool
    weapons: tuple[WeaponHandedOver, ...] = ()
    father_name: str | None = None
    mother_name: str | None = None
    birth_place: str | None = None
    document_type: str | None = None
    document_issued: date | None = None

    def __post_init__(self) -> None:
        for field_name in ("movement_ref", "full_name", "region", "cercle"):
            if not getattr(self, field_name).strip():
                raise ValueError(f"{field_name} must not be empty")
        for field_name in ("father_name", "mother_name", "birth_place", "document_type"):
            value = getattr(self, field_name)
            if value is not None and not value.strip():
                raise ValueError(f"{field_name} must be None rather than blank")
        if self.weapons and not self.armed:
            raise ValueError("a member listed as unarmed cannot hand over a weapon")
        if self.category is Category.ASSOCIATED_WOMAN and self.sex is not Sex.F:
            raise ValueError("the associated_woman category is for women")


LIST_FIELDS: tuple[str, ...] = (
    "movement_ref",
    "full_name",
    "full_name_arabic",
    "sex",
    "birth_date",
    "category",
    "region",
    "cercle",
    "commune",
    "rank",
    "armed",
    "weapon_type",
    "weapon_calibre",
    "weapon_serial",
    "weapon_condition",
    "father_name",
    "mother_name",
    "birth_place",
    "document_type",
    "document_issued",
)
"""The fields of a list file, in the canonical column order."""
NAME_PARTS: tuple[str, ...] = ("family_name", "given_names")
"""Fields a list may give instead of ``full_name``: the full name is the given names, then the family name."""

SUSPECT_DOCUMENT_DAYS = 30
"""An identity document issued this close before the day it is relied on (or after it) is flagged."""


def document_days_before(issued: date | None, day: date) -> int | None:
    """How many days before ``day`` the document was issued, when that is recent enough to flag it (or it
    is later than ``day``); ``None`` for a document issued well before, or none at all."""
    if issued is None:
        return None
    days = (day - issued).days
    return days if days < SUSPECT_DOCUMENT_DAYS else None


@dataclass(frozen=True, slots=True)
class ParsedRow:
    """A line of a list file read as a member."""

    line: int
    member: ListedMember


@dataclass(frozen=True, slots=True)
class RowError:
    """One faulty cell of a list file (or a faulty row, column ``"row"``); a row with several faults has several.

    The reason quotes the offending value (the person fixing the file needs it): personal data, shown to the
    uploader, never logged."""

    line: int
    column: str
    reason: str
