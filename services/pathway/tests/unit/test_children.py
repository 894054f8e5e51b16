"""Children's records in paths and figures: who is a child, and the figures' small-count rule against a
caller stepping ``known_on`` record by record (finding 5 of issue 14)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from ddr_pathway.domain.children import child_records, is_child_record
from ddr_pathway.domain.facts import Fact
from ddr_pathway.domain.figures import Disclosure, Funnel, ProgrammeFigures, compute_figures
from ddr_runtime.auth.visibility import disclose_count

START = datetime(2020, 3, 1, 9, tzinfo=UTC)


def fact(person: str, kind: str, at: datetime, **values: Any) -> Fact:
    return Fact(
        event_id=f"{person}-{kind}-{at.isoformat()}", type=f"ddr.x.{kind}", service="x", subject=person,
        person_id=person, kind=kind, occurred_at=at, valid_from=at, recorded_at=at, actor="a", **values,
    )  # fmt: skip


def pre_registered(person: str, at: datetime, birth_year: int, region: str = "Kidal") -> Fact:
    return fact(
        person, "pre_registered", at, movement="MNLA", region=region, sex="M", birth_year=birth_year,
        category="combatant",
    )  # fmt: skip


def test_someone_who_may_have_been_17_at_registration_is_a_child() -> None:
    on = datetime(2020, 6, 1, tzinfo=UTC)

    assert is_child_record([pre_registered("p", on, birth_year=2002)])  # 17 until 31 December 2020
    assert not is_child_record([pre_registered("p", on, birth_year=2001)])


def test_a_child_identified_at_screening_is_a_child() -> None:
    adult_on_paper = pre_registered("p", START, birth_year=1990)

    assert is_child_record([adult_on_paper, fact("p", "child", START + timedelta(days=3))])
    assert is_child_record([adult_on_paper, fact("p", "screening", START, value="child_protection")])


def test_a_duplicate_merged_into_a_childs_record_is_a_childs_record_too() -> None:
    facts = [pre_registered("c", START, 2010), pre_registered("d", START, 1990)]

    assert child_records(facts, {"d": "c"}) == {"c", "d"}


def every_child_count(figures: ProgrammeFigures) -> list[int | None]:
    funnels: list[Funnel] = [figures.funnel]
    for table in (figures.by_movement, figures.by_region, figures.by_sex, figures.by_age_group,
                  figures.by_category, figures.by_track, figures.by_coalition):  # fmt: skip
        funnels += table.values()
    return [f.child_protection for f in funnels]


def test_stepping_known_on_child_by_child_never_shows_fewer_than_five_children() -> None:
    """Finding 5 (issue 14): child counts by movement, region, sex and age, stepped through `known_on`,
    reached a count of 1 for donors."""
    adults = [pre_registered(f"a{i}", START, 1985) for i in range(6)]
    children = [pre_registered(f"c{i}", START + timedelta(hours=i + 1), 2008, region="Gao") for i in range(7)]
    facts = adults + children
    protected = child_records(facts, {})
    donor = Disclosure(children=disclose_count, vetting=disclose_count)
    seen: list[int | None] = []
    adult_counts = set()
    gao_shown: list[bool] = []
    for step in range(len(children) + 1):
        known_on = START + timedelta(hours=step, minutes=30)
        known = [f for f in facts if f.recorded_at <= known_on]
        figures = compute_figures(
            known, [], as_of=date(2020, 12, 31), known_on=known_on, children=protected, disclosure=donor
        )
        seen += every_child_count(figures)
        adult_counts.add(
            (figures.funnel.pre_registered, figures.by_region.get("Gao", Funnel()).pre_registered)
        )
        gao_shown.append("Gao" in figures.by_region)

    assert set(seen) == {None, 5}
    assert adult_counts == {(6, 0)}  # no child ever counts among the adults, nor leaves them
    assert gao_shown == [False] * 5 + [True] * 3  # a cell of children alone appears from 5 of them


def test_a_child_identified_later_never_counted_among_the_adults_as_known_before() -> None:
    person = pre_registered("p", START, 1990)
    identified = fact("p", "child", START + timedelta(days=30))
    protected = child_records([person, identified], {})

    before = compute_figures([person], [], as_of=date(2020, 12, 31), known_on=START, children=protected)

    assert before.funnel.pre_registered == 0
    assert before.funnel.child_protection == 1  # exact: this reader sees children


def test_vetting_holds_are_suppressed_below_five_for_readers_outside_vetting() -> None:
    held = [pre_registered(f"a{i}", START, 1985) for i in range(3)]
    holds = [fact(f"a{i}", "hold", START + timedelta(hours=1), reason_code="vetting") for i in range(3)]
    facts = held + holds

    donor = compute_figures(
        facts, [], as_of=date(2020, 12, 31), known_on=None, disclosure=Disclosure(vetting=disclose_count)
    )
    auditor = compute_figures(facts, [], as_of=date(2020, 12, 31), known_on=None)

    assert donor.funnel.benefits_held is None
    assert auditor.funnel.benefits_held == 3
