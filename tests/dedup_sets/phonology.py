# ruff: noqa: RUF001, RUF002 - Arabic letters are this module's data, not look-alikes of Latin ones
"""Names as sounds, and how the clerks of each list write them: the noise model of the Sahel lists.

A name is kept as its sounds in a small phonemic notation, never as a spelling:

- vowels ``a i u e o``, long ``aa ii uu ee oo``;
- consonants as in Arabic transcription: ``H`` (ḥ), ``kh``, ``gh`` (ɣ), ``q``, ``c`` (ʿayn), ``'`` (hamza),
  ``sh``, ``th``, ``dh``, ``S D T Z`` (emphatics), ``j``; and ``g``, ``p``, ``ny`` for Tamasheq and Mande
  names; a doubled consonant is geminate (``muHammad``);
- ``al-`` before a word is the Arabic article (``al-Taahir``: the sun letter assimilates it, *Attaher*);
- a word made of two (``sidi muHammad``, ``cabd al-qaadir``) is written as two.

A clerk writes those sounds by the conventions of a *style*: ``french`` (Malian administration: *ou* for
/u/, *ch*, *dj*, *rh* or *gh*, *ss* between vowels, a mute final *e*, *é*), ``english`` (UN and NGO
transcription: *u*, *sh*, *j*, *kh*, *q*, *Al-*), ``national`` (the Mande national orthography: *u*, *j*,
*ny*, no doubled *s*) or ``arabic`` (Arabic script: consonants and long vowels, hamza seats, *ة* or *ه*, *ى*
or *ا*). Each choice is drawn, so one name comes out as *Mohamed*, *Mouhammad*, *Muhammed* or *محمد*. Nothing
here reads the matcher's tables: the spellings are produced, not listed.
"""

from __future__ import annotations

import random
import unicodedata
from collections.abc import Sequence
from typing import Literal

Style = Literal["french", "english", "national"]

LONG_VOWELS = frozenset({"aa", "ii", "uu", "ee", "oo"})
VOWELS = LONG_VOWELS | {"a", "i", "u", "e", "o"}
_DIGRAPHS = frozenset({"aa", "ii", "uu", "ee", "oo", "th", "dh", "kh", "sh", "gh", "ny"})
SUN_LETTERS = frozenset({"t", "th", "d", "dh", "r", "z", "s", "sh", "S", "D", "T", "Z", "l", "n"})
_BACK = frozenset({"a", "aa", "o", "oo", "u", "uu", "r", "l"})
_FRONT = frozenset({"e", "ee", "i", "ii"})


def sounds_of(word: str) -> list[str]:
    """The symbols of one phonemic word (``muHammad`` -> m u H a m m a d)."""
    symbols: list[str] = []
    i = 0
    while i < len(word):
        if word[i : i + 2] in _DIGRAPHS:
            symbols.append(word[i : i + 2])
            i += 2
        else:
            symbols.append(word[i])
            i += 1
    return symbols


def _pick(rng: random.Random, *options: tuple[str, float]) -> str:
    return rng.choices([o for o, _ in options], weights=[w for _, w in options])[0]


def _vowel_count(symbols: Sequence[str]) -> int:
    return sum(1 for s in symbols if s in VOWELS)


# --- Latin script -------------------------------------------------------------------------------------------


def _latin_vowel(symbols: Sequence[str], i: int, style: Style, rng: random.Random, foreign: bool) -> str:
    sym = symbols[i]
    nxt = symbols[i + 1] if i + 1 < len(symbols) else None
    after = symbols[i + 2] if i + 2 < len(symbols) else None
    last_closed = nxt is not None and nxt not in VOWELS and after is None and _vowel_count(symbols[:i]) > 0
    diphthong = nxt == "y" and (after is None or after not in VOWELS)
    if sym in ("a", "aa"):
        if sym == "a" and diphthong and style != "national" and rng.random() < 0.4:
            return "e"  # Souleymane, Seydou, Zeinab: *ay* heard as *ey*
        if sym == "a" and last_closed and rng.random() < (0.25 if style == "french" else 0.1):
            return "e"  # Mohamed, Ahmed: the final *a* of Arabic heard as *e*
        return "a"
    if sym in ("u", "uu"):
        if style == "national":
            return "u"
        if style == "english":
            return _pick(rng, ("u", 0.85), ("ou", 0.1), ("oo" if sym == "uu" else "o", 0.05))
        if foreign:
            return _pick(rng, ("ou", 0.95), ("u", 0.05))
        if sym == "u":
            return _pick(rng, ("ou", 0.72), ("o", 0.22), ("u", 0.06))
        return _pick(rng, ("ou", 0.93), ("u", 0.05), ("o", 0.02))
    if sym in ("i", "ii"):
        if style == "english" and sym == "ii":
            return _pick(rng, ("i", 0.82), ("ee", 0.18))
        if nxt is None and style == "french" and rng.random() < 0.25:
            return "y"  # Coulibaly, Sidy, Ghaly
        if sym == "i" and style != "national" and not foreign:
            return _pick(rng, ("i", 0.9), ("e", 0.1))
        return "i"
    if sym in ("e", "ee"):
        if style == "french":
            return _pick(rng, ("é", 0.6), ("e", 0.3), ("è", 0.1))
        return "e"
    return "o"


