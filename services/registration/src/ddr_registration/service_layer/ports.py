"""What the service layer and the entry points ask of the adapters, as protocols the bootstrap fills in.

The service layer holds no SQL: the facts of the read model a command decides on (is a DDR ID taken, who is
already listed under a reference) are read through :class:`Lookups`, inside the command's own transaction;
the commissions' reads go through :class:`Views`, with row-level access applied by the adapter.
"""

from __future__ import annotations

from collections.abc import Collection, Container, Iterator, Sequence
from datetime import date
from pathlib import Path
from typing import Any, Protocol

from ddr_registration.domain.duplicates import Holder
from ddr_registration.domain.identity import IdentityRecord
from ddr_registration.domain.members import ParsedRow, RowError
from ddr_registration.domain.persons import Person
from ddr_registration.domain.values import ColumnMapping, DeclaredRow
from ddr_runtime.auth.roles import Principal
from ddr_runtime.eventstore.ports import AggregateSession

Record = dict[str, Any]
HistoryPoint = tuple[int, int]
"""A point of the store's history, in its global order (the runtime's ``GlobalCursor``)."""


class Keys(Protocol):
    """The personal-data keys of the subjects a command writes about (each person's own key)."""

    async def keys_for_writing(self, subjects: Sequence[str]) -> Any:
        """Make sure each subject has a key, in one round trip (before many are sealed at once)."""
        ...

    async def erase(self, subject: str) -> None:
        """Destroy the subject's key: every personal field sealed under it reads ``None`` from then on."""
        ...


class Hasher(Protocol):
    """Keyed hashes of biometric template references (the platform never keeps a reference as sent)."""

    def digest(self, template_reference: str) -> str: ...


class ListFiles(Protocol):
    """Movement list files (CSV or XLSX), read a row at a time."""

    def read(self, path: Path, mapping: ColumnMapping | None = None) -> Iterator[ParsedRow | RowError]:
        """Each data row, in file order, as a member or one error per fault (a file that cannot be read at
        all raises a refusal, ``unreadable-list-file``); ``mapping``: the movement's layout, if not ours."""
        ...

    def unknown_columns(self, path: Path, mapping: ColumnMapping | None = None) -> tuple[str, ...]:
        """The columns of the file that nothing reads."""
        ...

    def sha256(self, path: Path) -> str: ...


ImportedVersion = tuple[int, dict[str, int]]
"""The list version an earlier import of the same file made, and its rows counted by status."""

IndexedPeople = tuple[list[IdentityRecord], int | None]
"""People recorded after a point of the read model, for the identity index: those to add (standing, with a
name), and the point reached (``None``: nobody new)."""


class Lookups(Protocol):
    """Facts of the read model a command decides on, read in the command's own transaction."""

    async def ddr_id_taken(self, session: AggregateSession, ddr_id: str) -> bool: ...

    async def weapons_with_serial(self, session: AggregateSession, serial: str) -> tuple[str, ...]:
        """The weapons handed over before with this serial (compared normalised, by its keyed hash)."""
        ...

    async def listed(self, session: AggregateSession, movement: str, refs: Sequence[str]) -> dict[str, str]:
        """The person already recorded for each of the movement's ``refs`` that is known (compared by their
        keyed hashes: the read model holds no reference in clear)."""
        ...

    async def earlier_import(
        self, session: AggregateSession, file_sha256: str, movement: str
    ) -> ImportedVersion | None: ...

    async def people_after(
        self, session: AggregateSession, seen: int, limit: int, indexed: Container[str]
    ) -> IndexedPeople:
        """Up to ``limit`` people recorded after point ``seen``; those in ``indexed`` are not opened again."""
        ...

    async def left_after(
        self, session: AggregateSession, after: HistoryPoint, limit: int
    ) -> tuple[list[str], HistoryPoint | None]:
        """The people erased or merged into another among the next ``limit`` events of the store after
        ``after``, by this process or another, and the point reached (``None``: nothing after it)."""
        ...

    async def still_matchable(self, session: AggregateSession, person_ids: Collection[str]) -> set[str]:
        """Those of ``person_ids`` neither erased nor merged in the store as this transaction sees it (the
        index lags what other processes committed a moment ago)."""
        ...

    async def end_of_history(self, session: AggregateSession) -> HistoryPoint:
        """The point of the store's history after its last final event."""
        ...

    async def identity_of(self, session: AggregateSession, person_id: str) -> IdentityRecord | None:
        """The person's identity for matching; ``None`` once merged or erased."""
        ...

    async def case_of_pair(self, session: AggregateSession, a: str, b: str) -> str | None: ...

    async def biometric_holder(
        self, session: AggregateSession, biometric_hash: str, person_id: str
    ) -> Holder | None:
        """Who else holds this biometric (a merged record answers with the record it was merged into)."""
        ...

    async def declared_serials(
        self, session: AggregateSession, serials: Sequence[str]
    ) -> dict[str, list[DeclaredRow]]:
        """The rows of any list that declared each of these serials (normalised), in list order, keyed by the
        serial as asked (compared by their keyed hashes)."""
        ...


