"""The Sahel lists: nine movements' lists with families, duplicates and relatives, and the truth about them.

``build(rows, seed)`` draws a population of families (a lineage of one commune: a grandfather, his sons'
households, their children), lists each person on their movement's list, and lists some of them again on the
same list, an ally's or a rival coalition's, as another clerk writes them. Relatives stand on one list beside
each other: brothers (same father, mother and commune, born years apart, often with names of one root,
*Mohamed* / *Ahmed* / *Mahmoud*), twins (one birth date, *Hassane* / *Housseini*) and cousins (fathers who
are brothers; the same given name, after the grandfather, or a close one). They are not duplicates.

Every row keeps how it was written (:class:`Written`), so each pair of rows can say how its two rows differ
(:func:`variants`): the kinds of variant the benchmark reports precision and recall for. Seeded and
deterministic: the same ``(rows, seed)`` gives the same lists.
"""

from __future__ import annotations

import itertools
import random
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Literal, TypeVar

from tests.dedup_sets.phonology import Style, arabic_name, ascii_fold, latin_words, slip
from tests.dedup_sets.pools import (
    FAMILIES,
    MEN,
    MOVEMENTS,
    PATRONYMIC,
    PLACES,
    WOMEN,
    Conventions,
    Ethnicity,
    Movement,
    Name,
)

T = TypeVar("T")
Relation = Literal["brothers", "twins", "cousins"]

VARIANTS = (
    "transliteration",
    "clerical slip",
    "swapped name order",
    "filiation particle (Ag / Ould / Ben)",
    "missing commune",
    "birth year only",
    "birth year one off",
    "Arabic script on one side",
    "given name shortened",
    "exact repeat",
)
"""The kinds of variant between two rows, in the order the benchmark reports them."""

DUPLICATE_ROWS = 0.062  # of all rows: a second (or third) listing of someone already listed
THIRD_LISTING = 0.08  # of duplicated people: listed a third time
SAME_LIST, ALLY_LIST = 0.35, 0.35  # where a second listing stands (the rest: a rival coalition's list)
WOMEN_SHARE = 0.12  # associated women, listed in their own name
CHILDREN_PER_HOUSEHOLD = ((1, 0.95), (2, 0.04), (3, 0.01))  # listed children: brothers when more than one
TWINS = 0.15  # of households listing two or more: two of them twins
COUSIN_HOUSEHOLD = 0.04  # a new household is a brother's household of an existing lineage
CLOSE_NAMES = 0.45  # a brother or cousin given a name of the same root as his relative's
SAME_NAME_COUSIN = 0.35  # a patronymic cousin named like his cousin (both after their grandfather)
HOUSE_SPELLING = 0.75  # a list writes a name its usual way; otherwise the clerk spells it afresh
KNOWS_BIRTH_DATE = 0.45  # people who know (or carry papers with) their full date of birth
AGE_GUESSED_OFF = 0.1  # the others' year, guessed at each listing: a year off now and then
BLANK = 0.1  # a column of the list's form left blank for a row
TYPO = 0.03
ASCII_ONLY = 0.3  # rows typed without accents
# What a second listing changes beyond its own list's conventions.
FORCE_NO_COMMUNE, FORCE_YEAR_ONLY, FORCE_SWAP, FORCE_ARABIC_ONLY = 0.18, 0.2, 0.2, 0.1
YEAR_ONE_OFF, SHORTENED, PARENT_SLIP = 0.07, 0.3, 0.02


@dataclass(frozen=True)
class Written:
    """How a row was written: what :func:`variants` compares."""

    style: str
    arabic_only: bool
    family_first: bool
    particle: str | None  # ag, ould, ben, welet, mint, bint (None: a family name)
    tokens: tuple[str, ...]  # the Latin name's words, folded, particle left out, given names first (pre-slip)
    typo: bool
    shortened: bool


