"""Who may do what in reinsertion, declared once:

* ``reinsertion_officer`` (CNDDR): rounds, volunteers, packages, enrolment, training, visits, exits;
* ``finance_officer``: budget lines, receipts, disbursements, the ledger;
* ``donor``: aggregates only (dashboard, ledger totals, catalogue), never a person id or personal data;
* ``auditor``: read-only, everything; ``cnddr_officer``: reads.

A caller whose token names regions sees and acts on beneficiaries of those regions only. Facts older than
the back-recording window also need ``records_officer`` and a ``Back-Recording-Reason``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from ddr_runtime.auth.dependencies import require_roles
from ddr_runtime.auth.roles import Principal, Role

R = Role

Officer = Annotated[Principal, Depends(require_roles(R.REINSERTION_OFFICER))]
Finance = Annotated[Principal, Depends(require_roles(R.FINANCE_OFFICER))]
CaseReader = Annotated[
    Principal, Depends(require_roles(R.REINSERTION_OFFICER, R.FINANCE_OFFICER, R.CNDDR_OFFICER, R.AUDITOR))
]
ProfileReader = Annotated[Principal, Depends(require_roles(R.REINSERTION_OFFICER, R.AUDITOR))]
AggregateReader = Annotated[
    Principal,
    Depends(require_roles(R.REINSERTION_OFFICER, R.FINANCE_OFFICER, R.CNDDR_OFFICER, R.AUDITOR, R.DONOR)),
]