def _latin_consonant(symbols: Sequence[str], i: int, style: Style, rng: random.Random) -> str:
    sym = symbols[i]
    prev = symbols[i - 1] if i > 0 else None
    nxt = symbols[i + 1] if i + 1 < len(symbols) else None
    # a vowel before, or a vowel and y (Aïssata): French doubles the s to keep it unvoiced
    after_vowel = prev in VOWELS or (prev == "y" and i > 1 and symbols[i - 2] in VOWELS)
    between_vowels = after_vowel and nxt in VOWELS
    if sym in ("c", "'"):
        return ""  # ʿayn and hamza are not written in Latin lists
    if sym == "H":
        return "" if i == 0 and rng.random() < 0.06 else "h"  # Assane for Hassane
    if sym in ("s", "S"):
        if between_vowels and style == "french":
            return _pick(rng, ("ss", 0.85), ("s", 0.15))
        return "s"
    if sym == "sh":
        return {"french": _pick(rng, ("ch", 0.9), ("sh", 0.1)), "english": "sh", "national": "s"}[style]
    if sym == "j":
        if style == "french":
            if nxt in ("a", "aa", "o", "oo", "u", "uu"):
                return _pick(rng, ("di", 0.45), ("dj", 0.4), ("j", 0.15))
            return _pick(rng, ("dj", 0.75), ("j", 0.25))
        return "j"
    if sym == "kh":
        if style == "national":
            return "k"
        return _pick(rng, ("kh", 0.82), ("k", 0.1), ("h", 0.08))
    if sym == "gh":
        if style == "french":
            return _pick(rng, ("gh", 0.55), ("rh", 0.4), ("g", 0.05))
        return "g" if style == "national" else _pick(rng, ("gh", 0.9), ("g", 0.1))
    if sym == "q":
        if style == "english":
            return _pick(rng, ("q", 0.7), ("k", 0.3))
        if style == "french" and (nxt is None or nxt in _BACK):
            return _pick(rng, ("k", 0.45), ("c", 0.35), ("q", 0.2))
        return _pick(rng, ("k", 0.7), ("q", 0.3)) if style == "french" else "k"
    if sym == "k":
        if style == "french" and (nxt is None or nxt in _BACK):
            return _pick(rng, ("c", 0.6), ("k", 0.4))
        return "k"
    if sym == "g":
        return "gu" if style == "french" and nxt in _FRONT else "g"
    if sym == "th":
        if style == "english":
            return _pick(rng, ("th", 0.6), ("t", 0.2), ("s", 0.2))
        return _pick(rng, ("s", 0.5), ("t", 0.35), ("th", 0.15)) if style == "french" else "s"
    if sym == "dh":
        return _pick(rng, ("d", 0.45), ("z", 0.35), ("dh", 0.2)) if style != "national" else "z"
    if sym == "ny":
        return _pick(rng, ("gn", 0.5), ("ny", 0.5)) if style == "french" else "ny"
    if sym == "w":
        if style == "french" and (nxt in VOWELS or prev in VOWELS):
            return _pick(rng, ("ou", 0.6), ("w", 0.4))
        return "w"
    if sym == "y":
        if prev in VOWELS and (nxt is None or nxt not in VOWELS):
            return _pick(rng, ("ï", 0.3), ("y", 0.35), ("i", 0.35)) if style == "french" else "y"
        return "y"
    return {"D": "d", "T": "t", "Z": "z"}.get(sym, sym)


