"""Who may act on what, decided on the aggregates: a CVR partner acts on its own projects only (a consortium's
under the consortium's id), a caller narrowed to regions on those regions only. What a caller may not act on
answers 404, as if it did not exist, so that a partner cannot probe another partner's projects."""

from __future__ import annotations

from collections.abc import Iterable

from ddr_cvr.domain.projects import Project
from ddr_runtime.auth.roles import Principal, Role
from ddr_runtime.kernel import RuleViolated, UnknownRecord


def may_see_project(principal: Principal, partner_id: str, ngo_ids: Iterable[str], region: str) -> bool:
    if not principal.covers_region(region):
        return False
    if Role.CVR_PARTNER in principal.roles:
        return principal.partner == partner_id or principal.partner in set(ngo_ids)
    return True


def check_may_act(principal: Principal, project: Project) -> None:
    """404 for a project the caller cannot see, and for one it sees but may not change (not its own)."""
    visible = may_see_project(principal, project.partner_id, project.ngo_ids, project.region)
    own = Role.CVR_PARTNER not in principal.roles or principal.partner == project.partner_id
    if not (visible and own):
        raise UnknownRecord("project", project.project_id)


def submitting_partner(principal: Principal, requested: str | None) -> str:
    """The partner a submission is made for: a partner submits under its own id only, an officer names it."""
    if Role.CVR_PARTNER in principal.roles:
        if requested not in (None, principal.partner):
            raise RuleViolated(
                "own-projects-only",
                "a partner submits projects under its own id only",
                figures={"field": "partner_id"},
            )
        requested = principal.partner
    if not requested:
        raise RuleViolated(
            "partner-required", "partner_id names the implementing partner", figures={"field": "partner_id"}
        )
    return requested


def may_read_partner(principal: Principal, partner_id: str, member_ids: Iterable[str]) -> bool:
    """A partner reads its own record, and a consortium's it belongs to."""
    if Role.CVR_PARTNER not in principal.roles:
        return True
    return principal.partner == partner_id or principal.partner in set(member_ids)
