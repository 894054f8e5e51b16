"""Paging parameters of every list route, bounded so a huge offset is a 422, never a database overflow."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

MAX_OFFSET = 1_000_000
MAX_LIMIT = 1_000

Offset = Annotated[
    int,
    Query(
        ge=0, le=MAX_OFFSET, description=f"Rows to skip, at most {MAX_OFFSET:,} (narrow the query instead)"
    ),
]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description=f"Rows to return, at most {MAX_LIMIT}")]
"""Use with a default: ``limit: Limit = 100``."""
