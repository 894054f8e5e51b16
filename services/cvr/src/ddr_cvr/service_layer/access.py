"""Row-level access: a CVR partner sees its own projects (a consortium member NGO also sees its consortium's)
and acts on its own only; a caller narrowed to regions sees those regions only. What a caller may not see
answers 404, as if it did not exist, so that a partner cannot probe another partner's projects."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import ColumnElement, and_, exists, or_, select, true

from ddr_cvr.adapters.tables import project_ngos, projects
from ddr_cvr.domain.errors import UnknownRecord
from ddr_runtime.auth.roles import Principal, Role


def may_see_project(principal: Principal, partner_id: str, ngo_ids: Iterable[str], region: str) -> bool:
    if not principal.covers_region(region):
        return False
    if Role.CVR_PARTNER in principal.roles:
        return principal.partner == partner_id or principal.partner in set(ngo_ids)
    return True


def may_edit_project(principal: Principal, partner_id: str) -> bool:
    """A partner edits its own projects only (a consortium's are edited under the consortium's id)."""
    return Role.CVR_PARTNER not in principal.roles or principal.partner == partner_id


def visible_projects(principal: Principal) -> ColumnElement[bool]:
    conditions: list[ColumnElement[bool]] = []
    if principal.regions:
        conditions.append(projects.c.region.in_(sorted(principal.regions)))
    if Role.CVR_PARTNER in principal.roles:
        member = exists(
            select(project_ngos.c.project_id).where(
                project_ngos.c.project_id == projects.c.project_id, project_ngos.c.ngo_id == principal.partner
            )
        )
        conditions.append(or_(projects.c.partner_id == (principal.partner or ""), member))
    return and_(true(), *conditions)


def hidden(project_id: str) -> UnknownRecord:
    return UnknownRecord("project", project_id)
