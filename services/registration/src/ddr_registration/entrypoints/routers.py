"""Every HTTP router of the registration service."""

from __future__ import annotations

from fastapi import APIRouter

from ddr_registration.adapters.tables import idempotency_keys
from ddr_registration.entrypoints.duplicates_api import duplicates_router
from ddr_registration.entrypoints.lists_api import lists_router
from ddr_registration.entrypoints.movements_api import movements_router
from ddr_registration.entrypoints.persons_api import persons_router
from ddr_registration.entrypoints.weapons_api import weapons_router
from ddr_registration.service_layer.unit import Registration
from ddr_runtime.http.idempotency import IdempotencyStore


def registration_routers(reg: Registration) -> list[APIRouter]:
    keys = IdempotencyStore(reg.engine, idempotency_keys)
    return [
        movements_router(reg, keys),
        lists_router(reg, keys),
        persons_router(reg, keys),
        duplicates_router(reg, keys),
        weapons_router(reg, keys),
    ]
