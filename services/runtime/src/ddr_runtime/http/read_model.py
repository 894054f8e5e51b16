"""``/read-model/rebuild``: every service rebuilds its read model from its own history the same way.

An operator starts the rebuild; it runs inside the serving process (blue-green, see
:mod:`ddr_runtime.eventstore.rebuild`) while commands go on, and its progress is shown here and in metrics.
``ddr read-model rebuild <service>`` drives it.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from ddr_runtime import metrics
from ddr_runtime.auth.dependencies import require_roles
from ddr_runtime.auth.roles import Principal, Role
from ddr_runtime.eventstore.rebuild import ReadModel, RebuildProgress, rebuild_read_model
from ddr_runtime.http.problems import Conflict

log = logging.getLogger(__name__)
Operator = Annotated[Principal, Depends(require_roles(Role.OPERATOR))]
Observer = Annotated[Principal, Depends(require_roles(Role.OPERATOR, Role.AUDITOR))]


class RebuildStatus(BaseModel):
    status: Literal["idle", "running", "done", "failed"]
    projected: int
    swapped: bool
    started_at: datetime | None
    finished_at: datetime | None


@dataclass
class Rebuilder:
    """At most one rebuild at a time per process, with what the last one did."""

    service: str
    read_model: ReadModel
    status: Literal["idle", "running", "done", "failed"] = "idle"
    progress: RebuildProgress = field(default_factory=RebuildProgress)
    started_at: datetime | None = None
    finished_at: datetime | None = None
    task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self.status == "running":
            raise Conflict("a rebuild of this read model is already running")
        self.status, self.progress = "running", RebuildProgress()
        self.started_at, self.finished_at = datetime.now(UTC), None
        metrics.REBUILD_RUNNING.labels(self.service).set(1)
        self.task = asyncio.create_task(self._run(), name=f"{self.service}-read-model-rebuild")

    async def _run(self) -> None:
        try:
            self.progress = await rebuild_read_model(
                self.read_model.unit, self.read_model.tables, progress=self._seen
            )
            self.status = "done"
        except Exception:
            log.exception("read-model rebuild of %s failed", self.service)
            self.status = "failed"
        finally:
            self.finished_at = datetime.now(UTC)
            metrics.REBUILD_RUNNING.labels(self.service).set(0)

    def _seen(self, progress: RebuildProgress) -> None:
        self.progress = progress
        metrics.REBUILD_PROJECTED.labels(self.service).set(progress.projected)

    def answer(self) -> RebuildStatus:
        return RebuildStatus(
            status=self.status,
            projected=self.progress.projected,
            swapped=self.progress.swapped,
            started_at=self.started_at,
            finished_at=self.finished_at,
        )

    async def wait(self) -> None:
        if self.task is not None:
            await asyncio.shield(self.task)


def read_model_router(rebuilder: Rebuilder) -> APIRouter:
    router = APIRouter(prefix="/read-model", tags=["read model"])

    @router.post("/rebuild", status_code=202, response_model=RebuildStatus)
    async def start_rebuild(_caller: Operator) -> RebuildStatus:
        """Rebuild the read model from the service's own history while it serves; 409 if one runs."""
        rebuilder.start()
        return rebuilder.answer()

    @router.get("/rebuild", response_model=RebuildStatus)
    async def rebuild_status(_caller: Observer) -> RebuildStatus:
        """The running or last rebuild: events projected, whether the new tables are live."""
        return rebuilder.answer()

    return router
