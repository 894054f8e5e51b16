"""Movement list files: streamed row by row, every fault reported with its line, column and reason."""

from __future__ import annotations

import hashlib
import logging
import tracemalloc
import zipfile
from datetime import date, datetime
from pathlib import Path

import pytest
from openpyxl import Workbook

from ddr_registration.adapters.list_files import (
    COLUMNS,
    REQUIRED_COLUMNS,
    ListFileError,
    file_sha256,
    read_list_file,
    unknown_columns,
    write_list_file,
)
from ddr_registration.domain.members import (
    BirthDate,
    Category,
    ListedMember,
    ParsedRow,
    RowError,
    Sex,
    WeaponHandedOver,
)
from ddr_registration.domain.values import ColumnMapping
from ddr_registration.simulate.caseload import generate_caseload

TODAY = date(2026, 11, 27)
HEADER = ",".join(COLUMNS)
GOOD = "MNLA-000001,Mohamed Ag Intalla,محمد أغ إنتالا,M,1990-03-01,combatant,Kidal,Kidal,Anéfis,sergent,oui,AK-47,7.62x39mm,KA0012345,serviceable,Intalla Ag Attaher,Fatoumata Walet Bibi,Anéfis,,"
LARGE_CSV_ROWS = 100_000
LARGE_XLSX_ROWS = 20_000
MB = 1024 * 1024


