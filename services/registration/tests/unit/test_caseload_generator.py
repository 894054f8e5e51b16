"""The synthetic caseload: reproducible, streamed, with shares as configured and a ground truth that holds."""

from __future__ import annotations

import json
import re
import tracemalloc
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import get_args

import pytest
from typer.testing import CliRunner

from ddr_registration.adapters.list_files import read_list_file, write_list_file
from ddr_registration.bootstrap import simulate_app
from ddr_registration.domain.identity import normalise_name
from ddr_registration.domain.members import Category, ListedMember, Sex
from ddr_registration.simulate.caseload import (
    FIELD_VARIATIONS,
    Caseload,
    CaseloadRow,
    GroundTruth,
    Variation,
    generate_caseload,
)
from ddr_registration.simulate.names import FAMILY_NAMES, FATHERS, GIVEN_NAMES, GROUPS
from ddr_registration.simulate.places import MOVEMENT_CODES

SIZE = 20_000
SAMPLE = Path(__file__).parents[4] / "docs" / "samples" / "list-sample.csv"
SAMPLE_COMMAND = ["caseload", "--size", "12", "--seed", "8", "--movement", "CMI"]
ARABIC_SCRIPT = re.compile("^[\u0600-\u06ff ]+$")


class Drawn:
    """A caseload read once: its rows by reference, and its truth."""

    def __init__(self, caseload: Caseload) -> None:
        self.caseload = caseload
        self.rows: list[CaseloadRow] = list(caseload.rows())
        self.by_ref: dict[str, CaseloadRow] = {row.member.movement_ref: row for row in self.rows}
        self.truth: GroundTruth = caseload.truth()

    def members(self) -> list[ListedMember]:
        return [row.member for row in self.rows]

    def share(self, count: int) -> float:
        return count / len(self.rows)


@pytest.fixture(scope="module")
def drawn() -> Drawn:
    return Drawn(generate_caseload(SIZE, seed=2018))


# --- reproducible and streamed ------------------------------------------------------------------------


def test_the_same_seed_gives_the_same_bytes(tmp_path: Path) -> None:
    first, second = tmp_path / "first.csv", tmp_path / "second.csv"

    write_list_file(first, generate_caseload(3_000, seed=42).members())
    write_list_file(second, generate_caseload(3_000, seed=42).members())

    assert first.read_bytes() == second.read_bytes()


def test_another_seed_gives_another_caseload() -> None:
    assert list(generate_caseload(50, seed=1).members()) != list(generate_caseload(50, seed=2).members())


def test_a_smaller_caseload_is_the_beginning_of_a_larger_one_with_the_same_seed() -> None:
    small = list(generate_caseload(1_000, seed=9).members())

    assert list(generate_caseload(2_000, seed=9).members())[:1_000] == small


def test_the_truth_is_the_same_whether_drawn_alone_or_while_streaming_the_rows() -> None:
    streamed = generate_caseload(3_000, seed=4)
    for _ in streamed.members():
        pass

    assert streamed.truth() == generate_caseload(3_000, seed=4).truth()


def test_members_are_drawn_on_the_fly_rather_than_held(tmp_path: Path) -> None:
    tracemalloc.start()
    try:
        held = list(generate_caseload(2_000, seed=3).members())
        holding_2k, _ = tracemalloc.get_traced_memory()
        del held
        tracemalloc.reset_peak()
        baseline, _ = tracemalloc.get_traced_memory()
        assert sum(1 for _ in generate_caseload(10_000, seed=3).members()) == 10_000
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    # Streaming 10,000 members costs less than holding 2,000 of them.
    assert peak - baseline < holding_2k


