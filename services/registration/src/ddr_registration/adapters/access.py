"""Row-level access to people, applied in every query that returns them (never after paging).

- A movement liaison sees their own movement only (``Principal.covers_movement``).
- A caller scoped to regions (the token's ``regions`` claim) sees people of those regions only.
- A child's record is seen by child protection alone (``ddr_runtime.auth.visibility.sees_children``): to
  every other role it answers exactly like a missing one. A child is anyone listed as a child, or certainly
  under 18 by their birth year when they were registered (listed, before registration).
- A caller holding child protection and no other reading role sees children's records only.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, FromClause, and_, case, extract, false, func, or_, true

from ddr_registration.adapters.tables import persons
from ddr_registration.domain.persons import Person
from ddr_runtime.auth.roles import Principal, Role
from ddr_runtime.auth.visibility import sees_children

ADULT_AGE = 18
BROAD_READERS = (Role.CNDDR_OFFICER, Role.NIC_OFFICER, Role.AUDITOR, Role.CTS_OFFICER, Role.MOVEMENT_LIAISON)


def _children_only(principal: Principal) -> bool:
    """Child protection sees children's records, and only those (unless another role gives more)."""
    return principal.has_role(Role.CHILD_PROTECTION) and not principal.has_any(*BROAD_READERS)


def is_child(category: str | None, birth_year: int | None, at: datetime | None) -> bool:
    """Listed as a child, or possibly under 18 at ``at`` (registration, else listing) by the birth year: a
    birth year alone counts as born on 31 December, as screening, pathway and CVR count it (the safe side:
    someone who may be 17 is a child until child protection assesses the age)."""
    if category == "child":
        return True
    if birth_year is None or at is None:
        return False
    return at.year - birth_year - ((at.month, at.day) < (12, 31)) < ADULT_AGE


def child_record(table: FromClause = persons) -> ColumnElement[bool]:
    """SQL twin of :func:`is_child` on ``persons`` rows (or an alias of that table)."""
    moment = func.coalesce(table.c.registered_at, table.c.listed_at)
    before_birthday = case(
        (or_(extract("month", moment) < 12, extract("day", moment) < 31), 1),
        else_=0,
    )
    under_age = and_(
        table.c.birth_year.is_not(None),
        extract("year", moment) - table.c.birth_year - before_birthday < ADULT_AGE,
    )
    return or_(table.c.category == "child", under_age)


def may_see_person(
    principal: Principal,
    movement: str,
    category: str,
    region: str,
    birth_year: int | None = None,
    at: datetime | None = None,
) -> bool:
    if not principal.covers_movement(movement) or not principal.covers_region(region):
        return False
    if is_child(category, birth_year, at):
        return sees_children(principal)
    return not _children_only(principal)


def may_see_row(principal: Principal, row: Any) -> bool:
    """:func:`may_see_person` on a row of ``persons`` (or one carrying its columns)."""
    return may_see_person(
        principal,
        row.movement,
        row.category,
        row.region,
        row.birth_year,
        getattr(row, "registered_at", None) or row.listed_at,
    )


def visible_persons(principal: Principal, table: FromClause = persons) -> ColumnElement[bool]:
    """The condition on ``persons`` rows (or an alias of that table) this caller may see."""
    conditions: list[ColumnElement[bool]] = []
    if Role.MOVEMENT_LIAISON in principal.roles:
        conditions.append(table.c.movement == (principal.movement or ""))
    if principal.regions:
        conditions.append(table.c.region.in_(sorted(principal.regions)))
    if not sees_children(principal):
        conditions.append(~child_record(table))
    if _children_only(principal):
        conditions.append(child_record(table))
    if not principal.roles:
        conditions.append(false())
    return and_(true(), *conditions)


def may_see_movement(principal: Principal, movement: str) -> bool:
    return principal.covers_movement(movement)


def may_act_on(principal: Principal, person: Person) -> bool:
    """:func:`may_see_person` on a record as a command loaded it, in the command's own transaction: the
    caller may change only what they may read."""
    return may_see_person(
        principal,
        person.movement,
        person.category,
        person.region,
        person.birth_year,
        person.registered_at or person.listed_at,
    )


def may_register(principal: Principal, person: Person) -> bool:
    """Who may register this person: whoever may act on the record, and a registration officer (the CNDDR)
    within the person's movement and regions for a child too, whose record they never read.

    A child met at a site is separated at once and handed to child protection within 48 hours: registering
    them is what opens that hand-over (screening identifies the child and counts the hours), so the officer
    in front of them does it, needing no child protection role, and reads nothing of the record, then or
    after (404, as to every role but child protection)."""
    if may_act_on(principal, person):
        return True
    return (
        principal.has_role(Role.CNDDR_OFFICER)
        and principal.covers_movement(person.movement)
        and principal.covers_region(person.region)
        and is_child(person.category, person.birth_year, person.registered_at or person.listed_at)
    )
