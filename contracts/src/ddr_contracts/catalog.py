"""Importing this module registers every contract event of the platform in ``REGISTRY``.

Each service's contract module is imported here as it lands (``ddr_contracts.registration`` and so on).
"""

from __future__ import annotations

import ddr_contracts.registration  # noqa: F401
from ddr_contracts.events import REGISTRY

__all__ = ["REGISTRY"]