class Views(Protocol):
    """The commissions' reads, with row-level access applied: a record the caller may not see is answered
    as one that does not exist (``UnknownRecord``)."""

    def may_act_on(self, principal: Principal, person: Person) -> bool:
        """Whether the caller may change this record, as a command loaded it in its own transaction (the
        rule of reading it: movement, regions, children)."""
        ...

    def may_register(self, principal: Principal, person: Person) -> bool:
        """Whether the caller may register this person: :meth:`may_act_on`, and a registration officer for a
        child of their movement and regions, whose record they never read."""
        ...

    async def list_movements(self) -> list[Record]: ...

    async def get_movement(self, code: str) -> Record: ...

    async def list_lists(self, principal: Principal) -> list[Record]: ...

    async def get_list(self, principal: Principal, list_id: str) -> Record: ...

    async def list_history(self, principal: Principal, list_id: str) -> list[Record]: ...

    async def list_report(
        self, principal: Principal, list_id: str, number: int, offset: int, limit: int
    ) -> list[Record]: ...

    async def get_person(self, principal: Principal, person_id: str) -> Record: ...

    async def children_among(self, person_ids: Sequence[str]) -> set[str]:
        """Which of ``person_ids`` are children's records (for the read ledger)."""
        ...

    async def search_persons(
        self,
        principal: Principal,
        *,
        movement: str | None = None,
        region: str | None = None,
        category: str | None = None,
        status: str | None = None,
        ddr_id: str | None = None,
        name: str | None = None,
        offset: int = 0,
        limit: int = 50,
    ) -> list[Record]: ...

    async def person_history(self, principal: Principal, person_id: str) -> list[Record]: ...

    async def list_duplicates(
        self,
        principal: Principal,
        status: str | None,
        offset: int,
        limit: int,
        *,
        certain: bool | None = None,
    ) -> list[Record]:
        """The queue, each case's reasons as codes and, as sentences quoting both people's names, in
        ``explanation`` (built for this answer only); ``certain``: only cases proved by a shared biometric."""
        ...

    async def get_duplicate(self, principal: Principal, case_id: str, *, explain: bool = True) -> Record:
        """One case; ``explain=False`` leaves out the sentences quoting names (for an answer that is stored)."""
        ...

    async def list_weapons(
        self,
        principal: Principal,
        *,
        serial: str | None,
        person_id: str | None,
        flagged: bool | None,
        offset: int,
        limit: int,
        needs_tracing: bool | None = None,
    ) -> list[Record]: ...

    async def get_weapon(self, principal: Principal, weapon_id: str) -> Record: ...

    async def reconciliation(self, principal: Principal, person_id: str) -> Record:
        """The weapons the person's lists declared against those they handed over."""
        ...

    async def import_profiles(
        self, principal: Principal, movement: str, name: str | None = None
    ) -> list[Record]:
        """The movement's import profiles, every version (of one profile, with ``name``)."""
        ...

    async def figures(self, principal: Principal, as_of: date) -> Record:
        """People listed and registered by the end of ``as_of``, registrations by site, movement, sex, category."""
        ...


SMALL_LIST_ROWS = 20
"""An upload of fewer rows is a small one: a movement's real list versions are longer, and repeated small
uploads are how someone would probe who is on file."""


class UploadAllowance(Protocol):
    """Each movement liaison's allowance of small list uploads (a token bucket in the store)."""

    async def take(self, subject: str, movement: str) -> int | None:
        """Take a token before a liaison's upload is read: None, or the seconds to wait (refused, counted)."""
        ...

    async def settle(self, subject: str, *, small: bool) -> None:
        """After the upload: a small one keeps its token spent and is counted; any other gives it back."""
        ...

    async def activity(self) -> list[Record]:
        """Each liaison's small and refused uploads and what they have left (for the CNDDR)."""
        ...
