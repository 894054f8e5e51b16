"""A synthetic caseload: movements' lists as they arrive, with the truth about them kept aside.

For demos, load tests and training. Every row is drawn from its own random stream, seeded from the caseload's
seed and the row's index, so the lists stream (row 90,000 needs nothing of rows 0-89,999 but the few it
copies, which are drawn again on demand) and the same seed always gives the same rows.

What the lists hide, and the ground truth tells:
- injected duplicates: the same person on two movements' lists, or twice on one, written under another
  spelling (transliteration, dropped diacritics, swapped word order, Ag/Ould confusion, upper-cased family
  name), with the birth year kept or one year off, or the exact date cut to a year; the father's and
  mother's names ("fils de ... et de ...") and the place of birth are copied with their own spelling
  variants, each sometimes left blank on one list or the other, and now and then wrong;
- minors (14-17 on the registration date), with the date their identity documents were issued, a few days
  before registration (the report's suspect documents);
- weapon serials handed over twice: on purpose (another member presents a listed weapon again) and through
  duplicates carrying their weapon.

Two opt-in parts of the noise model, off by default (the demo's and the tests' rows stay as they were), on in
the deduplication benchmark's tuning set, which the matcher's weights are set on:
- ``field_noise``: a duplicate row as field lists also write it: the commune (or the cercle too) left blank
  on one side, the name in Arabic script alone, a spelling no name table lists (the French and English
  clerks' conventions: *ou* / *u*, *ch* / *sh*, *dj* / *j*, a doubled or single consonant, a vowel heard
  otherwise, a mute final *e*), the family name first and the given names after it;
- ``relatives_share``: rows that are a relative of a person listed just before them on the same list:
  brothers (the same father, mother, family name and commune, another given name, born years apart), twins
  (born the same day) and cousins (fathers who are brothers; often the same given name, after the
  grandfather). They are not duplicates; the ground truth names them (``relatives``).
"""

from __future__ import annotations

import functools
import itertools
import random
import unicodedata
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Final, Literal, TypeVar

from ddr_registration.domain.members import BirthDate, Category, ListedMember, Sex, WeaponHandedOver
from ddr_registration.simulate.names import (
    CONFUSED_LINK,
    FAMILY_NAMES,
    FATHERS,
    GIVEN_NAMES,
    GROUPS,
    PATRONYM_LINKS,
    ZIPF_EXPONENT,
    Ethnicity,
    NameGroup,
)
from ddr_registration.simulate.places import MOVEMENT_CODES, MOVEMENTS, REGIONS, Movement

T = TypeVar("T")
Variation = Literal[
    "transliteration",
    "diacritics_dropped",
    "word_order",
    "ag_ould",
    "family_name_upper_case",
    "birth_year_off_by_one",
    "exact_date_dropped",
    "parent_name_spelling",
    "commune_missing",
    "arabic_script_only",
    "spelling_unlisted",
    "birth_date_guessed",
]
Relation = Literal["brothers", "twins", "cousins"]
FIELD_VARIATIONS: Final[frozenset[Variation]] = frozenset(
    ("commune_missing", "arabic_script_only", "spelling_unlisted", "birth_date_guessed")
)
"""The variations only ``CaseloadProfile.field_noise`` adds."""

REGISTRATION_DAY: Final = date(2018, 11, 15)  # screenings of combatants began in November 2018
LARGEST_CASELOAD: Final = 10_000_000  # own serials are unique below this many rows

# kind, calibre, weight, serial prefixes
_WEAPONS: Final = (
    ("AK-47", "7.62x39mm", 0.42, ("KA", "AK", "MA")),
    ("AKM", "7.62x39mm", 0.15, ("AM", "KM")),
    ("Type 56", "7.62x39mm", 0.08, ("CN", "56")),
    ("PKM", "7.62x54mmR", 0.07, ("PK", "RP")),
    ("RPG-7", "40mm", 0.06, ("RG", "GP")),
    ("FN FAL", "7.62x51mm", 0.06, ("FN", "BE")),
    ("G3", "7.62x51mm", 0.06, ("G3", "HK")),
    ("SKS", "7.62x39mm", 0.05, ("SK", "SM")),
    ("MAS-36", "7.5x54mm", 0.03, ("MS", "FR")),
    ("DShK", "12.7x108mm", 0.02, ("DS", "DK")),
)
_CONDITIONS: Final = (("serviceable", 0.6), ("needs repair", 0.25), ("unserviceable", 0.15))
_RANKS: Final = (
    ("2e classe", 0.3),
    ("1re classe", 0.2),
    ("caporal", 0.15),
    ("sergent", 0.12),
    ("sergent-chef", 0.07),
    ("adjudant", 0.05),
    ("lieutenant", 0.05),
    ("capitaine", 0.03),
    ("commandant", 0.02),
    ("colonel", 0.01),
)
_CATEGORIES: Final[dict[str, tuple[tuple[Category, float], ...]]] = {
    "minor": ((Category.CHILD, 0.3), (Category.COMBATANT, 0.7)),
    "woman": ((Category.ASSOCIATED_WOMAN, 0.75), (Category.COMBATANT, 0.15), (Category.CIVILIAN_CADRE, 0.1)),
    "man": ((Category.COMBATANT, 0.8), (Category.FORMER_ARMED_FORCES, 0.08), (Category.CIVILIAN_CADRE, 0.12)),
}
# How much likelier than average a member of a category is to be armed.
_ARMED_WEIGHT: Final = {
    Category.COMBATANT: 1.25,
    Category.FORMER_ARMED_FORCES: 1.3,
    Category.CIVILIAN_CADRE: 0.25,
    Category.ASSOCIATED_WOMAN: 0.3,
    Category.CHILD: 0.8,
}
_ARABIC_SCRIPT_SHARE: Final[dict[Ethnicity, float]] = {
    "arab": 0.6,
    "tamasheq": 0.35,
    "songhai": 0.05,
    "fulfulde": 0.0,
    "bambara": 0.0,
    "dogon": 0.0,
}
_MINOR_GIRL_SHARE: Final = 0.06
_SAME_LIST_SHARE: Final = 0.4  # of duplicates: twice on one list rather than on two movements' lists
_WEAPON_DETAILS_SHARE: Final = 0.9  # armed members whose weapon the list describes
_SERIAL_LEGIBLE_SHARE: Final = 0.85
# How often a row gives the father's name, the mother's name and the place of birth (each row on its own:
# one movement's form asks for them, another's does not).
_FATHER_LISTED_SHARE: Final = 0.85
_MOTHER_LISTED_SHARE: Final = 0.75
_BIRTH_PLACE_LISTED_SHARE: Final = 0.8
_PARENT_ERROR_SHARE: Final = 0.02  # a duplicate row giving another parent's given name (a slip, a stepmother)
# Field noise (``CaseloadProfile.field_noise``), per duplicate row.
_COMMUNE_BLANK_SHARE: Final = 0.25  # the commune left blank on the duplicate's list (a list gives the cercle)
_AGE_GUESSED_SHARE: Final = 0.15  # an adult's age guessed again: the year kept or one off, the day unknown
_ARABIC_ONLY_SHARE: Final = 0.12  # of people with an Arabic-script name: the duplicate's list gives it alone
_UNLISTED_SPELLING_SHARE: Final = 0.35  # one name written as no table lists it
# Relatives (``CaseloadProfile.relatives_share``): the relation, and how far back on the list the relative
# stands (families come to a movement's list together).
_RELATIONS: Final[tuple[tuple[Relation, float], ...]] = (
    ("brothers", 0.55),
    ("cousins", 0.35),
    ("twins", 0.1),
)
_RELATIVE_WINDOW: Final = 40
_COUSIN_SAME_GIVEN_SHARE: Final = 0.4  # cousins named after their grandfather


