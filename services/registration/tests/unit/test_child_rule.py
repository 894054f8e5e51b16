"""Who registration counts as a child: the rule screening, pathway and CVR apply (a birth year alone counts as
born on 31 December, so someone who may still be 17 is a child until child protection assesses the age)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, create_engine, insert, select

from ddr_registration.adapters.access import child_record, is_child


@pytest.mark.parametrize(
    ("birth_year", "at", "child"),
    [
        (2000, datetime(2018, 6, 1, tzinfo=UTC), True),  # 17 or 18: possibly a child
        (2000, datetime(2018, 12, 31, tzinfo=UTC), False),  # 18 whatever the day of birth
        (2000, datetime(2019, 1, 1, tzinfo=UTC), False),
        (2001, datetime(2018, 12, 31, tzinfo=UTC), True),
    ],
)
def test_a_birth_year_alone_counts_as_born_on_31_december(birth_year: int, at: datetime, child: bool) -> None:
    assert is_child("combatant", birth_year, at) is child


def test_listed_as_a_child_is_a_child_whatever_the_birth_year() -> None:
    assert is_child("child", 1980, datetime(2018, 6, 1, tzinfo=UTC)) is True


def test_the_sql_rule_agrees_with_the_python_rule() -> None:
    engine = create_engine("sqlite://")
    people = Table(
        "people",
        MetaData(),
        Column("person_id", String, primary_key=True),
        Column("category", String),
        Column("birth_year", Integer),
        Column("listed_at", DateTime(timezone=True)),
        Column("registered_at", DateTime(timezone=True)),
    )
    people.metadata.create_all(engine)
    cases = [(2000, datetime(2018, 6, 1)), (2000, datetime(2018, 12, 31)), (2001, datetime(2018, 12, 31))]
    with engine.begin() as conn:
        for index, (birth_year, at) in enumerate(cases):
            conn.execute(
                insert(people).values(
                    person_id=f"p{index}", category="combatant", birth_year=birth_year, listed_at=at
                )
            )
        found = set(conn.execute(select(people.c.person_id).where(child_record(people))).scalars())

    assert (
        found
        == {f"p{i}" for i, (year, at) in enumerate(cases) if is_child("combatant", year, at)}
        == {"p0", "p2"}
    )
