"""Every HTTP router of the CVR service."""

from __future__ import annotations

from fastapi import APIRouter

from ddr_cvr.entrypoints import (
    appraisal_api,
    implementation_api,
    participants_api,
    partners_api,
    projects_api,
    reports_api,
)

ROUTERS: tuple[APIRouter, ...] = (
    partners_api.router,
    projects_api.router,
    appraisal_api.router,
    implementation_api.router,
    participants_api.router,
    reports_api.router,
)