@dataclass(frozen=True, slots=True)
class DuplicatePair:
    original_ref: str
    duplicate_ref: str
    same_list: bool
    variations: tuple[Variation, ...]


@dataclass(frozen=True, slots=True)
class RelativePair:
    """Two rows of one list that are relatives, not one person: ``earlier_ref`` stands before ``later_ref``."""

    earlier_ref: str
    later_ref: str
    relation: Relation


@dataclass(frozen=True, slots=True)
class ListedChild:
    movement_ref: str
    born_on: date
    document_issued_on: date


@dataclass(frozen=True, slots=True)
class GroundTruth:
    duplicates: tuple[DuplicatePair, ...]
    children: tuple[ListedChild, ...]
    shared_serials: dict[str, tuple[str, ...]]  # serial -> the refs handing it over, in list order
    relatives: tuple[RelativePair, ...] = ()

    def to_json(self) -> dict[str, object]:
        return {
            "relatives": [
                {"earlier_ref": pair.earlier_ref, "later_ref": pair.later_ref, "relation": pair.relation}
                for pair in self.relatives
            ],
            "duplicates": [
                {
                    "original_ref": pair.original_ref,
                    "duplicate_ref": pair.duplicate_ref,
                    "same_list": pair.same_list,
                    "variations": list(pair.variations),
                }
                for pair in self.duplicates
            ],
            "children": [
                {
                    "movement_ref": child.movement_ref,
                    "born_on": child.born_on.isoformat(),
                    "document_issued_on": child.document_issued_on.isoformat(),
                }
                for child in self.children
            ],
            "shared_serials": {serial: list(refs) for serial, refs in self.shared_serials.items()},
        }


@dataclass(frozen=True, slots=True)
class CaseloadProfile:
    """What a caseload looks like; shares are of all rows, duplicates included."""

    size: int
    seed: int
    duplicate_share: float = 0.03
    women_share: float = 0.12
    minor_share: float = 0.02
    armed_share: float = 0.26
    year_only_share: float = 0.3
    unknown_birth_share: float = 0.08
    serial_reuse_share: float = 0.004  # of armed members' serials
    registration_day: date = REGISTRATION_DAY
    movements: tuple[str, ...] = MOVEMENT_CODES
    field_noise: bool = (
        False  # duplicates also lose a commune, come in Arabic script alone, unlisted spellings
    )
    relatives_share: float = 0.0  # rows that are a brother, twin or cousin of someone just before on the list

    def __post_init__(self) -> None:
        if not 0 <= self.size <= LARGEST_CASELOAD:
            raise ValueError(f"size must be between 0 and {LARGEST_CASELOAD}")
        for name in (
            "duplicate_share",
            "women_share",
            "minor_share",
            "armed_share",
            "serial_reuse_share",
            "relatives_share",
        ):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1")
        if self.women_share + self.minor_share > 1.0:
            raise ValueError("women_share and minor_share cannot add up to more than 1")
        if self.year_only_share + self.unknown_birth_share > 1.0:
            raise ValueError("year_only_share and unknown_birth_share cannot add up to more than 1")
        unknown = sorted(set(self.movements) - set(MOVEMENT_CODES))
        if unknown or not self.movements:
            raise ValueError(f"movements must be among {', '.join(MOVEMENT_CODES)}; unknown: {unknown}")


@dataclass(frozen=True, slots=True)
class CaseloadRow:
    movement: str
    member: ListedMember


