"""Request bodies of the commissions' API (responses are the queries' plain records).

A command that records something done on a given day takes ``on``: the day (``2018-11-06``) or the instant
(``2018-11-06T09:30:00Z``) it happened, now when left out. It is never in the future nor before the fact it
depends on; older than the back-recording window it needs the ``records_officer`` role and the
``Back-Recording-Reason`` header.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from ddr_registration.domain.values import (
    AUTHORITY_REFERENCE,
    DuplicateOutcome,
    EndorsingBody,
    ErasureReason,
    ItemKind,
    MovementKind,
    SerialStatus,
)
from ddr_runtime.http.paging import MAX_LIMIT, MAX_OFFSET


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


On = Annotated[
    date | datetime | None,
    Field(description="When it happened: a day or an instant (UTC if no offset); now when left out"),
]


class Dated(Body):
    """A command with nothing to say but when it happened (a certification, say)."""

    on: On = None


class MovementCreate(Body):
    code: str = Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_-]+$")
    display_name: str = Field(min_length=1, max_length=200)
    kind: MovementKind = "movement"


class CoalitionJoin(Body):
    """Membership from ``since`` (the business date of the fact)."""

    coalition: str = Field(min_length=1, max_length=40)
    since: date


class CoalitionLeave(Body):
    until: date


class Endorsement(Body):
    body: EndorsingBody
    on: On = None


class PersonCorrection(Body):
    reason: str = Field(min_length=1, max_length=2000)
    on: On = None
    full_name: str | None = Field(default=None, min_length=1, max_length=200)
    full_name_arabic: str | None = Field(default=None, min_length=1, max_length=200)
    category: str | None = None
    sex: str | None = None
    birth_kind: str | None = None
    birth_date: date | None = None
    birth_year: int | None = Field(default=None, ge=1900, le=2100)
    region: str | None = Field(default=None, min_length=1, max_length=100)
    cercle: str | None = Field(default=None, min_length=1, max_length=100)
    commune: str | None = Field(default=None, min_length=1, max_length=100)
    rank: str | None = Field(default=None, max_length=100)
    armed: bool | None = None
    father_name: str | None = Field(default=None, min_length=1, max_length=200)
    mother_name: str | None = Field(default=None, min_length=1, max_length=200)
    birth_place: str | None = Field(default=None, min_length=1, max_length=100)


class PersonRegistration(Body):
    """The enrolment device's template reference: hashed with the service's key, never stored as sent."""

    biometric_reference: str = Field(min_length=8, max_length=500)
    site: str = Field(
        min_length=2,
        max_length=100,
        pattern=r"^[^\W\d_][\w .'()-]*$",
        description="Where the person registered: Timbuktu, Gao, Kidal...",
    )
    on: On = None


class Erasure(Body):
    """Why the person's personal data is destroyed, and the decision that ordered it (never a name)."""

    reason_code: ErasureReason
    authority: str = Field(
        max_length=80,
        pattern=f"^{AUTHORITY_REFERENCE.pattern}$",
        description=(
            "The decision's reference in its authority's register (CNDDR-2026-041, TGI/BKO/2025/17): never free "
            "text. The officer ordering it is the caller (the token's subject)."
        ),
        examples=["CNDDR-2026-041"],
    )


class DuplicateResolution(Body):
    outcome: DuplicateOutcome
    surviving_person_id: str | None = None


class WeaponHandOver(Body):
    """A weapon or lot handed over. A weapon without a readable serial is received all the same: say why
    (``serial_status``: ``absent``, ``filed_off``, ``illegible``; ``absent`` when left out); it gets the
    programme's mark and is flagged for tracing."""

    person_id: str
    kind: ItemKind = "weapon"
    type: str = Field(min_length=1, max_length=100)
    calibre: str = Field(min_length=1, max_length=40)
    serial: str | None = Field(default=None, max_length=100)
    serial_status: SerialStatus | None = None
    quantity: int = Field(default=1, ge=1)
    condition: str = Field(min_length=1, max_length=40)
    tag: str = Field(min_length=1, max_length=100)
    custodian: str = Field(min_length=1, max_length=200)
    on: On = None


class CustodyTransfer(Body):
    from_custodian: str = Field(min_length=1, max_length=200)
    to_custodian: str = Field(min_length=1, max_length=200)
    released_by: str = Field(min_length=1, max_length=200)
    received_by: str = Field(min_length=1, max_length=200)
    on: On = None


class PersonToRegister(PersonRegistration):
    """An item of a bulk registration: whom, and the version of their record read (the latest if left out)."""

    person_id: str = Field(min_length=1, max_length=36)
    version: int | None = Field(default=None, ge=1)


class ImportProfileCreate(Body):
    """A version of a movement's import profile: each of its columns (as its files name them) and the field
    it holds (one of a list's fields, or ``family_name`` / ``given_names``), and per field the values it
    writes for ours. Publishing a name again makes its next version."""

    name: str = Field(min_length=1, max_length=60, pattern=r"^[a-z0-9][a-z0-9_-]*$")
    columns: dict[str, str] = Field(min_length=1, max_length=100)
    values: dict[str, dict[str, str]] = Field(default_factory=dict, max_length=40)


class PersonSearch(Body):
    """A search of the people the caller may see: ``name`` (every word of it, any spelling or script) and
    the other filters, all to match. Sent in a body so a name never sits in a URL."""

    name: str | None = Field(default=None, min_length=2, max_length=200)
    movement: str | None = Field(default=None, max_length=40)
    region: str | None = Field(default=None, max_length=100)
    category: str | None = Field(default=None, max_length=40)
    status: str | None = Field(default=None, max_length=20)
    ddr_id: str | None = Field(default=None, max_length=20)
    offset: int = Field(default=0, ge=0, le=MAX_OFFSET)
    limit: int = Field(default=50, ge=1, le=MAX_LIMIT)
