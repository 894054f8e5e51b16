"""Who sees and does what on a screening case: screening's use of the platform's one rule
(``ddr_runtime.auth.visibility``).

Children's records, and those of anyone possibly a child (age unknown and not yet assessed: "restricted"), are
seen and acted on by child protection only: to every other role they answer exactly like a missing case. A
caller scoped to some regions, or a movement liaison to its movement, sees and acts on nothing outside them,
the same way. Medical detail (``temporarily_unfit``, findings) is for ``sees_medical_detail``; vetting detail
(allegations, their references and reasons) for ``sees_vetting_detail``; everyone else sees the outcome.
"""

from __future__ import annotations

from typing import Literal

from ddr_runtime.auth.roles import Principal, Role
from ddr_runtime.auth.visibility import sees_children, sees_medical_detail
from ddr_screening.domain.values import DecisionKind
from ddr_screening.domain.visibility import CaseFilter

CASE_READERS = (
    Role.SCREENING_OFFICER,
    Role.EXAMINER,
    Role.VETTING_OFFICER,
    Role.CHILD_PROTECTION,
    Role.AUDITOR,
    Role.MOVEMENT_LIAISON,
)
PERSONAL_TEXT_READERS = (Role.SCREENING_OFFICER, Role.EXAMINER, Role.VETTING_OFFICER)

Act = Literal["screen", "protect", "assess_age"]
"""What a command does to a case: screen an adult (every decision but the two below), protect a child (the
hand-over), assess an age (on any case: an adult's age may be challenged)."""

APPEAL_ROLE: dict[DecisionKind, Role] = {
    "age": Role.CHILD_PROTECTION,  # the age assessment and its appeal sit with child protection
    "medical": Role.SCREENING_OFFICER,
    "vetting": Role.SCREENING_OFFICER,
    "membership": Role.SCREENING_OFFICER,
    "handling_test": Role.SCREENING_OFFICER,
}
"""Who lodges and decides the appeal of each kind of decision."""

_ACT_OF: dict[Role, Act] = {Role.SCREENING_OFFICER: "screen", Role.CHILD_PROTECTION: "assess_age"}


class RoleRequired(Exception):
    """The command needs ``role``, which the caller lacks: answered exactly as a route it may not use."""

    def __init__(self, role: Role) -> None:
        super().__init__(f"this needs the role {role}")
        self.role = role


def appeal_acts(principal: Principal) -> list[Act]:
    """What the caller's roles let it do on a case whose decisions it appeals (it must be allowed one of them
    on the case to know of it at all)."""
    return [act for role, act in _ACT_OF.items() if principal.has_role(role)]


def appeal_act(principal: Principal, kind: DecisionKind) -> Act:
    """The act of appealing a decision of ``kind`` (or deciding that appeal); RoleRequired when the caller
    may not: a screening officer never appeals an age decision, child protection nothing else."""
    role = APPEAL_ROLE[kind]
    if not principal.has_role(role):
        raise RoleRequired(role)
    return _ACT_OF[role]


def outcome_only(principal: Principal) -> bool:
    """A movement liaison sees outcomes alone, whatever other role it holds (the narrower rule wins)."""
    return principal.has_role(Role.MOVEMENT_LIAISON)


def covers(principal: Principal, movement: str, region: str) -> bool:
    return principal.covers_movement(movement) and principal.covers_region(region)


def may_see_case(principal: Principal, movement: str, region: str, restricted: bool) -> bool:
    """Whether the caller may know of this case at all (else it answers as a missing one)."""
    if not covers(principal, movement, region):
        return False
    if restricted:
        return sees_children(principal) and not outcome_only(principal)
    return not _children_only(principal)


def may_act(principal: Principal, act: Act, movement: str, region: str, restricted: bool) -> bool:
    """Whether the caller may record ``act`` on this case (checked in the command's transaction, before the
    case decides anything: a refusal changes nothing and answers like a missing case)."""
    if not covers(principal, movement, region) or outcome_only(principal):
        return False
    if act == "screen":
        return not restricted
    if act == "protect":
        return restricted and sees_children(principal)
    return sees_children(principal)


def _children_only(principal: Principal) -> bool:
    return sees_children(principal) and not principal.has_any(
        Role.SCREENING_OFFICER, Role.EXAMINER, Role.VETTING_OFFICER, Role.AUDITOR, Role.MOVEMENT_LIAISON
    )


def visible_cases(principal: Principal) -> CaseFilter:
    """The cases the caller may list."""
    restricted: bool | None = None
    if _children_only(principal):
        restricted = True
    elif not sees_children(principal) or outcome_only(principal):
        restricted = False
    return CaseFilter(
        movement=(principal.movement or "") if Role.MOVEMENT_LIAISON in principal.roles else None,
        regions=principal.regions,
        restricted=restricted,
    )


def medical_view(principal: Principal, result: str | None) -> str | None:
    """The medical result as the caller may see it: fit / temporarily unfit / unfit, or just fit / unfit."""
    if result is None or sees_medical_detail(principal):
        return result
    return "fit" if result == "fit" else "unfit"
