"""Why two records may be one person, as codes and figures that identify nobody, and the readable text built
from them for a reader allowed to see both people.

A :class:`Reason` is what is stored (in events, the read model, Kafka, bundles): a kind from :data:`KINDS`
and, for a similarity, a score between 0 and 1. Never a name, a date, a place or any other value of either
record: "names 100% alike" is stored as ``Reason("name_similarity", 1.0)``. :func:`explain` turns reasons into
sentences, adding both people's names where a sentence needs them; it is called when a case is shown, with
names just opened from the two records, and its text is never stored.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["KINDS", "Reason", "explain"]


@dataclass(frozen=True)
class Reason:
    """One piece of evidence: a :data:`KINDS` code, and a similarity (0..1) for the kinds that have one."""

    kind: str
    score: float | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown reason kind {self.kind!r}")
        if self.score is not None and not 0.0 <= self.score <= 1.0:
            raise ValueError("a reason's score is a similarity between 0 and 1")


KINDS: dict[str, str] = {
    # certainty
    "biometric_same": "same biometric reference",
    "biometric_different": "different biometric references",
    # names ({score}: the similarity; {first} / {second}: both names, only when shown to a permitted reader)
    "name_similarity": "names {score:.0%} alike",
    "across_scripts": "names compared across scripts (Latin and Arabic)",
    "no_comparable_name": "no comparable name",
    "given_name_different": "different given names",
    "surname_different": "different family names or fathers' names (after Ag / Ould)",
    "given_and_father_swapped": "given name and father's name swapped",
    "relatives_likely": "more likely relatives (brothers, twins) than one person listed twice",
    # birth
    "birth_year_same": "same birth year",
    "birth_year_one_apart": "birth years one apart",
    "birth_year_two_apart": "birth years two apart",
    "birth_years_far_apart": "birth years three or more apart",
    "birth_year_unknown": "birth year unknown",
    "birth_day_same": "same day and month of birth",
    "birth_day_different": "different days of birth",
    "birth_day_placeholder": "a date of birth standing for an unknown day (1 January, 31 December)",
    "sex_different": "different sexes",
    # origin
    "origin_same_commune": "same commune",
    "origin_same_cercle": "same cercle",
    "origin_same_region": "same region",
    "origin_different_communes": "different communes",
    "origin_different_cercles": "different cercles",
    "origin_different_regions": "different regions",
    "origin_unknown": "origin unknown",
    # family
    "father_same": "same father's name",
    "father_part": "father's name given in part",
    "father_close": "fathers' names alike",
    "father_different": "different fathers' names",
    "mother_same": "same mother's name",
    "mother_part": "mother's name given in part",
    "mother_close": "mothers' names alike",
    "mother_different": "different mothers' names",
    "birth_place_same": "same place of birth",
    "birth_place_different": "different places of birth",
}
"""Every reason kind, with the sentence a reader is shown for it."""

_NAMED = frozenset({"name_similarity"})


def explain(reasons: Iterable[Reason], first: str | None = None, second: str | None = None) -> list[str]:
    """Each reason as a sentence; a name similarity quotes both names when both are given (a reader allowed to
    see both people), ``(erased)`` for a name no longer on record."""
    sentences = []
    for reason in reasons:
        text = KINDS[reason.kind].format(score=reason.score or 0.0)
        if reason.kind in _NAMED and (first is not None or second is not None):
            text += f" ({first or '(erased)'} / {second or '(erased)'})"
        sentences.append(text)
    return sentences
