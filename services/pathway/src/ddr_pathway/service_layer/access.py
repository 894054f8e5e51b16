"""Who may read which path, and how much of it.

- an auditor: every path, in full (read-only by nature of this service);
- a CNDDR officer: paths within their remit (their regions, if their token names any), in full, except a
  child's record, which they see as stage only;
- a child-protection actor: children's paths only, in full;
- a movement liaison: their own movement's members only, stage only (no screening details); another
  movement's member is answered as not found, so a liaison cannot even learn who belongs elsewhere;
- everyone else (donor, operator, ...): no path at all.

The narrower rule wins: a liaison holding another role too is still held to their movement.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ddr_pathway.domain.path import PersonPath
from ddr_runtime.auth.roles import Principal, Role

Outcome = Literal["granted", "refused", "not_found"]
View = Literal["full", "stage_only", "none"]


@dataclass(frozen=True)
class Decision:
    outcome: Outcome
    view: View
    reason_code: str


def _is_child(path: PersonPath) -> bool:
    return path.stage.startswith("child_protection")


def decide(principal: Principal, path: PersonPath | None) -> Decision:
    if path is None:
        return Decision("not_found", "none", "no_such_person")
    if principal.has_role(Role.MOVEMENT_LIAISON):
        if path.movement is None or not principal.covers_movement(path.movement):
            return Decision("not_found", "none", "other_movement")
        return Decision("granted", "stage_only", "own_movement_member")
    if principal.has_role(Role.AUDITOR):
        return Decision("granted", "full", "auditor")
    if principal.has_role(Role.CHILD_PROTECTION) and _is_child(path):
        return Decision("granted", "full", "child_record")
    if principal.has_role(Role.CNDDR_OFFICER):
        if principal.regions and (path.region is None or not principal.covers_region(path.region)):
            return Decision("refused", "none", "outside_region")
        if _is_child(path):
            return Decision("granted", "stage_only", "child_record_restricted")
        return Decision("granted", "full", "within_remit")
    return Decision("refused", "none", "role_not_allowed")
