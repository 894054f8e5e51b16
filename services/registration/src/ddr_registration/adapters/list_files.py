"""Movement list files (CSV or XLSX), read and written one row at a time.

A list of 100,000 members is never held in memory: the reader yields each row as it is validated, the
writer appends each member as it comes. Reasons of row errors quote the offending value (the person fixing
the file needs it), so a ``RowError`` is personal data: show it to the uploader, never log it.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import itertools
import re
import zipfile
from collections.abc import Callable, Generator, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Final

from openpyxl import Workbook, load_workbook

from ddr_registration.domain.members import (
    LIST_FIELDS,
    BirthDate,
    Category,
    ListedMember,
    ParsedRow,
    RowError,
    Sex,
    WeaponHandedOver,
)
from ddr_registration.domain.profiles import fold
from ddr_registration.domain.values import ColumnMapping
from ddr_runtime.kernel import RuleViolated

COLUMNS: Final = LIST_FIELDS
REQUIRED_COLUMNS: Final = frozenset(
    {"movement_ref", "full_name", "sex", "birth_date", "category", "region", "cercle", "armed"}
)
WEAPON_COLUMNS: Final = ("weapon_type", "weapon_calibre", "weapon_serial", "weapon_condition")

# Header spellings seen on movement lists, folded (lower case, no accents, "_" between words).
_ALIASES: Final[dict[str, tuple[str, ...]]] = {
    "movement_ref": ("ref", "reference", "matricule", "numero", "no", "n", "numero_mouvement", "id"),
    "full_name": (
        "nom",
        "nom_complet",
        "name",
        "nom_prenom",
        "nom_et_prenom",
        "nom_et_prenoms",
        "prenom_nom",
    ),
    "full_name_arabic": ("nom_arabe", "nom_en_arabe", "arabic_name", "name_arabic"),
    "sex": ("sexe", "genre", "gender"),
    "birth_date": ("date_naissance", "date_de_naissance", "naissance", "date_of_birth", "dob", "ne_le"),
    "category": ("categorie",),
    "region": (),
    "cercle": ("district",),
    "commune": (),
    "rank": ("grade",),
    "armed": ("arme", "avec_arme"),
    "weapon_type": ("type_arme", "type_d_arme", "type_de_l_arme", "arme_type"),
    "weapon_calibre": ("weapon_caliber", "calibre"),
    "weapon_serial": ("numero_serie", "numero_de_serie", "no_serie", "serial", "serie"),
    "weapon_condition": ("etat_arme", "etat_de_l_arme", "etat", "condition"),
    "father_name": ("nom_pere", "nom_du_pere", "pere", "fils_de", "father"),
    "mother_name": ("nom_mere", "nom_de_la_mere", "mere", "mother"),
    "birth_place": ("lieu_naissance", "lieu_de_naissance", "ne_a", "place_of_birth"),
    "document_type": ("type_piece", "type_de_piece", "piece_d_identite", "type_document", "id_document"),
    "document_issued": ("date_delivrance", "date_de_delivrance", "delivre_le", "document_date", "issued_on"),
    "family_name": ("nom_de_famille", "surname", "last_name"),
    "given_names": ("prenom", "prenoms", "given_name", "first_name", "first_names"),
}
_HEADER_TO_COLUMN: Final = {
    alias: column for column, aliases in _ALIASES.items() for alias in (column, *aliases)
}

_SEX_VALUES: Final = {
    "f": Sex.F,
    "femme": Sex.F,
    "feminin": Sex.F,
    "female": Sex.F,
    "m": Sex.M,
    "h": Sex.M,
    "homme": Sex.M,
    "masculin": Sex.M,
    "male": Sex.M,
}
_CATEGORY_VALUES: Final = {
    **{category.value: category for category in Category},
    "combattant": Category.COMBATANT,
    "femme_associee": Category.ASSOCIATED_WOMAN,
    "cadre_civil": Category.CIVILIAN_CADRE,
    "ex_militaire": Category.FORMER_ARMED_FORCES,
    "ancien_militaire": Category.FORMER_ARMED_FORCES,
    "enfant": Category.CHILD,
}
_ARMED_VALUES: Final = {
    "oui": True,
    "yes": True,
    "1": True,
    "true": True,
    "vrai": True,
    "non": False,
    "no": False,
    "0": False,
    "false": False,
    "faux": False,
}
_UNKNOWN_DATES: Final = frozenset({"", "inconnu", "inconnue", "unknown"})
_ISO_DATE: Final = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_FRENCH_DATE: Final = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")
_YEAR: Final = re.compile(r"\d{4}")
_REF: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9/_.\-]{0,63}")
_ARABIC_LETTER: Final = re.compile("[\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff\ufb50-\ufdff\ufe70-\ufeff]")
_LATIN_LETTER: Final = re.compile("[A-Za-z]")
_LETTER: Final = re.compile(r"[^\W\d_]")
_DIGIT: Final = re.compile(r"\d")
_EARLIEST_BIRTH_YEAR: Final = 1900
_LONGEST_TEXT: Final = 200


class ListFileError(RuleViolated):
    """The file as a whole cannot be read as a list (unknown format, missing column, bad encoding): refused
    like any rule (422), with a message that names columns and formats, never a cell's value."""

    def __init__(self, detail: str) -> None:
        super().__init__("unreadable-list-file", detail)