def generate_caseload(
    size: int,
    seed: int,
    duplicate_share: float = 0.03,
    *,
    women_share: float = 0.12,
    minor_share: float = 0.02,
    armed_share: float = 0.26,
    movements: Sequence[str] | None = None,
    registration_day: date = REGISTRATION_DAY,
    at_least: Mapping[Category, int] | None = None,
    field_noise: bool = False,
    relatives_share: float = 0.0,
) -> Caseload:
    """A caseload of ``size`` rows over ``movements`` (default: all eight), reproducible from ``seed``.

    ``at_least``: the caseload is made as much longer than ``size`` as it takes to list at least so many
    members of each category (a scenario asks for the children and combatants it needs). Each row is drawn
    from the seed and its own index, so the first rows are the same whatever the size; the categories' shares
    decide how far that goes, and a count the shares can never reach within the largest caseload is refused.
    ``field_noise`` and ``relatives_share``: the opt-in parts of the noise model (see the module).
    """
    profile = CaseloadProfile(
        size=size,
        seed=seed,
        duplicate_share=duplicate_share,
        women_share=women_share,
        minor_share=minor_share,
        armed_share=armed_share,
        registration_day=registration_day,
        movements=tuple(movements) if movements is not None else MOVEMENT_CODES,
        field_noise=field_noise,
        relatives_share=relatives_share,
    )
    if at_least:
        profile = replace(profile, size=Caseload(profile).size_listing(at_least))
    return Caseload(profile)


@dataclass(frozen=True, slots=True)
class _Name:
    given: tuple[tuple[NameGroup, int], ...]  # (group, spelling index)
    link: tuple[NameGroup, int] | None  # Ag / Welt / Ould / Mint
    family: tuple[NameGroup, int]  # father's name after a link, else family name
    family_first: bool = False
    family_upper: bool = False
    ascii_only: bool = False
    given_only: bool = False  # a parent named by the given name alone ("fils de Intalla")

    def latin(self) -> str:
        given = " ".join(group.spellings[index] for group, index in self.given)
        if self.given_only:
            return _strip_diacritics(given) if self.ascii_only else given
        family = " ".join(group.spellings[index] for group, index in (*_optional(self.link), self.family))
        if self.family_upper:
            family = family.upper()
        text = f"{family} {given}" if self.family_first else f"{given} {family}"
        return _strip_diacritics(text) if self.ascii_only else text

    def arabic(self) -> str | None:
        words = [group.arabic for group, _ in (*self.given, *_optional(self.link), self.family)]
        if any(word is None for word in words):
            return None
        return " ".join(word for word in words if word is not None)


@dataclass(frozen=True, slots=True)
class _Weapon:
    kind: str
    calibre: str
    condition: str
    serial: str | None


@dataclass(frozen=True, slots=True)
class _Person:
    """Who someone is, drawn once per original row; a duplicate row draws its original's person again."""

    movement: Movement
    ethnicity: Ethnicity
    sex: Sex
    name: _Name
    arabic_listed: bool
    born_on: date
    birth_listed: Literal["exact", "year", "unknown"]
    minor: bool
    document_issued_on: date | None
    category: Category
    region: str
    cercle: str
    commune: str | None
    rank: str | None
    armed: bool
    weapon: _Weapon | None
    father: _Name
    mother: _Name
    birth_place: str
    father_listed: bool
    mother_listed: bool
    birth_place_listed: bool
    relation: Relation | None = None  # to the earlier row this person is a relative of

    def birth(self) -> BirthDate:
        if self.birth_listed == "exact":
            return BirthDate.exact(self.born_on)
        if self.birth_listed == "year":
            return BirthDate.year_only(self.born_on.year)
        return BirthDate.unknown()


@dataclass(slots=True)
class _Row:
    movement: str
    member: ListedMember
    duplicate: DuplicatePair | None = None
    child: ListedChild | None = None
    serial_copied_from: str | None = None  # ref of the earlier row whose weapon serial this row repeats
    relative: RelativePair | None = None


@dataclass(slots=True)
class _TruthCollector:
    duplicates: list[DuplicatePair] = field(default_factory=list)
    relatives: list[RelativePair] = field(default_factory=list)
    children: list[ListedChild] = field(default_factory=list)
    serials: dict[str, list[str]] = field(default_factory=dict)

    def add(self, row: _Row) -> None:
        if row.duplicate is not None:
            self.duplicates.append(row.duplicate)
        if row.child is not None:
            self.children.append(row.child)
        if row.relative is not None:
            self.relatives.append(row.relative)
        serial = row.member.weapons[0].serial if row.member.weapons else None
        if row.serial_copied_from is not None and serial is not None:
            refs = self.serials.setdefault(serial, [])
            for ref in (row.serial_copied_from, row.member.movement_ref):
                if ref not in refs:
                    refs.append(ref)

    def truth(self) -> GroundTruth:
        return GroundTruth(
            duplicates=tuple(self.duplicates),
            children=tuple(self.children),
            shared_serials={serial: tuple(refs) for serial, refs in self.serials.items()},
            relatives=tuple(self.relatives),
        )


