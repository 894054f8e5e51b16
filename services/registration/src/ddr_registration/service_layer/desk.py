"""What every command handler of the registration service works with, wired once by the bootstrap.

The unit of work (the runtime's, seen through its ports: load, decide, save with the expected version, the
projections in the same transaction), the read-model lookups a decision needs, the keyed biometric hasher, the
list file reader, the personal-data keys, and the identity index that deduplication keeps in memory.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from ddr_registration.domain.identity import CandidateIndex
from ddr_registration.service_layer.ports import Hasher, HistoryPoint, Keys, ListFiles, Lookups
from ddr_runtime.eventstore.ports import CommandRunner


def _new_id() -> str:
    return str(uuid.uuid4())


@dataclass
class RegistrationDesk:
    """The registration service's command side (a desk, not a unit: "registration" is a domain word)."""

    unit: CommandRunner
    lookups: Lookups
    hasher: Hasher
    files: ListFiles
    keys: Keys
    index: CandidateIndex = field(default_factory=CandidateIndex)
    new_id: Callable[[], str] = _new_id
    index_high_water: int = 0  # the last point of the read model the identity index has seen
    # the last point of the store's history the index has looked for people erased or merged (None: not yet)
    removals_seen: HistoryPoint | None = None