@dataclass(frozen=True)
class Row:
    ref: str
    movement: str
    full_name: str
    full_name_arabic: str | None
    sex: str
    birth_year: int | None
    birth_date: date | None
    region: str
    cercle: str
    commune: str | None
    father_name: str | None
    mother_name: str | None
    birth_place: str | None
    person: int  # the truth: who this row is
    written: Written


@dataclass
class _Lineage:
    ethnicity: Ethnicity
    region: str
    cercle: str
    commune: str
    grandfather: Name
    family: Name | None
    sons: list[Name] = field(default_factory=list)
    households: list[_Household] = field(default_factory=list)


@dataclass
class _Household:
    lineage: _Lineage
    father: Name
    mother: Name
    mother_family: Name  # her father's given name (patronymic peoples) or her family name
    movement: Movement
    children: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class _Person:
    number: int
    household: _Household
    sex: str
    given: Name
    born: date
    birth_place: str
    knows_birth_date: bool


@dataclass(frozen=True)
class SahelSet:
    """Rows in import order (list after list), the pairs of rows that are one person, and relatives' pairs."""

    seed: int
    rows: tuple[Row, ...]
    duplicates: frozenset[frozenset[str]]
    relatives: dict[frozenset[str], Relation]

    def row(self, ref: str) -> Row:
        return self._by_ref[ref]

    @property
    def _by_ref(self) -> dict[str, Row]:
        cached: dict[str, Row] | None = self.__dict__.get("_rows_by_ref")
        if cached is None:
            cached = {row.ref: row for row in self.rows}
            object.__setattr__(self, "_rows_by_ref", cached)
        return cached


def _weighted(rng: random.Random, options: Sequence[tuple[T, float]]) -> T:
    return rng.choices([o for o, _ in options], weights=[w for _, w in options])[0]


def _zipf(rng: random.Random, pool: Sequence[T], exponent: float = 0.85) -> T:
    return rng.choices(pool, weights=[1.0 / (rank + 1) ** exponent for rank in range(len(pool))])[0]


def _spellings(place: str) -> list[str]:
    return place.split("|")


def _place_name(place: str) -> str:
    return _spellings(place)[0]


