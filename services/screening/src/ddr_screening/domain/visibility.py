"""Which cases a caller may list: what the access rules decide, in a form the read model can filter on."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class CaseFilter:
    """The cases a caller may list: of one movement only, in some regions only, restricted or not."""

    movement: str | None = None
    regions: frozenset[str] = field(default_factory=frozenset)
    restricted: bool | None = None  # True: only restricted cases; False: none of them; None: both
