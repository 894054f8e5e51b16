"""``/figures``: the programme's registration figures as of a business date, by site, movement, sex, category."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query

from ddr_registration.entrypoints.dependencies import Reads
from ddr_registration.entrypoints.roles import FigureReader

router = APIRouter(prefix="/figures", tags=["figures"])


@router.get("")
async def figures(
    principal: FigureReader,
    reads: Reads,
    as_of: Annotated[date | None, Query(description="A business date; today when left out")] = None,
) -> dict[str, Any]:
    """Counts only, never a person: people listed and registered by the end of ``as_of`` (when they were
    listed and registered, not when it was recorded), and registrations by site, movement, sex and category.
    A movement liaison gets their own movement's."""
    return await reads.figures(principal, as_of or datetime.now(UTC).date())