def latin_word(word: str, style: Style, rng: random.Random, *, foreign: bool = False) -> str:
    """One phonemic word written in Latin script by a clerk of ``style`` (capitalised); a ``foreign`` word
    (Tamasheq, Mande, Fulfulde) keeps its vowels as heard."""
    article = word.startswith("al-")
    symbols = sounds_of(word[3:] if article else word)
    out: list[str] = []
    for i, sym in enumerate(symbols):
        if sym not in VOWELS and i > 0 and sym == symbols[i - 1]:  # the second half of a geminate
            keep = {"french": 0.55, "english": 0.8, "national": 0.5}[style]
            if out and len(out[-1]) == 1 and out[-1].isalpha() and rng.random() < keep:
                out.append(out[-1])
            continue
        written = (
            _latin_vowel(symbols, i, style, rng, foreign)
            if sym in VOWELS
            else _latin_consonant(symbols, i, style, rng)
        )
        if (
            sym not in VOWELS
            and sym not in ("h", "H", "y", "w")
            and written.isalpha()
            and len(written) == 1
            and 0 < i < len(symbols) - 1
            and symbols[i - 1] in VOWELS
            and symbols[i + 1] in VOWELS
            and rng.random() < 0.03
        ):
            written += written  # a clerk's doubled letter: Hamma, Issa, Bakkary
        out.append(written)
    text = "".join(out)
    last = symbols[-1] if symbols else ""
    mute_e = 0.7 if len(symbols) > 2 and symbols[-2] in LONG_VOWELS else 0.25
    if style == "french" and last in ("n", "m", "l") and len(symbols) > 2 and symbols[-2] in VOWELS:
        text += "e" if rng.random() < mute_e else ""  # the mute e of French: Ousmane, Souleymane, Lamine
    text = _capital(text)
    if article:
        text = _latin_article(symbols, text, style, rng)
    return text


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:] if text else text


def _latin_article(symbols: Sequence[str], body: str, style: Style, rng: random.Random) -> str:
    """``al-`` before ``body``: joined (*Alhousseini*, *Attaher*), apart (*El Mehdi*), or left out."""
    sun = bool(symbols) and symbols[0] in SUN_LETTERS
    if style == "english":
        form = _pick(rng, ("hyphen", 0.5), ("apart", 0.2), ("joined", 0.15), ("dropped", 0.15))
        article = "A" + body[0].lower() if sun and rng.random() < 0.3 else "Al"
    else:
        form = _pick(rng, ("joined", 0.5), ("apart", 0.2), ("dropped", 0.25), ("hyphen", 0.05))
        article = _pick(rng, ("Al", 0.5), ("El", 0.5))
        if sun and form == "joined":
            article = "A" + (body[0].lower() if rng.random() < 0.6 else "")
    if form == "dropped":
        return body
    if form == "joined":
        return article + body.lower()
    return article + (" " if form == "apart" else "-") + body


def latin_words(
    words: Sequence[str], style: Style, rng: random.Random, *, foreign: bool = False
) -> list[str]:
    """A name of one or more phonemic words in Latin script. *cabd al-X* ("servant of X") is written as one
    word or two, with the article as *el*, *oul*, *ou* or *al*, assimilated before a sun letter
    (*Abdelkader*, *Abdoul Kader*, *Abderrahmane*, *Abdourahmane*, *Abd al-Rahman*)."""
    out: list[str] = []
    i = 0
    while i < len(words):
        word = words[i]
        if word == "cabd" and i + 1 < len(words) and words[i + 1].startswith("al-"):
            out.extend(_abd(words[i + 1][3:], style, rng))
            i += 2
            continue
        out.append(latin_word(word, style, rng, foreign=foreign))
        i += 1
    return out


def _abd(rest: str, style: Style, rng: random.Random) -> list[str]:
    symbols = sounds_of(rest)
    body = latin_word(rest, style, rng)
    sun = bool(symbols) and symbols[0] in SUN_LETTERS
    if style == "english":
        link = _pick(rng, ("ul", 0.45), ("el", 0.25), (" al-", 0.3))
    else:
        link = _pick(rng, ("el", 0.45), ("oul", 0.4), ("al", 0.05), (" el ", 0.1))
    if sun and link in ("ul", "oul") and rng.random() < 0.7:
        link = link[:-1] + body[0].lower()  # Abdour-rahmane, Abdus-salam
    elif sun and link == "el" and rng.random() < 0.5:
        link = "e" + body[0].lower()  # Abder-rahmane
    if link.startswith(" "):
        return (
            ["Abd", link.strip() + body] if link.endswith("-") else ["Abd", link.strip().capitalize(), body]
        )
    if rng.random() < 0.25:
        return ["Abd" + link, body]  # Abdoul Kader, Abdel Kader
    return ["Abd" + link + body.lower()]


