"""Importing this module registers every contract event of the platform in ``REGISTRY``.

Each service's contract module is imported here as it lands (``ddr_contracts.registration`` and so on).
"""

from __future__ import annotations

import ddr_contracts.audit
import ddr_contracts.cvr
import ddr_contracts.integration
import ddr_contracts.pathway
import ddr_contracts.registration
import ddr_contracts.reinsertion
import ddr_contracts.screening  # noqa: F401
from ddr_contracts.events import REGISTRY

__all__ = ["REGISTRY"]
