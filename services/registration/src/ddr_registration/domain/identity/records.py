"""What deduplication knows of a person (:class:`IdentityRecord`), what it answers (:class:`Match`), and the
prepared form both the scoring and the index work on (:class:`Features`: every spelling as canonical tokens)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property, lru_cache

from ddr_registration.domain.identity.names import NAME_PREFIXES, PARTICLES
from ddr_registration.domain.identity.normalise import (
    consonant_skeleton,
    fold,
    has_arabic,
    normalise_name,
    parse_name,
)
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
    """One way a name is written, as canonical tokens; ``given`` and ``surname`` when the writing tells which
    is which (a filiation particle: *Mohamed Ag Intalla*, *AG INTALLA Mohamed*; or capitals)."""

    arabic: bool
    tokens: tuple[str, ...]  # canonical content tokens (particles removed), sorted
    text: str  # " ".join(tokens)
    skeleton: str  # " ".join(sorted skeletons)
    given: tuple[str, ...] = ()
    surname: tuple[str, ...] = ()  # the father's given name after Ag / Ould, or the family name
    patronymic: bool = False  # the surname is a father's name (it followed a particle)

    @property
    def roles(self) -> bool:
        return bool(self.given) and bool(self.surname)

    @cached_property
    def _hash(self) -> int:
        return hash(
            (self.arabic, self.tokens, self.text, self.skeleton, self.given, self.surname, self.patronymic)
        )

    def __hash__(self) -> int:
        # Spellings key the comparison caches, millions of look-ups in a large import: hashed once each.
        return self._hash


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


@lru_cache(maxsize=100_000)
def place_key(value: str | None) -> str | None:
    if value is None:
        return None
    folded = fold(value)
    return folded or None


@lru_cache(maxsize=200_000)
def spelling_of(name: str) -> Spelling | None:
    tokens, upper = parse_name(name)
    content = tuple(sorted(t for t in tokens if t not in PARTICLES))
    if not content:
        return None
    given, surname, patronymic = _roles(tokens, upper)
    return Spelling(
        arabic=has_arabic(name),
        tokens=content,
        text=" ".join(content),
        skeleton=" ".join(sorted(consonant_skeleton(t) for t in content)),
        given=given,
        surname=surname,
        patronymic=patronymic,
    )


def _roles(tokens: tuple[str, ...], upper: tuple[bool, ...]) -> tuple[tuple[str, ...], tuple[str, ...], bool]:
    """(given names, surname, whether the surname is a father's name), or empty when the writing is silent.

    A particle says it: what follows *Ag* / *Ould* / *Mint* is the father's name (*Mohamed Ag Intalla*), also
    when it comes first (*Ag Intalla Mohamed*, with the capitals or one word each side to tell where it ends).
    Without one, capitals in a mixed-case name mark the family name (*MAIGA Moussa*)."""
    particles = [i for i, token in enumerate(tokens) if token in PARTICLES]

    def content(part: Iterable[str]) -> tuple[str, ...]:
        return tuple(t for t in part if t not in PARTICLES)

    if particles:
        k = particles[0]
        if 0 < k < len(tokens) - 1:
            return content(tokens[:k]), content(tokens[k + 1 :]), True
        after, capitals = tokens[1:], upper[1:]
        if k == 0 and any(capitals) and not all(capitals):
            surname = content(t for t, capital in zip(after, capitals, strict=True) if capital)
            return (
                content(t for t, capital in zip(after, capitals, strict=True) if not capital),
                surname,
                True,
            )
        named = content(after)
        if k == 0 and len(named) == 2:
            father, given = named
            return (given,), (father,), True
        if k == 0 and len(named) == 3:  # a prefix binds to the next name: Ould Mohamed Sidi Ahmed
            if named[1] in NAME_PREFIXES:
                return named[1:], named[:1], True
            if named[0] in NAME_PREFIXES:
                return named[2:], named[:2], True
        return (), (), False
    if any(upper) and not all(upper):
        surname = tuple(t for t, capital in zip(tokens, upper, strict=True) if capital)
        return tuple(t for t, capital in zip(tokens, upper, strict=True) if not capital), surname, False
    return (), (), False


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
