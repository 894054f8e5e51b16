"""The reinsertion rules on their own: entitlements, timetables in money, the ledger, who may draw, when a
tranche pays."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from ddr_reinsertion.domain.beneficiary import Beneficiary, Choice, caseload_of
from ddr_reinsertion.domain.catalogue import PackageTerms
from ddr_reinsertion.domain.events import (
    BenefitsHoldNoted,
    BudgetLineOpened,
    IntegrationStatusNoted,
    RoundPlacesTaken,
    ScreeningOutcomeNoted,
    VolunteerRoundOpened,
)
from ddr_reinsertion.domain.ledger import BudgetLine
from ddr_reinsertion.domain.rounds import Round
from ddr_reinsertion.domain.values import TrancheTerms
from ddr_runtime.kernel import AlreadyDone, Recording, RuleViolated

START = date(2020, 3, 1)
AT = datetime(2020, 2, 10, tzinfo=UTC)
NOW = Recording(now=datetime(2020, 12, 1, tzinfo=UTC), window=timedelta(days=3650))
D = Decimal


def livestock(**overrides: object) -> PackageTerms:
    values: dict[str, object] = {
        "package_id": "livestock",
        "package_version": 1,
        "kind": "livestock",
        "title": "Small ruminants",
        "caseloads": ("ex_combatant",),
        "currency": "XOF",
        "base_amount": D(600_000),
        "category_supplements": {"former_armed_forces": D(50_000)},
        "rank_supplements": {"capitaine": D(100_000)},
        "per_dependant_amount": D(20_000),
        "max_dependants": 5,
        "tranches": (
            TrancheTerms(1, 0, share_percent=D(50)),
            TrancheTerms(2, 90, share_percent=D(30), condition="training_attended"),
            TrancheTerms(3, 180, share_percent=D(20), condition="follow_up_visit"),
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


def test_decreasing_shares_add_up_to_the_entitlement_and_fall_due_from_enrolment() -> None:
    planned = livestock().timetable(D(700_001), START)
    assert [t.amount for t in planned] == [D(350_000), D(210_000), D(140_001)]
    assert [t.due_on for t in planned] == [START, date(2020, 5, 30), date(2020, 8, 28)]
    assert [t.condition for t in planned] == [None, "training_attended", "follow_up_visit"]


def test_tranches_in_amounts_pay_the_amounts_and_the_supplements_with_the_first() -> None:
    terms = livestock(
        currency="USD",
        base_amount=D("1500.00"),
        per_dependant_amount=D("20.00"),
        tranches=(
            TrancheTerms(1, 0, D("500.00")),
            TrancheTerms(2, 30, D("500.00")),
            TrancheTerms(3, 60, D("500.00")),
        ),
        follow_up_after_days=(),
    )
    terms.validate()
    plan = terms.timetable(terms.entitlement("combatant", "soldat", 1), START)
    assert [t.amount for t in plan] == [D("520.00"), D("500.00"), D("500.00")]


@pytest.mark.parametrize(
    "tranches",
    [
        (TrancheTerms(1, 0, share_percent=D(60)), TrancheTerms(2, 90, share_percent=D(30))),  # 90 percent
        (TrancheTerms(1, 90, share_percent=D(50)), TrancheTerms(2, 0, share_percent=D(50))),  # out of order
        (TrancheTerms(2, 0, share_percent=D(100)),),  # not numbered from 1
        (TrancheTerms(1, 0, D(300_000)), TrancheTerms(2, 0, D(299_999))),  # a unit short of the base amount
        (TrancheTerms(1, 0, D(300_000)), TrancheTerms(2, 0, share_percent=D(50))),  # mixed
    ],
)
def test_terms_that_cannot_be_paid_as_written_are_refused(tranches: tuple[TrancheTerms, ...]) -> None:
    with pytest.raises(RuleViolated):
        livestock(tranches=tranches, follow_up_after_days=()).validate()


def test_associated_women_are_a_caseload_of_their_own() -> None:
    assert caseload_of("associated_woman") == "faga"
    assert caseload_of("combatant") == "ex_combatant"
    assert not livestock().admits("faga")


def line(allotted: int) -> BudgetLine:
    return BudgetLine.open(BudgetLineOpened("wb", "World Bank", "IDA", "XOF", D(allotted), START), AT)


def test_the_ledger_refuses_to_commit_beyond_the_allotment_or_pay_beyond_the_cash() -> None:
    ledger = line(1_000)
    ledger.receive(D(400), "DA-1", AT)
    ledger.commit("c1", D(900), "XOF", AT)
    with pytest.raises(RuleViolated, match="left to commit"):
        ledger.commit("c2", D(101), "XOF", AT)
    ledger.disburse("c1", "d1", D(400), AT)
    with pytest.raises(RuleViolated) as refused:
        ledger.disburse("c1", "d2", D(1), AT)
    assert refused.value.rule == "insufficient_funds"
    assert (ledger.uncommitted, ledger.cash) == (D(100), D(0))
    ledger.release("c1", D(500), AT)
    assert ledger.uncommitted == 600


def test_the_ledger_refuses_a_package_in_another_currency() -> None:
    with pytest.raises(RuleViolated) as refused:
        line(1_000).commit("c", D(10), "USD", AT)
    assert refused.value.rule == "currency_mismatch"


def waiting(person_id: str = "P-1") -> Beneficiary:
    person = Beneficiary()
    person.note_screening(
        ScreeningOutcomeNoted(person_id, "d", "reinsertion", "Gao", "M", "combatant", "CMA", "soldat"), AT
    )
    return person


def enrolled(person: Beneficiary, commitment: str = "c1") -> Beneficiary:
    choice = Choice(livestock(), "wb", commitment, ("commerce",), "basic", "Gao", 0, START)
    person.enrol(person.person_id, person.prepare_enrolment(choice, NOW))
    return person


def test_a_tranche_is_paid_once_in_order_and_after_its_condition() -> None:
    person = enrolled(waiting())
    person.pay(person.prepare_payment("r1", 1, "Gao", START, "d1", NOW))
    with pytest.raises(AlreadyDone):
        person.prepare_payment("r9", 1, "Gao", START, "d9", NOW)
    with pytest.raises(RuleViolated, match="in order"):
        person.prepare_payment("r3", 3, "Gao", date(2020, 9, 1), "d3", NOW)
    with pytest.raises(RuleViolated) as untrained:
        person.prepare_payment("r2", 2, "Gao", date(2020, 6, 1), "d2", NOW)
    assert untrained.value.rule == "condition_not_met"
    person.attend_training("CFP", date(2020, 4, 1), NOW)
    assert person.prepare_payment("r2", 2, "Gao", date(2020, 6, 1), "d2", NOW).amount == 180_000
    assert person.earlier_request("r1", 1) is not None


def test_a_child_noted_by_screening_is_barred_and_an_active_beneficiary_leaves_with_the_rest_released() -> (
    None
):
    person = enrolled(waiting())
    person.pay(person.prepare_payment("r1", 1, "Gao", START, "d1", NOW))

    release = person.note_screening(
        ScreeningOutcomeNoted("P-1", "d2", "child_protection", "Gao", "M", "combatant", "CMA", "soldat"), AT
    )

    assert (person.stage, person.barred) == ("withdrawn", True)
    assert release is not None
    assert (release.commitment_id, release.amount) == ("c1", D(300_000))
    with pytest.raises(RuleViolated) as refused:
        person.check_may_draw()
    assert refused.value.rule == "not_eligible"


@pytest.mark.parametrize(
    ("noted", "rule"),
    [
        (IntegrationStatusNoted("P-1", "accepted", False, START), "active_in_integration"),
        (BenefitsHoldNoted("P-1", "v-1", "vetting_pending"), "benefits_held"),
    ],
)
def test_nothing_is_paid_to_someone_integrated_or_held(
    noted: IntegrationStatusNoted | BenefitsHoldNoted, rule: str
) -> None:
    person = enrolled(waiting())
    if isinstance(noted, IntegrationStatusNoted):
        person.note_integration(noted, AT)
    else:
        person.note_hold(noted, AT)
    with pytest.raises(RuleViolated) as refused:
        person.prepare_payment("r1", 1, "Gao", START, "d1", NOW)
    assert refused.value.rule == rule


def test_a_round_lists_no_more_than_its_size_per_region() -> None:
    the_round = Round.open(VolunteerRoundOpened("2020-roadmap", "Roadmap", ("Gao", "Kidal"), 300, START), AT)
    the_round.replay([RoundPlacesTaken("2020-roadmap", "Gao", 299, START)])

    the_round.check_place("Gao", Counter())
    with pytest.raises(RuleViolated, match="300"):
        the_round.check_place("Gao", Counter({"Gao": 1}))
    with pytest.raises(RuleViolated):
        the_round.check_place("Mopti", Counter())
