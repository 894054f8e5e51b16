"""The demo's plan keeps the report's timeline and the platform's rules of business time, for any seed."""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest

from ddr_runtime.auth.roles import Role
from tests.e2e import timeline
from tests.e2e.timeline import Adult, Plan, plan

SEEDS = range(12)


def adults(count: int, seed: int, cma_share: float = 0.43) -> list[Adult]:
    rng = random.Random(seed)
    return [
        Adult(f"p{n:05d}-{rng.randrange(10**6):06d}", "CMA" if rng.random() < cma_share else "Platform")
        for n in range(count)
    ]


def default(seed: int) -> Plan:
    return plan(adults(2_300, seed), [f"child-{n}" for n in range(12)], finally_unfit=535, seed=seed)


@pytest.fixture(scope="module")
def plans() -> list[Plan]:
    return [default(seed) for seed in SEEDS]


def test_the_programme_registers_1423_by_the_end_of_2018_from_the_launch_and_the_rest_in_2019(
    plans: list[Plan],
) -> None:
    for found in plans:
        days = found.registered_on.values()
        assert min(days) == timeline.LAUNCH
        assert sum(day <= date(2018, 12, 31) for day in days) == 1_423
        assert sum(day.year == 2019 for day in days) == 2_300 - 1_423 + 12


def test_children_register_in_2019_and_are_never_examined(plans: list[Plan]) -> None:
    for found in plans:
        examined = {e.person_id for e in (*found.first_examinations, *found.second_examinations)}
        assert all(found.registered_on[c].year == 2019 for c in found.children)
        assert not examined & set(found.children)


def test_exactly_the_asked_number_remain_unfit_after_re_examinations(plans: list[Plan]) -> None:
    for found in plans:
        assert len(found.unfit) == 535
        assert len(found.integrated) == 2_300 - 535
        assert not set(found.unfit) & set(found.integrated)


def test_no_examination_precedes_the_registration_and_re_examinations_follow_the_request(
    plans: list[Plan],
) -> None:
    for found in plans:
        requested = dict(found.re_examination_requests)
        for exam in found.first_examinations:
            assert exam.on > found.registered_on[exam.person_id]
        for exam in found.second_examinations:
            assert exam.on > requested.get(exam.person_id, found.examined_on(exam.person_id))


def test_cohorts_last_91_days_from_january_2019_one_at_a_time_never_over_250(plans: list[Plan]) -> None:
    for found in plans:
        assert found.cohorts[0].starts_on == date(2019, 1, 7)
        for cohort in found.cohorts:
            assert 0 < len(cohort.members) <= 250
            assert (cohort.ends_on - cohort.starts_on).days + 1 == 91
        for before, after in zip(found.cohorts, found.cohorts[1:], strict=False):
            assert after.starts_on > before.ends_on


def test_every_fit_member_trains_once_after_being_accepted_and_graded(plans: list[Plan]) -> None:
    for found in plans:
        trained = [p for c in found.cohorts for p in c.members]
        assert sorted(trained) == sorted(found.integrated)
        for cohort in found.cohorts:
            assert cohort.roll_on < cohort.starts_on
            assert all(found.accepted_on(p) <= cohort.roll_on for p in cohort.members)


def test_ranks_under_the_decree_are_on_or_after_its_day(plans: list[Plan]) -> None:
    for found in plans:
        provisional = set(found.reclassified())
        for cohort in found.cohorts:
            graded_under_decree = cohort.roll_on >= timeline.DECREE
            assert graded_under_decree or set(cohort.members) <= provisional
        assert all(c.roll_on < timeline.DECREE for c in found.cohorts if set(c.members) & provisional)


def test_units_are_formed_in_the_order_gao_timbuktu_menaka_kidal_after_their_members_trained(
    plans: list[Plan],
) -> None:
    for found in plans:
        names = [u.unit_id for u in found.units if u.thirds_applies]
        assert names == ["BATFAR-Gao", "BATFAR-Tombouctou", "Compagnie-Menaka", "BATFAR-Kidal"]
        formed = [u.formed_on for u in found.units]
        assert formed == sorted(formed)
        assert len(set(formed)) == len(formed)
        cohort_of = found.cohort_of()
        for unit in found.units:
            assert all(cohort_of[p].ends_on < unit.formed_on for p in unit.all_members())