class _RowInvalid(Exception):
    def __init__(self, column: str, reason: str) -> None:
        super().__init__(reason)
        self.column = column
        self.reason = reason


Cell = str | int | float | date | datetime | None
_FieldParser = Callable[[dict[str, str], dict[str, Cell], date], Any]
"""Parses one field from the row's texts (by column) and raw cells (a real date, in XLSX), or refuses it."""


def read_list_file(
    path: Path, *, today: date | None = None, mapping: ColumnMapping | None = None
) -> Iterator[ParsedRow | RowError]:
    """Yield, in file order, each data row as a ``ParsedRow`` or one ``RowError`` per fault.

    The header is line 1; a header missing a required column raises ``ListFileError`` before any row.
    Blank rows are skipped. ``today`` bounds birth dates (default: the current date). ``mapping`` (a
    movement's import profile) names the columns it lays out otherwise and the values it writes for ours.
    """
    rows = _csv_rows(path) if _suffix(path) == ".csv" else _xlsx_rows(path)
    _, header = next(rows, (1, ()))
    layout = _layout(header, mapping)
    bound = today or date.today()
    for line, cells in rows:
        if all(cell is None or cell == "" for cell in cells):
            continue
        yield from _parse_row(line, cells, layout, bound)


def unknown_columns(path: Path, mapping: ColumnMapping | None = None) -> tuple[str, ...]:
    """The header's columns that nothing reads (neither ours, nor an alias, nor the profile's), in order."""
    rows = _csv_rows(path) if _suffix(path) == ".csv" else _xlsx_rows(path)
    _, header = next(rows, (1, ()))
    rows.close()
    return _layout(header, mapping).unknown


class ListFileReader:
    """List files as the service layer reads them (its ``ListFiles``)."""

    def read(self, path: Path, mapping: ColumnMapping | None = None) -> Iterator[ParsedRow | RowError]:
        return read_list_file(path, mapping=mapping)

    def unknown_columns(self, path: Path, mapping: ColumnMapping | None = None) -> tuple[str, ...]:
        return unknown_columns(path, mapping)

    def sha256(self, path: Path) -> str:
        return file_sha256(path)


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of the file's bytes, read in chunks."""
    with path.open("rb") as stream:
        return hashlib.file_digest(stream, "sha256").hexdigest()


def write_list_file(path: Path, members: Iterable[ListedMember]) -> int:
    """Write ``members`` as a list file, CSV or XLSX by the path's suffix; return the number of rows."""
    with ListFileWriter(path) as writer:
        for member in members:
            writer.write(member)
        return writer.rows


