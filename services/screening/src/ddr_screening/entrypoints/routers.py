"""Every HTTP router of the screening service."""

from __future__ import annotations

from fastapi import APIRouter

from ddr_runtime.http.idempotency import IdempotencyStore
from ddr_screening.adapters.tables import idempotency_keys
from ddr_screening.entrypoints.cases_api import cases_router
from ddr_screening.entrypoints.decisions_api import decisions_router
from ddr_screening.entrypoints.reference_api import reference_router
from ddr_screening.service_layer.unit import Screening


def screening_routers(scr: Screening) -> list[APIRouter]:
    keys = IdempotencyStore(scr.engine, idempotency_keys)
    return [cases_router(scr), decisions_router(scr, keys), reference_router(scr, keys)]
