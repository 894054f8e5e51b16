"""Deduplication on lists the matcher was not tuned on: the Sahel lists of ``tests/dedup_sets`` (other name pools,
a phoneme-based noise model, list formats, families), never used to set a weight or the threshold, which were
set on the registration simulator. A modest held-out set, fixed seed: precision and recall at least 0.95 each,
and relatives listed side by side (brothers, twins, cousins) never paired."""

from __future__ import annotations

import pytest

from tests.dedup_sets import sahel
from tests.dedup_sets.evaluate import Evaluation, evaluate

ROWS = 5_000
SEED = 7
TARGET = 0.95


@pytest.fixture(scope="module")
def held_out() -> Evaluation:
    return evaluate(sahel.build(ROWS, SEED))


def test_precision_on_lists_the_matcher_was_not_tuned_on_is_at_least_95_percent(held_out: Evaluation) -> None:
    assert held_out.precision >= TARGET, f"{held_out.precision:.3f} ({len(held_out.false_pairs)} false pairs)"


def test_recall_on_lists_the_matcher_was_not_tuned_on_is_at_least_95_percent(held_out: Evaluation) -> None:
    assert held_out.recall >= TARGET, f"{held_out.recall:.3f} ({len(held_out.missed_pairs)} missed)"


def test_brothers_twins_and_cousins_listed_side_by_side_are_not_paired(held_out: Evaluation) -> None:
    assert held_out.relative_pairs > 100  # the set holds hard negatives to speak of
    assert held_out.relatives_flagged == 0, held_out.relatives


def test_the_held_out_lists_are_the_same_for_the_same_seed() -> None:
    first, again = sahel.build(300, SEED), sahel.build(300, SEED)
    assert first.rows == again.rows
    assert first.duplicates == again.duplicates
    assert sahel.build(300, SEED + 1).rows != first.rows
