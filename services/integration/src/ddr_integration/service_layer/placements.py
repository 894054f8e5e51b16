"""The two paths outside the reconstituted units: recall to the original corps, the civil-service list."""

from __future__ import annotations

from datetime import date

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from ddr_contracts.integration import CivilServiceListed, RecalledToCorps, ServiceStatusChanged
from ddr_integration.adapters import readmodel as rm
from ddr_integration.adapters.tables import service_records
from ddr_integration.domain.candidates import ensure_can_place_outside_units
from ddr_integration.domain.errors import RuleViolated
from ddr_integration.service_layer.candidacy import load_person
from ddr_integration.service_layer.unit import Integration, person_stream
from ddr_runtime.eventstore.errors import ConcurrencyConflict
from ddr_runtime.eventstore.store import Causation


async def place_outside_units(
    integ: Integration, person_id: str, path: str, destination: str, on: date, cause: Causation
) -> None:
    """Recall to ``destination`` corps (``armed_forces_recall``) or list for the civil service (``civil_service``)."""
    if not destination.strip():
        raise RuleViolated("destination", "name the corps or the civil-service list")

    async def work(conn: AsyncConnection) -> None:
        person, version = await load_person(conn, person_id)
        ensure_can_place_outside_units(person, path)
        placed = (
            RecalledToCorps(person_id=person_id, corps=destination, effective_on=on)
            if path == "armed_forces_recall"
            else CivilServiceListed(person_id=person_id, list_ref=destination, effective_on=on)
        )
        serving = ServiceStatusChanged(person_id=person_id, unit=None, status="serving", effective_on=on)
        version = await integ.append(
            conn,
            person_stream(person_id),
            version,
            [(placed, person_id, on), (serving, person_id, on)],
            cause,
        )
        if not await rm.claim_placements(conn, [person_id]):
            raise ConcurrencyConflict(person_stream(person_id), version)
        await rm.update_person(
            conn,
            person_id,
            version=version,
            placement=destination,
            service_status="serving",
            service_since=on,
        )
        await conn.execute(
            insert(service_records).values(
                person_id=person_id,
                unit_id=None,
                status="serving",
                effective_on=on,
                discharge_kind=None,
                referred_to_reinsertion=False,
            )
        )

    await integ.run(work)
