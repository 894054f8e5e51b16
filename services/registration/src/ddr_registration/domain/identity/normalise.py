"""Normalisation: a name as written (any script, any transliteration) -> canonical tokens, and the phonetic
forms (consonant skeleton, metaphone) that let spellings the tables do not know still meet."""

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

__all__ = ["consonant_skeleton", "fold", "has_arabic", "metaphone", "normalise_name"]

_CANONICAL: dict[str, str] = {}
for _family, _spellings in NAME_VARIANTS.items():
    for _spelling in (_family, *_spellings):
        _key = unicodedata.normalize("NFKD", _spelling).encode("ascii", "ignore").decode()
        if _CANONICAL.setdefault(_key, _family) != _family:
            raise ValueError(f"{_spelling!r} is in two name families: {_CANONICAL[_key]!r} and {_family!r}")

_ARABIC_RE = re.compile(r"[\u0600-\u06FF\u0750-\u077F\u08A0-\u08FF\uFB50-\uFDFF\uFE70-\uFEFF]")
_ARABIC_MARKS_RE = re.compile(r"[\u064B-\u065F\u0670\u0640]")  # short vowels, shadda, sukun, tatweel
_ARABIC_JOINS = (
    (re.compile(r"(^|\s)(عبد)\s+(ال)"), r"\1\2\3"),  # عبد الله -> عبدالله
    (re.compile(r"(^|\s)(أبو|ابو)\s+(بكر)"), r"\1\2\3"),  # أبو بكر -> أبوبكر
)
_SPLIT_RE = re.compile(r"[^a-z]+")


def has_arabic(text: str) -> bool:
    """Whether ``text`` contains Arabic script."""
    return _ARABIC_RE.search(text) is not None


def _arabic_token(word: str) -> str:
    known = ARABIC_NAMES.get(word)
    if known is not None:
        return known
    if word.startswith("عبدال") and len(word) > 5:
        return "abdel" + fold(anyascii(word[5:]))
    return fold(anyascii(word))


def fold(text: str) -> str:
    """Lowercase ASCII letters only (diacritics removed, anything else dropped)."""
    return "".join(ch for ch in anyascii(unicodedata.normalize("NFKC", text)).lower() if "a" <= ch <= "z")


def _raw_tokens(text: str) -> list[str]:
    if not has_arabic(text):
        return [
            token for token in _SPLIT_RE.split(anyascii(unicodedata.normalize("NFKC", text)).lower()) if token
        ]
    text = _ARABIC_MARKS_RE.sub("", unicodedata.normalize("NFKC", text))
    for pattern, replacement in _ARABIC_JOINS:
        text = pattern.sub(replacement, text)
    tokens: list[str] = []
    for word in re.split(r"[\s\-\u060C,.;:]+", text):
        if not word:
            continue
        if has_arabic(word):
            token = _arabic_token(word)
            if token:
                tokens.append(token)
        else:
            tokens.extend(t for t in _SPLIT_RE.split(anyascii(word).lower()) if t)
    return tokens


def _canonical(token: str) -> str:
    found = _CANONICAL.get(token)
    if found is not None:
        return found
    for prefix in ("abdoul", "abdel", "abdul", "abdal"):
        if token.startswith(prefix) and len(token) - len(prefix) >= 3:
            rest = token[len(prefix) :]
            return _CANONICAL.get("abdel" + rest, "abdel" + rest)
    return token


@lru_cache(maxsize=200_000)
def normalise_name(text: str) -> tuple[str, ...]:
    """The canonical tokens of a name, in the order written.

    ``"Muhammad Ould Intalla"``, ``"Mohamed Ag-Intalla"`` and ``"محمد أغ إنتالا"`` all give
    ``("mohamed", "ag", "intalla")``; ``"Maïga"`` gives ``("maiga",)``. Digits are dropped; an empty or
    letterless name gives ``()``.
    """
    raw = _raw_tokens(text)
    tokens: list[str] = []
    i = 0
    while i < len(raw):
        token = raw[i]
        following = raw[i + 1] if i + 1 < len(raw) else None
        if following is not None:
            joined = token + following
            if joined in _CANONICAL:  # Abou Bakr, El Hadj, Abdoul Kader, Al Housseini
                tokens.append(_CANONICAL[joined])
                i += 2
                continue
            if (
                token in ABD_PREFIXES
                and _CANONICAL.get(following, following) not in PARTICLES
                and len(following) >= 3
            ):
                tokens.append(_canonical("abdel" + following))
                i += 2
                continue
        if token in ARTICLES:
            i += 1  # an article the table does not join: dropped
            continue
        tokens.append(_canonical(token))
        i += 1
    return tuple(token for token in tokens if token)


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
_SKELETON_MAP = str.maketrans({"q": "k", "c": "k", "x": "k", "z": "s", "p": "b", "v": "f"})


@lru_cache(maxsize=200_000)
def consonant_skeleton(token: str) -> str:
    """The consonants of a canonical token, as Arabic script writes them (vowels, ``h``, ``w``, ``y`` dropped,
    digraphs folded, doubles collapsed): ``ghaly`` and ``غالي`` (``ghly``) both give ``gl``."""
    for digraph, single in _DIGRAPHS:
        token = token.replace(digraph, single)
    token = token.translate(_SKELETON_MAP).translate(_SKELETON_DROP)
    return "".join(ch for i, ch in enumerate(token) if i == 0 or token[i - 1] != ch)


@lru_cache(maxsize=200_000)
def metaphone(token: str) -> str:
    return jellyfish.metaphone(token) or token