class _Builder:
    def __init__(self, rows: int, seed: int) -> None:
        self.rng = random.Random(seed)
        self.seed = seed
        self.total_rows = rows
        self.people: list[_Person] = []
        self.lineages: list[_Lineage] = []
        self.households: list[_Household] = []
        self.house: dict[
            tuple[str, str, int], str
        ] = {}  # (movement, name, form) -> the list's usual spelling
        self.relatives: dict[frozenset[int], Relation] = {}

    # --- people ---------------------------------------------------------------------------------------

    def population(self, count: int) -> None:
        while len(self.people) < count:
            household = self._household()
            wanted = _weighted(self.rng, CHILDREN_PER_HOUSEHOLD)
            twins = wanted >= 2 and self.rng.random() < TWINS
            for k in range(wanted):
                if len(self.people) >= count:
                    break
                self._child(household, twin_of=household.children[0] if twins and k == 1 else None)

    def _household(self) -> _Household:
        rng = self.rng
        cousins = [lin for lin in self.lineages if len(lin.sons) < 4]
        if cousins and rng.random() < COUSIN_HOUSEHOLD:
            lineage = rng.choice(cousins[-200:])
            movement = lineage.households[0].movement
        else:
            movement = rng.choice(MOVEMENTS)
            ethnicity = _weighted(rng, movement.people)
            region = _weighted(rng, movement.regions)
            cercle = rng.choice(sorted(PLACES[region]))
            commune = rng.choice(PLACES[region][cercle])
            family = None if ethnicity in PATRONYMIC else _zipf(rng, FAMILIES[ethnicity])
            lineage = _Lineage(ethnicity, region, cercle, commune, _zipf(rng, MEN[ethnicity]), family)
            self.lineages.append(lineage)
        father = self._distinct(MEN[lineage.ethnicity], lineage.sons)
        lineage.sons.append(father)
        ethnicity = lineage.ethnicity
        mother_family = _zipf(rng, MEN[ethnicity] if ethnicity in PATRONYMIC else FAMILIES[ethnicity])
        household = _Household(lineage, father, _zipf(rng, WOMEN[ethnicity]), mother_family, movement)
        self.households.append(household)
        lineage.households.append(household)
        return household

    def _distinct(self, pool: Sequence[Name], taken: Iterable[Name], like: Name | None = None) -> Name:
        """A name sharing no word with any of ``taken`` (a family does not call a second son *Ahmed* beside a
        *Sidi Ahmed*: relatives' names differ); of ``like``'s root when asked and one is left."""
        taken = list(taken)
        words = {word for name in taken for form in name.forms for word in form.words}

        def free(name: Name) -> bool:
            return not words & {word for form in name.forms for word in form.words}

        if like is not None and like.group is not None:
            close = [n for n in pool if n.group == like.group and free(n)]
            if close:
                return self.rng.choice(close)
        for _ in range(200):
            name = _zipf(self.rng, pool)
            if free(name):
                return name
        return next(n for n in pool if free(n))

    def _child(self, household: _Household, twin_of: int | None) -> None:
        rng = self.rng
        lineage = household.lineage
        siblings = [self.people[n] for n in household.children]
        cousins = [self.people[n] for h in lineage.households if h is not household for n in h.children]
        sex = "F" if rng.random() < WOMEN_SHARE else "M"
        twin = self.people[twin_of] if twin_of is not None else None
        if twin is not None:
            sex = twin.sex
        pool = WOMEN[lineage.ethnicity] if sex == "F" else MEN[lineage.ethnicity]
        relative = next((p for p in (*siblings, *cousins) if p.sex == sex), None)
        if twin is not None and sex == "M" and twin.given.group == "twin":
            given = self._distinct(pool, [twin.given], like=twin.given)
        elif (
            relative is not None
            and relative in cousins
            and lineage.ethnicity in PATRONYMIC
            and rng.random() < SAME_NAME_COUSIN
        ):
            given = relative.given  # both named after their grandfather, or both Mohamed
        elif relative is not None and rng.random() < CLOSE_NAMES:
            given = self._distinct(pool, [p.given for p in siblings], like=relative.given)
        else:
            given = self._distinct(pool, [p.given for p in siblings] + [household.father])
        if twin is not None:
            born = twin.born
        elif siblings:
            gap = rng.randint(2, 8) * rng.choice((-1, 1))
            born = siblings[-1].born + timedelta(days=365 * gap + rng.randint(-120, 120))
        elif cousins:
            born = cousins[-1].born + timedelta(days=rng.randint(-6 * 365, 6 * 365))
        else:
            born = date(1950, 1, 1) + timedelta(days=int(rng.triangular(0, 50 * 365, 35 * 365)))
        born = min(max(born, date(1950, 1, 1)), date(2000, 12, 31))
        birth_place = (
            lineage.commune if rng.random() < 0.75 else rng.choice(PLACES[lineage.region][lineage.cercle])
        )
        knows = twin.knows_birth_date if twin is not None else rng.random() < KNOWS_BIRTH_DATE
        person = _Person(len(self.people), household, sex, given, born, _place_name(birth_place), knows)
        for other in (*siblings, *cousins):
            relation: Relation = "cousins" if other in cousins else "twins" if other is twin else "brothers"
            self.relatives[frozenset((person.number, other.number))] = relation
        household.children.append(person.number)
        self.people.append(person)

    # --- writing a row ---------------------------------------------------------------------------------

    def _spell(self, movement: Movement, name: Name, style: Style, form_index: int) -> list[str]:
        """A name's words as this list writes them: its usual way mostly, or as the clerk hears it."""
        form = name.forms[form_index]
        key = (movement.code, name.key, form_index)
        if key not in self.house:
            if style == "french" and form.usual and self.rng.random() < 0.85:
                self.house[key] = form.usual
            else:
                self.house[key] = " ".join(latin_words(form.words, style, self.rng, foreign=form.foreign))
        if self.rng.random() < HOUSE_SPELLING:
            return self.house[key].split()
        return latin_words(form.words, style, self.rng, foreign=form.foreign)

    def _form(self, name: Name, style: Style, arabic: bool) -> int:
        """Which form of a name a list uses: the person's own, or (Arabist or Arabic-script lists) the Arabic."""
        if len(name.forms) > 1 and (arabic or style == "english") and self.rng.random() < 0.5:
            return len(name.forms) - 1
        return 0

    def _particle(self, person: _Person, movement: Movement, style: Style) -> tuple[str, str]:
        """The filiation particle (Latin, and its class) as this list writes it for this person."""
        rng = self.rng
        tuareg = person.household.lineage.ethnicity == "tuareg"
        arab_list = movement.code.startswith("MAA")
        if person.sex == "F":
            if tuareg and not (arab_list and rng.random() < 0.5):
                word = _weighted(rng, (("Walet", 0.5), ("Welet", 0.35), ("Oualet", 0.15)))
                return word, "welet"
            word = "Bint" if style == "english" and rng.random() < 0.4 else "Mint"
            return word, word.lower()
        if tuareg and not (arab_list and rng.random() < 0.5):
            return "Ag", "ag"
        if style == "english" and rng.random() < 0.25:
            return "Ben", "ben"
        return _weighted(rng, (("Ould", 0.88), ("O.", 0.12))), "ould"

    def row(
        self, person: _Person, movement: Movement, ref: str, *, forced: dict[str, bool] | None = None
    ) -> Row:
        rng = self.rng
        forced = forced or {}
        lineage = person.household.lineage
        conv: Conventions = movement.conventions
        style: Style = _weighted(rng, conv.styles)
        arabic_only = forced.get("arabic_only", rng.random() < conv.arabic_only)
        arabic_also = not arabic_only and rng.random() < conv.arabic_also
        family_first = forced.get("family_first", rng.random() < conv.family_first)
        upper = rng.random() < conv.upper_family
        shortened = forced.get("shortened", False) and len(person.given.own.words) > 1
        given_form = self._form(person.given, style, arabic_only)
        given_words = self._spell(movement, person.given, style, given_form)
        if shortened:
            given_words = given_words[-1:] if person.given.own.words[0] == "sidi" else given_words[:1]
        patronymic = lineage.ethnicity in PATRONYMIC
        surname = person.household.father if patronymic else lineage.family
        assert surname is not None
        family_words = self._spell(movement, surname, style, self._form(surname, style, arabic_only))
        particle, particle_class = self._particle(person, movement, style) if patronymic else ("", None)
        latin, tokens = self._latin(
            given_words, particle, family_words, family_first=family_first, upper=upper
        )
        typo = rng.random() < TYPO
        if typo:
            words = latin.split(" ")
            k = rng.randrange(len(words))
            words[k] = slip(words[k], rng)
            latin = " ".join(words)
        if rng.random() < ASCII_ONLY:
            latin = ascii_fold(latin)
        arabic = self._arabic(person, surname, particle_class) if arabic_only or arabic_also else None
        full_name, full_name_arabic = (arabic, None) if arabic_only else (latin, arabic)
        assert full_name is not None
        born = person.born
        if forced.get("year_one_off") or (not person.knows_birth_date and rng.random() < AGE_GUESSED_OFF):
            born = born.replace(year=born.year + rng.choice((-1, 1)), day=min(born.day, 28))
        # The date comes from the person (or their papers): the full date if they know it and the form has a
        # date column; else the year, or a clerk's 1 January standing for it.
        birth_date: date | None = None
        if not forced.get("year_only") and not conv.year_column:
            if person.knows_birth_date:
                birth_date = born
            elif rng.random() < conv.placeholder_day:
                birth_date = date(born.year, 1, 1) if rng.random() < 0.8 else date(born.year, 12, 31)
        commune = None
        if conv.commune and not forced.get("no_commune") and rng.random() >= BLANK:
            commune = (
                rng.choice(_spellings(lineage.commune))
                if rng.random() < 0.2
                else _place_name(lineage.commune)
            )
        father = self._father(person, movement, style) if conv.father and rng.random() >= BLANK else None
        mother = self._mother(person, movement, style) if conv.mother and rng.random() >= BLANK else None
        birth_place = person.birth_place if conv.birth_place and rng.random() >= BLANK else None
        return Row(
            ref=ref,
            movement=movement.code,
            full_name=full_name,
            full_name_arabic=full_name_arabic,
            sex=person.sex,
            birth_year=born.year,
            birth_date=birth_date,
            region=lineage.region,
            cercle=lineage.cercle,
            commune=commune,
            father_name=father,
            mother_name=mother,
            birth_place=birth_place,
            person=person.number,
            written=Written(
                style=style,
                arabic_only=arabic_only,
                family_first=family_first,
                particle=particle_class,
                tokens=tokens,
                typo=typo,
                shortened=shortened,
            ),
        )

    def _latin(
        self, given: list[str], particle: str, family: list[str], *, family_first: bool, upper: bool
    ) -> tuple[str, tuple[str, ...]]:
        tokens = tuple(_fold_word(w) for w in (*given, *family))
        surname = [particle, *family] if particle else list(family)
        if upper:
            surname = [w.upper() for w in surname]
        if particle and particle != "O." and not upper and self.rng.random() < 0.08:
            surname = [f"{particle}-{' '.join(family)}"]  # Ag-Intalla
        words = [*surname, *given] if family_first else [*given, *surname]
        return " ".join(words), tokens

    def _arabic(self, person: _Person, surname: Name, particle_class: str | None) -> str:
        rng = self.rng
        given = person.given.arabic_form
        family = surname.arabic_form
        parts = [arabic_name(given.words, rng, feminine=person.sex == "F", foreign=given.foreign)]
        if particle_class is not None:
            if particle_class == "ag":
                parts.append(_weighted(rng, (("أغ", 0.5), ("اغ", 0.3), ("آغ", 0.2))))
            elif particle_class in ("ould", "ben"):
                parts.append("ولد" if particle_class == "ould" else "بن")
            else:
                parts.append({"welet": "ولت", "mint": "منت", "bint": "بنت"}[particle_class])
        parts.append(arabic_name(family.words, rng, feminine=False, foreign=family.foreign))
        return " ".join(parts)

    def _father(self, person: _Person, movement: Movement, style: Style) -> str:
        household = person.household
        lineage = household.lineage
        given = " ".join(self._spell(movement, household.father, style, 0))
        if lineage.ethnicity in PATRONYMIC:
            link = "Ag" if lineage.ethnicity == "tuareg" else "Ould"
            return f"{given} {link} {' '.join(self._spell(movement, lineage.grandfather, style, 0))}"
        assert lineage.family is not None
        return f"{given} {' '.join(self._spell(movement, lineage.family, style, 0))}"

    def _mother(self, person: _Person, movement: Movement, style: Style) -> str:
        household = person.household
        mother = household.mother
        if self.rng.random() < PARENT_SLIP:  # a slip, or a stepmother on one list
            mother = self._distinct(WOMEN[household.lineage.ethnicity], [mother])
        given = " ".join(self._spell(movement, mother, style, 0))
        if household.lineage.ethnicity in PATRONYMIC:
            link = "Walet" if household.lineage.ethnicity == "tuareg" else "Mint"
            return f"{given} {link} {' '.join(self._spell(movement, household.mother_family, style, 0))}"
        return f"{given} {' '.join(self._spell(movement, household.mother_family, style, 0))}"

    # --- the lists --------------------------------------------------------------------------------------

    def lists(self) -> SahelSet:
        rng = self.rng
        duplicate_rows = round(self.total_rows * DUPLICATE_ROWS)
        self.population(self.total_rows - duplicate_rows)
        by_movement: dict[str, list[Row]] = {m.code: [] for m in MOVEMENTS}
        listings: dict[int, list[str]] = {}
        counter = itertools.count(1)

        def add(person: _Person, movement: Movement, forced: dict[str, bool] | None = None) -> None:
            ref = f"{movement.code}-{next(counter):06d}"
            by_movement[movement.code].append(self.row(person, movement, ref, forced=forced))
            listings.setdefault(person.number, []).append(ref)

        for person in self.people:
            add(person, person.household.movement)
        again = rng.sample(self.people, duplicate_rows)
        again = again[: round(duplicate_rows * (1 - THIRD_LISTING))]
        again += rng.sample(again, duplicate_rows - len(again))
        for person in again:
            add(person, self._second_list(person.household.movement), self._forced(person))
        rows: list[Row] = []
        for movement in MOVEMENTS:
            listed = by_movement[movement.code]
            rng.shuffle(listed)
            rows.extend(listed)
        duplicates = frozenset(
            frozenset(pair) for refs in listings.values() for pair in itertools.combinations(refs, 2)
        )
        relatives: dict[frozenset[str], Relation] = {}
        for pair, relation in self.relatives.items():
            first, second = sorted(pair)
            for a in listings[first]:
                for b in listings[second]:
                    relatives[frozenset((a, b))] = relation
        return SahelSet(self.seed, tuple(rows), duplicates, relatives)

    def _second_list(self, own: Movement) -> Movement:
        rng = self.rng
        draw = rng.random()
        if draw < SAME_LIST:
            return own
        allies = [m for m in MOVEMENTS if m.coalition == own.coalition and m is not own]
        rivals = [m for m in MOVEMENTS if m.coalition != own.coalition]
        return rng.choice(allies if draw < SAME_LIST + ALLY_LIST else rivals)

    def _forced(self, person: _Person) -> dict[str, bool]:
        rng = self.rng
        forced: dict[str, bool] = {}
        if rng.random() < FORCE_NO_COMMUNE:
            forced["no_commune"] = True
        if rng.random() < FORCE_YEAR_ONLY:
            forced["year_only"] = True
        if rng.random() < FORCE_SWAP:
            forced["family_first"] = True
        if rng.random() < FORCE_ARABIC_ONLY:
            forced["arabic_only"] = True
        if rng.random() < YEAR_ONE_OFF:
            forced["year_one_off"] = True
        if rng.random() < SHORTENED:
            forced["shortened"] = True
        return forced


