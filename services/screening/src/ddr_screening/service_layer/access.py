"""Who sees what of a screening case.

Children's records (and those of anyone possibly a child) are seen in full by child protection only; anyone
else sees at most that the case is restricted. Medical details are for examiners and screening officers;
others see fit or unfit. A movement liaison sees only the outcomes of its own movement's members.
"""

from __future__ import annotations

from ddr_runtime.auth.roles import Principal, Role
from ddr_screening.domain.visibility import CaseFilter

CASE_READERS = (
    Role.SCREENING_OFFICER,
    Role.EXAMINER,
    Role.VETTING_OFFICER,
    Role.CHILD_PROTECTION,
    Role.AUDITOR,
    Role.MOVEMENT_LIAISON,
)
MEDICAL_DETAIL_READERS = (Role.EXAMINER, Role.SCREENING_OFFICER)
PERSONAL_TEXT_READERS = (Role.SCREENING_OFFICER, Role.EXAMINER, Role.VETTING_OFFICER)


def sees_restricted(principal: Principal) -> bool:
    return principal.has_role(Role.CHILD_PROTECTION)


def outcome_only(principal: Principal) -> bool:
    """A movement liaison sees outcomes alone, whatever other role it holds (the narrower rule wins)."""
    return principal.has_role(Role.MOVEMENT_LIAISON)


def may_see_case(principal: Principal, movement: str, region: str, restricted: bool) -> bool:
    """Whether the caller may see this case in full (restricted cases: child protection only)."""
    if not principal.covers_movement(movement) or not principal.covers_region(region):
        return False
    if restricted:
        return sees_restricted(principal) and not outcome_only(principal)
    return not _children_only(principal)


def _children_only(principal: Principal) -> bool:
    return principal.has_role(Role.CHILD_PROTECTION) and not principal.has_any(
        Role.SCREENING_OFFICER, Role.EXAMINER, Role.VETTING_OFFICER, Role.AUDITOR, Role.MOVEMENT_LIAISON
    )


def visible_cases(principal: Principal) -> CaseFilter:
    """The cases the caller may list in full."""
    restricted: bool | None = None
    if _children_only(principal):
        restricted = True
    elif not sees_restricted(principal) or outcome_only(principal):
        restricted = False
    return CaseFilter(
        movement=(principal.movement or "") if Role.MOVEMENT_LIAISON in principal.roles else None,
        regions=principal.regions,
        restricted=restricted,
    )


def medical_view(principal: Principal, result: str | None) -> str | None:
    """The medical result as the caller may see it: fit / temporarily unfit / unfit, or just fit / unfit."""
    if result is None or principal.has_any(*MEDICAL_DETAIL_READERS):
        return result
    return "fit" if result == "fit" else "unfit"
