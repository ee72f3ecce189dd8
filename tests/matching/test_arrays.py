import random
from array import array
from collections import Counter

import numpy as np
import pytest

from app.matching.arrays import (
    MIN_RADIX_SORTED,
    distinct,
    grouped,
    merged_pairs,
    merged_runs,
    most_common,
    run_lengths,
    run_starts,
    sorted_form_ids,
    sorted_pairs,
    stably_sorted,
)


@pytest.mark.parametrize("limit", [None, 1, 10])
def test_votes_are_counted_and_ordered_as_counter_most_common(limit: int | None) -> None:
    rng = random.Random(8)
    for _ in range(200):
        # Few ids in many short lists: ties in votes are the rule, not the exception.
        proposed = [rng.sample(range(40), rng.randrange(1, 12)) for _ in range(rng.randrange(1, 8))]
        counted = Counter(i for forms in proposed for i in forms).most_common(limit)
        arrays = [np.array(forms, dtype=np.int32) for forms in proposed]
        assert most_common(arrays, limit) == [i for i, _ in counted]
    assert most_common([], 10) == []


def test_form_ids_are_sorted_as_numpy_sorts_them() -> None:
    rng = np.random.default_rng(3)
    # Ids above 2**16 and 2**24 too: both halves of each id decide its place,
    # in arrays sorted at once and in those sorted by radix.
    for high in (50, 70_000, 2**31 - 1):
        for size in (1, MIN_RADIX_SORTED - 1, MIN_RADIX_SORTED, 3 * MIN_RADIX_SORTED):
            ids = rng.integers(0, high, size=size, dtype=np.int32)
            assert sorted_form_ids(ids).tolist() == sorted(ids.tolist())
    assert sorted_form_ids(np.empty(0, dtype=np.int32)).tolist() == []


def test_runs_of_equal_values_are_found_with_their_lengths() -> None:
    ordered = np.array([3, 3, 5, 7, 7, 7], dtype=np.int64)
    starts = run_starts(ordered)
    assert starts.tolist() == [0, 2, 3]
    assert run_lengths(starts, len(ordered)).tolist() == [2, 1, 3]
    assert distinct(np.array([7, 3, 7, 5, 3])).tolist() == [3, 5, 7]


def test_positions_are_grouped_by_number_in_their_order() -> None:
    starts, order = grouped(array("i", [2, 0, 2, 1, 0]), 4)
    assert starts.tolist() == [0, 2, 3, 5, 5]
    assert order.tolist() == [1, 4, 3, 0, 2]


@pytest.mark.parametrize("largest_first", [1 << 20, 1 << 40])  # packed, and too large to pack
def test_pairs_are_sorted_as_a_stable_sort_by_their_first_orders_them(largest_first: int) -> None:
    rng = np.random.default_rng(7)
    firsts = rng.integers(0, largest_first, 5000, dtype=np.int64)
    firsts[::7] = firsts[0]  # many pairs share their first
    seconds = np.sort(rng.integers(0, 3000, 5000)).astype(np.int32)  # rising, some repeated
    order = np.argsort(firsts, kind="stable")
    got_firsts, got_seconds = sorted_pairs(firsts, seconds)
    assert np.array_equal(got_firsts, firsts[order]) and got_firsts.dtype == np.int64
    assert np.array_equal(got_seconds, seconds[order]) and got_seconds.dtype == np.int32


def test_no_pairs_are_no_pairs() -> None:
    empty = np.empty(0, dtype=np.int64)
    assert [len(a) for a in sorted_pairs(empty, empty)] == [0, 0]


@pytest.mark.parametrize("largest_first", [1 << 20, 1 << 40])  # packed, and too large to pack
def test_runs_of_sorted_pairs_are_merged_as_their_pairs_would_be_sorted(
    largest_first: int,
) -> None:
    rng = np.random.default_rng(11)
    runs, first_second = [], 0
    for size in (0, 3000, 1, 4000, 0, 2500):
        firsts = rng.integers(0, largest_first, size, dtype=np.int64)
        firsts[::5] = firsts[0] if size else 0  # runs share firsts, within and between runs
        # Seconds above those of the runs before, unique within a run, as a build's forms are.
        seconds = rng.permutation(size).astype(np.int32) + first_second
        first_second += size
        runs.append(sorted_pairs(firsts, seconds))
    whole = sorted_pairs(
        np.concatenate([firsts for firsts, _ in runs]),
        np.concatenate([seconds for _, seconds in runs]),
    )
    merged = merged_pairs(runs)
    assert np.array_equal(merged[0], whole[0]) and merged[0].dtype == np.int64
    assert np.array_equal(merged[1], whole[1]) and merged[1].dtype == np.int32


def test_values_are_stably_sorted_with_their_positions() -> None:
    values = np.array([5, 1, 5, 0, 1, 5], dtype=np.uint64)
    ordered, positions = stably_sorted(values)
    assert ordered.tolist() == [0, 1, 1, 5, 5, 5] and ordered.dtype == np.uint64
    assert positions.tolist() == [3, 1, 4, 0, 2, 5] and positions.dtype == np.int32


def test_sorted_runs_are_merged_as_the_whole_would_be_sorted_stably() -> None:
    rng = np.random.default_rng(13)
    runs, whole, first = [], [], 0
    for size in (2000, 0, 1, 3000):
        values = rng.integers(0, 1 << 63, size, dtype=np.uint64)
        values[::4] = values[0] if size else 0  # shared, within and between runs
        ordered, positions = stably_sorted(values)
        runs.append((ordered, positions + first))  # items numbered across the runs
        whole.append(values)
        first += size
    values = np.concatenate(whole)
    order = np.argsort(values, kind="stable")
    merged_values, merged_items = merged_runs(runs)
    assert np.array_equal(merged_values, values[order])
    assert np.array_equal(merged_items, order)  # equal values' items in run order
    assert merged_runs(runs[3:]) is runs[3]  # one run is merged already