# --- Arabic script ------------------------------------------------------------------------------------------

_ARABIC = {
    "b": "ب",
    "t": "ت",
    "th": "ث",
    "j": "ج",
    "H": "ح",
    "kh": "خ",
    "d": "د",
    "dh": "ذ",
    "r": "ر",
    "z": "ز",
    "s": "س",
    "sh": "ش",
    "S": "ص",
    "D": "ض",
    "T": "ط",
    "Z": "ظ",
    "c": "ع",
    "gh": "غ",
    "f": "ف",
    "q": "ق",
    "k": "ك",
    "l": "ل",
    "m": "م",
    "n": "ن",
    "h": "ه",
    "w": "و",
    "y": "ي",
    "p": "ب",
    "ny": "ني",
}


def _arabic_initial(sym: str, rng: random.Random) -> str:
    """A word-initial vowel on its alef: with its hamza (أ / إ) or, as often in lists, without."""
    seat = "إ" if sym in ("i", "ii", "e", "ee") else "أ"
    if sym == "aa" and rng.random() < 0.5:
        return "آ"
    alef = seat if rng.random() < 0.55 else "ا"
    if sym in ("ii", "ee"):
        return alef + "ي"
    if sym in ("uu", "oo"):
        return alef + "و"
    return alef


def arabic_word(word: str, rng: random.Random, *, feminine: bool = False, foreign: bool = False) -> str:
    """One phonemic word in Arabic script: consonants and long vowels (all vowels for a ``foreign`` name,
    as Arabic writes Mande or Tamasheq names), a feminine final *a* as *ة* or *ه*."""
    article = word.startswith("al-")
    symbols = sounds_of(word[3:] if article else word)
    out: list[str] = ["ال"] if article else []
    last = len(symbols) - 1
    for i, sym in enumerate(symbols):
        prev = symbols[i - 1] if i > 0 else None
        if sym not in VOWELS and sym == prev:
            continue  # a geminate: one letter (the shadda is not written)
        if sym in VOWELS:
            at_start = i == 0 or (i == 1 and prev in ("'",))
            if at_start and not article:
                out.append(_arabic_initial(sym, rng))
            elif i == last and sym == "a" and feminine:
                out.append(_pick(rng, ("ة", 0.7), ("ه", 0.2), ("ا", 0.1)))
            elif i == last and sym == "aa":
                out.append(_pick(rng, ("ى", 0.5), ("ا", 0.5)))
            elif sym in LONG_VOWELS or foreign or i == last:
                out.append({"a": "ا", "aa": "ا", "i": "ي", "ii": "ي", "e": "ي", "ee": "ي"}.get(sym, "و"))
            continue
        if sym == "'":
            if i == 0:
                continue  # the alef that carries the following vowel is written with it
            nxt = symbols[i + 1] if i + 1 < len(symbols) else None
            out.append("ئ" if nxt in ("i", "ii") else "ء")
            continue
        if sym == "g":
            out.append(_pick(rng, ("ق", 0.5), ("غ", 0.3), ("ك", 0.2)))
            continue
        out.append(_ARABIC.get(sym, ""))
    return "".join(out)


def arabic_name(words: Sequence[str], rng: random.Random, *, feminine: bool, foreign: bool) -> str:
    parts = [
        arabic_word(w, rng, feminine=feminine and k == len(words) - 1, foreign=foreign)
        for k, w in enumerate(words)
    ]
    text = " ".join(parts)
    if text.startswith("عبد ال") and rng.random() < 0.35:
        text = "عبدال" + text[len("عبد ال") :]  # عبد الله / عبدالله
    return text


# --- a clerk's slips ----------------------------------------------------------------------------------------


def slip(word: str, rng: random.Random) -> str:
    """One slip of the pen in a Latin word: a letter dropped, doubled, swapped or a vowel miswritten."""
    if len(word) < 5:
        return word
    i = rng.randrange(1, len(word) - 1)
    kind = rng.random()
    if kind < 0.3:
        return word[:i] + word[i + 1 :]
    if kind < 0.6:
        return word[:i] + word[i] + word[i:]
    if kind < 0.8:
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    vowels = [k for k in range(1, len(word)) if word[k] in "aeiou"]
    if not vowels:
        return word
    k = rng.choice(vowels)
    return word[:k] + rng.choice([v for v in "aeiou" if v != word[k]]) + word[k + 1 :]


def ascii_fold(text: str) -> str:
    """Diacritics dropped, as a keyboard without accents writes it."""
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
