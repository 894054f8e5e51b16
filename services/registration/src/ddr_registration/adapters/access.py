"""Row-level access to people: a movement liaison sees their own movement only; children's records are
seen in full only by the CNDDR, child protection and auditors. Every query that returns people uses these."""

from __future__ import annotations

from sqlalchemy import ColumnElement, FromClause, and_, true

from ddr_registration.adapters.tables import persons
from ddr_runtime.auth.roles import Principal, Role

CHILD_RECORD_READERS = (Role.CNDDR_OFFICER, Role.CHILD_PROTECTION, Role.AUDITOR)
BROAD_READERS = (Role.CNDDR_OFFICER, Role.NIC_OFFICER, Role.AUDITOR, Role.CTS_OFFICER)


def _children_only(principal: Principal) -> bool:
    """Child protection sees children's records, and only those (unless another role gives more)."""
    return principal.has_role(Role.CHILD_PROTECTION) and not principal.has_any(
        *BROAD_READERS, Role.MOVEMENT_LIAISON
    )


def may_see_person(principal: Principal, movement: str, category: str) -> bool:
    if not principal.covers_movement(movement):
        return False
    if category == "child":
        return principal.has_any(*CHILD_RECORD_READERS)
    return not _children_only(principal)


def visible_persons(principal: Principal, table: FromClause = persons) -> ColumnElement[bool]:
    """The condition on ``persons`` rows (or an alias of that table) this caller may see."""
    conditions: list[ColumnElement[bool]] = []
    if Role.MOVEMENT_LIAISON in principal.roles:
        conditions.append(table.c.movement == (principal.movement or ""))
    if not principal.has_any(*CHILD_RECORD_READERS):
        conditions.append(table.c.category != "child")
    if _children_only(principal):
        conditions.append(table.c.category == "child")
    return and_(true(), *conditions)


def may_see_movement(principal: Principal, movement: str) -> bool:
    return principal.covers_movement(movement)