def _fold_word(word: str) -> str:
    decomposed = unicodedata.normalize("NFKD", word.lower())
    return "".join(c for c in decomposed if "a" <= c <= "z")


def build(rows: int, seed: int) -> SahelSet:
    """``rows`` listed rows over the nine movements' lists, with their truth (deterministic in ``seed``)."""
    return _Builder(rows, seed).lists()


def variants(a: Row, b: Row) -> frozenset[str]:
    """How two rows differ in the writing, whoever they are (the same test for true and false pairs)."""
    found: set[str] = set()
    wa, wb = a.written, b.written
    if not wa.arabic_only and not wb.arabic_only and sorted(wa.tokens) != sorted(wb.tokens):
        found.add("transliteration")
    if wa.typo or wb.typo:
        found.add("clerical slip")
    if wa.family_first != wb.family_first and not (wa.arabic_only or wb.arabic_only):
        found.add("swapped name order")
    if wa.particle and wb.particle and wa.particle != wb.particle:
        found.add("filiation particle (Ag / Ould / Ben)")
    if a.commune is None or b.commune is None:
        found.add("missing commune")
    if (a.birth_date is None) != (b.birth_date is None):
        found.add("birth year only")
    if a.birth_year is not None and b.birth_year is not None and abs(a.birth_year - b.birth_year) == 1:
        found.add("birth year one off")
    if wa.arabic_only != wb.arabic_only:
        found.add("Arabic script on one side")
    if wa.shortened or wb.shortened:
        found.add("given name shortened")
    if not found:
        found.add("exact repeat")
    return frozenset(found)