def test_each_reconstituted_unit_holds_each_coalition_equally_and_every_member_serves_once(
    plans: list[Plan],
) -> None:
    for found in plans:
        for unit in found.units:
            if unit.thirds_applies:
                assert len(unit.members["CMA"]) == len(unit.members["Platform"]) > 0
        serving = [p for u in found.units for p in u.all_members()]
        assert sorted(serving) == sorted(found.integrated)


def test_the_thirds_hold_before_the_fall_of_2023_and_break_where_members_left(plans: list[Plan]) -> None:
    for found in plans:
        before = found.thirds(date(2023, 9, 30))
        after = found.thirds(date(2023, 11, 30))
        gao_deserters = len(found.desertions[0].person_ids)
        for unit_id, figures in before.items():
            assert len(set(figures["strength"].values())) == 1, unit_id
            assert len(set(figures["command_posts"].values())) == 1, unit_id
        assert (
            after["BATFAR-Gao"]["strength"]["CMA"] == before["BATFAR-Gao"]["strength"]["CMA"] - gao_deserters
        )
        assert after["BATFAR-Gao"]["command_posts"] == before["BATFAR-Gao"]["command_posts"]
        assert after["BATFAR-Kidal"]["strength"]["CMA"] == 0
        assert after["BATFAR-Kidal"]["command_posts"]["CMA"] == 0
        assert after["BATFAR-Tombouctou"] == before["BATFAR-Tombouctou"]


def test_about_163_desert_gao_on_15_october_2023_and_kidal_s_cma_members_leave_on_31_october(
    plans: list[Plan],
) -> None:
    for found in plans:
        gao, kidal = found.desertions
        assert (gao.on, gao.unit_id, len(gao.person_ids)) == (date(2023, 10, 15), "BATFAR-Gao", 163)
        assert (kidal.on, kidal.unit_id) == (date(2023, 10, 31), "BATFAR-Kidal")
        assert len(kidal.person_ids) == len(found.units[3].members["CMA"])


def test_reinsertion_enrols_every_unfit_person_in_2020_and_2021_after_their_outcome(
    plans: list[Plan],
) -> None:
    for found in plans:
        enrolled = [p for _, people in found.reinsertion_waves for p in people]
        assert sorted(enrolled) == sorted(found.unfit)
        for on, people in found.reinsertion_waves:
            assert on.year in (2020, 2021)
            assert all(found.outcomes[p][-1] < (on, "") for p in people)


def test_cvr_projects_run_from_2021_to_2023_in_the_order_their_steps_require(plans: list[Plan]) -> None:
    for found in plans:
        for project in found.cvr_projects:
            steps = [
                project.submitted_on,
                project.analysed_on,
                *(day for _, day in project.reviews),
                project.starts_on,
                project.enrolled_on,
                project.completed_on,
                project.handed_over_on,
            ]
            assert steps == sorted(steps)
            assert project.submitted_on.year >= 2021
            assert project.handed_over_on <= date(2023, 11, 30)
            assert set(project.ex_combatants) <= set(found.unfit)


def test_the_figures_at_the_end_of_2018_count_only_the_first_registrations() -> None:
    found = plan(
        adults(2_300, 5),
        ["c1", "c2"],
        finally_unfit=535,
        seed=5,
        list_rows=2_400,
        pre_registered=2_390,
        child_records=7,
    )

    figures = found.figures(date(2018, 12, 31))

    funnel = figures["funnel"]
    assert (funnel["listed"], funnel["pre_registered"], funnel["registered"], funnel["disarmed"]) == (
        2_400,
        2_390,
        1_423,
        1_423,
    )
    end = date(2018, 12, 31)
    examined = {e.person_id for e in found.first_examinations if e.on <= end}
    still_treated = {
        e.person_id
        for e in found.second_examinations
        if e.on > end and e.person_id not in dict(found.re_examination_requests)
    }
    assert funnel["screened"] == len(examined - still_treated) < 1_423
    assert (
        funnel["child_protection"] == 5
    )  # the lists' seven children's records, as a CNDDR officer sees them
    assert funnel["reinsertion"]["active"] == 0
    assert funnel["integration"]["deserted"] == 0
    assert funnel["integration"]["active"] + funnel["waiting_for_track"] == funnel["screened"]
    assert figures["cvr"]["projects_approved"] == 0


