"""The index's operations on numpy arrays: runs of equal values in sorted
arrays, grouping by number, votes counted, and arrays of C ints read one at a time.
"""

from array import array

import numpy as np


def most_common(proposed: list[np.ndarray], limit: int | None) -> list[int]:
    """The ids of ``proposed``, most often proposed first, ties in the order
    they were first proposed (as ``Counter.most_common``); the first ``limit``.
    """
    if not proposed:
        return []
    ids = np.concatenate(proposed).astype(np.int64)
    # Id and position in one number: sorted, each id's first proposal leads its run.
    keyed = (ids << 32) | np.arange(len(ids), dtype=np.int64)
    keyed.sort()
    starts = run_starts(keyed >> 32)
    votes = run_lengths(starts, len(keyed))
    # Unique ranks: more votes first, then the earlier first proposal.
    rank = (votes << 32) - (keyed[starts] & 0xFFFFFFFF)
    if limit is not None and len(rank) > limit:
        top = np.argpartition(-rank, limit)[:limit]
        order = top[np.argsort(-rank[top])]
    else:
        order = np.argsort(-rank)
    return (keyed[starts[order]] >> 32).tolist()


def sorted_pairs(firsts: np.ndarray, seconds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The pairs ``(firsts[i], seconds[i])`` sorted by first, then by second, then
    by ``i``: as a stable sort by first would order them where the seconds
    rise with ``i`` among equal firsts. Both are arrays of integers."""
    fits = len(firsts) == 0 or (
        int(firsts.min()) >= 0
        and int(firsts.max()) < 1 << 31
        and int(seconds.min()) >= 0
        and int(seconds.max()) < 1 << 32
    )
    if not fits:
        order = np.lexsort((seconds, firsts))
        return firsts[order], seconds[order]
    # Each pair in one number (first above, second below) sorted by value: a
    # quicksort, three times faster than a stable sort of one by the other.
    packed = firsts.astype(np.int64) << 32 | seconds.astype(np.int64)
    packed.sort()
    return (packed >> 32).astype(firsts.dtype), (packed & 0xFFFFFFFF).astype(seconds.dtype)


def merged_pairs(runs: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """The pairs of ``runs`` (each as ``sorted_pairs`` gives them, its seconds
    int32 and above those of the runs before it, with none repeated) sorted
    by first, then by second: the runs merged, not sorted again."""
    if not all(len(firsts) == 0 or 0 <= firsts[0] <= firsts[-1] < 1 << 31 for firsts, _ in runs):
        return sorted_pairs(
            np.concatenate([firsts for firsts, _ in runs]),
            np.concatenate([seconds for _, seconds in runs]),
        )
    # Each pair in one number, first above and second below, written in place:
    # a stable sort finds the runs already in order and merges them.
    packed = np.empty(sum(len(firsts) for firsts, _ in runs), dtype=np.int64)
    at = 0
    for firsts, seconds in runs:
        part = packed[at : at + len(firsts)]
        part[:] = firsts
        part <<= 32
        part |= seconds
        at += len(firsts)
    packed.sort(kind="stable")
    seconds = packed.astype(np.int32)  # the low half: the seconds are not negative
    packed >>= 32
    return packed, seconds


def stably_sorted(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``values`` sorted, and the position of each (int32): equal values in the
    order of their positions."""
    order = np.argsort(values, kind="stable")
    return values[order], order.astype(np.int32)


def merged_runs(runs: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """Runs of (values, items) pairs, each sorted by value (as ``stably_sorted``
    gives them), merged: sorted by value, equal values' items in the order of
    their runs. Sorting them again whole would cost several times as much."""
    if len(runs) == 1:
        return runs[0]
    values = np.concatenate([values for values, _ in runs])
    items = np.concatenate([items for _, items in runs])
    order = np.argsort(values, kind="stable")  # a merge sort: it finds the runs
    return values[order], items[order]


def grouped(groups: "array[int]", count: int) -> tuple[np.ndarray, np.ndarray]:
    """Positions of ``groups`` (each a group's number, below ``count``) grouped:
    where each group begins (its last entry, the total), and the positions, each
    group's in their order: those of group g are ``order[starts[g] : starts[g + 1]]``."""
    numbers = np.frombuffer(groups, dtype=np.int32)
    order = np.argsort(numbers, kind="stable")
    starts = np.zeros(count + 1, dtype=np.int64)
    np.cumsum(np.bincount(numbers, minlength=count), out=starts[1:])
    return starts, order


# Fewer ids than this are sorted at once: two radix passes cost more than they save.
MIN_RADIX_SORTED = 2048


def sorted_form_ids(ids: np.ndarray) -> np.ndarray:
    """Form ids (int32, not negative) sorted. numpy sorts 16-bit numbers by
    radix, in time linear in their count: sorted stably by the low half, then
    by the high half, thousands of ids (a query's trigram postings) are sorted
    in about half the time of one comparison sort of the int32s."""
    if len(ids) < MIN_RADIX_SORTED:
        return np.sort(ids)
    by_low = ids[np.argsort(ids.astype(np.uint16), kind="stable")]
    return by_low[np.argsort((by_low >> 16).astype(np.uint16), kind="stable")]


def run_starts(ordered: np.ndarray) -> np.ndarray:
    """Where each run of equal values of a sorted array begins."""
    first = np.empty(len(ordered), dtype=bool)
    first[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=first[1:])
    return np.flatnonzero(first)


def distinct(values: np.ndarray) -> np.ndarray:
    """The distinct values, sorted (``np.unique``, which is slower here)."""
    ordered = np.sort(values)
    return ordered[run_starts(ordered)] if len(ordered) else ordered


def run_lengths(starts: np.ndarray, total: int) -> np.ndarray:
    """How long each run is, from where they begin (``np.diff`` with less overhead)."""
    lengths = np.empty_like(starts)
    lengths[:-1] = starts[1:]
    lengths[-1] = total
    lengths -= starts
    return lengths


def int32s(values: np.ndarray) -> "array[int]":
    """A numpy array as an ``array`` of C ints: read one at a time, an ``array``
    gives Python ints several times faster than numpy."""
    return array("i", values.astype(np.int32).tobytes())
