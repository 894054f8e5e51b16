"""Import mapping profiles: how a movement lays its list files out, named and versioned per movement.

Movements send lists as they keep them (``family_name`` and ``given_names`` instead of ``full_name``,
``origin_region``, ``rank_in_movement``, French category codes). A profile maps each of their columns to one of
our fields and carries the values they write for ours; a new version of a profile never changes how an earlier
import was read (the list version names the profile version it was read with).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from datetime import datetime

from ddr_registration.domain.events import ImportProfilePublished
from ddr_registration.domain.members import LIST_FIELDS, NAME_PARTS
from ddr_registration.domain.values import ColumnMapping
from ddr_runtime.kernel import Aggregate, RuleViolated, UnknownRecord

PROFILE_FIELDS = frozenset(LIST_FIELDS) | frozenset(NAME_PARTS)
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,59}$")


def profile_stream(movement: str, name: str) -> str:
    return f"import-profile-{movement}-{name}"


def fold(text: str) -> str:
    """Lower case, no accents, words joined by "_": how column names and coded values are compared."""
    decomposed = unicodedata.normalize("NFKD", text.strip().casefold())
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return re.sub(r"[^a-z0-9]+", "_", bare).strip("_")


class ImportProfile(Aggregate[ImportProfilePublished]):
    def __init__(self) -> None:
        super().__init__()
        self.movement = ""
        self.name = ""
        self.versions: dict[int, ColumnMapping] = {}

    @property
    def latest(self) -> int:
        return max(self.versions, default=0)

    def publish(
        self,
        movement: str,
        name: str,
        columns: Mapping[str, str],
        values: Mapping[str, Mapping[str, str]],
        at: datetime | None = None,
    ) -> int:
        """The profile's next version; every column is one of ours, named once, and value maps are for our
        fields."""
        if not _NAME.match(name):
            raise RuleViolated("profile-name", "a profile's name is lower case letters, digits, - and _")
        _check_columns(columns)
        for field, mapped in values.items():
            if field not in PROFILE_FIELDS:
                raise RuleViolated(
                    "profile-field", f"{field!r} is not a field of a list", figures={"field": field}
                )
            if not mapped or any(not key.strip() for key in mapped):
                raise RuleViolated("profile-values", f"the values of {field!r} map written values to ours")
        number = self.latest + 1
        self.record(
            ImportProfilePublished(
                movement=movement,
                profile=name,
                profile_version=number,
                columns={source.strip(): field for source, field in columns.items()},
                values={
                    field: {key.strip(): value for key, value in mapped.items()}
                    for field, mapped in values.items()
                },
            ),
            at=at,
        )
        return number

    def mapping(self, number: int | None = None) -> tuple[int, ColumnMapping]:
        """The version asked for (the latest by default) and its mapping."""
        chosen = self.latest if number is None else number
        if chosen not in self.versions:
            raise UnknownRecord("import_profile", f"{self.name} version {number}")
        return chosen, self.versions[chosen]

    def apply(self, event: ImportProfilePublished) -> None:
        self.movement, self.name = event.movement, event.profile
        self.versions[event.profile_version] = ColumnMapping(
            columns=dict(event.columns), values=dict(event.values)
        )


def _check_columns(columns: Mapping[str, str]) -> None:
    if not columns:
        raise RuleViolated("profile-columns", "a profile maps at least one column")
    seen: dict[str, str] = {}
    for source, field in columns.items():
        if field not in PROFILE_FIELDS:
            raise RuleViolated(
                "profile-field", f"{field!r} is not a field of a list", figures={"field": field}
            )
        if not fold(source):
            raise RuleViolated("profile-columns", "a source column has a name")
        if field in seen:
            raise RuleViolated(
                "profile-columns",
                f"two columns, {seen[field]!r} and {source!r}, stand for {field!r}",
                figures={"field": field},
            )
        seen[field] = source