class ListFileWriter:
    """Appends members to a CSV or XLSX list file, one row each, under the canonical header.

    A row holds at most one weapon (the file layout has one set of weapon columns).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.rows = 0
        self._suffix = _suffix(path)
        self._stream: IO[str] | None = None
        self._append: Callable[[list[str]], object]
        if self._suffix == ".csv":
            self._stream = path.open("w", encoding="utf-8", newline="")
            self._append = csv.writer(self._stream, lineterminator="\n").writerow
        else:
            self._workbook = Workbook(write_only=True)
            sheet = self._workbook.create_sheet("list")
            self._append = sheet.append
        self._append(list(COLUMNS))

    def write(self, member: ListedMember) -> None:
        self._append(_member_cells(member))
        self.rows += 1

    def close(self) -> None:
        if self._stream is not None:
            self._stream.close()
        else:
            self._workbook.save(self.path)

    def __enter__(self) -> ListFileWriter:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()


def _suffix(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise ListFileError(f"a list file is .csv or .xlsx, not {suffix or 'a file without suffix'!r}")
    return suffix


# --- reading -------------------------------------------------------------------------------------------


def _csv_rows(path: Path) -> Generator[tuple[int, tuple[Cell, ...]]]:
    with path.open(encoding="utf-8-sig", newline="") as stream:
        try:
            header_line = stream.readline()
            if not header_line.strip():
                raise ListFileError("the file is empty: no header line")
            try:
                dialect = csv.Sniffer().sniff(header_line, delimiters=";,")
                delimiter = dialect.delimiter
            except csv.Error:
                delimiter = ","  # a one-column header: let the missing-column check speak
            reader = csv.reader(itertools.chain([header_line], stream), delimiter=delimiter)
            started = 1
            for record in reader:
                yield started, tuple(record)
                started = reader.line_num + 1
        except UnicodeDecodeError:
            raise ListFileError("the file is not UTF-8 text (save it as CSV UTF-8)") from None


MAX_XLSX_UNPACKED = 256 * 1024 * 1024
"""What a workbook's parts may unpack to, in all: a 150,000-row list is about 100 MiB of XML."""
MAX_XLSX_RATIO = 100
"""How much a part may grow when unpacked: worksheets of real lists grow 5 to 20 times; a zip bomb, 1,000."""
MAX_XLSX_PARTS = 1_000
MAX_COLUMNS = 200
"""Cells read per row: a list has a few dozen columns; a sheet declaring 16,384 is not padded out."""


def check_xlsx_archive(path: Path) -> None:
    """Refuse a workbook whose parts would unpack past the bounds, before any part is opened (the sizes
    a zip declares are checked again while reading, by ``zipfile``)."""
    try:
        with zipfile.ZipFile(path) as archive:
            parts = archive.infolist()
    except (OSError, zipfile.BadZipFile) as error:
        raise ListFileError(f"not a readable XLSX workbook ({type(error).__name__})") from None
    if len(parts) > MAX_XLSX_PARTS:
        raise ListFileError(f"the workbook has over {MAX_XLSX_PARTS} parts")
    if sum(part.file_size for part in parts) > MAX_XLSX_UNPACKED:
        raise ListFileError(f"the workbook unpacks to over {MAX_XLSX_UNPACKED // (1024 * 1024)} MiB")
    for part in parts:
        if part.file_size > 1024 * 1024 and part.file_size > MAX_XLSX_RATIO * max(part.compress_size, 1):
            raise ListFileError(
                f"a part of the workbook grows over {MAX_XLSX_RATIO} times when unpacked (a zip bomb?)"
            )


def _xlsx_rows(path: Path) -> Generator[tuple[int, tuple[Cell, ...]]]:
    check_xlsx_archive(path)
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as error:
        raise ListFileError(f"not a readable XLSX workbook ({type(error).__name__})") from None
    try:
        sheet = workbook.worksheets[0]
        # Read-only sheets pad each row to the dimension the file declares: bound it.
        yield from enumerate(sheet.iter_rows(values_only=True, max_col=MAX_COLUMNS), start=1)
    finally:
        workbook.close()