def test_the_figures_at_the_end_of_november_2023_count_every_track_and_the_desertions(
    plans: list[Plan],
) -> None:
    found = plans[0]
    deserted = sum(len(d.person_ids) for d in found.desertions)

    funnel = found.figures(date(2023, 11, 30))["funnel"]

    assert funnel["registered"] == 2_300
    assert funnel["screened"] == 2_300
    assert funnel["child_protection"] == 10  # twelve children, rounded down to 5 for a CNDDR officer
    assert funnel["integration"]["active"] == 1_765 - deserted
    assert funnel["integration"]["deserted"] == deserted
    assert funnel["reinsertion"]["active"] == 535
    assert funnel["waiting_for_track"] == 0
    assert funnel["cvr"] == 8


def test_mid_2020_shows_every_member_accepted_and_the_first_two_reinsertion_waves(plans: list[Plan]) -> None:
    found = plans[0]

    funnel = found.figures(date(2020, 6, 30))["funnel"]

    first_two = sum(len(people) for _, people in found.reinsertion_waves[:2])
    assert funnel["integration"]["active"] == 1_765
    assert funnel["reinsertion"]["active"] == first_two
    assert funnel["waiting_for_track"] == 535 - first_two
    assert funnel["cvr"] == 0


def test_a_small_run_keeps_the_same_timeline_scaled() -> None:
    found = plan(adults(60, 11), ["c1", "c2"], finally_unfit=14, seed=11)

    assert sum(day <= date(2018, 12, 31) for day in found.registered_on.values()) == 37
    assert len(found.integrated) == 46
    assert [u.unit_id for u in found.units[:4]] == [u[0] for u in timeline.UNITS]
    assert len(found.desertions[0].person_ids) >= 1


def test_a_plan_too_small_for_four_units_is_refused() -> None:
    with pytest.raises(timeline.PlanError):
        plan(adults(6, 1), [], finally_unfit=1, seed=1)


def test_a_person_born_in_the_year_that_makes_them_17_or_18_is_possibly_a_minor_at_the_launch() -> None:
    launch = timeline.LAUNCH

    assert timeline.possibly_minor("year", 2000, None, launch)  # counted as born 31 December 2000: 17
    assert not timeline.possibly_minor("year", 1999, None, launch)
    assert timeline.possibly_minor("exact", 2000, "2000-11-07", launch)
    assert not timeline.possibly_minor("exact", 2000, "2000-11-06", launch)
    assert not timeline.possibly_minor("unknown", None, None, launch)


def test_children_count_only_in_child_protection_which_child_protection_alone_sees_exactly() -> None:
    found = plan(adults(60, 11), ["c1", "c2"], finally_unfit=14, seed=11, child_records=12)
    mid_2020 = date(2020, 6, 30)

    shown = {reader: found.figures(mid_2020, reader)["funnel"] for reader in Role}

    assert shown[Role.CHILD_PROTECTION]["child_protection"] == 12
    assert {shown[reader]["child_protection"] for reader in Role if reader != Role.CHILD_PROTECTION} == {10}
    assert {shown[reader]["registered"] for reader in Role} == {60}
    assert {shown[reader]["screened"] for reader in Role} == {60}


def test_fewer_than_five_children_are_shown_as_null_to_everyone_but_child_protection() -> None:
    found = plan(adults(60, 11), ["c1", "c2"], finally_unfit=14, seed=11)
    mid_2020 = date(2020, 6, 30)

    shown = {reader: found.figures(mid_2020, reader)["funnel"]["child_protection"] for reader in Role}

    assert shown.pop(Role.CHILD_PROTECTION) == 2
    assert set(shown.values()) == {None}


def test_no_child_record_is_counted_before_the_lists_are_submitted() -> None:
    found = plan(adults(60, 11), ["c1", "c2"], finally_unfit=14, seed=11, child_records=12)

    before = found.figures(timeline.LISTS_SUBMITTED_ON - timedelta(days=1), Role.CHILD_PROTECTION)

    assert before["funnel"]["child_protection"] == 0


def test_nobody_is_held_for_vetting_which_only_vetting_and_auditors_see_as_zero() -> None:
    found = plan(adults(60, 11), ["c1", "c2"], finally_unfit=14, seed=11)
    mid_2020 = date(2020, 6, 30)

    shown = {reader: found.figures(mid_2020, reader)["funnel"]["benefits_held"] for reader in Role}

    assert {reader for reader, held in shown.items() if held is not None} == {
        Role.VETTING_OFFICER,
        Role.AUDITOR,
    }
    assert shown[Role.AUDITOR] == shown[Role.VETTING_OFFICER] == 0
