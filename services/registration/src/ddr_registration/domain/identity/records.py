"""What deduplication knows of a person (:class:`IdentityRecord`), what it answers (:class:`Match`), and the
prepared form both the scoring and the index work on (:class:`Features`: every spelling as canonical tokens)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from ddr_registration.domain.identity.names import PARTICLES
from ddr_registration.domain.identity.normalise import consonant_skeleton, fold, has_arabic, normalise_name
from ddr_registration.domain.identity.reasons import Reason

__all__ = ["Features", "IdentityRecord", "Match", "Spelling", "features_of", "place_key", "spelling_of"]


@dataclass(frozen=True)
class IdentityRecord:
    """What deduplication knows of one person: every known spelling of the name (Latin and Arabic), the birth
    year, the origin (region, cercle, commune) and, once enrolled, the biometric template's hash.

    ``birth_date`` (when the list gives the full date; its year must then be ``birth_year``) and ``sex`` are
    optional extras: lists are full of namesakes born the same year, and a full date agreeing, or a different
    sex, says more than any spelling. So are ``father_name``, ``mother_name`` ("fils de ... et de ...", as
    written, any script) and ``birth_place`` (commune or locality): two namesakes of one cercle and age
    seldom share both parents' names."""

    person_id: str
    names: tuple[str, ...]
    birth_year: int | None = None
    region: str | None = None
    cercle: str | None = None
    commune: str | None = None
    biometric_hash: str | None = None
    birth_date: date | None = None
    sex: str | None = None
    father_name: str | None = None
    mother_name: str | None = None
    birth_place: str | None = None

    def __post_init__(self) -> None:
        if self.birth_date is not None and self.birth_year != self.birth_date.year:
            raise ValueError("birth_year must be the year of birth_date")


@dataclass(frozen=True)
class Match:
    """A candidate duplicate of the record asked about: who, how alike (0..1), whether certain, and why."""

    person_id: str
    score: float
    certain: bool
    reasons: tuple[Reason, ...]


@dataclass(frozen=True)
class Spelling:
    arabic: bool
    tokens: tuple[str, ...]  # canonical content tokens (particles removed), sorted
    text: str  # " ".join(tokens)
    skeleton: str  # " ".join(sorted skeletons)


@dataclass(frozen=True)
class Features:
    record: IdentityRecord
    spellings: tuple[Spelling, ...]
    origin: tuple[str | None, str | None, str | None] = field(default=(None, None, None))
    father: Spelling | None = None
    mother: Spelling | None = None
    birth_place: str | None = None
    fathers_given: frozenset[str] = frozenset()  # the tokens after "Ag" / "Ould" / "Mint": the father's name
    tokens: frozenset[str] = frozenset()  # every canonical token of every spelling


def place_key(value: str | None) -> str | None:
    if value is None:
        return None
    folded = fold(value)
    return folded or None


def spelling_of(name: str) -> Spelling | None:
    content = tuple(sorted(t for t in normalise_name(name) if t not in PARTICLES))
    if not content:
        return None
    return Spelling(
        arabic=has_arabic(name),
        tokens=content,
        text=" ".join(content),
        skeleton=" ".join(sorted(consonant_skeleton(t) for t in content)),
    )


def features_of(record: IdentityRecord) -> Features:
    spellings: dict[tuple[bool, tuple[str, ...]], Spelling] = {}
    for name in record.names:
        spelling = spelling_of(name)
        if spelling is not None:
            spellings.setdefault((spelling.arabic, spelling.tokens), spelling)
    origin = (place_key(record.region), place_key(record.cercle), place_key(record.commune))
    fathers_given: set[str] = set()
    for name in record.names:
        tokens = normalise_name(name)
        fathers_given |= {
            tokens[i + 1] for i, token in enumerate(tokens[:-1]) if token in PARTICLES and tokens[i + 1]
        }
    return Features(
        record=record,
        spellings=tuple(spellings.values()),
        origin=origin,
        father=spelling_of(record.father_name) if record.father_name else None,
        mother=spelling_of(record.mother_name) if record.mother_name else None,
        birth_place=place_key(record.birth_place),
        fathers_given=frozenset(fathers_given - PARTICLES),
        tokens=frozenset(token for spelling in spellings.values() for token in spelling.tokens),
    )
