"""Who may do what in the integration API, declared once:

- ``nic_officer`` operates the track (quotas, ranks, cohorts, assignments, placements, service records);
- ``mod_liaison`` establishes units and records the armed forces' own contingent (only they), reads units;
- ``cts_officer`` reads aggregate figures, units' composition and quotas, never a person;
- ``movement_liaison`` reads the status of their own movement's members only (another's reads as 404) and
  raises rank disputes for them;
- ``auditor`` reads everything, changes nothing.

Facts older than the back-recording window are recorded by a caller who also holds ``records_officer``,
with a ``Back-Recording-Reason``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from ddr_runtime.auth.dependencies import require_roles
from ddr_runtime.auth.roles import Principal, Role

Nic = Annotated[Principal, Depends(require_roles(Role.NIC_OFFICER))]
NicOrMod = Annotated[Principal, Depends(require_roles(Role.NIC_OFFICER, Role.MOD_LIAISON))]
Mod = Annotated[Principal, Depends(require_roles(Role.MOD_LIAISON))]
PersonReader = Annotated[
    Principal, Depends(require_roles(Role.NIC_OFFICER, Role.MOVEMENT_LIAISON, Role.AUDITOR))
]
DisputeRaiser = Annotated[Principal, Depends(require_roles(Role.NIC_OFFICER, Role.MOVEMENT_LIAISON))]
ProgrammeReader = Annotated[Principal, Depends(require_roles(Role.NIC_OFFICER, Role.AUDITOR))]
UnitReader = Annotated[
    Principal, Depends(require_roles(Role.NIC_OFFICER, Role.MOD_LIAISON, Role.CTS_OFFICER, Role.AUDITOR))
]