class Caseload:
    """The rows of a synthetic caseload, streamed, and the ground truth about them."""

    def __init__(self, profile: CaseloadProfile) -> None:
        self.profile = profile
        self._movements = tuple(movement for movement in MOVEMENTS if movement.code in profile.movements)
        self._armed_chance = _armed_chance(profile)
        self._truth: GroundTruth | None = None

    def members(self) -> Iterator[ListedMember]:
        return (row.member for row in self.rows())

    def rows(self) -> Iterator[CaseloadRow]:
        """Each member with the code of the movement whose list holds it, in list order.

        The ground truth is gathered on the way (it is small: a few percent of the rows) and kept once the
        last row is read, so ``truth()`` after a full pass costs nothing.
        """
        collector = _TruthCollector()
        yield from self._rows(collector)
        self._truth = collector.truth()

    def truth(self) -> GroundTruth:
        """Duplicates, children and shared serials; drawn in a pass of its own unless rows were all read."""
        if self._truth is None:
            collector = _TruthCollector()
            for _ in self._rows(collector):
                pass
            self._truth = collector.truth()
        return self._truth

    def size_listing(self, at_least: Mapping[Category, int]) -> int:
        """The smallest size, not below the profile's, whose rows list ``at_least`` members of each category."""
        wanted = {category: count for category, count in at_least.items() if count > 0}
        never = sorted(c.value for c in wanted if _category_share(self.profile, c) == 0.0)
        if never:
            raise ValueError(f"the profile's shares never list enough members: no {', '.join(never)} at all")
        found: Counter[Category] = Counter()
        index = 0
        while index < self.profile.size or any(found[c] < n for c, n in wanted.items()):
            if index >= LARGEST_CASELOAD:
                short = {c.value: n - found[c] for c, n in wanted.items() if found[c] < n}
                raise ValueError(f"the profile's shares never list enough members: missing {short}")
            found[self._row(index).member.category] += 1
            index += 1
        return index

    def _rows(self, collector: _TruthCollector) -> Iterator[CaseloadRow]:
        for index in range(self.profile.size):
            row = self._row(index)
            collector.add(row)
            yield CaseloadRow(row.movement, row.member)

    # --- one row ------------------------------------------------------------------------------------

    def _rng(self, stream: str, index: int) -> random.Random:
        return random.Random(f"{self.profile.seed}:{stream}:{index}")  # noqa: S311 - synthetic data, not secrets

    def _row(self, index: int) -> _Row:
        origin = self._duplicate_origin(index)
        if origin is None:
            return self._original_row(index)
        return self._duplicate_row(index, origin)

    def _original_row(self, index: int) -> _Row:
        person = self._person(index)
        ref = _ref(person.movement.code, index)
        weapon, copied_from = self._original_weapon(index, person)
        member = self._member(
            person,
            ref,
            person.name,
            person.birth(),
            weapon,
            person.rank,
            parents=(
                person.father if person.father_listed else None,
                person.mother if person.mother_listed else None,
            ),
            birth_place=person.birth_place if person.birth_place_listed else None,
        )
        kin = self._relative_of(index)
        relative = None
        if kin is not None and person.relation is not None:
            relative = RelativePair(_ref(person.movement.code, kin), ref, person.relation)
        return _Row(
            movement=person.movement.code,
            member=member,
            child=self._child(person, ref),
            serial_copied_from=copied_from,
            relative=relative,
        )

    def _duplicate_row(self, index: int, origin: int) -> _Row:
        person = self._person(origin)
        origin_ref = _ref(person.movement.code, origin)
        rng = self._rng("duplicate", index)
        others = [movement for movement in self._movements if movement is not person.movement]
        same_list = not others or rng.random() < _SAME_LIST_SHARE
        movement = person.movement if same_list else self._other_movement(rng, person.movement, others)
        ref = _ref(movement.code, index)
        name, name_variations = _vary_name(rng, person)
        birth, birth_variations = _vary_birth(rng, person)
        origin_weapon, _ = self._original_weapon(origin, person)
        weapon = (
            origin_weapon
            if origin_weapon is None or rng.random() < 0.5
            else replace(origin_weapon, serial=None)
        )
        rank = person.rank if rng.random() < 0.5 else None
        arabic = rng.random() < 0.5
        father, mother, parent_variations = _vary_parents(
            rng, person, "diacritics_dropped" in name_variations
        )
        birth_place = _vary_birth_place(rng, person)
        member = self._member(
            person,
            ref,
            name,
            birth,
            weapon,
            rank,
            arabic=arabic,
            parents=(father, mother),
            birth_place=birth_place,
        )
        variations: tuple[Variation, ...] = (*name_variations, *birth_variations, *parent_variations)
        if self.profile.field_noise:
            member, field_variations = _field_noise(self._rng("field-noise", index), member, name, person)
            if "birth_date_guessed" in field_variations:  # the guess replaces the birth as varied above
                variations = (*name_variations, *parent_variations)
            variations = (*variations, *field_variations)
        return _Row(
            movement=movement.code,
            member=member,
            duplicate=DuplicatePair(origin_ref, ref, same_list, variations),
            child=self._child(person, ref),
            serial_copied_from=origin_ref if weapon is not None and weapon.serial is not None else None,
        )

    def _member(
        self,
        person: _Person,
        ref: str,
        name: _Name,
        birth: BirthDate,
        weapon: _Weapon | None,
        rank: str | None,
        *,
        arabic: bool = True,
        parents: tuple[_Name | None, _Name | None] = (None, None),
        birth_place: str | None = None,
    ) -> ListedMember:
        father, mother = parents
        return ListedMember(
            movement_ref=ref,
            full_name=name.latin(),
            full_name_arabic=name.arabic() if person.arabic_listed and arabic else None,
            sex=person.sex,
            birth=birth,
            category=person.category,
            region=person.region,
            cercle=person.cercle,
            commune=person.commune,
            rank=rank,
            armed=person.armed,
            weapons=(WeaponHandedOver(weapon.kind, weapon.calibre, weapon.serial, weapon.condition),)
            if weapon is not None
            else (),
            father_name=father.latin() if father is not None else None,
            mother_name=mother.latin() if mother is not None else None,
            birth_place=birth_place,
        )

    def _child(self, person: _Person, ref: str) -> ListedChild | None:
        if not person.minor or person.document_issued_on is None:
            return None
        return ListedChild(ref, person.born_on, person.document_issued_on)

    def _other_movement(self, rng: random.Random, own: Movement, others: list[Movement]) -> Movement:
        allies = [movement for movement in others if movement.coalition == own.coalition]
        return rng.choice(allies if allies and rng.random() < 0.5 else others)

    # --- what a row repeats of an earlier one -------------------------------------------------------

    def _is_relative(self, index: int) -> bool:
        share = self.profile.relatives_share
        return share > 0.0 and index > 0 and self._rng("is-relative", index).random() < share

    def _relative_of(self, index: int) -> int | None:
        """The earlier original row (not itself a relative) this row's person is a relative of, if any."""
        if not self._is_relative(index) or self._is_duplicate(index):
            return None
        rng = self._rng("relative-of", index)
        for _ in range(16):
            candidate = rng.randrange(max(0, index - _RELATIVE_WINDOW), index)
            if not self._is_duplicate(candidate) and not self._is_relative(candidate):
                return candidate
        return None

    def _is_duplicate(self, index: int) -> bool:
        return index > 0 and self._rng("is-duplicate", index).random() < self.profile.duplicate_share

    def _duplicate_origin(self, index: int) -> int | None:
        """The earlier original row this row repeats, if it is an injected duplicate."""
        if not self._is_duplicate(index):
            return None
        rng = self._rng("origin", index)
        for _ in range(32):
            candidate = rng.randrange(index)
            if not self._is_duplicate(candidate):
                return candidate
        return None

    def _reuses_serial(self, index: int, person: _Person) -> bool:
        if person.weapon is None or person.weapon.serial is None:
            return False
        return self._rng("reuse", index).random() < self.profile.serial_reuse_share

    def _original_weapon(self, index: int, person: _Person) -> tuple[_Weapon | None, str | None]:
        """An original row's weapon, with the ref of the row whose serial it hands over again, if any."""
        weapon = person.weapon
        if weapon is None or index == 0 or not self._reuses_serial(index, person):
            return weapon, None
        rng = self._rng("reused-from", index)
        for _ in range(64):
            candidate = rng.randrange(index)
            if self._is_duplicate(candidate):
                continue
            earlier = self._person(candidate)
            if (
                earlier.weapon is None
                or earlier.weapon.serial is None
                or self._reuses_serial(candidate, earlier)
            ):
                continue
            same_weapon = replace(earlier.weapon, condition=weapon.condition)
            return same_weapon, _ref(earlier.movement.code, candidate)
        return weapon, None

    # --- a person -----------------------------------------------------------------------------------

    def _person(self, index: int) -> _Person:
        person = self._own_person(index)
        kin = self._relative_of(index)
        if kin is None:
            return person
        return _relative(self._rng("relative", index), self._own_person(kin), person, self.profile)

    def _own_person(self, index: int) -> _Person:
        rng = self._rng("person", index)
        profile = self.profile
        movement = _weighted(rng, tuple((movement, movement.weight) for movement in self._movements))
        ethnicity = _weighted(rng, movement.ethnicities)
        draw = rng.random()
        minor = draw < profile.minor_share
        woman = not minor and draw < profile.minor_share + profile.women_share
        sex = Sex.F if woman or (minor and rng.random() < _MINOR_GIRL_SHARE) else Sex.M
        category = _weighted(rng, _CATEGORIES["minor" if minor else "woman" if woman else "man"])
        born_on = _birth_day(rng, profile.registration_day, minor)
        birth_draw = rng.random()
        birth_listed: Literal["exact", "year", "unknown"] = "exact"
        if minor:
            birth_listed = "year" if birth_draw < 0.15 else "exact"
        elif birth_draw < profile.unknown_birth_share:
            birth_listed = "unknown"
        elif birth_draw < profile.unknown_birth_share + profile.year_only_share:
            birth_listed = "year"
        region = _weighted(rng, movement.regions)
        cercle = rng.choice(sorted(REGIONS[region]))
        communes = REGIONS[region][cercle]
        armed = rng.random() < self._armed_chance[category]
        name = _draw_name(rng, ethnicity, sex)
        arabic_listed = rng.random() < _ARABIC_SCRIPT_SHARE[ethnicity] and name.arabic() is not None
        commune = rng.choice(communes) if communes and rng.random() < 0.6 else None
        rank = _rank(rng, category)
        weapon = self._weapon(rng, index) if armed and rng.random() < _WEAPON_DETAILS_SHARE else None
        father, mother = _draw_parents(rng, ethnicity, name)
        return _Person(
            movement=movement,
            ethnicity=ethnicity,
            sex=sex,
            name=name,
            arabic_listed=arabic_listed,
            born_on=born_on,
            birth_listed=birth_listed,
            minor=minor,
            document_issued_on=profile.registration_day - timedelta(days=rng.randint(1, 7))
            if minor
            else None,
            category=category,
            region=region,
            cercle=cercle,
            commune=commune,
            rank=rank,
            armed=armed,
            weapon=weapon,
            father=father,
            mother=mother,
            birth_place=_birth_place(rng, region, cercle),
            father_listed=rng.random() < _FATHER_LISTED_SHARE,
            mother_listed=rng.random() < _MOTHER_LISTED_SHARE,
            birth_place_listed=rng.random() < _BIRTH_PLACE_LISTED_SHARE,
        )

    def _weapon(self, rng: random.Random, index: int) -> _Weapon:
        kind, calibre, _, prefixes = _weighted(rng, tuple((weapon, weapon[2]) for weapon in _WEAPONS))
        condition = _weighted(rng, _CONDITIONS)
        serial = None
        if rng.random() < _SERIAL_LEGIBLE_SHARE:
            # A bijection of the row index: no two rows draw the same serial of their own.
            number = (index * 7919 + self.profile.seed * 104_729) % LARGEST_CASELOAD
            serial = f"{rng.choice(prefixes)}{number:07d}"
        return _Weapon(kind, calibre, condition, serial)