# --- shares -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("duplicate_share", "women_share", "minor_share", "armed_share"),
    [(0.03, 0.12, 0.02, 0.26), (0.1, 0.3, 0.05, 0.5)],
)
def test_shares_are_as_configured(
    duplicate_share: float, women_share: float, minor_share: float, armed_share: float
) -> None:
    caseload = generate_caseload(
        SIZE, seed=7, duplicate_share=duplicate_share, women_share=women_share,
        minor_share=minor_share, armed_share=armed_share,
    )  # fmt: skip
    drawn = Drawn(caseload)
    members = drawn.members()
    minors = {child.movement_ref for child in drawn.truth.children}
    adult_women = sum(1 for m in members if m.sex is Sex.F and m.movement_ref not in minors)

    assert drawn.share(len(drawn.truth.duplicates)) == pytest.approx(duplicate_share, abs=0.006)
    assert drawn.share(adult_women) == pytest.approx(women_share, abs=0.012)
    assert drawn.share(len(minors)) == pytest.approx(minor_share, abs=0.005)
    assert drawn.share(sum(m.armed for m in members)) == pytest.approx(armed_share, abs=0.015)


def test_most_women_are_listed_as_associated_women_and_few_are_armed(drawn: Drawn) -> None:
    women = [m for m in drawn.members() if m.sex is Sex.F and m.category is not Category.CHILD]
    categories = Counter(m.category for m in women)

    assert categories[Category.ASSOCIATED_WOMAN] / len(women) > 0.6
    assert sum(m.armed for m in women) / len(women) < 0.2


def test_every_movement_of_the_report_has_a_list(drawn: Drawn) -> None:
    assert {row.movement for row in drawn.rows} == set(MOVEMENT_CODES)
    assert all(row.member.movement_ref.startswith(row.movement + "-") for row in drawn.rows)


def test_a_single_movement_caseload_lists_only_that_movement() -> None:
    rows = list(generate_caseload(500, seed=1, movements=["GATIA"]).rows())

    assert {row.movement for row in rows} == {"GATIA"}