def csv_file(tmp_path: Path, *lines: str, name: str = "list.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding=encoding)
    return path


def read(path: Path) -> list[ParsedRow | RowError]:
    return list(read_list_file(path, today=TODAY))


def members(results: list[ParsedRow | RowError]) -> list[ListedMember]:
    return [result.member for result in results if isinstance(result, ParsedRow)]


def errors(results: list[ParsedRow | RowError]) -> list[RowError]:
    return [result for result in results if isinstance(result, RowError)]


def row(**cells: str) -> str:
    """The good row with some cells replaced (quoted, so commas and line breaks stay in the cell)."""
    values = dict(zip(COLUMNS, GOOD.split(","), strict=True))
    values.update(cells)
    return ",".join('"' + value.replace('"', '""') + '"' for value in values.values())


# --- round trips ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_a_written_list_reads_back_as_the_same_members(tmp_path: Path, suffix: str) -> None:
    written = list(generate_caseload(500, seed=5).members())
    path = tmp_path / f"list{suffix}"

    assert write_list_file(path, written) == 500
    results = read(path)

    assert members(results) == written
    assert [result.line for result in results] == list(range(2, 502))


def test_the_writer_refuses_a_row_with_two_weapons(tmp_path: Path) -> None:
    two = ListedMember(
        "MNLA-000001", "Moussa Ag Bilal", None, Sex.M, BirthDate.unknown(), Category.COMBATANT,
        "Kidal", "Kidal", None, None, True, (WeaponHandedOver("AK-47"), WeaponHandedOver("PKM")),
    )  # fmt: skip

    with pytest.raises(ValueError, match="one weapon"):
        write_list_file(tmp_path / "list.csv", [two])


@pytest.fixture(scope="module")
def large_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("large") / "list.csv"
    write_list_file(path, generate_caseload(LARGE_CSV_ROWS, seed=11).members())
    return path


@pytest.fixture(scope="module")
def large_xlsx(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("large") / "list.xlsx"
    write_list_file(path, generate_caseload(LARGE_XLSX_ROWS, seed=11).members())
    return path


def parse_measuring_peak(path: Path) -> tuple[int, int]:
    """Rows parsed without a fault, and the peak of memory allocated while parsing them."""
    tracemalloc.start()
    try:
        parsed = sum(1 for result in read_list_file(path, today=TODAY) if isinstance(result, ParsedRow))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return parsed, peak


def test_a_100k_row_csv_is_parsed_in_a_small_fraction_of_its_size(large_csv: Path) -> None:
    parsed, peak = parse_measuring_peak(large_csv)

    assert parsed == LARGE_CSV_ROWS
    assert large_csv.stat().st_size > 9 * MB
    assert peak < 2 * MB, f"peak {peak / MB:.1f} MB"


def test_a_20k_row_xlsx_is_parsed_in_a_small_fraction_of_its_sheet(large_xlsx: Path) -> None:
    with zipfile.ZipFile(large_xlsx) as archive:
        unpacked = sum(entry.file_size for entry in archive.infolist())

    parsed, peak = parse_measuring_peak(large_xlsx)

    assert parsed == LARGE_XLSX_ROWS
    assert peak < unpacked / 4, f"peak {peak / MB:.1f} MB of {unpacked / MB:.1f} MB unpacked"


# --- every kind of bad row ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cells", "column", "reason"),
    [
        ({"movement_ref": ""}, "movement_ref", "movement_ref: is empty"),
        (
            {"movement_ref": "MNLA 12"},
            "movement_ref",
            "movement_ref: 'MNLA 12' is not a reference (letters, digits, / _ . -; at most 64)",
        ),
        ({"full_name": ""}, "full_name", "full_name: is empty"),
        ({"full_name": "Moussa 2"}, "full_name", "full_name: contains digits"),
        ({"full_name": "- -"}, "full_name", "full_name: has no letter"),
        ({"full_name": "Moussa " * 40}, "full_name", "full_name: longer than 200 characters"),
        ({"full_name_arabic": "Mohamed"}, "full_name_arabic", "full_name_arabic: is not in Arabic script"),
        ({"sex": ""}, "sex", "sex: is empty"),
        ({"sex": "X"}, "sex", "sex: 'X' is not F or M (Femme or Homme)"),
        ({"birth_date": "31/02/1990"}, "birth_date", "birth_date: '31/02/1990' is not a date"),
        ({"birth_date": "1990-13-01"}, "birth_date", "birth_date: '1990-13-01' is not a date"),
        (
            {"birth_date": "vers 1990"},
            "birth_date",
            "birth_date: 'vers 1990' is not a date (YYYY-MM-DD, DD/MM/YYYY, a year, or inconnu)",
        ),
        ({"birth_date": "2026-11-28"}, "birth_date", "birth_date: '2026-11-28' is in the future"),
        ({"birth_date": "2027"}, "birth_date", "birth_date: '2027' is in the future"),
        ({"birth_date": "31/12/1899"}, "birth_date", "birth_date: '31/12/1899' is before 1900"),
        ({"birth_date": "1899"}, "birth_date", "birth_date: '1899' is before 1900"),
        (
            {"category": "soldier"},
            "category",
            "category: 'soldier' is not one of combatant, associated_woman, civilian_cadre, former_armed_forces, child",
        ),
        ({"category": "associated_woman"}, "category", "category: associated_woman is for women (sex F)"),
        ({"region": ""}, "region", "region: is empty"),
        ({"cercle": ""}, "cercle", "cercle: is empty"),
        ({"rank": "x" * 201}, "rank", "rank: longer than 200 characters"),
        ({"armed": "peut-être"}, "armed", "armed: 'peut-être' is not oui/non (yes/no, 1/0)"),
        ({"armed": "non"}, "armed", "armed: the member is listed unarmed but hands over a weapon"),
        ({"weapon_type": ""}, "weapon_type", "weapon_type: is empty while the row describes a weapon"),
    ],
)
def test_a_bad_row_is_reported_with_its_line_column_and_reason(
    tmp_path: Path, cells: dict[str, str], column: str, reason: str
) -> None:
    path = csv_file(tmp_path, HEADER, GOOD, row(**cells), GOOD)

    results = read(path)

    assert results[1] == RowError(3, column, reason)
    assert [(type(result), result.line) for result in results] == [
        (ParsedRow, 2),
        (RowError, 3),
        (ParsedRow, 4),
    ]


def test_a_row_with_more_cells_than_the_header_is_reported_as_a_whole(tmp_path: Path) -> None:
    path = csv_file(tmp_path, HEADER, GOOD + ",surplus")

    assert read(path) == [
        RowError(2, "row", f"row: has {len(COLUMNS) + 1} cells, the header has {len(COLUMNS)}")
    ]


def test_a_row_with_several_faults_reports_each_of_them_in_column_order(tmp_path: Path) -> None:
    path = csv_file(tmp_path, HEADER, row(sex="?", birth_date="hier", armed=""))

    assert [(error.line, error.column) for error in errors(read(path))] == [
        (2, "sex"),
        (2, "birth_date"),
        (2, "armed"),
    ]


def test_a_reason_about_a_name_never_quotes_the_name(tmp_path: Path) -> None:
    path = csv_file(tmp_path, HEADER, row(full_name="Moussa Ag Bilal 2", full_name_arabic="Moussa"))

    reasons = " ".join(error.reason for error in errors(read(path)))

    assert "Moussa" not in reasons
    assert "Bilal" not in reasons


def test_reading_a_file_with_bad_rows_logs_no_personal_value(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = csv_file(tmp_path, HEADER, row(birth_date="31/02/1990"), row(full_name="Moussa Ag Bilal 2"))

    with caplog.at_level(logging.DEBUG):
        assert len(errors(read(path))) == 2

    assert "31/02/1990" not in caplog.text
    assert "Bilal" not in caplog.text


def test_a_line_number_is_the_line_where_the_row_starts_even_after_a_cell_spanning_two_lines(
    tmp_path: Path,
) -> None:
    path = csv_file(tmp_path, HEADER, row(rank="sergent\nchef"), row(sex="?"))

    results = read(path)

    assert results[0].line == 2
    assert results[1] == RowError(4, "sex", "sex: '?' is not F or M (Femme or Homme)")


def test_blank_lines_are_skipped_but_still_counted(tmp_path: Path) -> None:
    path = csv_file(tmp_path, HEADER, GOOD, "", ",,,,,,,,,,,,,,", row(sex="?"))

    results = read(path)

    assert [result.line for result in results] == [2, 5]


# --- headers --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("missing", sorted(REQUIRED_COLUMNS))
def test_a_header_missing_a_required_column_raises_naming_it_before_any_row(
    tmp_path: Path, missing: str
) -> None:
    header = ",".join(column if column != missing else "remarks" for column in COLUMNS)
    path = csv_file(tmp_path, header, GOOD)

    results = read_list_file(path, today=TODAY)

    with pytest.raises(ListFileError, match=missing):
        next(results)


def test_an_empty_file_raises(tmp_path: Path) -> None:
    with pytest.raises(ListFileError, match="empty"):
        read(csv_file(tmp_path, ""))


def test_a_header_naming_a_column_twice_raises(tmp_path: Path) -> None:
    with pytest.raises(ListFileError, match="full_name"):
        read(csv_file(tmp_path, HEADER + ",nom", GOOD + ",Moussa"))


def test_optional_columns_may_be_left_out(tmp_path: Path) -> None:
    header = ",".join(column for column in COLUMNS if column in REQUIRED_COLUMNS)
    path = csv_file(tmp_path, header, "CMI-000007,Aïssata Maïga,F,1995,associated_woman,Gao,Ansongo,non")

    (listed,) = members(read(path))

    assert (listed.full_name_arabic, listed.commune, listed.rank, listed.weapons) == (None, None, None, ())
    assert (listed.father_name, listed.mother_name, listed.birth_place) == (None, None, None)


def test_parents_names_and_birth_place_are_read_under_their_french_names(tmp_path: Path) -> None:
    header = "Matricule;Nom;Sexe;Né le;Catégorie;Région;Cercle;Armé;Nom père;Mère;Lieu de naissance"
    line = "CMA-0007;Mohamed Ag Intalla;M;1990;Combattant;Kidal;Kidal;non;Intalla Ag Attaher;Fatoumata Walet Bibi;Anéfis"
    path = csv_file(tmp_path, header, line, "CMA-0008;Issa Maïga;M;1991;Combattant;Gao;Gao;non;;;")

    first, second = members(read(path))

    assert (first.father_name, first.mother_name, first.birth_place) == (
        "Intalla Ag Attaher",
        "Fatoumata Walet Bibi",
        "Anéfis",
    )
    assert (second.father_name, second.mother_name, second.birth_place) == (None, None, None)


@pytest.mark.parametrize("column", ["father_name", "mother_name", "birth_place"])
def test_a_parents_name_or_birth_place_with_digits_is_refused_without_quoting_it(
    tmp_path: Path, column: str
) -> None:
    (error,) = errors(read(csv_file(tmp_path, HEADER, row(**{column: "Intalla 2"}))))

    assert (error.line, error.column) == (2, column)
    assert "Intalla" not in error.reason


def test_french_headers_values_and_semicolons_are_understood(tmp_path: Path) -> None:
    header = (
        "Matricule;Nom;Nom arabe;Sexe;Date de naissance;Catégorie;Région;Cercle;Commune;Grade;Armé;"
        "Type arme;Calibre;Numéro de série;État arme;Observations"
    )
    line = "GATIA-0042;Fatimata Welt Alhassane;;Femme;07/03/1996;Femme associée;Ménaka;Ménaka;;;Non;;;;;RAS"
    path = csv_file(
        tmp_path, header, line, "GATIA-0043;Oumar Ag Hamed;;Homme;inconnu;Combattant;Gao;Gao;;;Oui;AK-47;;;;"
    )

    first, second = members(read(path))

    assert (first.sex, first.birth, first.category, first.armed) == (
        Sex.F,
        BirthDate.exact(date(1996, 3, 7)),
        Category.ASSOCIATED_WOMAN,
        False,
    )
    assert (second.birth, second.armed, second.weapons) == (
        BirthDate.unknown(),
        True,
        (WeaponHandedOver("AK-47"),),
    )


@pytest.mark.parametrize("delimiter", [",", ";"])
def test_the_delimiter_is_detected_from_the_header(tmp_path: Path, delimiter: str) -> None:
    line = "CMI-1;Moussa Maïga;;M;1990;combatant;Gao;Gao;;;non;;;;".replace(";", delimiter)
    path = csv_file(tmp_path, HEADER.replace(",", delimiter), line)

    assert [listed.full_name for listed in members(read(path))] == ["Moussa Maïga"]


def test_a_byte_order_mark_is_ignored(tmp_path: Path) -> None:
    path = csv_file(tmp_path, HEADER, GOOD, encoding="utf-8-sig")

    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    assert [listed.movement_ref for listed in members(read(path))] == ["MNLA-000001"]


def test_a_file_that_is_not_utf8_raises(tmp_path: Path) -> None:
    path = csv_file(tmp_path, HEADER, row(full_name="Aïcha Touré", full_name_arabic=""), encoding="cp1252")

    with pytest.raises(ListFileError, match="UTF-8"):
        read(path)


def test_a_csv_saved_under_an_xlsx_name_raises(tmp_path: Path) -> None:
    with pytest.raises(ListFileError, match="XLSX"):
        read(csv_file(tmp_path, HEADER, GOOD, name="list.xlsx"))


def test_a_file_that_is_neither_csv_nor_xlsx_raises(tmp_path: Path) -> None:
    with pytest.raises(ListFileError, match=r"\.ods"):
        read(csv_file(tmp_path, HEADER, name="list.ods"))


# --- values -----------------------------------------------------------------------------------------------


def test_arabic_names_pass_through_unchanged_in_either_name_column(tmp_path: Path) -> None:
    path = csv_file(
        tmp_path,
        HEADER,
        row(full_name="محمد ولد سيدي", full_name_arabic="محمد ولد سيدي"),
        row(
            movement_ref="MNLA-000002",
            full_name="Aïcha Welt Intalla",
            full_name_arabic="عائشة ولت إنتالا",
            sex="F",
        ),
    )

    first, second = members(read(path))

    assert (first.full_name, first.full_name_arabic) == ("محمد ولد سيدي", "محمد ولد سيدي")
    assert (second.full_name, second.full_name_arabic) == ("Aïcha Welt Intalla", "عائشة ولت إنتالا")


@pytest.mark.parametrize(
    ("text", "birth"),
    [
        ("1990-03-01", BirthDate.exact(date(1990, 3, 1))),
        ("01/03/1990", BirthDate.exact(date(1990, 3, 1))),
        ("1/3/1990", BirthDate.exact(date(1990, 3, 1))),
        ("1990", BirthDate.year_only(1990)),
        ("", BirthDate.unknown()),
        ("Inconnu", BirthDate.unknown()),
        ("unknown", BirthDate.unknown()),
    ],
)
def test_birth_dates_are_read_as_exact_year_only_or_unknown(
    tmp_path: Path, text: str, birth: BirthDate
) -> None:
    (listed,) = members(read(csv_file(tmp_path, HEADER, row(birth_date=text))))

    assert listed.birth == birth


@pytest.mark.parametrize(
    ("text", "armed"), [("oui", True), ("Yes", True), ("1", True), ("NON", False), ("0", False)]
)
def test_armed_is_read_from_french_or_english_or_digits(tmp_path: Path, text: str, armed: bool) -> None:
    cells = (
        {"armed": text}
        if armed
        else {
            "armed": text,
            "weapon_type": "",
            "weapon_calibre": "",
            "weapon_serial": "",
            "weapon_condition": "",
        }
    )

    (listed,) = members(read(csv_file(tmp_path, HEADER, row(**cells))))

    assert listed.armed is armed


def test_surrounding_and_repeated_spaces_in_a_cell_are_collapsed(tmp_path: Path) -> None:
    (listed,) = members(read(csv_file(tmp_path, HEADER, row(full_name="  Mohamed   Ag Intalla "))))

    assert listed.full_name == "Mohamed Ag Intalla"


def test_xlsx_cells_holding_dates_and_numbers_are_read_as_their_text(tmp_path: Path) -> None:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(list(COLUMNS))
    sheet.append(
        [1042, "Moussa Maïga", None, "M", datetime(1990, 3, 1), "combatant", "Gao", "Gao", None, None, 1]
    )
    sheet.append(["CMI-2", "Oumar Touré", None, "M", 1985, "combatant", "Gao", "Bourem", None, None, 0])
    path = tmp_path / "list.xlsx"
    workbook.save(path)

    first, second = members(read(path))

    assert (first.movement_ref, first.birth, first.armed) == ("1042", BirthDate.exact(date(1990, 3, 1)), True)
    assert (second.birth, second.armed) == (BirthDate.year_only(1985), False)


def test_xlsx_lines_are_the_sheet_row_numbers_across_empty_rows(tmp_path: Path) -> None:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(list(COLUMNS))
    sheet.append(GOOD.split(","))
    sheet.cell(row=5, column=1, value="CMI-3")  # rows 3 and 4 left empty; row 5 lacks most cells

    path = tmp_path / "list.xlsx"
    workbook.save(path)

    results = read(path)

    assert results[0].line == 2
    assert {error.line for error in errors(results)} == {5}
    assert {error.column for error in errors(results)} >= {"full_name", "sex", "category", "region"}


def test_file_sha256_is_the_digest_of_the_bytes(tmp_path: Path) -> None:
    path = csv_file(tmp_path, HEADER, GOOD)

    assert file_sha256(path) == hashlib.sha256(path.read_bytes()).hexdigest()


# --- layouts of movements' own, identity documents ------------------------------------------------------


def test_a_profile_renames_columns_composes_the_full_name_and_maps_codes(tmp_path: Path) -> None:
    layout = ColumnMapping(
        columns={"Origin Region": "region", "origin_cercle": "cercle", "rank_in_movement": "rank"},
        values={"category": {"cbt": "combatant"}, "document_type": {"CNI": "national_id_card"}},
    )
    path = csv_file(
        tmp_path,
        "matricule,family_name,given_names,sexe,naissance,categorie,Origin Region,origin_cercle,rank_in_movement,"
        "arme,document_type,document_issued,remarques",
        "G-1,Acharatoumane,Moussa,M,1975,CBT,Ménaka,Ménaka,capitaine,non,CNI,12/03/2010,chef",
    )

    (parsed,) = read_list_file(path, today=TODAY, mapping=layout)

    assert isinstance(parsed, ParsedRow)
    member = parsed.member
    assert (member.full_name, member.region, member.cercle, member.rank, member.category) == (
        "Moussa Acharatoumane",
        "Ménaka",
        "Ménaka",
        "capitaine",
        Category.COMBATANT,
    )
    assert (member.document_type, member.document_issued) == ("national_id_card", date(2010, 3, 12))
    assert unknown_columns(path, layout) == ("remarques",)


def test_a_document_issue_date_that_is_not_a_day_or_is_in_the_future_is_refused(tmp_path: Path) -> None:
    path = csv_file(
        tmp_path,
        HEADER,
        row(movement_ref="M-1", document_issued="2015"),
        row(movement_ref="M-2", document_issued="2999-01-01"),
    )

    found = [(e.line, e.column) for e in errors(read(path))]

    assert found == [(2, "document_issued"), (3, "document_issued")]
