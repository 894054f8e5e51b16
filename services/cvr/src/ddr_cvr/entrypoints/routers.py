"""Every HTTP router of the CVR service."""

from __future__ import annotations

from fastapi import APIRouter

from ddr_cvr.entrypoints.participants_api import participants_router
from ddr_cvr.entrypoints.partners_api import partners_router
from ddr_cvr.entrypoints.projects_api import projects_router
from ddr_cvr.entrypoints.reports_api import reports_router
from ddr_cvr.service_layer.unit import Cvr


def cvr_routers(cvr: Cvr) -> list[APIRouter]:
    return [partners_router(cvr), projects_router(cvr), participants_router(cvr), reports_router(cvr)]
