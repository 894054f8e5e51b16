"""Bounds on reading a list file (issue 14, finding 13: a 194 KiB XLSX grew memory by 200 MiB)."""

from __future__ import annotations

import tracemalloc
import zipfile
from pathlib import Path

import pytest

from ddr_registration.adapters.list_files import (
    MAX_COLUMNS,
    ListFileError,
    _xlsx_rows,
    read_list_file,
    write_list_file,
)
from ddr_registration.domain.members import BirthDate, Category, ListedMember, ParsedRow, Sex

MB = 1024 * 1024


def a_member(ref: str) -> ListedMember:
    return ListedMember(
        movement_ref=ref, full_name="Ali Ag Ali", full_name_arabic=None, sex=Sex.M,
        birth=BirthDate.year_only(1988), category=Category.COMBATANT, region="Kidal", cercle="Kidal",
        commune=None, rank=None, armed=False,
    )  # fmt: skip


def rewrite_part(path: Path, part: str, change: object) -> None:
    """Rewrite one part of a workbook in place: ``change`` maps its text to the new text."""
    with zipfile.ZipFile(path) as source:
        parts = {info.filename: source.read(info) for info in source.infolist()}
    parts[part] = change(parts[part].decode()).encode()  # type: ignore[operator]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for name, data in parts.items():
            target.writestr(name, data)


def test_a_workbook_that_would_unpack_a_thousand_times_its_size_is_refused_before_it_is_read(
    tmp_path: Path,
) -> None:
    path = tmp_path / "bomb.xlsx"
    write_list_file(path, [a_member("M-1")])
    padding = " " * (64 * MB)
    rewrite_part(
        path, "xl/worksheets/sheet1.xml", lambda xml: xml.replace("<sheetData>", padding + "<sheetData>")
    )
    assert path.stat().st_size < MB

    tracemalloc.start()
    try:
        with pytest.raises(ListFileError, match="grows over"):
            list(read_list_file(path))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert peak < 4 * MB, f"peak {peak / MB:.1f} MB"


def test_a_sheet_declaring_every_column_is_read_no_wider_than_the_bound(tmp_path: Path) -> None:
    path = tmp_path / "wide.xlsx"
    write_list_file(path, [a_member(f"M-{n}") for n in range(3)])
    rewrite_part(
        path,
        "xl/worksheets/sheet1.xml",
        lambda xml: xml.replace("<sheetData>", '<dimension ref="A1:XFD4"/><sheetData>', 1),
    )

    widths = {len(cells) for _, cells in _xlsx_rows(path)}
    parsed = sum(isinstance(row, ParsedRow) for row in read_list_file(path))

    assert widths == {MAX_COLUMNS}
    assert parsed == 3