@pytest.mark.parametrize(
    "wrong",
    [
        {"duplicate_share": 1.5},
        {"women_share": -0.1},
        {"women_share": 0.9, "minor_share": 0.2},
        {"movements": ["FLNA"]},
        {"movements": []},
    ],
)
def test_an_impossible_profile_is_refused(wrong: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        generate_caseload(10, seed=1, **wrong)  # type: ignore[arg-type]


# --- names ----------------------------------------------------------------------------------------------


def test_names_are_of_the_region_with_patronyms_and_family_names(drawn: Drawn) -> None:
    words = Counter(word for m in drawn.members() for word in m.full_name.split())

    assert drawn.share(words["Ag"]) > 0.2
    assert words["Ould"] > 0
    assert words["Welt"] > 0
    assert words["Mint"] > 0
    for family in ("Maïga", "Touré", "Cissé", "Diallo", "Traoré", "Coulibaly", "Keïta"):
        assert words[family] > 0, family


def test_a_share_of_members_also_carry_their_name_in_arabic_script(drawn: Drawn) -> None:
    arabic = [m.full_name_arabic for m in drawn.members() if m.full_name_arabic is not None]

    assert 0.1 < drawn.share(len(arabic)) < 0.5
    assert all(ARABIC_SCRIPT.match(name) for name in arabic)
    assert "محمد" in {word for name in arabic for word in name.split()}


def test_every_name_group_spells_its_name_in_distinct_ways() -> None:
    for key, group in GROUPS.items():
        assert len(set(group.spellings)) == len(group.spellings), key


def test_the_matchers_spelling_table_knows_every_spelling_the_generator_writes() -> None:
    for key, group in GROUPS.items():
        canonical = {normalise_name(spelling) for spelling in group.spellings}
        if group.arabic is not None:
            canonical.add(normalise_name(group.arabic))
        assert len(canonical) == 1, (key, canonical)


def test_name_pools_are_large_and_referenced() -> None:
    for pool in GIVEN_NAMES.values():
        assert len(pool) >= 12
        assert all(key in GROUPS for name in pool for key in name)
    for surnames in (*FATHERS.values(), *FAMILY_NAMES.values()):
        assert len(surnames) >= 14
        assert all(key in GROUPS for key in surnames)


def test_common_names_are_common_but_not_universal(drawn: Drawn) -> None:
    men = [m for m in drawn.members() if m.sex is Sex.M]
    given = Counter(m.full_name.split()[0].casefold() for m in men)
    whole = Counter(m.full_name.casefold() for m in men)

    top_share = given.most_common(1)[0][1] / len(men)
    assert 0.05 < top_share < 0.35
    assert len(given) > 150  # first words: given names and their spellings
    assert whole.most_common(1)[0][1] / len(men) < 0.02


def test_rows_give_parents_names_and_birth_place_most_of_the_time(drawn: Drawn) -> None:
    members = drawn.members()

    assert drawn.share(sum(m.father_name is not None for m in members)) == pytest.approx(0.85, abs=0.03)
    assert drawn.share(sum(m.mother_name is not None for m in members)) == pytest.approx(0.75, abs=0.03)
    assert drawn.share(sum(m.birth_place is not None for m in members)) == pytest.approx(0.8, abs=0.03)


def test_a_tamasheq_or_arab_fathers_name_holds_the_name_after_ag_or_ould(drawn: Drawn) -> None:
    checked = 0
    for m in drawn.members():
        words = normalise_name(m.full_name)
        if m.father_name is None or "ag" not in words or words[0] == "ag":
            continue
        father = normalise_name(m.father_name)  # the order may vary: "AG ATTAHER Mohamed"
        assert words[words.index("ag") + 1] in father, (m.full_name, m.father_name)
        checked += 1
    assert checked > 1_000


def test_a_duplicate_gives_the_same_parents_under_their_own_spellings(drawn: Drawn) -> None:
    same = compared = 0
    for pair in drawn.truth.duplicates:
        a, b = drawn.by_ref[pair.original_ref].member, drawn.by_ref[pair.duplicate_ref].member
        for first, second in ((a.father_name, b.father_name), (a.mother_name, b.mother_name)):
            if first is None or second is None:
                continue
            compared += 1
            x, y = set(normalise_name(first)), set(normalise_name(second))
            same += x <= y or y <= x
    assert compared > 500
    assert 0.95 < same / compared < 1.0  # now and then another name: a clerk's slip, a stepmother


# --- ground truth -----------------------------------------------------------------------------------------


def test_every_injected_duplicate_pairs_two_rows_of_the_output(drawn: Drawn) -> None:
    position = {row.member.movement_ref: index for index, row in enumerate(drawn.rows)}

    assert drawn.truth.duplicates
    for pair in drawn.truth.duplicates:
        assert position[pair.original_ref] < position[pair.duplicate_ref]


def test_an_injected_duplicate_is_the_same_person_written_differently(drawn: Drawn) -> None:
    for pair in drawn.truth.duplicates:
        original, duplicate = drawn.by_ref[pair.original_ref], drawn.by_ref[pair.duplicate_ref]
        a, b = original.member, duplicate.member
        assert (a.sex, a.category, a.region, a.cercle, a.armed) == (
            b.sex,
            b.category,
            b.region,
            b.cercle,
            b.armed,
        )
        assert a.full_name != b.full_name
        assert (original.movement == duplicate.movement) is pair.same_list
        if a.birth.year is not None and b.birth.year is not None:
            assert abs(a.birth.year - b.birth.year) <= 1
        if "exact_date_dropped" in pair.variations:
            assert (a.birth.kind, b.birth.kind) == ("exact", "year")
        if "birth_year_off_by_one" in pair.variations:
            assert a.birth.year is not None
            assert b.birth.year is not None
            assert abs(a.birth.year - b.birth.year) == 1


def test_duplicates_come_in_every_kind_of_variation_on_one_list_and_across_lists(drawn: Drawn) -> None:
    seen = {variation for pair in drawn.truth.duplicates for variation in pair.variations}

    assert seen == set(get_args(Variation)) - FIELD_VARIATIONS
    assert {pair.same_list for pair in drawn.truth.duplicates} == {True, False}


@pytest.fixture(scope="module")
def noisy() -> Drawn:
    return Drawn(generate_caseload(4_000, seed=2018, field_noise=True, relatives_share=0.1))


def test_with_field_noise_duplicates_also_lose_a_commune_come_in_arabic_alone_and_are_spelt_unlisted(
    noisy: Drawn,
) -> None:
    seen = {variation for pair in noisy.truth.duplicates for variation in pair.variations}

    assert seen == set(get_args(Variation))
    for pair in noisy.truth.duplicates:
        a, b = noisy.by_ref[pair.original_ref].member, noisy.by_ref[pair.duplicate_ref].member
        if "commune_missing" in pair.variations:
            assert (a.commune is not None, b.commune) == (True, None)
        if "arabic_script_only" in pair.variations:
            assert (b.full_name_arabic, b.full_name.isascii()) == (None, False)
        if "birth_year_off_by_one" in pair.variations:
            assert a.birth.year is not None
            assert b.birth.year is not None
            assert abs(a.birth.year - b.birth.year) == 1


def test_relatives_stand_on_one_list_from_one_commune_under_other_given_names(noisy: Drawn) -> None:
    assert {pair.relation for pair in noisy.truth.relatives} == {"brothers", "twins", "cousins"}
    for pair in noisy.truth.relatives:
        earlier, later = noisy.by_ref[pair.earlier_ref], noisy.by_ref[pair.later_ref]
        a, b = earlier.member, later.member
        assert (earlier.movement, a.cercle, a.commune, a.sex) == (later.movement, b.cercle, b.commune, b.sex)
        year_a, year_b = a.birth.year, b.birth.year
        if pair.relation == "brothers":
            assert None in (a.father_name, b.father_name) or a.father_name == b.father_name
            assert year_a is None or year_b is None or abs(year_a - year_b) >= 2
        if pair.relation == "twins":
            assert year_a is None or year_b is None or year_a == year_b
        if pair.relation != "cousins":
            assert normalise_name(a.full_name)[0] != normalise_name(b.full_name)[0]


def test_listed_children_are_under_18_on_the_registration_day(drawn: Drawn) -> None:
    day = drawn.caseload.profile.registration_day
    assert drawn.truth.children
    for child in drawn.truth.children:
        listed = drawn.by_ref[child.movement_ref].member
        age = listed.birth.age_on(day)
        assert age is not None
        assert age < 18
        assert (
            14
            <= (
                day.year
                - child.born_on.year
                - ((day.month, day.day) < (child.born_on.month, child.born_on.day))
            )
            <= 17
        )


def test_childrens_documents_were_issued_a_few_days_before_registration(drawn: Drawn) -> None:
    day = drawn.caseload.profile.registration_day
    for child in drawn.truth.children:
        assert timedelta(days=1) <= day - child.document_issued_on <= timedelta(days=7)


def test_every_member_whose_listed_date_makes_them_a_minor_is_a_child_of_the_truth(drawn: Drawn) -> None:
    day = drawn.caseload.profile.registration_day
    children = {child.movement_ref for child in drawn.truth.children}
    minors_by_date = {
        m.movement_ref
        for m in drawn.members()
        if m.birth.kind == "exact" and (m.birth.age_on(day) or 99) < 18
    }

    assert minors_by_date
    assert minors_by_date <= children


def test_shared_serials_are_exactly_the_serials_listed_more_than_once(drawn: Drawn) -> None:
    holders: dict[str, list[str]] = {}
    for m in drawn.members():
        for weapon in m.weapons:
            if weapon.serial is not None:
                holders.setdefault(weapon.serial, []).append(m.movement_ref)

    repeated = {serial: tuple(refs) for serial, refs in holders.items() if len(refs) > 1}

    assert repeated == drawn.truth.shared_serials


def test_some_serials_are_handed_over_twice_by_two_different_people(drawn: Drawn) -> None:
    same_person = {frozenset((pair.original_ref, pair.duplicate_ref)) for pair in drawn.truth.duplicates}
    by_two_people = [
        refs for refs in drawn.truth.shared_serials.values() if frozenset(refs[:2]) not in same_person
    ]

    assert len(by_two_people) >= 3


# --- command line -------------------------------------------------------------------------------------------


def test_the_command_writes_one_list_per_movement_and_the_truth(tmp_path: Path) -> None:
    out, truth = tmp_path / "lists", tmp_path / "truth.json"

    result = CliRunner().invoke(
        simulate_app, ["caseload", "--size", "800", "--seed", "5", "--out", str(out), "--truth", str(truth)]
    )

    assert result.exit_code == 0, result.output
    assert {path.name for path in out.iterdir()} == {f"{code}.csv" for code in MOVEMENT_CODES}
    assert sum(sum(1 for _ in read_list_file(path)) for path in out.iterdir()) == 800
    document = json.loads(truth.read_text(encoding="utf-8"))
    assert (document["seed"], document["size"]) == (5, 800)
    assert document == {
        **document,
        **json.loads(json.dumps(generate_caseload(800, seed=5).truth().to_json(), ensure_ascii=False)),
    }


def test_the_command_writes_one_movements_list_as_xlsx(tmp_path: Path) -> None:
    out = tmp_path / "gatia.xlsx"

    result = CliRunner().invoke(
        simulate_app, ["caseload", "--size", "50", "--seed", "5", "--movement", "GATIA", "--out", str(out)]
    )

    assert result.exit_code == 0, result.output
    members = [row.member for row in read_list_file(out) if hasattr(row, "member")]
    assert members == list(generate_caseload(50, seed=5, movements=["GATIA"]).members())


@pytest.mark.parametrize(
    ("arguments", "complaint"),
    [
        (["--out", "lists.csv"], "directory"),
        (["--out", "lists", "--movement", "GATIA"], ".csv or .xlsx"),
        (["--out", "x.csv", "--movement", "FLNA"], "one of"),
    ],
)
def test_the_command_refuses_an_out_path_that_does_not_fit(
    tmp_path: Path, arguments: list[str], complaint: str
) -> None:
    result = CliRunner().invoke(simulate_app, ["caseload", "--size", "5", "--seed", "1", *arguments])

    assert result.exit_code == 2
    assert complaint in result.output


def test_the_documented_sample_is_what_the_generator_makes(tmp_path: Path) -> None:
    out = tmp_path / "list-sample.csv"

    result = CliRunner().invoke(simulate_app, [*SAMPLE_COMMAND, "--out", str(out)])

    assert result.exit_code == 0, result.output
    assert out.read_bytes() == SAMPLE.read_bytes()


def test_a_caseload_asked_for_members_of_some_categories_lists_at_least_that_many_for_any_seed() -> None:
    from collections import Counter

    from ddr_registration.domain.members import Category

    for seed in (1, 7, 2018):
        caseload = generate_caseload(
            100,
            seed,
            duplicate_share=0.0,
            minor_share=0.02,
            at_least={Category.CHILD: 5, Category.COMBATANT: 150},
        )
        counts = Counter(row.member.category for row in caseload.rows())
        assert counts[Category.CHILD] >= 5
        assert counts[Category.COMBATANT] >= 150


def test_a_longer_caseload_begins_with_the_rows_of_the_shorter_one() -> None:
    from ddr_registration.domain.members import Category

    short = [row.member for row in generate_caseload(50, 3, duplicate_share=0.0).rows()]
    longer = [
        row.member
        for row in generate_caseload(50, 3, duplicate_share=0.0, at_least={Category.COMBATANT: 80}).rows()
    ]

    assert len(longer) > len(short)
    assert longer[: len(short)] == short


def test_a_count_the_shares_can_never_reach_is_refused() -> None:
    from ddr_registration.domain.members import Category

    with pytest.raises(ValueError, match="never list enough"):
        generate_caseload(10, 1, minor_share=0.0, at_least={Category.CHILD: 1})
