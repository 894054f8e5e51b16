"""What the entry points read of the read model (adapters' ``queries`` implement it; the bootstrap wires it).

Every read of a project takes the caller: what the caller may not see answers 404, as if it did not exist.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any, Protocol

from ddr_cvr.domain.figures import GroupBy, Period, ReportFilter
from ddr_cvr.domain.terms import Committee
from ddr_runtime.auth.roles import Principal

Record = dict[str, Any]


class CvrReads(Protocol):
    async def children_among(self, person_ids: Sequence[str]) -> set[str]:
        """Which of the registration ids ``person_ids`` are, or may be, children (for the read ledger)."""
        ...

    async def partners(self) -> list[Record]: ...

    async def partner(self, partner_id: str) -> Record: ...

    async def partner_history(self, partner_id: str) -> list[Record]: ...

    async def project(self, principal: Principal, project_id: str) -> Record: ...

    async def projects(
        self,
        principal: Principal,
        *,
        status: str | None,
        programme: str | None,
        region: str | None,
        partner_id: str | None,
        offset: int,
        limit: int,
    ) -> list[Record]: ...

    async def project_history(self, principal: Principal, project_id: str) -> list[Record]: ...

    async def targets(self, principal: Principal, project_id: str) -> Record: ...

    async def committee_queue(self, principal: Principal, committee: Committee) -> list[Record]: ...

    async def participants(
        self, principal: Principal, project_id: str, offset: int, limit: int
    ) -> list[Record]: ...

    async def overdue_visits(self, principal: Principal, as_of: date) -> list[Record]: ...

    async def programme_report(
        self,
        principal: Principal,
        group_by: GroupBy,
        as_of: date,
        report_filter: ReportFilter,
        periods: list[Period] | None,
    ) -> Record: ...
