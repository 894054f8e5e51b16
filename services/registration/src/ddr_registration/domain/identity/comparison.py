"""Comparing two written names token by token: which tokens agree, which clearly differ, and in which role.

Two spellings of one name agree token for token, whatever their order, script or transliteration; two
relatives' names share some tokens and clearly differ on another: brothers on the given name (*Mohamed* /
*Ahmed Ag Effad*), cousins on the father's name after *Ag* (*Mohamed Ag Intalla* / *Mohamed Ag Alghabass*).
A whole-string similarity sees 80% alike in both; the tokens tell one person from two.

Token similarity (:func:`token_similarity`): the same canonical token is 1; two different known names (two
spelling families of :mod:`.names`) are 0, whatever their letters (*Mohamed* / *Mahmoud*); otherwise the
transliteration keys of the two (every known spelling of a known one) are compared, or, across scripts, the
consonant skeletons. Tokens are aligned best first within their roles (given name with given name, the name
after *Ag* / *Ould* with the name after *Ag* / *Ould*) when both spellings tell their roles, else as a set.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz import fuzz, process

from ddr_registration.domain.identity.normalise import (
    KNOWN_NAMES,
    family_keys,
    family_skeletons,
    skeleton_owners,
    translit_key,
)
from ddr_registration.domain.identity.records import Spelling

__all__ = ["AGREE", "DIFFER", "NameComparison", "compare_names", "token_similarity"]

AGREE = 0.85
"""Token similarity at or above which two tokens are one name under two spellings."""
DIFFER = 0.67
"""Token similarity below which two tokens are two different names."""
_ACROSS_SCRIPTS_PENALTY = 0.05  # consonant skeletons say less than full spellings
_SKELETON_MIN = 3  # consonants the same skeleton needs to stand for one name
_SKELETON_SAME = 0.92  # the same telling skeleton: one name (Mbarek / Mubarak; إناولن / Inawelen)
_SKELETON_WEAK = 0.84  # a skeleton shared with other names, or too short to tell: in doubt
_AMBIGUOUS = 0.84
_AMBIGUITY = 3.0  # points of similarity within which two known names are as near a spelling
_KEY_FAMILIES: dict[str, set[str]] = {}
for _family in KNOWN_NAMES:
    for _key in family_keys(_family):
        _KEY_FAMILIES.setdefault(_key, set()).add(_family)
_ALL_KEYS = sorted(_KEY_FAMILIES)


@lru_cache(maxsize=500_000)
def token_similarity(x: str, y: str, across_scripts: bool = False) -> float:
    """0..1: how surely two canonical tokens are one name (see the module)."""
    if x == y:
        return 1.0
    known_x, known_y = x in KNOWN_NAMES, y in KNOWN_NAMES
    if known_x and known_y:
        return 0.0  # two spelling families: two names, however alike their letters
    skeletons_x, skeletons_y = family_skeletons(x), family_skeletons(y)
    telling = any(_tells(k, x, y) for k in skeletons_x & skeletons_y)
    if across_scripts:  # Arabic script writes consonants and long vowels: only skeletons compare
        if skeletons_x & skeletons_y:
            return _SKELETON_SAME if telling else _SKELETON_WEAK
        ratio = max(fuzz.ratio(a, b) for a in skeletons_x for b in skeletons_y) / 100
        return min(_SKELETON_WEAK, max(0.0, ratio - _ACROSS_SCRIPTS_PENALTY))
    keys_x = family_keys(x) if known_x else {translit_key(x)}
    keys_y = family_keys(y) if known_y else {translit_key(y)}
    best = max(fuzz.ratio(a, b) for a in keys_x for b in keys_y) / 100
    if known_x != known_y and best >= AGREE and _between_names(y if known_x else x):
        best = _AMBIGUOUS  # a spelling as near another known name: it tells neither (Amid: Ahmed or Hamid)
    if telling or _contracted_article(skeletons_x, skeletons_y, x, y):
        best = max(best, _SKELETON_SAME)  # vowels are what spellings vary most: Mbarek / Mubarak
    elif known_x != known_y and best < AGREE and _short_skeleton_tells(skeletons_x & skeletons_y, x, y):
        best = AGREE  # a vowel heard otherwise in a short name: Ghely for Ghaly, Hamade for Hamada
    return best


def _short_skeleton_tells(shared: frozenset[str], x: str, y: str) -> bool:
    """Whether an unknown spelling is the known name whose two consonants it shares, that name alone being
    written with them, and the spelling not as near another known name (one vowel heard otherwise)."""
    unknown = y if x in KNOWN_NAMES else x
    return any(
        len(k) == _SKELETON_MIN - 1 and skeleton_owners(k) <= {x, y} and skeleton_owners(k) for k in shared
    ) and not _between_names(unknown)


@lru_cache(maxsize=100_000)
def _between_names(token: str) -> bool:
    """Whether an unknown spelling is about as near two known names (within :data:`_AMBIGUITY` points)."""
    found = process.extract(translit_key(token), _ALL_KEYS, scorer=fuzz.ratio, limit=12)
    best: dict[str, float] = {}
    for key, score, _ in found:
        for family in _KEY_FAMILIES[key]:
            best[family] = max(best.get(family, 0.0), score)
    ranked = sorted(best.values(), reverse=True)
    return len(ranked) > 1 and ranked[0] >= 100 * AGREE and ranked[0] - ranked[1] <= _AMBIGUITY


def _tells(skeleton: str, x: str, y: str) -> bool:
    """Whether one consonant skeleton is enough to call two tokens one name: three consonants or more, and no
    other spelling family written with them (*Hassane* and *Housseini* share l-s-n: twins' names)."""
    return len(skeleton) >= _SKELETON_MIN and skeleton_owners(skeleton) <= {x, y}


def _contracted_article(a: frozenset[str], b: frozenset[str], x: str, y: str) -> bool:
    """Hassaniya contracts the article into an l: *Lahbib* for al-Habib, *Lemrabott* for al-Murabit."""
    return any(
        k.startswith("l") and k[1:] in shorter and _tells(k[1:], x, y)
        for longer, shorter in ((a, b), (b, a))
        for k in longer
    )


@dataclass(frozen=True)
class _Aligned:
    pairs: tuple[tuple[str, str, float], ...]
    extra: int  # tokens of either side with no counterpart

    @property
    def differs(self) -> bool:
        return any(sim < DIFFER for _, _, sim in self.pairs)

    @property
    def close(self) -> bool:
        """No token clearly differs, but one is only alike (*Hamid* / *Ahmed*, written *Amid*)."""
        return not self.differs and any(sim < AGREE for _, _, sim in self.pairs)

    @property
    def agrees(self) -> bool:
        return bool(self.pairs) and all(sim >= AGREE for _, _, sim in self.pairs)


def _align(xs: Sequence[str], ys: Sequence[str], across_scripts: bool) -> _Aligned:
    """Tokens paired best first; as many pairs as the shorter side has tokens, the rest extra."""
    ranked = sorted(
        ((token_similarity(x, y, across_scripts), i, j) for i, x in enumerate(xs) for j, y in enumerate(ys)),
        reverse=True,
    )
    used_x: set[int] = set()
    used_y: set[int] = set()
    pairs = []
    for sim, i, j in ranked:
        if i not in used_x and j not in used_y:
            used_x.add(i)
            used_y.add(j)
            pairs.append((xs[i], ys[j], sim))
    return _Aligned(tuple(pairs), len(xs) + len(ys) - 2 * len(pairs))


@dataclass(frozen=True)
class NameComparison:
    """Two spellings compared: ``agreeing`` tokens (of the first), ``differing`` token pairs (two names),
    ``doubtful`` points (pairs in between, 0..100 each), ``extra`` tokens, and, when both spellings tell
    their roles, whether the given names and the surnames differ and whether the two are swapped
    (*Moussa Ag Intalla* / *Intalla Ag Moussa*: father and son, not one man)."""

    similarity: float
    across_scripts: bool
    agreeing: tuple[str, ...]
    whole: bool  # every token of both spellings agrees with one of the other
    differing: int
    doubtful: float
    extra: int
    given_differs: bool | None = None
    surname_differs: bool | None = None
    swapped: bool = False
    close: bool = False  # no token differs, but the given name (or, roles untold, a token) is only alike


def compare_names(a: Spelling, b: Spelling) -> NameComparison:
    # Not cached: almost every pair of spellings an import compares is compared once (0.5% of look-ups hit
    # at 20,000 rows), and a cache of them was a fifth of the import's memory. Parents' names, which repeat,
    # are cached by their own caller.
    across = a.arabic != b.arabic
    groups: tuple[_Aligned, ...]
    close: bool
    given_differs: bool | None
    surname_differs: bool | None
    if a.roles and b.roles:
        given, surname = _align(a.given, b.given, across), _align(a.surname, b.surname, across)
        swapped = bool(
            a.patronymic
            and b.patronymic
            and given.differs
            and surname.differs
            and _align(a.given, b.surname, across).agrees
            and _align(a.surname, b.given, across).agrees
        )
        groups = (given, surname)
        given_differs, surname_differs = given.differs, surname.differs
        close = given.close
    else:
        groups = (_align(a.tokens, b.tokens, across),)
        given_differs = surname_differs = None
        swapped = False
        close = groups[0].close
    pairs = [pair for group in groups for pair in group.pairs]
    extra = sum(group.extra for group in groups)
    agreeing = tuple(sorted(x for x, _, sim in pairs if sim >= AGREE))
    return NameComparison(
        similarity=sum(sim for _, _, sim in pairs) / max(len(a.tokens), len(b.tokens)),
        across_scripts=across,
        agreeing=agreeing,
        whole=extra == 0 and len(agreeing) == len(pairs),
        differing=sum(1 for *_, sim in pairs if sim < DIFFER),
        doubtful=sum(100.0 * (AGREE - sim) for *_, sim in pairs if DIFFER <= sim < AGREE),
        extra=extra,
        given_differs=given_differs,
        surname_differs=surname_differs,
        swapped=swapped,
        close=close,
    )