# --- drawing helpers -----------------------------------------------------------------------------------


def _ref(movement: str, index: int) -> str:
    return f"{movement}-{index + 1:06d}"


def _weighted(rng: random.Random, choices: tuple[tuple[T, float], ...]) -> T:
    values = [value for value, _ in choices]
    return rng.choices(values, weights=[weight for _, weight in choices])[0]


def _optional(item: T | None) -> tuple[T, ...]:
    return () if item is None else (item,)


def _strip_diacritics(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return unicodedata.normalize(
        "NFC", "".join(char for char in decomposed if not unicodedata.combining(char))
    )


def _category_share(profile: CaseloadProfile, category: Category) -> float:
    """The share of rows of ``category`` that the profile draws."""
    men = 1.0 - profile.minor_share - profile.women_share
    kinds = (("minor", profile.minor_share), ("woman", profile.women_share), ("man", men))
    return sum(
        share * weight for kind, share in kinds for drawn, weight in _CATEGORIES[kind] if drawn is category
    )


def _armed_chance(profile: CaseloadProfile) -> dict[Category, float]:
    """Chance of being armed per category, so that the caseload's armed share is the profile's."""
    men = 1.0 - profile.minor_share - profile.women_share
    mix: dict[Category, float] = dict.fromkeys(Category, 0.0)
    for kind, share in (("minor", profile.minor_share), ("woman", profile.women_share), ("man", men)):
        for category, weight in _CATEGORIES[kind]:
            mix[category] += share * weight
    mean = sum(mix[category] * _ARMED_WEIGHT[category] for category in Category)
    chance = {category: profile.armed_share * _ARMED_WEIGHT[category] / mean for category in Category}
    if max(chance.values()) > 1.0:  # a share too high for the weighting: arm every category alike
        return dict.fromkeys(Category, profile.armed_share)
    return chance


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _birth_day(rng: random.Random, registration_day: date, minor: bool) -> date:
    age = rng.randint(14, 17) if minor else 18 + int(rng.triangular(0, 42, 7))
    earliest = _years_before(registration_day, age + 1) + timedelta(days=1)
    latest = _years_before(registration_day, age)
    return earliest + timedelta(days=rng.randrange((latest - earliest).days + 1))


def _rank(rng: random.Random, category: Category) -> str | None:
    if category in (Category.COMBATANT, Category.FORMER_ARMED_FORCES) and rng.random() < 0.7:
        return _weighted(rng, _RANKS)
    return None


def _spelling(rng: random.Random, group: NameGroup) -> tuple[NameGroup, int]:
    # The commonest spelling most of the time.
    index = 0 if rng.random() < 0.7 else rng.randrange(len(group.spellings))
    return group, index


@functools.lru_cache(maxsize=64)
def _zipf_cumulative(count: int) -> tuple[float, ...]:
    return tuple(itertools.accumulate(1.0 / (rank + 1) ** ZIPF_EXPONENT for rank in range(count)))


def _zipf(rng: random.Random, pool: tuple[T, ...]) -> T:
    """One of ``pool`` (most common first), the name of rank r weighted 1 / (r + 1) ** ZIPF_EXPONENT."""
    return rng.choices(pool, cum_weights=_zipf_cumulative(len(pool)))[0]


def _draw_name(rng: random.Random, ethnicity: Ethnicity, sex: Sex) -> _Name:
    given = tuple(_spelling(rng, GROUPS[key]) for key in _zipf(rng, GIVEN_NAMES[ethnicity, sex.value]))
    if ethnicity in FATHERS:
        link = PATRONYM_LINKS[ethnicity, sex.value]
        return _Name(given, (link, 0), _spelling(rng, GROUPS[_zipf(rng, FATHERS[ethnicity])]))
    return _Name(given, None, _spelling(rng, GROUPS[_zipf(rng, FAMILY_NAMES[ethnicity])]))


def _draw_parents(rng: random.Random, ethnicity: Ethnicity, name: _Name) -> tuple[_Name, _Name]:
    """The father's and mother's names, as a registration form asks ("fils de ... et de ...").

    A Tamasheq or Arab father bears the given name his child carries after Ag / Ould, followed by his own
    father's; elsewhere the father has the child's family name. A mother keeps her own name (her father's
    after Welt / Mint, or her own family name)."""
    mothers = GIVEN_NAMES[ethnicity, "F"]
    mother_given = tuple(_spelling(rng, GROUPS[key]) for key in _zipf(rng, mothers))
    if ethnicity in FATHERS:
        fathers_name = name.family[0]
        father = _Name(
            (_spelling(rng, fathers_name),),
            (PATRONYM_LINKS[ethnicity, "M"], 0),
            _spelling(rng, GROUPS[_zipf(rng, FATHERS[ethnicity])]),
        )
        mother = _Name(
            mother_given,
            (PATRONYM_LINKS[ethnicity, "F"], 0),
            _spelling(rng, GROUPS[_zipf(rng, FATHERS[ethnicity])]),
        )
        return father, mother
    fathers = GIVEN_NAMES[ethnicity, "M"]
    father_given = tuple(_spelling(rng, GROUPS[key]) for key in _zipf(rng, fathers))
    father = _Name(father_given, None, _spelling(rng, name.family[0]))
    mother = _Name(mother_given, None, _spelling(rng, GROUPS[_zipf(rng, FAMILY_NAMES[ethnicity])]))
    return father, mother


def _birth_place(rng: random.Random, region: str, cercle: str) -> str:
    """Where the person was born: mostly a commune of their own cercle, else of their region, else anywhere."""
    draw = rng.random()
    if draw < 0.1:
        region = rng.choice(sorted(REGIONS))
    if draw < 0.35:
        cercle = rng.choice(sorted(REGIONS[region]))
    places = REGIONS[region][cercle] or (cercle,)
    return rng.choice(places)


def _vary_parent(rng: random.Random, parent: _Name, ascii_only: bool) -> _Name:
    """The same parent's name as another clerk writes it."""
    varied = parent
    if rng.random() < 0.35:
        varied = _apply(rng, varied, "transliteration", None)
    if ascii_only or rng.random() < 0.15:
        varied = replace(varied, ascii_only=True)
    if rng.random() < 0.1:
        varied = replace(varied, family_first=not varied.family_first, family_upper=True)
    if rng.random() < 0.1:
        varied = replace(varied, given_only=True)
    return varied


def _vary_parents(
    rng: random.Random, person: _Person, ascii_only: bool
) -> tuple[_Name | None, _Name | None, tuple[Variation, ...]]:
    """A duplicate row's father's and mother's names: each given or not on this row, spelt its own way."""
    father = _vary_parent(rng, person.father, ascii_only) if rng.random() < _FATHER_LISTED_SHARE else None
    mother = _vary_parent(rng, person.mother, ascii_only) if rng.random() < _MOTHER_LISTED_SHARE else None
    if mother is not None and rng.random() < _PARENT_ERROR_SHARE:
        others = [key for key in GIVEN_NAMES[person.ethnicity, "F"] if key != _keys(person.mother.given)]
        mother = replace(mother, given=tuple((GROUPS[key], 0) for key in rng.choice(others)))
    originals = (
        person.father.latin() if person.father_listed else None,
        person.mother.latin() if person.mother_listed else None,
    )
    spelt_otherwise = any(
        parent is not None and original is not None and parent.latin() != original
        for parent, original in zip((father, mother), originals, strict=True)
    )
    return father, mother, ("parent_name_spelling",) if spelt_otherwise else ()


def _keys(given: tuple[tuple[NameGroup, int], ...]) -> tuple[str, ...]:
    by_group = {id(group): key for key, group in GROUPS.items()}
    return tuple(by_group[id(group)] for group, _ in given)


def _vary_birth_place(rng: random.Random, person: _Person) -> str | None:
    if rng.random() >= _BIRTH_PLACE_LISTED_SHARE:
        return None
    place = person.birth_place
    draw = rng.random()
    if draw < 0.25:
        return _strip_diacritics(place)
    if draw < 0.3:
        return place.upper()
    return place


def _vary_name(rng: random.Random, person: _Person) -> tuple[_Name, tuple[Variation, ...]]:
    name = person.name
    options: list[Variation] = ["transliteration", "word_order", "family_name_upper_case"]
    if _strip_diacritics(name.latin()) != name.latin():
        options.append("diacritics_dropped")
    if name.link is not None:
        options.append("ag_ould")
    chosen = sorted(rng.sample(options, 2 if rng.random() < 0.35 else 1))
    for variation in chosen:
        name = _apply(rng, name, variation, person)
    return name, tuple(chosen)


def _apply(rng: random.Random, name: _Name, variation: Variation, person: _Person | None) -> _Name:
    if variation == "transliteration":
        tokens = [*name.given, name.family]
        position = rng.choice([i for i, (group, _) in enumerate(tokens) if len(group.spellings) > 1])
        group, index = tokens[position]
        other = rng.choice([i for i in range(len(group.spellings)) if i != index])
        tokens[position] = (group, other)
        return replace(name, given=tuple(tokens[:-1]), family=tokens[-1])
    if variation == "word_order":
        return replace(name, family_first=not name.family_first)
    if variation == "family_name_upper_case":
        return replace(name, family_upper=True)
    if variation == "diacritics_dropped":
        return replace(name, ascii_only=True)
    if person is None:
        raise ValueError(f"{variation} needs the person")
    confused = PATRONYM_LINKS[CONFUSED_LINK[person.ethnicity, person.sex.value]]
    return replace(name, link=(confused, 0))


def _vary_birth(rng: random.Random, person: _Person) -> tuple[BirthDate, tuple[Variation, ...]]:
    birth = person.birth()
    draw = rng.random()
    if birth.kind == "exact" and draw < 0.25:
        return BirthDate.year_only(person.born_on.year), ("exact_date_dropped",)
    if birth.kind != "unknown" and not person.minor and draw > 0.8:
        shifted = _years_before(person.born_on, rng.choice((-1, 1)))
        if birth.kind == "exact":
            return BirthDate.exact(shifted), ("birth_year_off_by_one",)
        return BirthDate.year_only(shifted.year), ("birth_year_off_by_one",)
    return birth, ()


# --- opt-in noise: field lists and relatives --------------------------------------------------------------

# Spellings no name table lists: the French and English clerks' conventions, a consonant heard doubled or
# single, a vowel heard otherwise, a mute final e (pattern, replacement).
_RESPELLINGS: Final = (
    ("ou", "u"),
    ("u", "ou"),
    ("ch", "sh"),
    ("sh", "ch"),
    ("dj", "j"),
    ("j", "dj"),
    ("kh", "k"),
    ("gh", "rh"),
    ("q", "k"),
    ("y", "i"),
    ("ss", "s"),
    ("s", "ss"),
    ("mm", "m"),
    ("ll", "l"),
    ("tt", "t"),
    ("e", "a"),
    ("a", "e"),
    ("o", "ou"),
    ("i", "e"),
)


_LINK_WORDS: Final = frozenset(
    spelling.lower() for link in PATRONYM_LINKS.values() for spelling in link.spellings
)


def _respell(rng: random.Random, word: str) -> str:
    """``word`` written as another clerk hears it: one rule of :data:`_RESPELLINGS`, or a final e."""
    lower = word.lower()
    options = [(a, b) for a, b in _RESPELLINGS if a in lower[1:]]
    if lower.endswith("e"):
        options.append(("e$", ""))
    elif lower[-1] in "nrdl":
        options.append(("$", "e"))
    if not options:
        return word
    pattern, replacement = rng.choice(options)
    if pattern == "e$":
        return word[:-1]
    if pattern == "$":
        return word + ("E" if word.isupper() else "e")
    starts = [i for i in range(1, len(lower)) if lower.startswith(pattern, i)]
    at = rng.choice(starts)
    if word[at : at + len(pattern)].isupper():
        replacement = replacement.upper()
    return word[:at] + replacement + word[at + len(pattern) :]


def _guessed_birth(rng: random.Random, born_on: date) -> BirthDate:
    """An age guessed again at another listing ("vers 1985"): the year kept or one off, the day unknown (the
    year alone, or a clerk's 1 January) or another day."""
    year = born_on.year + _weighted(rng, ((0, 0.4), (-1, 0.3), (1, 0.3)))
    draw = rng.random()
    if draw < 0.4:
        return BirthDate.year_only(year)
    if draw < 0.7:
        return BirthDate.exact(date(year, 1, 1))
    return BirthDate.exact(date(year, rng.randint(1, 12), rng.randint(1, 28)))


def _field_noise(
    rng: random.Random, member: ListedMember, name: _Name, person: _Person
) -> tuple[ListedMember, tuple[Variation, ...]]:
    """A duplicate row as field lists also write it (``CaseloadProfile.field_noise``)."""
    variations: list[Variation] = []
    if not person.minor and member.birth.kind != "unknown" and rng.random() < _AGE_GUESSED_SHARE:
        birth = _guessed_birth(rng, person.born_on)
        if birth != member.birth:
            member = replace(member, birth=birth)
            variations.append("birth_date_guessed")
            if birth.year != person.born_on.year:
                variations.append("birth_year_off_by_one")
    arabic = name.arabic()
    if arabic is not None and rng.random() < _ARABIC_ONLY_SHARE:
        member = replace(member, full_name=arabic, full_name_arabic=None)
        variations.append("arabic_script_only")
    elif rng.random() < _UNLISTED_SPELLING_SHARE:
        words = member.full_name.split()
        long_words = [i for i, word in enumerate(words) if len(word) >= 4 and word.lower() not in _LINK_WORDS]
        if long_words:
            at = rng.choice(long_words)
            respelt = _respell(rng, words[at])
            if respelt != words[at]:
                words[at] = respelt
                member = replace(member, full_name=" ".join(words))
                variations.append("spelling_unlisted")
    if member.commune is not None and rng.random() < _COMMUNE_BLANK_SHARE:
        member = replace(member, commune=None)
        variations.append("commune_missing")
    return member, tuple(variations)


def _other_given(rng: random.Random, ethnicity: Ethnicity, sex: Sex, given: tuple[str, ...]) -> _Name:
    """A given name of the pool sharing no name with ``given`` (group keys), as a _Name's given part."""
    pool = GIVEN_NAMES[ethnicity, sex.value]
    for _ in range(32):
        keys = _zipf(rng, pool)
        if not set(keys) & set(given):
            break
    return _Name(tuple(_spelling(rng, GROUPS[key]) for key in keys), None, (GROUPS[keys[0]], 0))


def _other_father(rng: random.Random, ethnicity: Ethnicity, family: NameGroup) -> NameGroup:
    pool = FATHERS[ethnicity]
    for _ in range(32):
        group = GROUPS[_zipf(rng, pool)]
        if group is not family:
            return group
    return family


def _adult_birth(rng: random.Random, born_on: date, years: int, profile: CaseloadProfile) -> date:
    """``born_on`` moved by ``years`` (either way) and some days, kept an adult's on the registration day."""
    sign = rng.choice((-1, 1))
    shifted = _years_before(born_on, -sign * years) + timedelta(days=rng.randrange(1, 150) * sign)
    if _years_before(profile.registration_day, 18) < shifted:
        shifted = _years_before(born_on, sign * years)
    return shifted


def _relative(rng: random.Random, origin: _Person, own: _Person, profile: CaseloadProfile) -> _Person:
    """``own``'s draws made a relative of ``origin``, listed on the same list (``relatives_share``).

    Brothers share the father, mother, family name (or father's name after Ag / Ould) and commune, and are
    born years apart; twins are born the same day; cousins' fathers are brothers (the same grandfather), and
    a cousin is often named after the grandfather as the other is. Only between two adults of one sex."""
    if own.minor or origin.minor or own.sex is not origin.sex:
        return own
    relation = _weighted(rng, _RELATIONS)
    ethnicity = origin.ethnicity
    given_keys = _keys(origin.name.given)
    other = _other_given(rng, ethnicity, origin.sex, given_keys).given
    name, father, mother = origin.name, origin.father, origin.mother
    if relation == "cousins":
        given = origin.name.given if rng.random() < _COUSIN_SAME_GIVEN_SHARE else other
        mother = _draw_parents(rng, ethnicity, origin.name)[1]
        if origin.name.link is not None:
            uncle = _other_father(rng, ethnicity, origin.name.family[0])
            name = replace(origin.name, given=given, family=(uncle, 0))
            father = replace(origin.father, given=((uncle, 0),))
        else:
            name = replace(origin.name, given=given)
            father = replace(
                origin.father, given=_other_given(rng, ethnicity, Sex.M, _keys(origin.father.given)).given
            )
        born_on = _adult_birth(rng, origin.born_on, rng.randint(0, 6), profile)
        birth_place = origin.birth_place if rng.random() < 0.5 else own.birth_place
    else:
        name = replace(origin.name, given=other)
        years = 0 if relation == "twins" else rng.randint(2, 8)
        born_on = origin.born_on if relation == "twins" else _adult_birth(rng, origin.born_on, years, profile)
        birth_place = origin.birth_place
    arabic_listed = rng.random() < _ARABIC_SCRIPT_SHARE[ethnicity] and name.arabic() is not None
    return replace(
        own,
        movement=origin.movement,
        ethnicity=ethnicity,
        name=name,
        arabic_listed=arabic_listed,
        born_on=born_on,
        region=origin.region,
        cercle=origin.cercle,
        commune=origin.commune,
        father=father,
        mother=mother,
        birth_place=birth_place,
        relation=relation,
    )
