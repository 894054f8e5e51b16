"""The reinsertion rules on their own: entitlements, timetables, the ledger, who may draw, when a tranche pays."""

from __future__ import annotations

from datetime import date

import pytest

from ddr_reinsertion.domain.beneficiary import Progress, Standing, TrancheDue, caseload_of, check_payable
from ddr_reinsertion.domain.catalogue import PackageTerms, Tranche
from ddr_reinsertion.domain.errors import AlreadyDone, RuleViolated
from ddr_reinsertion.domain.ledger import BudgetLine
from ddr_reinsertion.domain.rounds import Round

START = date(2020, 3, 1)
FREE = Standing(barred=False, integration_active=False, holds=0)


def livestock(**overrides: object) -> PackageTerms:
    values: dict[str, object] = {
        "package_id": "livestock",
        "package_version": 1,
        "kind": "livestock",
        "title": "Small ruminants",
        "caseloads": ("ex_combatant",),
        "currency": "XOF",
        "base_amount": 600_000,
        "category_supplements": {"former_armed_forces": 50_000},
        "rank_supplements": {"capitaine": 100_000},
        "per_dependant_amount": 20_000,
        "max_dependants": 5,
        "tranches": (
            Tranche(1, 50, 0),
            Tranche(2, 30, 90, "training_attended"),
            Tranche(3, 20, 180, "follow_up_visit"),
        ),
        "follow_up_after_days": (90, 180),
        "effective_on": date(2020, 1, 1),
    }
    values.update(overrides)
    return PackageTerms(**values)  # type: ignore[arg-type]


def test_the_entitlement_adds_category_rank_and_capped_dependants() -> None:
    terms = livestock()
    assert terms.entitlement("combatant", "soldat", 0) == 600_000
    assert terms.entitlement("former_armed_forces", "capitaine", 2) == 600_000 + 50_000 + 100_000 + 40_000
    assert terms.entitlement("combatant", "soldat", 9) == 600_000 + 5 * 20_000


def test_decreasing_tranches_add_up_to_the_entitlement_and_fall_due_from_enrolment() -> None:
    planned = livestock().timetable(700_001, START)
    assert [t.amount for t in planned] == [350_000, 210_000, 140_001]
    assert sum(t.amount for t in planned) == 700_001
    assert [t.due_on for t in planned] == [START, date(2020, 5, 30), date(2020, 8, 28)]
    assert [t.condition for t in planned] == [None, "training_attended", "follow_up_visit"]


@pytest.mark.parametrize(
    "tranches",
    [
        (Tranche(1, 60, 0), Tranche(2, 30, 90)),  # shares add to 90
        (Tranche(1, 50, 90), Tranche(2, 50, 0)),  # due out of order
        (Tranche(2, 100, 0),),  # not numbered from 1
    ],
)
def test_terms_that_cannot_be_paid_as_written_are_refused(tranches: tuple[Tranche, ...]) -> None:
    with pytest.raises(RuleViolated):
        livestock(tranches=tranches).validate()


def test_a_tranche_waiting_for_a_visit_needs_a_planned_visit() -> None:
    with pytest.raises(RuleViolated, match="follow-up"):
        livestock(follow_up_after_days=()).validate()


def test_associated_women_are_a_caseload_of_their_own() -> None:
    assert caseload_of("associated_woman") == "faga"
    assert caseload_of("combatant") == "ex_combatant"
    assert not livestock().admits("faga")


def test_the_ledger_refuses_to_commit_beyond_the_allotment_or_pay_beyond_the_cash() -> None:
    line = BudgetLine("wb", "World Bank", "XOF", allotted=1_000).receive(400)
    line = line.commit(900, "XOF")
    with pytest.raises(RuleViolated, match="left to commit"):
        line.commit(101, "XOF")
    line = line.disburse(400)
    with pytest.raises(RuleViolated) as refused:
        line.disburse(1)
    assert refused.value.rule == "insufficient_funds"
    assert (line.uncommitted, line.cash) == (100, 0)
    assert line.release(500).uncommitted == 600


def test_the_ledger_refuses_a_package_in_another_currency() -> None:
    with pytest.raises(RuleViolated) as refused:
        BudgetLine("wb", "World Bank", "USD", allotted=1_000).commit(10, "XOF")
    assert refused.value.rule == "currency_mismatch"


def dues(*paid: bool) -> list[TrancheDue]:
    conditions = [None, "training_attended", "follow_up_visit"]
    return [TrancheDue(n + 1, 100, START, conditions[n], p) for n, p in enumerate(paid)]


def test_a_tranche_is_paid_once_in_order_and_after_its_condition() -> None:
    nothing, trained = Progress(False, 0), Progress(True, 0)
    with pytest.raises(AlreadyDone):
        check_payable("active", FREE, dues(True, False, False), 1, START, nothing)
    with pytest.raises(RuleViolated, match="in order"):
        check_payable("active", FREE, dues(False, False, False), 2, START, trained)
    with pytest.raises(RuleViolated) as waiting:
        check_payable("active", FREE, dues(True, False, False), 2, START, nothing)
    assert waiting.value.rule == "condition_not_met"
    assert check_payable("active", FREE, dues(True, False, False), 2, START, trained).number == 2
    with pytest.raises(RuleViolated, match="visit 1"):
        check_payable("active", FREE, dues(True, True, False), 3, START, trained)
    assert check_payable("active", FREE, dues(True, True, False), 3, START, Progress(True, 1)).number == 3


def test_each_tranche_waiting_for_a_visit_waits_for_a_visit_of_its_own() -> None:
    tranches = [
        TrancheDue(1, 100, START, "follow_up_visit", True),
        TrancheDue(2, 100, START, "follow_up_visit", False),
    ]
    with pytest.raises(RuleViolated, match="visit 2"):
        check_payable("active", FREE, tranches, 2, START, Progress(False, 1))
    assert check_payable("active", FREE, tranches, 2, START, Progress(False, 2)).number == 2


@pytest.mark.parametrize(
    ("status", "standing", "rule"),
    [
        ("active", Standing(barred=False, integration_active=True, holds=0), "active_in_integration"),
        ("active", Standing(barred=False, integration_active=False, holds=1), "benefits_held"),
        ("dropped_out", FREE, "not_active"),
    ],
)
def test_nothing_is_paid_to_someone_integrated_held_or_gone(
    status: str, standing: Standing, rule: str
) -> None:
    with pytest.raises(RuleViolated) as refused:
        check_payable(status, standing, dues(False), 1, START, Progress(False, 0))
    assert refused.value.rule == rule


def test_a_round_lists_no_more_than_its_size_per_region() -> None:
    the_round = Round("2020-roadmap", ("Gao", "Kidal"), 300)
    the_round.check_listing("Gao", 299)
    with pytest.raises(RuleViolated, match="300"):
        the_round.check_listing("Gao", 300)
    with pytest.raises(RuleViolated):
        the_round.check_listing("Mopti", 0)
