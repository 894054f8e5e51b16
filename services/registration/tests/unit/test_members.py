"""A listed member: birth dates as far as they are known, ages with the benefit of the doubt, rows' rules."""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest

from ddr_registration.domain.members import BirthDate, Category, ListedMember, Sex, WeaponHandedOver

REGISTRATION_DAY = date(2018, 11, 15)


def member(**changes: object) -> ListedMember:
    fields: dict[str, object] = {
        "movement_ref": "MNLA-000001",
        "full_name": "Mohamed Ag Intalla",
        "full_name_arabic": "محمد أغ إنتالا",
        "sex": Sex.M,
        "birth": BirthDate.exact(date(1990, 3, 1)),
        "category": Category.COMBATANT,
        "region": "Kidal",
        "cercle": "Kidal",
        "commune": "Anéfis",
        "rank": "sergent",
        "armed": True,
        "weapons": (WeaponHandedOver("AK-47", "7.62x39mm", "KA0012345", "serviceable"),),
    }
    fields.update(changes)
    return ListedMember(**fields)  # type: ignore[arg-type]


def test_exact_birth_date_gives_the_age_in_whole_years() -> None:
    assert BirthDate.exact(date(1990, 3, 1)).age_on(REGISTRATION_DAY) == 28


def test_age_goes_up_on_the_birthday_itself() -> None:
    birth = BirthDate.exact(date(2000, 11, 15))

    assert birth.age_on(date(2018, 11, 14)) == 17
    assert birth.age_on(date(2018, 11, 15)) == 18


def test_someone_born_on_29_february_comes_of_age_on_1_march_in_a_common_year() -> None:
    birth = BirthDate.exact(date(2000, 2, 29))

    assert birth.age_on(date(2018, 2, 28)) == 17
    assert birth.age_on(date(2018, 3, 1)) == 18


def test_year_only_birth_date_gives_the_youngest_possible_age() -> None:
    # Born "in 2000": 18 if born in January, 17 if born in December; the benefit of the doubt says 17.
    assert BirthDate.year_only(2000).age_on(REGISTRATION_DAY) == 17


def test_year_only_birth_date_reaches_the_age_on_the_last_day_of_the_year() -> None:
    assert BirthDate.year_only(2000).age_on(date(2018, 12, 30)) == 17
    assert BirthDate.year_only(2000).age_on(date(2018, 12, 31)) == 18


def test_unknown_birth_date_has_no_age() -> None:
    assert BirthDate.unknown().age_on(REGISTRATION_DAY) is None


def test_constructors_fill_in_the_year() -> None:
    assert BirthDate.exact(date(1990, 3, 1)) == BirthDate("exact", date(1990, 3, 1), 1990)
    assert BirthDate.year_only(1985) == BirthDate("year", None, 1985)
    assert BirthDate.unknown() == BirthDate("unknown", None, None)


@pytest.mark.parametrize(
    ("kind", "value", "year"),
    [
        ("exact", None, 1990),
        ("exact", date(1990, 3, 1), 1991),
        ("year", None, None),
        ("year", date(1990, 3, 1), 1990),
        ("unknown", None, 1990),
    ],
)
def test_birth_date_refuses_parts_that_disagree_with_its_kind(
    kind: str, value: date | None, year: int | None
) -> None:
    with pytest.raises(ValueError):
        BirthDate(kind, value, year)  # type: ignore[arg-type]


def test_a_member_listed_unarmed_cannot_hand_over_a_weapon() -> None:
    with pytest.raises(ValueError, match="unarmed"):
        member(armed=False)


def test_an_armed_member_may_be_listed_without_weapon_details() -> None:
    assert member(weapons=()).armed


def test_the_associated_woman_category_is_for_women() -> None:
    with pytest.raises(ValueError, match="women"):
        member(category=Category.ASSOCIATED_WOMAN, sex=Sex.M)
    assert (
        member(category=Category.ASSOCIATED_WOMAN, sex=Sex.F, full_name="Fatimata Welt Alhassane").sex
        is Sex.F
    )


@pytest.mark.parametrize("field_name", ["movement_ref", "full_name", "region", "cercle"])
def test_a_member_needs_a_reference_a_name_and_a_place(field_name: str) -> None:
    with pytest.raises(ValueError, match=field_name):
        member(**{field_name: "  "})


def test_a_weapon_needs_its_kind() -> None:
    with pytest.raises(ValueError, match="kind"):
        WeaponHandedOver(" ", "7.62x39mm", "KA0012345")


def test_a_woman_is_listed_as_an_individual_with_no_field_tying_her_to_another_person() -> None:
    assert [field.name for field in dataclasses.fields(ListedMember)] == [
        "movement_ref",
        "full_name",
        "full_name_arabic",
        "sex",
        "birth",
        "category",
        "region",
        "cercle",
        "commune",
        "rank",
        "armed",
        "weapons",
        "father_name",
        "mother_name",
        "birth_place",
        "document_type",
        "document_issued",
    ]


def test_parents_names_and_birth_place_are_optional_and_never_blank() -> None:
    assert (member().father_name, member().mother_name, member().birth_place) == (None, None, None)
    listed = member(
        father_name="Intalla Ag Attaher", mother_name="Fatoumata Walet Bibi", birth_place="Anéfis"
    )
    assert listed.father_name == "Intalla Ag Attaher"
    for field_name in ("father_name", "mother_name", "birth_place"):
        with pytest.raises(ValueError, match=field_name):
            member(**{field_name: " "})


def test_sex_and_category_values_are_the_list_files_codes() -> None:
    assert [sex.value for sex in Sex] == ["F", "M"]
    assert [category.value for category in Category] == [
        "combatant",
        "associated_woman",
        "civilian_cadre",
        "former_armed_forces",
        "child",
    ]


def test_a_listed_member_is_immutable() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        member().armed = False  # type: ignore[misc]
