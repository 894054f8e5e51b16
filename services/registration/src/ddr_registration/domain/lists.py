"""A movement's certified list: versioned, certified by the movement, endorsed by the CTS and the CNDDR.

Each version supersedes the previous one, which stays readable. Being on a list confers nothing by itself.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from ddr_registration.domain.events import (
    ListEvent,
    ListRowsChecked,
    ListVersionCertified,
    ListVersionEndorsed,
    ListVersionSubmitted,
)
from ddr_registration.domain.values import EndorsingBody, ListRow
from ddr_runtime.kernel import Aggregate, AlreadyDone, Recording, RuleViolated

_LISTS = uuid.UUID("6f1d7c2e-9a51-4c0e-8f3b-2d6a4e8b9c10")


def list_id_of(movement: str) -> str:
    """Each movement has one list, versioned over time; its id is derived from the movement code."""
    return str(uuid.uuid5(_LISTS, movement))


def list_stream(list_id: str) -> str:
    return f"list-{list_id}"


def list_report_stream(list_id: str, number: int) -> str:
    """The row-by-row report of one imported version, apart from the list so the list loads light."""
    return f"list-report-{list_id}-v{number}"


@dataclass
class ListVersion:
    number: int
    file_sha256: str
    submitted_at: datetime | None = None
    certified_at: datetime | None = None
    endorsed_by: set[str] = field(default_factory=set)

    @property
    def certified(self) -> bool:
        return self.certified_at is not None


class CertifiedList(Aggregate[ListEvent]):
    def __init__(self) -> None:
        super().__init__()
        self.list_id = ""
        self.movement = ""
        self.versions: dict[int, ListVersion] = {}

    @property
    def latest(self) -> int:
        return max(self.versions, default=0)

    def submit_version(
        self,
        list_id: str,
        movement: str,
        file_sha256: str,
        *,
        total: int,
        accepted: int,
        rejected: int,
        at: datetime | None = None,
        profile: tuple[str, int | None] | None = None,
        unknown_columns: tuple[str, ...] = (),
    ) -> int:
        """The next version, submitted at ``at`` (business time, checked by the import for the whole file)."""
        if self.movement and movement != self.movement:
            raise RuleViolated("list-belongs-to-movement", "a list takes versions from its own movement only")
        number = self.latest + 1
        self.record(
            ListVersionSubmitted(
                list_id=list_id,
                movement=movement,
                list_version=number,
                file_sha256=file_sha256,
                rows_total=total,
                rows_accepted=accepted,
                rows_rejected=rejected,
                profile=profile[0] if profile else None,
                profile_version=profile[1] if profile else None,
                unknown_columns=unknown_columns,
            ),
            at=at,
        )
        return number

    def certify(
        self, number: int, *, recording: Recording | None = None, on: date | datetime | None = None
    ) -> None:
        """The movement certifies a version on ``on``: never before it was submitted."""
        version = self._current(number)
        if version.certified:
            raise AlreadyDone("certified-once", f"version {number} is already certified")
        at = (recording or Recording()).moment(
            on, after=version.submitted_at, after_what=f"the submission of version {number}"
        )
        self.record(
            ListVersionCertified(list_id=self.list_id, movement=self.movement, list_version=number), at=at
        )

    def endorse(
        self,
        number: int,
        body: EndorsingBody,
        *,
        recording: Recording | None = None,
        on: date | datetime | None = None,
    ) -> None:
        """The CTS or the CNDDR endorses a certified version on ``on``: never before its certification."""
        version = self._current(number)
        if not version.certified:
            raise RuleViolated("certify-before-endorsing", "the movement must certify a version first")
        if body in version.endorsed_by:
            raise AlreadyDone("endorsed-once", f"the {body} already endorsed version {number}")
        at = (recording or Recording()).moment(
            on, after=version.certified_at, after_what=f"the certification of version {number}"
        )
        self.record(
            ListVersionEndorsed(list_id=self.list_id, movement=self.movement, list_version=number, body=body),
            at=at,
        )

    def _current(self, number: int) -> ListVersion:
        if number not in self.versions:
            raise RuleViolated("unknown-list-version", f"the list has no version {number}")
        if number != self.latest:
            raise RuleViolated("version-superseded", f"version {number} is superseded by {self.latest}")
        return self.versions[number]

    def apply(self, event: ListEvent) -> None:
        if isinstance(event, ListVersionSubmitted):
            self.list_id, self.movement = event.list_id, event.movement
            self.versions[event.list_version] = ListVersion(event.list_version, event.file_sha256, self.at)
        elif isinstance(event, ListVersionCertified):
            self.versions[event.list_version].certified_at = self.at
        elif isinstance(event, ListVersionEndorsed):
            self.versions[event.list_version].endorsed_by.add(event.body)


class ListReport(Aggregate[ListRowsChecked]):
    """The row-by-row report of one imported version: what each line of the file became."""

    def __init__(self) -> None:
        super().__init__()
        self.rows = 0

    def check(
        self,
        list_id: str,
        movement: str,
        number: int,
        rows: Sequence[ListRow],
        reasons: Sequence[str],
        at: datetime | None = None,
    ) -> None:
        """Record a chunk of rows; ``reasons`` are the refused rows', in their order (they quote the values
        at fault, so the contract seals them)."""
        if sum(row.status == "rejected" for row in rows) != len(reasons):
            raise ValueError("each refused row has its reason, and only those")
        if rows:
            self.record(
                ListRowsChecked(
                    list_id=list_id,
                    movement=movement,
                    list_version=number,
                    rows=tuple(rows),
                    reasons=tuple(reasons) or None,
                ),
                at=at,
            )

    def apply(self, event: ListRowsChecked) -> None:
        self.rows += len(event.rows)
