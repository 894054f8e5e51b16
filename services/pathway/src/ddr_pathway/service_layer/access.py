"""Who may read which path, and how much of it.

- a child's record (:mod:`ddr_pathway.domain.children`): child protection only; to every other role it
  answers exactly like a missing one;
- an auditor: every other path, each step showing the fields an auditor may see (medical and vetting detail
  included);
- a CNDDR officer: paths within their remit (their regions, if their token names any), each step showing the
  outcome fields only; a path outside their regions answers like a missing one;
- child protection: children's paths only, each step with the child's fields (no medical or vetting detail);
- a movement liaison: their own movement's members only, stage only; another movement's member answers like
  a missing one, so a liaison cannot even learn who belongs elsewhere;
- everyone else (donor, operator, ...): no path at all, whichever id they ask for (403, before any lookup).

The narrower rule wins: a liaison holding another role too is still held to their movement. The reason of a
refusal goes to the read record only, never into the answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ddr_pathway.domain.disclosure import Sights
from ddr_pathway.domain.path import PersonPath
from ddr_runtime.auth.roles import Principal, Role
from ddr_runtime.auth.visibility import sees_children, sees_medical_detail, sees_vetting_detail

Outcome = Literal["granted", "refused", "not_found"]
View = Literal["full", "stage_only", "none"]
PATH_READERS = (Role.AUDITOR, Role.CNDDR_OFFICER, Role.CHILD_PROTECTION, Role.MOVEMENT_LIAISON)


@dataclass(frozen=True)
class Decision:
    outcome: Outcome
    view: View
    reason_code: str


ROLE_NOT_ALLOWED = Decision("refused", "none", "role_not_allowed")
NOTHING_BY_THEN = Decision("not_found", "none", "no_step_by_then")
"""A path the caller may read, asked as of a date (or as known on one) before its first step."""


def may_read_paths(principal: Principal) -> bool:
    """Whether ``principal`` holds a role that reads any path at all (decided before any lookup)."""
    return principal.has_any(*PATH_READERS)


def sights(principal: Principal) -> Sights:
    return Sights(
        medical=sees_medical_detail(principal),
        vetting=sees_vetting_detail(principal),
        child=sees_children(principal),
    )


def decide(principal: Principal, path: PersonPath | None, *, child: bool) -> Decision:
    """What ``principal`` gets of ``path`` (as known now; ``child``: whether it is a child's record)."""
    if not may_read_paths(principal):
        return ROLE_NOT_ALLOWED
    if path is None:
        return Decision("not_found", "none", "no_such_person")
    if child and not sees_children(principal):
        return Decision("not_found", "none", "child_record")
    if principal.has_role(Role.MOVEMENT_LIAISON):
        if path.movement is None or not principal.covers_movement(path.movement):
            return Decision("not_found", "none", "other_movement")
        return Decision("granted", "stage_only", "own_movement_member")
    if child:
        return Decision("granted", "full", "child_record")
    if principal.has_role(Role.AUDITOR):
        return Decision("granted", "full", "auditor")
    if principal.has_role(Role.CNDDR_OFFICER):
        if principal.regions and (path.region is None or not principal.covers_region(path.region)):
            return Decision("not_found", "none", "outside_region")
        return Decision("granted", "full", "within_remit")
    return Decision("not_found", "none", "not_a_child")
