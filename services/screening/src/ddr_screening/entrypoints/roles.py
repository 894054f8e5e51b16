"""Who may call what: the role sets of the screening service, declared once, as dependency aliases."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from ddr_runtime.auth.dependencies import require_roles
from ddr_runtime.auth.roles import Principal, Role
from ddr_runtime.http.problems import Forbidden
from ddr_screening.service_layer.access import CASE_READERS

Reader = Annotated[Principal, Depends(require_roles(*CASE_READERS))]
QueueReader = Annotated[
    Principal,
    Depends(
        require_roles(
            Role.SCREENING_OFFICER, Role.EXAMINER, Role.VETTING_OFFICER, Role.CHILD_PROTECTION, Role.AUDITOR
        )
    ),
]
OutcomeReader = Annotated[
    Principal, Depends(require_roles(Role.SCREENING_OFFICER, Role.AUDITOR, Role.MOVEMENT_LIAISON))
]
FigureReader = Annotated[Principal, Depends(require_roles(Role.SCREENING_OFFICER, Role.AUDITOR))]
OverdueReader = Annotated[
    Principal, Depends(require_roles(Role.CHILD_PROTECTION, Role.SCREENING_OFFICER, Role.AUDITOR))
]
RuleReader = Annotated[
    Principal, Depends(require_roles(Role.SCREENING_OFFICER, Role.AUDITOR, Role.VETTING_OFFICER))
]
VettingReader = Annotated[Principal, Depends(require_roles(Role.VETTING_OFFICER, Role.AUDITOR))]

Examiner = Annotated[Principal, Depends(require_roles(Role.EXAMINER))]
Officer = Annotated[Principal, Depends(require_roles(Role.SCREENING_OFFICER))]
VettingOfficer = Annotated[Principal, Depends(require_roles(Role.VETTING_OFFICER))]
ChildProtection = Annotated[Principal, Depends(require_roles(Role.CHILD_PROTECTION))]
AgeAssessor = Annotated[Principal, Depends(require_roles(Role.CHILD_PROTECTION))]  # only child protection
# Appeals: child protection lodges and decides those of age decisions, a screening officer the others
# (service_layer.access.APPEAL_ROLE, checked on the case in the command's transaction).
Appellant = Annotated[Principal, Depends(require_roles(Role.SCREENING_OFFICER, Role.CHILD_PROTECTION))]


def nationally_scoped(principal: Principal) -> Principal:
    """``principal`` if its token is of every region (no ``regions`` claim): what applies programme-wide (a
    rule set, the vetting list) is no regional office's to publish. A regional token is refused 403."""
    if principal.regions:
        raise Forbidden("this applies programme-wide: it needs a token of every region (no regions claim)")
    return principal


async def _national_officer(principal: Officer) -> Principal:
    return nationally_scoped(principal)


async def _national_vetting_officer(principal: VettingOfficer) -> Principal:
    return nationally_scoped(principal)


NationalOfficer = Annotated[Principal, Depends(_national_officer)]
NationalVettingOfficer = Annotated[Principal, Depends(_national_vetting_officer)]

# Which roles work each queue (an auditor reads them all; children's queues, to anyone but child protection,
# are a count through disclose_count; the medical queue is medical detail: examiners and auditors).
QUEUE_ROLES: dict[str, tuple[Role, ...]] = {
    "age_assessment": (Role.CHILD_PROTECTION, Role.AUDITOR),
    "handover": (Role.CHILD_PROTECTION, Role.AUDITOR),
    "medical": (Role.EXAMINER, Role.AUDITOR),
    "vetting": (Role.VETTING_OFFICER, Role.SCREENING_OFFICER, Role.AUDITOR),
    "weapon": (Role.SCREENING_OFFICER, Role.AUDITOR),
    "outcome": (Role.SCREENING_OFFICER, Role.AUDITOR),
}
