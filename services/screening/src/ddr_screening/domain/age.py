"""Age at registration with the benefit of the doubt (IDDRS 5.20), and suspect documents."""

from __future__ import annotations

from datetime import date, timedelta

ADULT_AGE = 18


def youngest_age(birth_kind: str, birth_year: int | None, birth_date: date | None, on: date) -> int | None:
    """Age in whole years on ``on``, the youngest the person can be; ``None`` when nothing is known.

    A year alone counts as born on 31 December of that year, so a possible minor is never taken for an adult.
    """
    if birth_kind == "exact" and birth_date is not None:
        born = birth_date
    elif birth_kind in ("exact", "year") and birth_year is not None:
        born = date(birth_year, 12, 31)
    else:
        return None
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def is_minor(age: int | None) -> bool:
    return age is not None and age < ADULT_AGE


def document_suspect(issued_on: date | None, registered_on: date, window_days: int) -> bool:
    """A document issued within ``window_days`` before registration (or after it) is not relied on."""
    if issued_on is None:
        return False
    return issued_on > registered_on - timedelta(days=window_days)
