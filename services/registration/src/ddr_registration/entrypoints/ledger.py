"""Every read of a person's record goes into the read ledger (``ddr_runtime.audit.reads``): who, through
which route, why (``X-Purpose``) and when, for each person shown or refused."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any

from fastapi import Depends

from ddr_registration.service_layer.ports import Views
from ddr_runtime.audit.reads import ReadOutcome, ReadRecorder, read_recorder
from ddr_runtime.auth.roles import Principal
from ddr_runtime.kernel import UnknownRecord

Ledger = Annotated[ReadRecorder, Depends(read_recorder)]


async def read_person(
    views: Views, ledger: ReadRecorder, principal: Principal, person_id: str
) -> dict[str, Any]:
    """The person's record as the caller may see it, the read recorded (a refusal as ``not_visible``)."""
    try:
        person = await views.get_person(principal, person_id)
    except UnknownRecord:
        await record_read(views, ledger, [person_id], "not_visible")
        raise
    await record_read(views, ledger, [person_id])
    return person


async def record_read(
    views: Views, ledger: ReadRecorder, person_ids: list[str], outcome: ReadOutcome = "shown"
) -> None:
    """The read of ``person_ids`` in the ledger, saying which of them are children (the ledger's child rule:
    an auditor without child protection is answered for a child as for a person no one was shown)."""
    await ledger.record(person_ids, outcome, children=await views.children_among(person_ids))


async def shown(
    views: Views, ledger: ReadRecorder, records: list[dict[str, Any]], *keys: str
) -> list[dict[str, Any]]:
    """``records`` as answered, each person they name (under ``keys``) recorded as shown."""
    await record_read(views, ledger, _people(records, keys or ("person_id",)))
    return records


def _people(records: Iterable[dict[str, Any]], keys: Iterable[str]) -> list[str]:
    names = tuple(keys)
    return [str(record[key]) for record in records for key in names if record.get(key)]