_fold = functools.lru_cache(maxsize=256)(fold)
"""Lower case, no accents, words joined by "_" (cached: a list repeats a handful of codes 100,000 times)."""


@dataclass(frozen=True, slots=True)
class _Layout:
    """Where each field is in the file, the columns nothing reads, and the values written for ours (by
    field, folded)."""

    positions: dict[str, int]
    width: int
    unknown: tuple[str, ...]
    values: dict[str, dict[str, str]]


def _layout(header: tuple[Cell, ...], mapping: ColumnMapping | None) -> _Layout:
    named = {_fold(source): field for source, field in mapping.columns.items()} if mapping else {}
    positions: dict[str, int] = {}
    unknown: list[str] = []
    for position, cell in enumerate(header):
        text = _text(cell)
        column = named.get(_fold(text)) or _HEADER_TO_COLUMN.get(_fold(text))
        if column is None:
            if text:
                unknown.append(text)  # movements add their own columns (remarks, unit...): not ours to read
            continue
        if column in positions:
            raise ListFileError(f"two header cells stand for the column {column!r}")
        positions[column] = position
    required = REQUIRED_COLUMNS - ({"full_name"} if "family_name" in positions else set())
    missing = [column for column in COLUMNS if column in required and column not in positions]
    if missing:
        raise ListFileError(f"the header lacks the required column(s): {', '.join(missing)}")
    values = {
        field: {_fold(written): ours for written, ours in mapped.items()}
        for field, mapped in (mapping.values if mapping else {}).items()
    }
    return _Layout(positions, len(header), tuple(unknown), values)


def _text(cell: Cell) -> str:
    if isinstance(cell, str):
        return " ".join(cell.split())
    if cell is None:
        return ""
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    if isinstance(cell, datetime):
        return cell.date().isoformat()
    if isinstance(cell, date):
        return cell.isoformat()
    return " ".join(str(cell).split())


def _parse_row(
    line: int, cells: tuple[Cell, ...], layout: _Layout, today: date
) -> Iterator[ParsedRow | RowError]:
    if any(_text(cell) for cell in cells[layout.width :]):
        yield RowError(line, "row", f"row: has {len(cells)} cells, the header has {layout.width}")
        return
    raw = {column: cells[index] if index < len(cells) else None for column, index in layout.positions.items()}
    values = {column: _text(cell) for column, cell in raw.items()}
    for field, mapped in layout.values.items():
        if values.get(field):
            values[field] = mapped.get(_fold(values[field]), values[field])
    if "full_name" not in layout.positions:
        values["full_name"] = " ".join(
            part for part in (values.get("given_names"), values.get("family_name")) if part
        )
    fields: dict[str, Any] = {}
    errors: list[RowError] = []
    for column, parse in _FIELDS:
        try:
            fields[column] = parse(values, raw, today)
        except _RowInvalid as fault:
            errors.append(RowError(line, fault.column, fault.reason))
    if not errors:
        try:
            _check_consistency(fields)
        except _RowInvalid as fault:
            errors.append(RowError(line, fault.column, fault.reason))
    if errors:
        yield from errors
        return
    weapon = fields.pop("weapon")
    yield ParsedRow(line, ListedMember(**fields, weapons=(weapon,) if weapon else ()))


def _required(values: dict[str, str], column: str) -> str:
    value = values.get(column, "")
    if not value:
        raise _RowInvalid(column, f"{column}: is empty")
    if len(value) > _LONGEST_TEXT:
        raise _RowInvalid(column, f"{column}: longer than {_LONGEST_TEXT} characters")
    return value


def _optional(values: dict[str, str], column: str) -> str | None:
    value = values.get(column, "")
    if len(value) > _LONGEST_TEXT:
        raise _RowInvalid(column, f"{column}: longer than {_LONGEST_TEXT} characters")
    return value or None


