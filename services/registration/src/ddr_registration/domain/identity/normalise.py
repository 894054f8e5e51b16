"""Normalisation: a name as written (any script, any transliteration) -> canonical tokens, and the phonetic
forms that let spellings the tables do not know still meet.

The tables (:mod:`.names`) list the spellings seen; the rules here generalise them to the spellings not yet
seen, from how names are written in the Sahel rather than from any one list:

- **Arabic script** is folded as Arabic readers fold it before comparing: the hamza's seats on *alif* to a
  bare *alif*, *ta marbuta* to *ha*, *alif maqsura* (a final long *a*) to *alif*, short vowels and tatweel
  removed; then looked up (*فاطمة* and *فاطمه*, *موسى* and *موسا* are one name). An article the table does not
  know with its word is taken off before looking again.
- **Latin transliterations** of one sound differ by convention, French or English: *ou* / *u* / *oo*,
  *ch* / *sh*, *dj* / *di* / *j* (*Diarra*, *Djarra*, *Jara*), *kh* / *k*, *gh* / *rh* (the Arabic *ghayn*: *Rhissa*,
  *Ghissa*), *q* / *k* / *c*, *th* / *t*, a doubled consonant or not, a French mute final *e*. A token the
  tables do not know is matched to a spelling family through :func:`translit_key`, which folds all of these.
- **The Arabic article** written joined or apart (*Altahir*, *Al Tahir*, *Attaher*: *al-* assimilated before
  a sun letter) is dropped when what follows is a known name.
- ***Abd al-…*** ("servant of") in all its forms (*Abdoul Kader*, *Abdelkader*, *Abderrahmane*,
  *Abdourahmane*, *Abd al-Rahman*) becomes one ``abdel…`` token.
- **Case** tells roles where the list uses it: a family name (or *AG INTALLA*) in capitals in a mixed-case
  name is the surname, whatever the word order (:func:`parse_name`).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import jellyfish
from anyascii import anyascii

from ddr_registration.domain.identity.names import (
    ABD_PREFIXES,
    ARABIC_NAMES,
    ARTICLES,
    NAME_VARIANTS,
    PARTICLES,
)

__all__ = [
    "KNOWN_NAMES",
    "consonant_skeleton",
    "family_keys",
    "family_skeletons",
    "fold",
    "has_arabic",
    "metaphone",
    "normalise_name",
    "parse_name",
    "skeleton_owners",
    "translit_key",
]


@lru_cache(maxsize=200_000)
def translit_key(token: str) -> str:
    """A folded ASCII token with the transliteration conventions of the Sahel folded away: ``Mouhammad`` and
    ``Muhammad`` give ``muhamad``, ``Djarra`` / ``Diarra`` / ``Jara`` give ``jara``, ``Oualet`` gives
    ``walet``, ``Rhissa`` and ``Ghissa`` give ``gisa``, ``Souleymane`` gives ``suleiman``."""
    t = re.sub(r"ou(?=[aeiy])", "w", token)  # Daouda, Oualet: ou before a vowel is w
    t = t.replace("ou", "u").replace("oo", "u").replace("ee", "i")
    t = re.sub(r"(^|[aeiou])di(?=[aeiou])", r"\1j", t)  # Diarra, Diallo, Kadidia
    t = t.replace("dj", "j").replace("tch", "ch").replace("ch", "sh")
    t = t.replace("kh", "k").replace("gh", "g").replace("ph", "f").replace("th", "t").replace("dh", "d")
    t = re.sub(r"(?<!r)rh", "g", t)  # Rhissa, Arhaly: the ghayn written rh in French
    t = t.replace("q", "k").replace("ck", "k").replace("x", "ks")
    t = re.sub(r"c(?=[eiy])", "s", t).replace("c", "k")
    t = re.sub(r"gu(?=[ei])", "g", t)
    t = re.sub(r"(?<=[aeiou])y|y$", "i", t)
    t = re.sub(r"[ae]i(?![aeiou])", "ai", t)  # the diphthong ay: Zayd / Zeid, Seydou / Saidou
    t = re.sub(r"a[uo](?![aeiou])|aw(?![aeiou])", "au", t)  # and aw: Kaocen / Kausen, Dawda
    t = re.sub(r"(?<!a)e", "i", t).replace("o", "u")  # short vowels: kasra as i or e, damma as u or o
    t = re.sub(r"(.)\1+", r"\1", t)
    t = re.sub(r"(?<=[^aeiou])h$", "", t)  # Abdallah, Intallah
    t = re.sub(r"(?<=[^aeiou])e$", "", t)  # the mute e of French: Ousmane, Lamine
    return t or token


def _ascii(spelling: str) -> str:
    return unicodedata.normalize("NFKD", spelling).encode("ascii", "ignore").decode()


_CANONICAL: dict[str, str] = {}
for _family, _spellings in NAME_VARIANTS.items():
    for _spelling in (_family, *_spellings):
        _key = _ascii(_spelling)
        if _CANONICAL.setdefault(_key, _family) != _family:
            raise ValueError(f"{_spelling!r} is in two name families: {_CANONICAL[_key]!r} and {_family!r}")

KNOWN_NAMES: frozenset[str] = frozenset(NAME_VARIANTS)
"""Canonical tokens of the spelling families: two different ones are two different names."""

_FAMILY_KEYS: dict[str, frozenset[str]] = {
    family: frozenset(translit_key(_ascii(s)) for s in (family, *spellings))
    for family, spellings in NAME_VARIANTS.items()
}
_BY_KEY: dict[str, str | None] = {}  # transliteration key -> its one family (None when two families share it)
for _family, _keys in _FAMILY_KEYS.items():
    for _key in _keys:
        _BY_KEY[_key] = _family if _BY_KEY.get(_key, _family) == _family else None


def family_keys(family: str) -> frozenset[str]:
    """The transliteration keys of every spelling of a known family."""
    return _FAMILY_KEYS.get(family, frozenset())


@lru_cache(maxsize=1)
def _skeleton_owners() -> dict[str, frozenset[str]]:
    owners: dict[str, set[str]] = {}
    for family in NAME_VARIANTS:
        for skeleton in family_skeletons(family):
            owners.setdefault(skeleton, set()).add(family)
    return {skeleton: frozenset(families) for skeleton, families in owners.items()}


def skeleton_owners(skeleton: str) -> frozenset[str]:
    """The spelling families with a spelling of these consonants."""
    return _skeleton_owners().get(skeleton, frozenset())


@lru_cache(maxsize=10_000)
def family_skeletons(family: str) -> frozenset[str]:
    """The consonant skeletons of every spelling of a family (*Ousmane* and *Othmane*: smn, tmn), or of the
    token alone when the tables do not know it."""
    return frozenset(consonant_skeleton(_ascii(s)) for s in (family, *NAME_VARIANTS.get(family, ())))


_ALIF, _HA, _YA, _WAW = "\u0627", "\u0647", "\u064a", "\u0648"
_ARABIC_FOLD = str.maketrans(
    {
        "\u0623": _ALIF,  # alif with hamza above
        "\u0625": _ALIF,  # alif with hamza below
        "\u0622": _ALIF,  # alif madda
        "\u0671": _ALIF,  # alif wasla
        "\u0629": _HA,  # ta marbuta
        "\u0649": _ALIF,  # alif maqsura: a final long a (Musa, Hawa), as often written with alif
        "\u0624": _WAW,  # waw with hamza
        "\u0626": _YA,  # ya with hamza
    }
)
_ARABIC_RE = re.compile(r"[\u0600-\u06FF\u0750-\u077F\u08A0-\u08FF\uFB50-\uFDFF\uFE70-\uFEFF]")
_ARABIC_MARKS_RE = re.compile(r"[\u064B-\u065F\u0670\u0640]")  # short vowels, shadda, sukun, tatweel
_ARABIC_JOINS = (
    (re.compile(r"(^|\s)(عبد)\s+(ال)"), r"\1\2\3"),  # عبد الله -> عبدالله
    (re.compile(r"(^|\s)(أبو|ابو)\s+(بكر)"), r"\1\2\3"),  # أبو بكر -> أبوبكر
)
_ARABIC: dict[str, str] = {form.translate(_ARABIC_FOLD): token for form, token in ARABIC_NAMES.items()}
_AL = "\u0627\u0644"  # the article
_ABD_AL = "\u0639\u0628\u062f" + _AL  # abd al-
_WORD_RE = re.compile(r"[A-Za-z]+")
_ABD_RE = re.compile(r"^abd(?:oul|oul|ul|el|al|ou|u|e|a)?([a-z]{3,})$")
_SUN_ASSIMILATED_RE = re.compile(r"^a([tdrzsnl])\1([a-z]{3,})$")  # Attaher, Assaleh, Annour: al- assimilated


def has_arabic(text: str) -> bool:
    """Whether ``text`` contains Arabic script."""
    return _ARABIC_RE.search(text) is not None


def fold(text: str) -> str:
    """Lowercase ASCII letters only (diacritics removed, anything else dropped)."""
    return "".join(ch for ch in anyascii(unicodedata.normalize("NFKC", text)).lower() if "a" <= ch <= "z")


def _known(token: str) -> str | None:
    """The family of a spelling, seen (the tables) or not (its transliteration key)."""
    found = _CANONICAL.get(token)
    return found if found is not None else _BY_KEY.get(translit_key(token))


@lru_cache(maxsize=200_000)
def _canonical(token: str) -> str:
    found = _known(token)
    if found is not None:
        return found
    abd = _ABD_RE.match(token)
    if abd and token not in ("abdou", "abdu"):
        rest = re.sub(r"^([tdrzsnl])\1", r"\1", abd[1])  # Abderrahmane, Abdoussalam: the article assimilated
        return _known("abdel" + rest) or "abdel" + rest
    for article in ("al", "el"):
        if token.startswith(article) and len(token) - len(article) >= 3:
            without = _known(token[len(article) :])
            if without is not None:
                return without
    assimilated = _SUN_ASSIMILATED_RE.match(token)
    if assimilated:
        return _known(assimilated[1] + assimilated[2]) or token
    return token


def _arabic_token(word: str) -> str:
    word = word.translate(_ARABIC_FOLD)
    known = _ARABIC.get(word)
    if known is not None:
        return known
    if word.startswith(_ABD_AL) and len(word) > len(_ABD_AL):
        return _canonical("abdel" + fold(anyascii(word[len(_ABD_AL) :])))
    if word.startswith(_AL) and word[len(_AL) :] in _ARABIC:  # an article before a name the table knows
        return _ARABIC[word[len(_AL) :]]
    return _canonical(fold(anyascii(word)))


def _raw_tokens(text: str) -> list[tuple[str, bool]]:
    """The words of a name, lowercased, each with whether it stood in capitals among lowercase words."""
    if not has_arabic(text):
        words = _WORD_RE.findall(anyascii(unicodedata.normalize("NFKC", text)))
        mixed = any(w.isupper() and len(w) > 1 for w in words) and any(not w.isupper() for w in words)
        return [(w.lower(), mixed and w.isupper() and len(w) > 1) for w in words]
    text = _ARABIC_MARKS_RE.sub("", unicodedata.normalize("NFKC", text))
    for pattern, replacement in _ARABIC_JOINS:
        text = pattern.sub(replacement, text)
    tokens: list[tuple[str, bool]] = []
    for word in re.split(r"[\s\-\u060C,.;:]+", text):
        if not word:
            continue
        if has_arabic(word):
            token = _arabic_token(word)
            if token:
                tokens.append((token, False))
        else:
            tokens.extend((w.lower(), False) for w in _WORD_RE.findall(anyascii(word)))
    return tokens


@lru_cache(maxsize=200_000)
def parse_name(text: str) -> tuple[tuple[str, ...], tuple[bool, ...]]:
    """The canonical tokens of a name in the order written, and for each whether it was in capitals in a
    mixed-case name (the surname, in the administration's style: *MAIGA Moussa*, *Mohamed AG INTALLA*)."""
    raw = _raw_tokens(text)
    tokens: list[str] = []
    upper: list[bool] = []
    i = 0
    while i < len(raw):
        token, capital = raw[i]
        following, following_capital = raw[i + 1] if i + 1 < len(raw) else (None, False)
        if following is not None and token in ABD_PREFIXES and following in ARTICLES and i + 2 < len(raw):
            third, third_capital = raw[i + 2]  # Abd al-Rahman, Abd El Kader
            tokens.append(_canonical("abdel" + third))
            upper.append(capital and third_capital)
            i += 3
            continue
        if following is not None:
            joined = _CANONICAL.get(token + following)
            if joined is None and token in ABD_PREFIXES and len(following) >= 3:
                if _canonical(following) not in PARTICLES:
                    joined = _canonical("abdel" + following)
            elif joined is None and token in ARTICLES and _known(following) is None:
                joined = _known(token + following)  # Al Housseini, El Hadj
            if joined is not None:  # Abou Bakr, El Hadj, Abdoul Kader, Al Housseini
                tokens.append(joined)
                upper.append(capital and following_capital)
                i += 2
                continue
        if token in ARTICLES:
            i += 1  # an article the table does not join: dropped
            continue
        canonical = _canonical(token)
        if canonical:
            tokens.append(canonical)
            upper.append(capital)
        i += 1
    return tuple(tokens), tuple(upper)


def normalise_name(text: str) -> tuple[str, ...]:
    """The canonical tokens of a name, in the order written.

    ``"Muhammad Ould Intalla"``, ``"Mohamed Ag-Intalla"`` and ``"محمد أغ إنتالا"`` all give
    ``("mohamed", "ag", "intalla")``; ``"Maïga"`` gives ``("maiga",)``. Digits are dropped; an empty or
    letterless name gives ``()``.
    """
    return parse_name(text)[0]


_DIGRAPHS = (
    ("kh", "k"),
    ("gh", "g"),
    ("sh", "s"),
    ("ch", "s"),
    ("th", "t"),
    ("dh", "d"),
    ("ph", "f"),
    ("dj", "j"),
)
_SKELETON_DROP = str.maketrans(dict.fromkeys("aeiouyhw"))
# Arabic script has no /g/: a Tamasheq g is written ق, ك or غ, so the velars are one consonant here.
_SKELETON_MAP = str.maketrans({"q": "k", "c": "k", "x": "k", "g": "k", "z": "s", "p": "b", "v": "f"})


@lru_cache(maxsize=200_000)
def consonant_skeleton(token: str) -> str:
    """The consonants of a canonical token, as Arabic script writes them (vowels, ``h``, ``w``, ``y`` dropped,
    digraphs folded, the velars one, doubles collapsed): ``ghaly``, ``rhaly`` and ``غالي`` all give ``kl``."""
    token = re.sub(r"(?<!r)rh", "g", token)
    for digraph, single in _DIGRAPHS:
        token = token.replace(digraph, single)
    token = token.translate(_SKELETON_MAP).translate(_SKELETON_DROP)
    return "".join(ch for i, ch in enumerate(token) if i == 0 or token[i - 1] != ch)


@lru_cache(maxsize=200_000)
def metaphone(token: str) -> str:
    return jellyfish.metaphone(token) or token
