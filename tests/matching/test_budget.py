"""A deadline stops the engine's long work soon after it passes, or as soon as it is abandoned."""

import random
import string
import threading
import time

import pytest

from app.matching.annotate import annotate
from app.matching.budget import Abandoned, Deadline, OutOfTime
from app.matching.index import AliasIndex
from app.matching.resolve import DEFAULT_THRESHOLDS
from app.reconciliation import ReconciliationQuery, reconcile
from tests.evaluation import shipped_index

# What "soon" is: the engine checks between runs of a text, each a few milliseconds.
SOON = 0.5


def made_up_names(length: int, seed: int = 9) -> str:
    """Capitalised words no table has: every run of them goes through the matching layers."""
    rng = random.Random(seed)
    capitals = rng.choices(string.ascii_uppercase, k=length // 8 + 1)
    words = (capital + "".join(rng.choices("aeiourstnlk", k=6)) for capital in capitals)
    return " ".join(words)[:length]


def fresh_index() -> AliasIndex:
    return AliasIndex.build(list(shipped_index().entities()))  # its memos start empty


def test_a_deadline_passed_stops_annotating_soon_after() -> None:
    text, index = made_up_names(200_000), fresh_index()
    started = time.perf_counter()
    with pytest.raises(OutOfTime) as stopped:
        annotate(index, text, deadline=Deadline(0.05))
    assert time.perf_counter() - started < SOON
    assert stopped.value.seconds == 0.05


def test_abandoned_work_stops_soon_after() -> None:
    text, index = made_up_names(200_000, seed=10), fresh_index()
    deadline = Deadline()
    threading.Timer(0.05, deadline.abandon).start()
    started = time.perf_counter()
    with pytest.raises(Abandoned):
        annotate(index, text, deadline=deadline)
    assert time.perf_counter() - started < SOON


def test_a_deadline_not_reached_changes_nothing() -> None:
    index = shipped_index()
    text = "The Pakistani Taliban (TTP) met in Islamabad. " + made_up_names(2_000)
    assert annotate(index, text, deadline=Deadline(60)) == annotate(index, text)


def test_reconciling_checks_the_deadline_between_queries() -> None:
    queries = {f"q{i}": ReconciliationQuery(query=f"Tehreek {i}") for i in range(3)}
    deadline = Deadline()
    deadline.abandon()
    index = shipped_index()
    with pytest.raises(Abandoned):
        reconcile(index, queries, DEFAULT_THRESHOLDS, deadline)
    assert set(reconcile(index, queries, DEFAULT_THRESHOLDS, Deadline(60))) == set(queries)
