"""Who may call what, declared once for the service (see the roles table of docs/cvr.md).

Writes name their roles in the route's ``dependencies`` and take the caller from the command's context;
reads take the caller as one of the ``Annotated`` aliases below.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends

from ddr_runtime.auth.dependencies import require_roles
from ddr_runtime.auth.roles import Principal, Role


def allowed(*roles: Role) -> list[Any]:
    """A route's ``dependencies``: callers holding any of ``roles`` (403 for others)."""
    return [Depends(require_roles(*roles))]


OFFICER = allowed(Role.CNDDR_OFFICER)
PARTNER_OR_OFFICER = allowed(Role.CVR_PARTNER, Role.CNDDR_OFFICER)
COMMITTEE = allowed(Role.COMMITTEE_MEMBER)

Reader = Annotated[
    Principal,
    Depends(require_roles(Role.CVR_PARTNER, Role.COMMITTEE_MEMBER, Role.CNDDR_OFFICER, Role.AUDITOR)),
]
"""Reads projects, participants and partners (a partner its own; a committee member its regions)."""
ParticipantReader = Annotated[
    Principal, Depends(require_roles(Role.CVR_PARTNER, Role.CNDDR_OFFICER, Role.AUDITOR))
]
"""Reads participants' names and telephones: the partner running the project, the CNDDR, auditors. Committee
members decide on projects from their aggregates (``/projects/{id}/targets``), never from identities."""
PartnerLister = Annotated[
    Principal, Depends(require_roles(Role.CNDDR_OFFICER, Role.AUDITOR, Role.COMMITTEE_MEMBER))
]
QueueReader = Annotated[
    Principal, Depends(require_roles(Role.COMMITTEE_MEMBER, Role.CNDDR_OFFICER, Role.AUDITOR))
]
FigureReader = Annotated[Principal, Depends(require_roles(Role.DONOR, Role.CNDDR_OFFICER, Role.AUDITOR))]
"""Aggregates only: donors see the programme's figures, never a project or a person."""
Monitor = Annotated[Principal, Depends(require_roles(Role.CNDDR_OFFICER, Role.AUDITOR))]
