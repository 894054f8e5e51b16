"""What every command handler of the registration service works with, wired once by the bootstrap.

The unit of work (the runtime's: load, decide, save with the expected version, projections in the same
transaction), the read-model lookups a decision needs, the keyed biometric hasher, the list file reader and the
identity index that deduplication keeps in memory.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ddr_registration.domain.identity import CandidateIndex
from ddr_registration.service_layer.ports import Hasher, ListFiles, Lookups

if TYPE_CHECKING:
    from ddr_runtime.eventstore.unit import UnitOfWork


def _new_id() -> str:
    return str(uuid.uuid4())


@dataclass
class RegistrationDesk:
    """The registration service's command side (a desk, not a unit: "registration" is a domain word)."""

    unit: UnitOfWork
    lookups: Lookups
    hasher: Hasher
    files: ListFiles
    index: CandidateIndex = field(default_factory=CandidateIndex)
    new_id: Callable[[], str] = _new_id
    index_high_water: int = 0  # the last point of the read model the identity index has seen
