"""Who may see what of a person's record: the one rule every service and pathway applies.

Children (anyone under 18 at registration, or identified as one at screening) are seen only by child
protection: to every other role a child's record answers exactly like a missing one, and refusals say
nothing that would tell a child from an unknown id. Medical and vetting detail is seen by the roles that
record it and by auditors; everyone else sees at most the outcome a route exists for (fit or unfit,
cleared or excluded). Counts of children and of medical or vetting categories shown to anyone else pass
through :func:`disclose_count`.
"""

from __future__ import annotations

from ddr_runtime.auth.roles import Principal, Role

SMALL_COUNT = 5
"""Counts below this are suppressed for roles outside a protected category; others are rounded down to a
multiple of it, so the difference between two dates (or two cells) is never a small number either."""

_MEDICAL = frozenset({Role.EXAMINER, Role.AUDITOR})
_VETTING = frozenset({Role.VETTING_OFFICER, Role.AUDITOR})


def sees_children(principal: Principal) -> bool:
    """Whether ``principal`` may see that a child's record exists, and what it holds."""
    return principal.has_role(Role.CHILD_PROTECTION)


def sees_medical_detail(principal: Principal) -> bool:
    """Whether ``principal`` may see medical findings beyond fit or unfit."""
    return principal.has_any(*_MEDICAL)


def sees_vetting_detail(principal: Principal) -> bool:
    """Whether ``principal`` may see vetting findings (allegations, their references) beyond the outcome."""
    return principal.has_any(*_VETTING)


def disclose_count(n: int) -> int | None:
    """A protected count as shown outside its category: None below :data:`SMALL_COUNT` (zero included, so
    "none" and "a few" look alike), else rounded down to a multiple of it."""
    if n < 0:
        raise ValueError("a count cannot be negative")
    if n < SMALL_COUNT:
        return None
    return n - n % SMALL_COUNT
