"""Whether a person's record is a child's: the one rule (``ddr_runtime.auth.visibility``) read from facts.

A record is a child's when the person was under 18 at registration (the youngest they can be: a birth year
alone counts as born on 31 December), was listed or screened in the ``child`` category, or was identified as
a child at screening (separated, handed over, or sent to the child-protection track). Once a child's record,
always one: a later adult finding does not open it to other roles.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date

from ddr_pathway.domain.facts import Fact

ADULT_AGE = 18
_CHILD_KINDS = frozenset({"child", "child_handover"})
_REGISTRATION_KINDS = frozenset({"pre_registered", "correction"})
CHILD_EVIDENCE_KINDS = (*_CHILD_KINDS, *_REGISTRATION_KINDS, "screening")
"""The kinds of fact that can make a record a child's (with any fact in the ``child`` category)."""


def youngest_age(birth_year: int, on: date) -> int:
    """Age in whole years on ``on`` of someone born in ``birth_year``, taken as born on 31 December."""
    return on.year - birth_year - ((on.month, on.day) < (12, 31))


def is_child_record(facts: Iterable[Fact]) -> bool:
    registered_on: date | None = None
    birth_years: set[int] = set()
    for fact in facts:
        if fact.kind in _CHILD_KINDS or fact.category == "child":
            return True
        if fact.kind == "screening" and fact.value == "child_protection":
            return True
        if fact.kind in _REGISTRATION_KINDS and fact.birth_year is not None:
            birth_years.add(fact.birth_year)
        if fact.kind == "pre_registered":
            day = fact.valid_from.date()
            registered_on = day if registered_on is None else min(registered_on, day)
    if registered_on is None:
        return False
    return any(youngest_age(year, registered_on) < ADULT_AGE for year in birth_years)


def child_records(facts: Iterable[Fact], survivor: Mapping[str, str]) -> set[str]:
    """Every id of a child's record: the record as it stands after ``survivor``'s merges, and each record
    merged into it (so a figure as known before a merge counts the absorbed record as a child's too)."""
    by_person: dict[str, list[Fact]] = {}
    for fact in facts:
        if fact.person_id:
            by_person.setdefault(survivor.get(fact.person_id, fact.person_id), []).append(fact)
    children = {person for person, items in by_person.items() if is_child_record(items)}
    return children | {absorbed for absorbed, into in survivor.items() if into in children}