def _movement_ref(values: dict[str, str], _raw: dict[str, Cell], _today: date) -> str:
    value = _required(values, "movement_ref")
    if not _REF.fullmatch(value):
        raise _RowInvalid(
            "movement_ref",
            f"movement_ref: {value!r} is not a reference (letters, digits, / _ . -; at most 64)",
        )
    return value


def _full_name(values: dict[str, str], _raw: dict[str, Cell], _today: date) -> str:
    # The name itself is never quoted in a reason.
    value = _required(values, "full_name")
    if not _LETTER.search(value):
        raise _RowInvalid("full_name", "full_name: has no letter")
    if _DIGIT.search(value):
        raise _RowInvalid("full_name", "full_name: contains digits")
    return value


def _full_name_arabic(values: dict[str, str], _raw: dict[str, Cell], _today: date) -> str | None:
    value = _optional(values, "full_name_arabic")
    if value is not None and (not _ARABIC_LETTER.search(value) or _LATIN_LETTER.search(value)):
        raise _RowInvalid("full_name_arabic", "full_name_arabic: is not in Arabic script")
    return value


def _sex(values: dict[str, str], _raw: dict[str, Cell], _today: date) -> Sex:
    value = _required(values, "sex")
    sex = _SEX_VALUES.get(_fold(value))
    if sex is None:
        raise _RowInvalid("sex", f"sex: {value!r} is not F or M (Femme or Homme)")
    return sex


def _birth(_values: dict[str, str], cells: dict[str, Cell], today: date) -> BirthDate:
    raw = cells.get("birth_date")
    birth = _birth_date(raw)
    year = birth.year
    if year is not None and year < _EARLIEST_BIRTH_YEAR:
        raise _RowInvalid("birth_date", f"birth_date: {_text(raw)!r} is before {_EARLIEST_BIRTH_YEAR}")
    if (birth.value is not None and birth.value > today) or (year is not None and year > today.year):
        raise _RowInvalid("birth_date", f"birth_date: {_text(raw)!r} is in the future")
    return birth


def _birth_date(raw: Cell) -> BirthDate:
    # XLSX cells may hold a real date, or a year typed as a number.
    if isinstance(raw, datetime):
        return BirthDate.exact(raw.date())
    if isinstance(raw, date):
        return BirthDate.exact(raw)
    value = _text(raw)
    if value.casefold() in _UNKNOWN_DATES:
        return BirthDate.unknown()
    if _YEAR.fullmatch(value):
        return BirthDate.year_only(int(value))
    parts: tuple[int, int, int] | None = None
    if iso := _ISO_DATE.fullmatch(value):
        parts = (int(iso[1]), int(iso[2]), int(iso[3]))
    elif french := _FRENCH_DATE.fullmatch(value):
        parts = (int(french[3]), int(french[2]), int(french[1]))
    if parts is None:
        raise _RowInvalid(
            "birth_date",
            f"birth_date: {value!r} is not a date (YYYY-MM-DD, DD/MM/YYYY, a year, or inconnu)",
        )
    try:
        return BirthDate.exact(date(*parts))
    except ValueError:
        raise _RowInvalid("birth_date", f"birth_date: {value!r} is not a date") from None


def _category(values: dict[str, str], _raw: dict[str, Cell], _today: date) -> Category:
    value = _required(values, "category")
    category = _CATEGORY_VALUES.get(_fold(value))
    if category is None:
        accepted = ", ".join(category.value for category in Category)
        raise _RowInvalid("category", f"category: {value!r} is not one of {accepted}")
    return category


def _armed(values: dict[str, str], _raw: dict[str, Cell], _today: date) -> bool:
    value = _required(values, "armed")
    armed = _ARMED_VALUES.get(_fold(value))
    if armed is None:
        raise _RowInvalid("armed", f"armed: {value!r} is not oui/non (yes/no, 1/0)")
    return armed


