"""A snapshot's caches: bounded by their estimated bytes, and new with each snapshot."""

import gc
import pickle
import random
import tracemalloc
import weakref

import pytest

from app.matching import caches
from app.matching.annotate import annotation
from app.matching.caches import (
    MemoryCache,
    SnapshotCaches,
    approximate_size,
    entry_size,
    word_entry_size,
)
from app.matching.index import AliasIndex, EntityRecord
from app.matching.records import record_entry_size
from app.matching.resolve import resolve
from tests.evaluation import shipped_index

SMALL_BUDGET = 256 * 1024
SYLLABLES = ["ka", "ro", "mel", "tu", "zan", "qui", "bor", "ash", "ve", "lin", "dra", "so"]


def made_up_name(rng: random.Random) -> str:
    words = ("".join(rng.choices(SYLLABLES, k=rng.randint(2, 4))) for _ in range(rng.randint(1, 3)))
    return " ".join(word.capitalize() for word in words)


def made_up_text(rng: random.Random) -> str:
    known = ["Karachi", "Tehreek-e-Taliban Pakistan", "ISKP", "Islamabad"]
    parts = [f"{made_up_name(rng)} met {rng.choice(known)} near {made_up_name(rng)}."]
    return " ".join(parts * 2)


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> AliasIndex:
    """The shipped table after many distinct names and texts, its caches small."""
    monkeypatch.setattr(caches, "SNAPSHOT_CACHE_BYTES", SMALL_BUDGET)
    index = AliasIndex.build(list(shipped_index().entities()))  # not the shared one
    rng = random.Random(12)
    for _ in range(1500):
        resolve(index, made_up_name(rng))
    for _ in range(300):
        annotation(index, made_up_text(rng))
    return index


def test_every_cache_stays_within_its_share_of_the_budget(served: AliasIndex) -> None:
    bounded = served.caches.bounded()
    assert all(cache.currsize <= cache.maxsize for cache in bounded.values())
    assert sum(cache.maxsize for cache in bounded.values()) <= SMALL_BUDGET
    assert served.caches.estimated_bytes() <= SMALL_BUDGET


def test_the_caches_of_words_and_runs_fill_up_and_let_the_oldest_go(served: AliasIndex) -> None:
    for name in ("weights", "similar_words", "runs"):
        cache = served.caches.bounded()[name]
        assert cache.currsize > cache.maxsize / 2, name


def test_a_new_snapshot_starts_with_empty_caches(served: AliasIndex) -> None:
    assert served.caches.estimated_bytes() > 0
    added = EntityRecord("quorvel", "Quorvel Umbrata", "group")
    successors = [
        served.with_changes([added]),
        served.with_declared_types(["group", "city"]),
        pickle.loads(pickle.dumps(served)),
    ]
    for successor in successors:
        assert successor.caches is not served.caches
        assert successor.caches.estimated_bytes() == 0
        assert successor.caches.word_penalties is None


def test_a_snapshot_let_go_is_freed_with_its_caches_without_the_garbage_collector() -> None:
    index = AliasIndex.build(list(shipped_index().entities()))
    resolve(index, "Tehreek-e-Taliban Pakistan")  # its word penalties, records, answers
    annotation(index, "Daesh-Khorasan and the TTP met in Peshawar.")
    segment, answers = weakref.ref(index.base), weakref.ref(index.caches.answers)
    gc.disable()
    try:
        del index
        assert segment() is None
        assert answers() is None
    finally:
        gc.enable()


def test_a_value_larger_than_the_whole_budget_is_returned_but_not_kept() -> None:
    cache: MemoryCache[str, str] = MemoryCache(1000)
    assert cache.remembered("long", lambda _: "x" * 5000) == "x" * 5000
    assert "long" not in cache
    assert cache.remembered("short", lambda _: "y") == "y"
    assert "short" in cache


def test_a_full_cache_lets_go_of_its_oldest_entries_first() -> None:
    cache: MemoryCache[int, int] = MemoryCache(200 * entry_size(10**6, 10**6))
    for number in range(10_000):
        cache.remembered(number, lambda n: n)
    kept = list(cache)
    assert kept == list(range(kept[0], 10_000))
    assert 150 <= len(kept) <= 200
    assert cache.currsize <= cache.maxsize


def test_an_entry_deleted_while_among_the_oldest_is_passed_over() -> None:
    cache: MemoryCache[int, int] = MemoryCache(100 * entry_size(10**6, 10**6))  # 100 entries
    for number in range(100, 201):  # the 101st lets go of 100 and gathers the next oldest
        cache.remembered(number, lambda n: n)
    assert 100 not in cache
    del cache[101]  # gathered, now gone
    for number in (1_000, 1_001):  # the second lets one go: 102, 101 passed over
        cache.remembered(number, lambda n: n)
    assert [number in cache for number in (101, 102, 103, 1_000, 1_001)] == [
        False,
        False,
        True,
        True,
        True,
    ]
    assert len(cache) == 100
    cache.clear()
    assert (len(cache), cache.currsize) == (0, 0)
    assert cache.remembered(7, lambda n: n * 2) == 14


def test_the_estimate_is_not_below_the_memory_the_entries_take() -> None:
    rng = random.Random(3)
    keys = ["".join(rng.choices("abcdefghij", k=10)) for _ in range(20_000)]
    cache: MemoryCache[str, float] = MemoryCache(1 << 30)
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for key in keys:
            cache.remembered(key, lambda word: float(len(word)))
        taken = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    held = sum(approximate_size(key) for key in set(keys))  # the keys were made before
    assert taken + held <= cache.currsize <= 2 * (taken + held)


def test_a_record_is_counted_with_what_it_holds() -> None:
    record = EntityRecord("x", "A name", "city", ("An alias " * 20,))
    assert approximate_size(record) > len("An alias " * 20)


def test_a_record_is_estimated_from_its_lengths_at_no_less_than_by_its_objects() -> None:
    records = [
        *shipped_index().entities(),
        EntityRecord("بغداد", "بغداد", "city", ("Baghdad", "Bagdad", "巴格达")),
        EntityRecord("q1", "Ōsaka", "city", ("大阪市",), (("Ōsaka", True),), 2.7e6, "A city"),
    ]
    for record in records:
        generic = entry_size(record.id, record)
        assert generic <= record_entry_size(record.id, record) <= 2 * generic


@pytest.mark.parametrize("value", [0.5, True, 12.0])
def test_a_word_and_its_number_are_estimated_at_what_the_generic_estimate_says(
    value: float,
) -> None:
    for word in ("", "taliban", "بغداد" * 10):
        assert word_entry_size(word, value) >= entry_size(word, value)


def test_the_caches_are_named_fields_each_with_a_share() -> None:
    fresh = SnapshotCaches()
    assert set(fresh.bounded()) == set(caches.SHARES)
    assert all(isinstance(cache, MemoryCache) for cache in fresh.bounded().values())
