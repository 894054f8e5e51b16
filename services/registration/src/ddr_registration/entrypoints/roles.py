"""Who may do what on the registration service's API: the role sets, declared once, and their aliases.

A movement liaison holds their own movement's records only and a child protection officer children's records
only; those row-level rules are the read model's (``adapters.access``), applied in every query.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from ddr_runtime.auth.dependencies import require_roles
from ddr_runtime.auth.roles import Principal, Role

CNDDR = (Role.CNDDR_OFFICER,)
MOVEMENT_READERS = (
    Role.CNDDR_OFFICER,
    Role.CTS_OFFICER,
    Role.NIC_OFFICER,
    Role.AUDITOR,
    Role.MOVEMENT_LIAISON,
)
LIST_SUBMITTERS = (Role.CNDDR_OFFICER, Role.MOVEMENT_LIAISON)
LIST_CERTIFIERS = (Role.MOVEMENT_LIAISON,)
LIST_ENDORSERS = (Role.CTS_OFFICER, Role.CNDDR_OFFICER)
LIST_READERS = MOVEMENT_READERS
PERSON_READERS = (
    Role.CNDDR_OFFICER,
    Role.NIC_OFFICER,
    Role.AUDITOR,
    Role.MOVEMENT_LIAISON,
    Role.CHILD_PROTECTION,
)
DUPLICATE_READERS = (Role.CNDDR_OFFICER, Role.AUDITOR, Role.MOVEMENT_LIAISON, Role.CHILD_PROTECTION)
"""Child protection reads the cases between children, which no other role may see."""
WEAPON_RECORDERS = (Role.CNDDR_OFFICER, Role.CTS_OFFICER)
WEAPON_READERS = (Role.CNDDR_OFFICER, Role.CTS_OFFICER, Role.AUDITOR, Role.MOVEMENT_LIAISON)
FIGURE_READERS = (
    Role.CNDDR_OFFICER,
    Role.CTS_OFFICER,
    Role.NIC_OFFICER,
    Role.AUDITOR,
    Role.DONOR,
    Role.MOVEMENT_LIAISON,
)
UPLOAD_WATCHERS = (Role.CNDDR_OFFICER, Role.AUDITOR)
ENDORSING_ROLE = {"CTS": Role.CTS_OFFICER, "CNDDR": Role.CNDDR_OFFICER}
"""Each endorsing body and the role that endorses for it."""

Officer = Annotated[Principal, Depends(require_roles(*CNDDR))]
MovementReader = Annotated[Principal, Depends(require_roles(*MOVEMENT_READERS))]
ListSubmitter = Annotated[Principal, Depends(require_roles(*LIST_SUBMITTERS))]
ListCertifier = Annotated[Principal, Depends(require_roles(*LIST_CERTIFIERS))]
ListEndorser = Annotated[Principal, Depends(require_roles(*LIST_ENDORSERS))]
ListReader = Annotated[Principal, Depends(require_roles(*LIST_READERS))]
PersonReader = Annotated[Principal, Depends(require_roles(*PERSON_READERS))]
DuplicateReader = Annotated[Principal, Depends(require_roles(*DUPLICATE_READERS))]
WeaponRecorder = Annotated[Principal, Depends(require_roles(*WEAPON_RECORDERS))]
WeaponReader = Annotated[Principal, Depends(require_roles(*WEAPON_READERS))]
UploadWatcher = Annotated[Principal, Depends(require_roles(*UPLOAD_WATCHERS))]
FigureReader = Annotated[Principal, Depends(require_roles(*FIGURE_READERS))]
