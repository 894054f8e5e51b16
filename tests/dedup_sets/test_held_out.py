"""Deduplication on lists the matcher was not tuned on: the Sahel lists of ``tests/dedup_sets`` (other name pools,
a phoneme-based noise model, list formats, families), never used to set a weight or the threshold, which were
set on the registration simulator. A modest held-out set, fixed seed: precision and recall at least 0.95 (the
issue's target; measured 0.964 and 0.955), and relatives listed side by side (brothers born years apart,
cousins) never paired. Twins (one birth date, the same
parents) are counted in the benchmark: a twin with a name alike his brother's is what a second listing looks
like."""

from __future__ import annotations

import pytest

from tests.dedup_sets import sahel
from tests.dedup_sets.evaluate import Evaluation, evaluate

ROWS = 5_000
SEED = 7
PRECISION = 0.95
RECALL = 0.95


@pytest.fixture(scope="module")
def held_out() -> Evaluation:
    return evaluate(sahel.build(ROWS, SEED))


def test_precision_on_lists_the_matcher_was_not_tuned_on_is_at_least_95_percent(held_out: Evaluation) -> None:
    assert held_out.precision >= PRECISION, (
        f"{held_out.precision:.3f} ({len(held_out.false_pairs)} false pairs)"
    )


def test_recall_on_lists_the_matcher_was_not_tuned_on_is_at_least_95_percent(held_out: Evaluation) -> None:
    assert held_out.recall >= RECALL, f"{held_out.recall:.3f} ({len(held_out.missed_pairs)} missed)"


def test_brothers_born_years_apart_and_cousins_listed_side_by_side_are_not_paired(
    held_out: Evaluation,
) -> None:
    brothers, cousins = held_out.relatives["brothers"], held_out.relatives["cousins"]
    assert (brothers[0], cousins[0]) > (100, 100)  # the set holds hard negatives to speak of
    assert (brothers[1], cousins[1]) == (0, 0)


def test_the_held_out_lists_are_the_same_for_the_same_seed() -> None:
    first, again = sahel.build(300, SEED), sahel.build(300, SEED)
    assert first.rows == again.rows
    assert first.duplicates == again.duplicates
    assert sahel.build(300, SEED + 1).rows != first.rows
