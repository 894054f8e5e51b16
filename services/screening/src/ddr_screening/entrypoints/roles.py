"""Who may call what: the role sets of the screening service, declared once, as dependency aliases."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from ddr_runtime.auth.dependencies import require_roles
from ddr_runtime.auth.roles import Principal, Role
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
