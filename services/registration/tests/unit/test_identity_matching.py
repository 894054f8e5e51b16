"""Identity matching for pre-registration: spellings of one name meet, namesakes and strangers do not."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from ddr_registration.domain.identity import (
    NAME_VARIANTS,
    SUSPECT_THRESHOLD,
    CandidateIndex,
    IdentityRecord,
    Match,
    Reason,
    blocking_keys,
    match_score,
    normalise_name,
)


def person(
    person_id: str,
    *names: str,
    year: int | None = 1985,
    region: str | None = "Kidal",
    cercle: str | None = "Kidal",
    commune: str | None = "Anefis",
    biometric_hash: str | None = None,
    birth_date: date | None = None,
    sex: str | None = None,
    father: str | None = None,
    mother: str | None = None,
    born_in: str | None = None,
) -> IdentityRecord:
    return IdentityRecord(
        person_id,
        names,
        year,
        region,
        cercle,
        commune,
        biometric_hash,
        birth_date=birth_date,
        sex=sex,
        father_name=father,
        mother_name=mother,
        birth_place=born_in,
    )


ELSEWHERE = (
    ("Kidal", "Tessalit", "Aguelhok"),
    ("Kidal", "Kidal", "Essouk"),
    ("Gao", "Bourem", "Bamba"),
    ("Tombouctou", "Goundam", "Tonka"),
)


def crowd() -> list[IdentityRecord]:
    """Other people of the same lists: common given names, other fathers and families, other years and
    places (a commune everybody comes from would say nothing)."""
    people = []
    fathers = ("Ghaly", "Bibi", "Najem", "Attaher", "Alghabass", "Elmehdi", "Assaleh", "Hamed")
    for number, father in enumerate(fathers):
        region, cercle, commune = ELSEWHERE[number % len(ELSEWHERE)]
        place: dict[str, Any] = {"region": region, "cercle": cercle, "commune": commune}
        people.append(person(f"crowd-{number}", f"Mohamed Ag {father}", year=1970 + 3 * number, **place))
        people.append(
            person(f"crowd-f{number}", f"Fatoumata Walet {father}", year=1972 + 3 * number, **place)
        )
    for number, family in enumerate(("Maïga", "Touré", "Cissé", "Haïdara", "Traoré")):
        region, cercle, commune = ELSEWHERE[number % len(ELSEWHERE)]
        people.append(
            person(
                f"crowd-s{number}",
                f"Ibrahim {family}",
                year=1980 + number,
                region=region,
                cercle=cercle,
                commune=commune,
            )
        )
    return people


def suspects(index: CandidateIndex, record: IdentityRecord) -> list[str]:
    return [match.person_id for match in index.candidates(record)]


@pytest.fixture
def index() -> CandidateIndex:
    index = CandidateIndex()
    for record in crowd():
        index.add(record)
    return index


# --- normalisation ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "spelling",
    [
        "Mohamed Ag Intalla",
        "Muhammad Ould Intalla",
        "Mouhamed Ould Intalla",
        "Mahamadou AG INTALLA",
        "Mohammed ag-Intallah",
        "محمد أغ إنتالا",
        "محمد ولد انتالا",
    ],
)
def test_spellings_of_one_name_normalise_alike(spelling: str) -> None:
    assert normalise_name(spelling) == ("mohamed", "ag", "intalla")


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("Ibrahim Maïga", "Brahim Maiga"),
        ("Ibrahima Touré", "Ibrahim Toure"),
        ("Oumar Cissé", "Omar Cisse"),
        ("Aboubacar Haïdara", "Boubacar Haidara"),
        ("Abou Bakr Haidara", "Aboubakar Haïdara"),
        ("Fatoumata Walet Bibi", "Fatimata Mint Bibi"),
        ("El Hadj Abdoul Kader", "Elhadji Abdelkader"),
        ("Ménaka", "Menaka"),
    ],
)
def test_variant_families_and_diacritics_share_canonical_tokens(first: str, second: str) -> None:
    assert normalise_name(first) == normalise_name(second)


def test_word_order_is_kept_but_tokens_are_the_same() -> None:
    assert sorted(normalise_name("TOURÉ Fatoumata")) == sorted(normalise_name("Fatoumata Touré"))


def test_arabic_forms_map_to_latin_tokens() -> None:
    assert normalise_name("عبد الرحمن ولد سيدي") == ("abderrahmane", "ag", "sidi")
    assert normalise_name("فاطمة منت أحمد") == ("fatoumata", "mint", "ahmed")
    assert normalise_name("عبد العزيز")[0].startswith("abdel")


def test_empty_and_punctuation_only_names_give_no_tokens() -> None:
    assert normalise_name("") == ()
    assert normalise_name(" - . ") == ()


def test_no_spelling_belongs_to_two_families() -> None:
    seen: dict[str, str] = {}
    for canonical, spellings in NAME_VARIANTS.items():
        for spelling in spellings:
            assert seen.setdefault(spelling, canonical) == canonical


# --- scoring ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "spelling",
    ["Muhammad Ag Intalla", "Mouhamed Ould Intalla", "INTALLA Mahamadou", "Mohammed Ag-Intallah"],
)
def test_each_variant_family_is_a_suspect(index: CandidateIndex, spelling: str) -> None:
    index.add(person("cma-1", "Mohamed Ag Intalla"))
    assert suspects(index, person("gatia-7", spelling)) == ["cma-1"]


@pytest.mark.parametrize(
    ("listed", "again"),
    [
        ("Ibrahim Ag Bibi", "Brahim Ould Bibi"),
        ("Oumar Maïga", "MAIGA Omar"),
        ("Aboubacar Touré", "Boubacar Toure"),
        ("Fatoumata Walet Ghaly", "Fatimata Welet Ghali"),
        ("Aïcha Cissé", "Aicha Cisse"),
    ],
)
def test_spelling_diacritics_and_word_order_do_not_matter(
    index: CandidateIndex, listed: str, again: str
) -> None:
    index.add(person("first", listed, year=1990))
    assert suspects(index, person("second", again, year=1990)) == ["first"]


def test_arabic_script_meets_latin(index: CandidateIndex) -> None:
    index.add(person("latin", "Mohamed Ag Ghaly", year=1992))
    assert suspects(index, person("arabic", "محمد أغ غالي", year=1992)) == ["latin"]


def test_arabic_script_meets_latin_for_a_name_no_table_knows(index: CandidateIndex) -> None:
    index.add(person("latin", "Alghabass Ag Intalla", year=1988))
    found = index.candidates(person("arabic", "الغباس أغ إنتالا", year=1988))
    assert [match.person_id for match in found] == ["latin"]
    assert Reason("across_scripts") in found[0].reasons


def test_namesakes_by_given_name_with_other_fathers_or_families_do_not_match(index: CandidateIndex) -> None:
    index.add(person("a", "Mohamed Ag Intalla"))
    index.add(person("b", "Ibrahim Maïga"))
    assert suspects(index, person("c", "Mohamed Ag Ghaly")) == []
    assert suspects(index, person("d", "Ibrahim Touré")) == []
    assert (
        match_score(person("a", "Mohamed Ag Intalla"), person("c", "Mohamed Ag Ghaly")).score
        < SUSPECT_THRESHOLD
    )


def test_same_biometric_hash_is_certain_whatever_the_names() -> None:
    index = CandidateIndex()
    index.add(person("enrolled", "Moussa Ag Acherif", year=1979, biometric_hash="bio-42"))
    found = index.candidates(
        person("again", "Hamma Dicko", year=1995, region="Mopti", biometric_hash="bio-42")
    )
    assert found == [Match("enrolled", 1.0, True, (Reason("biometric_same"),))]
    direct = match_score(
        person("x", "Hamma Dicko", biometric_hash="bio-42"), person("y", "Moussa", biometric_hash="bio-42")
    )
    assert direct.certain
    assert direct.score == 1.0


def test_different_biometric_hashes_are_not_suspects(index: CandidateIndex) -> None:
    index.add(person("one", "Mohamed Ag Intalla", biometric_hash="bio-1"))
    assert suspects(index, person("two", "Mohamed Ag Intalla", biometric_hash="bio-2")) == []


def test_birth_year_one_apart_still_matches(index: CandidateIndex) -> None:
    index.add(person("listed", "Mohamed Ag Intalla", year=1985))
    assert suspects(index, person("again", "Muhammad Ould Intalla", year=1986)) == ["listed"]


@pytest.mark.parametrize("year", [1975, 1995, 2001])
def test_birth_years_far_apart_do_not_match(index: CandidateIndex, year: int) -> None:
    index.add(person("father", "Mohamed Ag Intalla", year=1985))
    assert suspects(index, person("other", "Mohamed Ag Intalla", year=year)) == []


def test_same_full_birth_date_is_strong_evidence() -> None:
    born = date(1986, 3, 14)
    same = match_score(
        person("a", "Hamma Maïga", year=1986, birth_date=born, commune=None),
        person("b", "Hama Maiga", year=1986, birth_date=born, commune=None),
    )
    other_day = match_score(
        person("a", "Hamma Maïga", year=1986, birth_date=born, commune=None),
        person("b", "Hama Maiga", year=1986, birth_date=date(1986, 9, 2), commune=None),
    )
    assert same.score > other_day.score
    assert Reason("birth_day_same") in same.reasons


def test_different_sexes_do_not_match(index: CandidateIndex) -> None:
    index.add(person("him", "Issa Maïga", sex="M"))
    assert suspects(index, person("her", "Issa Maïga", sex="F")) == []


def test_different_regions_weigh_against(index: CandidateIndex) -> None:
    index.add(person("kidal", "Mohamed Ag Intalla"))
    far = person("mopti", "Mohamed Ag Intalla", region="Mopti", cercle="Douentza", commune="Boni")
    assert suspects(index, far) == []


def test_removing_a_person_removes_them_from_candidates(index: CandidateIndex) -> None:
    index.add(person("gone", "Mohamed Ag Intalla"))
    probe = person("probe", "Muhammad Ould Intalla")
    assert suspects(index, probe) == ["gone"]
    index.remove("gone")
    assert "gone" not in index
    assert suspects(index, probe) == []
    index.remove("gone")  # forgetting twice is harmless


def test_candidates_exclude_the_record_itself_and_come_best_first() -> None:
    index = CandidateIndex(threshold=0.1)
    for record in crowd():
        index.add(record)
    listed = person("listed", "Alghabass Ag Intalla")
    index.add(listed)
    index.add(person("close", "Alghabass Ould Intalla"))
    index.add(person("farther", "Alghabass Ag Intalla", year=1986, commune=None))
    found = index.candidates(listed)
    assert [match.person_id for match in found] == ["close", "farther"]
    assert found[0].score > found[1].score
    assert all(match.score >= index.threshold and match.reasons for match in found)
    assert index.candidates(listed, limit=1)[0].person_id == "close"


def test_re_adding_a_person_replaces_the_earlier_version(index: CandidateIndex) -> None:
    index.add(person("p", "Mohamed Ag Intalla"))
    index.add(person("p", "Hamma Dicko", region="Mopti", cercle="Douentza", commune="Boni"))
    assert suspects(index, person("q", "Mohamed Ag Intalla")) == []


# --- blocking -----------------------------------------------------------------------------------------------


def test_true_duplicates_share_a_blocking_key() -> None:
    pairs = [
        (person("a", "Mohamed Ag Intalla"), person("b", "محمد ولد إنتالا", year=1986)),
        (person("a", "Alghabass Ag Intalla"), person("b", "الغباس أغ إنتالا", year=1984)),
        (person("a", "Fatoumata Touré"), person("b", "TOURE Fatimata")),
        (person("a", "Mohamed Ag Intalla", year=None), person("b", "Muhammad Ag Intalla")),
        (person("a", "Ahmed Ag Ahmed"), person("b", "Ahmad Ould Ahmed", year=1984)),
        (person("a", "Issa"), person("b", "ISSA", year=1986)),
    ]
    for first, second in pairs:
        assert blocking_keys(first) & blocking_keys(second)


def test_a_name_of_one_repeated_token_is_still_found(index: CandidateIndex) -> None:
    index.add(person("first", "Ahmed Ag Ahmed", year=1990))
    assert suspects(index, person("second", "Ahmad Ould Ahmed", year=1990)) == ["first"]


def test_strangers_share_no_blocking_key() -> None:
    assert not blocking_keys(person("a", "Mohamed Ag Intalla")) & blocking_keys(person("b", "Oumar Traoré"))
    assert not blocking_keys(person("a", "Mohamed Ag Intalla", year=1970)) & blocking_keys(
        person("b", "Mohamed Ag Intalla", year=1990)
    ) - {key for key in blocking_keys(person("b", "Mohamed Ag Intalla", year=1990)) if key.startswith("f")}


def test_index_compares_only_blocked_people() -> None:
    index = CandidateIndex()
    for record in crowd():
        index.add(record)
    index.candidates(person("probe", "Mohamed Ag Intalla"))
    assert index.pairs_compared < len(crowd())
    assert max(index.block_sizes()) <= len(crowd())


def test_birth_date_must_agree_with_birth_year() -> None:
    with pytest.raises(ValueError, match="birth_year"):
        IdentityRecord("x", ("Issa",), 1990, None, None, None, None, birth_date=date(1991, 1, 1))


# --- parents' names and place of birth ----------------------------------------------------------------------


def namesakes() -> CandidateIndex:
    """Two men called Mohamed Ag Intalla, born the same year in the same commune: only their parents differ."""
    index = CandidateIndex()
    for record in crowd():
        index.add(record)
    index.add(
        person("first", "Mohamed Ag Intalla", father="Intalla Ag Attaher", mother="Fatoumata Walet Bibi")
    )
    index.add(person("second", "Mohamed Ag Intalla", father="Intalla Ag Ghaly", mother="Aïcha Walet Najem"))
    return index


def test_parents_names_tell_namesakes_apart() -> None:
    index = namesakes()
    again = person(
        "again", "Muhammad Ould Intalla", father="Intallah Ag Ataher", mother="Fatimata Welet Biby"
    )
    assert suspects(index, again) == ["first"]
    other = person("other", "Mohamed Ag Intalla", father="Intalla Ag Assaleh", mother="Mariam Walet Ghaly")
    assert suspects(index, other) == []


def test_the_mothers_name_alone_decides_between_namesakes_of_one_father() -> None:
    index = CandidateIndex()
    index.add(person("first", "Oumar Maïga", father="Moussa Maïga", mother="Ramatou Touré"))
    index.add(person("second", "Oumar Maïga", father="Moussa Maïga", mother="Aminata Cissé"))
    assert suspects(index, person("again", "MAIGA Omar", mother="Ramata Toure")) == ["first"]


def test_parents_agreeing_raise_the_score_and_disagreeing_lower_it() -> None:
    bare = person("a", "Hamma Maïga", commune=None)
    alone = match_score(bare, person("b", "Hama Maiga", commune=None)).score
    same = match_score(
        person("a", "Hamma Maïga", commune=None, father="Issa Maïga", mother="Hawa Cissé"),
        person("b", "Hama Maiga", commune=None, father="Issa Maiga", mother="Awa Cisse"),
    )
    different = match_score(
        person("a", "Hamma Maïga", commune=None, father="Issa Maïga", mother="Hawa Cissé"),
        person("b", "Hama Maiga", commune=None, father="Boureima Maïga", mother="Mariam Dicko"),
    )
    assert different.score < SUSPECT_THRESHOLD < same.score
    assert different.score < alone < same.score
    assert Reason("father_same") in same.reasons
    assert Reason("mother_different") in different.reasons


def test_a_missing_parent_or_birth_place_is_neutral() -> None:
    plain = match_score(person("a", "Issa Maïga"), person("b", "Issa Maiga")).score
    one_sided = match_score(
        person("a", "Issa Maïga", father="Moussa Maïga", mother="Hawa Touré", born_in="Bourem"),
        person("b", "Issa Maiga"),
    ).score
    assert one_sided == plain


def test_a_parent_named_in_part_is_not_held_against_the_pair() -> None:
    full = person("a", "Mohamed Ag Intalla", father="Intalla Ag Attaher", mother="Fatoumata Walet Bibi")
    short = person("b", "Mohamed Ag Intalla", father="Intalla", mother="Fatoumata")
    assert match_score(full, short).score >= match_score(full, person("c", "Mohamed Ag Intalla")).score


def test_the_place_of_birth_counts_for_when_it_agrees_and_against_when_it_differs() -> None:
    base = match_score(person("a", "Issa Maïga"), person("b", "Issa Maiga")).score
    same = match_score(
        person("a", "Issa Maïga", born_in="Ménaka"), person("b", "Issa Maiga", born_in="MENAKA")
    )
    other = match_score(person("a", "Issa Maïga", born_in="Ménaka"), person("b", "Issa Maiga", born_in="Gao"))
    assert other.score < base < same.score
    assert Reason("birth_place_same") in same.reasons


# --- spellings no table lists -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "canonical"),
    [
        ("Ibraheem", ("ibrahim",)),  # English ee for the long i
        ("Souleimane", ("souleymane",)),  # ei / ey for the diphthong ay
        ("Djarra", ("diarra",)),  # dj / di / j
        ("Mouhamad Ag Intala", ("mohamed", "ag", "intalla")),
        ("Fadimata Oualet Ghaly", ("fatoumata", "mint", "ghaly")),  # French ou for w
    ],
)
def test_a_spelling_no_table_lists_meets_its_family_through_its_transliteration(
    written: str, canonical: tuple[str, ...]
) -> None:
    assert normalise_name(written) == canonical


def test_the_arabic_article_joined_apart_or_assimilated_is_one_name() -> None:
    assert (
        normalise_name("Altahir") == normalise_name("Al Tahir") == normalise_name("Attaher") == ("attaher",)
    )


@pytest.mark.parametrize("written", ["Abd al-Rahman", "Abdourrahmane", "Abdur Rahman", "عبد الرحمن"])
def test_abd_compounds_in_every_form_are_one_token(written: str) -> None:
    assert normalise_name(written) == ("abderrahmane",)


def test_arabic_spellings_with_and_without_hamza_or_alif_maqsura_are_one_name() -> None:
    assert normalise_name("موسا أغ أحمد") == normalise_name("موسى اغ احمد") == ("moussa", "ag", "ahmed")


def test_a_tamasheq_name_written_in_arabic_meets_its_latin_spelling(index: CandidateIndex) -> None:
    index.add(person("latin", "Inawelen Ag Ghaly", year=1991))
    assert suspects(index, person("arabic", "إناولن أغ غالي", year=1991)) == ["latin"]


# --- relatives are not one person ---------------------------------------------------------------------------

FAMILY: dict[str, Any] = {"father": "Effad Ag Ahmed", "mother": "Salma Walet Mohamed", "born_in": "Anefis"}


def test_brothers_with_the_same_parents_and_commune_born_years_apart_are_not_suspects(
    index: CandidateIndex,
) -> None:
    index.add(person("elder", "Mohamed Ag Effad", year=1984, **FAMILY))
    found = match_score(
        person("elder", "Mohamed Ag Effad", year=1984, **FAMILY),
        person("younger", "Ahmed Ag Effad", year=1989, **FAMILY),
    )
    assert suspects(index, person("younger", "Ahmed Ag Effad", year=1989, **FAMILY)) == []
    assert Reason("given_name_different") in found.reasons


def test_twins_born_the_same_day_with_their_own_given_names_are_not_suspects(index: CandidateIndex) -> None:
    born = date(1986, 4, 12)
    index.add(person("hassane", "Hassane Ag Effad", year=1986, birth_date=born, **FAMILY))
    assert (
        suspects(index, person("housseini", "Alhousseini Ag Effad", year=1986, birth_date=born, **FAMILY))
        == []
    )


def test_cousins_named_alike_after_their_grandfather_are_not_suspects(index: CandidateIndex) -> None:
    index.add(person("one", "Ghaly Ag Intalla", year=1988, father="Intalla Ag Ghaly"))
    assert (
        suspects(index, person("other", "Ghaly Ag Alghabass", year=1988, father="Alghabass Ag Ghaly")) == []
    )


def test_brothers_born_years_apart_with_the_same_father_and_commune_are_not_flagged_when_one_list_omits_the_commune(
    index: CandidateIndex,
) -> None:
    index.add(person("elder", "Moussa Ag Effad", year=1983, birth_date=date(1983, 5, 2), **FAMILY))
    younger = person(
        "younger", "Ahmed Ag Effad", year=1987, birth_date=date(1987, 2, 11), commune=None, **FAMILY
    )
    assert suspects(index, younger) == []


def test_a_repeat_with_the_commune_missing_and_an_age_guessed_a_year_off_is_flagged(
    index: CandidateIndex,
) -> None:
    family: dict[str, Any] = {"father": "Intalla Ag Ghaly", "born_in": "Anefis"}
    index.add(person("listed", "Mohamed Ag Intalla", year=1985, birth_date=date(1985, 3, 2), **family))
    again = person(
        "again", "Mohamed Ag Intalla", year=1986, birth_date=date(1986, 9, 17), commune=None, **family
    )
    assert suspects(index, again) == ["listed"]


def test_a_son_and_his_father_swapped_around_ag_are_not_one_person() -> None:
    found = match_score(person("son", "Moussa Ag Intalla"), person("father", "Intalla Ag Moussa"))
    assert Reason("given_and_father_swapped") in found.reasons
    assert found.score < SUSPECT_THRESHOLD


def test_capitals_tell_the_fathers_name_whatever_the_word_order(index: CandidateIndex) -> None:
    index.add(person("listed", "Mohamed Ag Intalla", year=1990))
    assert suspects(index, person("again", "AG INTALLA Mohamed", year=1990)) == ["listed"]
    assert suspects(index, person("son", "AG MOHAMED Intalla", year=1990)) == []


# --- dates and places ---------------------------------------------------------------------------------------


def test_a_first_of_january_birth_date_says_nothing_of_the_day() -> None:
    placeholder = date(1985, 1, 1)
    found = match_score(
        person("a", "Issa Maïga", birth_date=placeholder), person("b", "Issa Maiga", birth_date=placeholder)
    )
    assert Reason("birth_day_same") not in found.reasons
    assert Reason("birth_day_placeholder") in found.reasons


def test_guessed_ages_a_year_apart_weigh_less_against_than_documented_dates() -> None:
    guessed = match_score(person("a", "Issa Maïga", year=1985), person("b", "Issa Maiga", year=1986))
    documented = match_score(
        person("a", "Issa Maïga", year=1985, birth_date=date(1985, 3, 2)),
        person("b", "Issa Maiga", year=1986, birth_date=date(1986, 9, 17)),
    )
    assert guessed.score > documented.score


def test_two_spellings_of_one_commune_are_one_place() -> None:
    assert (
        Reason("origin_same_commune")
        in match_score(
            person("a", "Issa Maïga", commune="Boghassa"), person("b", "Issa Maiga", commune="Boughessa")
        ).reasons
    )
    assert (
        Reason("origin_different_communes")
        in match_score(
            person("a", "Issa Maïga", commune="Lafia"), person("b", "Issa Maiga", commune="Alafia")
        ).reasons
    )


def test_a_commune_most_people_come_from_says_less_than_a_rare_one() -> None:
    index = CandidateIndex(threshold=0.0)
    for number in range(300):
        index.add(person(f"p{number}", f"Person{number} Ag Other{number}", commune="Anefis"))
    index.add(person("rare", "Issa Maïga", commune="Essouk"))
    index.add(person("common", "Issa Maïga", commune="Anefis"))
    rare = next(
        m for m in index.candidates(person("rare-2", "Issa Maiga", commune="Essouk")) if m.person_id == "rare"
    )
    common = next(
        m
        for m in index.candidates(person("common-2", "Issa Maiga", commune="Anefis"))
        if m.person_id == "common"
    )
    assert rare.score > common.score


def test_the_index_expects_more_repeats_as_it_finds_them() -> None:
    index = CandidateIndex()
    before = index.duplicate_share()
    for number in range(40):
        record = person(f"p{number}", f"Intalla{number} Ag Ghaly{number}", year=1960 + number % 30)
        index.candidates(record)
        index.add(record)
        again = person(f"q{number}", f"Intalla{number} Ag Ghaly{number}", year=1960 + number % 30)
        index.candidates(again)
        index.add(again)
    assert index.duplicate_share() > before