def _person_name(column: str) -> _FieldParser:
    """An optional name (a parent's) or place: letters needed, no digits; never quoted in a reason."""

    def parse(values: dict[str, str], _raw: dict[str, Cell], _today: date) -> str | None:
        value = _optional(values, column)
        if value is not None and not _LETTER.search(value):
            raise _RowInvalid(column, f"{column}: has no letter")
        if value is not None and _DIGIT.search(value):
            raise _RowInvalid(column, f"{column}: contains digits")
        return value

    return parse


def _weapon(values: dict[str, str], _raw: dict[str, Cell], _today: date) -> WeaponHandedOver | None:
    kind, calibre, serial, condition = (_optional(values, column) for column in WEAPON_COLUMNS)
    if kind is None:
        if calibre or serial or condition:
            raise _RowInvalid("weapon_type", "weapon_type: is empty while the row describes a weapon")
        return None
    return WeaponHandedOver(kind=kind, calibre=calibre, serial=serial, condition=condition)


def _document_issued(_values: dict[str, str], cells: dict[str, Cell], today: date) -> date | None:
    """The identity document's day of issue: a full date, never in the future."""
    raw = cells.get("document_issued")
    if raw is None or _text(raw) == "":
        return None
    try:
        issued = _birth_date(raw)
    except _RowInvalid:
        issued = BirthDate.unknown()
    if issued.value is None:
        raise _RowInvalid(
            "document_issued", f"document_issued: {_text(raw)!r} is not a date (YYYY-MM-DD or DD/MM/YYYY)"
        )
    if issued.value > today:
        raise _RowInvalid("document_issued", f"document_issued: {_text(raw)!r} is in the future")
    return issued.value


def _check_consistency(fields: dict[str, Any]) -> None:
    if fields["weapon"] is not None and not fields["armed"]:
        raise _RowInvalid("armed", "armed: the member is listed unarmed but hands over a weapon")
    if fields["category"] is Category.ASSOCIATED_WOMAN and fields["sex"] is not Sex.F:
        raise _RowInvalid("category", "category: associated_woman is for women (sex F)")


_FIELDS: Final[tuple[tuple[str, _FieldParser], ...]] = (
    ("movement_ref", _movement_ref),
    ("full_name", _full_name),
    ("full_name_arabic", _full_name_arabic),
    ("sex", _sex),
    ("birth", _birth),
    ("category", _category),
    ("region", lambda values, _raw, _today: _required(values, "region")),
    ("cercle", lambda values, _raw, _today: _required(values, "cercle")),
    ("commune", lambda values, _raw, _today: _optional(values, "commune")),
    ("rank", lambda values, _raw, _today: _optional(values, "rank")),
    ("armed", _armed),
    ("weapon", _weapon),
    ("father_name", _person_name("father_name")),
    ("mother_name", _person_name("mother_name")),
    ("birth_place", _person_name("birth_place")),
    ("document_type", lambda values, _raw, _today: _optional(values, "document_type")),
    ("document_issued", _document_issued),
)


# --- writing -------------------------------------------------------------------------------------------


def _member_cells(member: ListedMember) -> list[str]:
    if len(member.weapons) > 1:
        raise ValueError("a list file row holds one weapon; list further weapons on the weapons register")
    weapon = member.weapons[0] if member.weapons else None
    birth = member.birth
    birth_text = (
        birth.value.isoformat()
        if birth.value is not None
        else str(birth.year)
        if birth.year is not None
        else ""
    )
    return [
        member.movement_ref,
        member.full_name,
        member.full_name_arabic or "",
        member.sex.value,
        birth_text,
        member.category.value,
        member.region,
        member.cercle,
        member.commune or "",
        member.rank or "",
        "oui" if member.armed else "non",
        weapon.kind if weapon else "",
        (weapon.calibre or "") if weapon else "",
        (weapon.serial or "") if weapon else "",
        (weapon.condition or "") if weapon else "",
        member.father_name or "",
        member.mother_name or "",
        member.birth_place or "",
        member.document_type or "",
        member.document_issued.isoformat() if member.document_issued else "",
    ]
