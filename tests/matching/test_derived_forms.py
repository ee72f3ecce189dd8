import logging
import os
import signal
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing.process import BaseProcess as Process
from pathlib import Path
from threading import Thread

import numpy as np
import pytest

from app.matching import derived_forms
from app.matching.annotate import annotate
from app.matching.derived_forms import DerivedForms, PackedStrings, derive_forms
from app.matching.index import AliasIndex, EntityRecord, FiledKeys, Segment
from app.matching.keys import FormKeyMaker
from app.matching.resolve import resolve
from app.matching.spotting_keys import SpottingKeys
from benchmarks.annotate import shipped_entities
from tests.matching.keys_told import Told
from tests.processes import ended_within

pytestmark = pytest.mark.skipif(not derived_forms.can_fork(), reason="workers are forked")

# What the shipped table lacks: editors' case rules, apostrophes and a lone "s",
# forms without letters, other scripts, a form repeated within an entity and
# spotting keys and words shared across entities (in different runs of the workers).
MORE = [
    EntityRecord("dawn", "Dawn", "media", ("DAWN", "dawn news"), (("DAWN", True), ("Dawn", False))),
    EntityRecord("kp", "Khyber Pakhtunkhwa", "province", ("KP", "K.P.", "Khyber-Pakhtunkhwa")),
    EntityRecord("d10", "10", "district", ("District 10", "۱۰")),
    EntityRecord("march", "March", "town", ("march",)),
    EntityRecord("shabab", "Al-Shabaab", "organization", ("al-Shabab's men", "Harakat s Shabab")),
    EntityRecord("kor", "Кореновск", "city", ("Korenovsk", "کورنوفسک"), prominence=41_000.0),
    EntityRecord("pk-taliban", "Tehreek-e-Taliban Pakistan", "organization", ("TTP", "ttp")),
    EntityRecord("haiwumu", "海屋木", "place", ("hai wu mu", "Dawn")),
]
QUERIES = ["T.T.P.", "Tahreek-i-Taliban Pakistan", "Islamabd", "korenovsk", "DAWN", "Shabab"]
ARTICLE = (
    "ISLAMABAD: Pakistan and the US discussed Daesh-Khorasan, al-Shabab's men and the "
    "Tehreek-i-Taliban Pakistan (TTP) in March, DAWN said; Кореновск and 海屋木 too."
)


def records() -> list[EntityRecord]:
    return [*shipped_entities(), *MORE]


def built_by_workers(entities: list[EntityRecord]) -> Segment:
    return Segment(entities, workers=2, parallel_from=1)


def assert_same(built: Segment | SpottingKeys, serial: Segment | SpottingKeys) -> None:
    """Every array, table and automaton of the two segments (or of their
    spotting keys) is the same."""
    assert vars(built).keys() == vars(serial).keys()
    for name, expected in vars(serial).items():
        found = vars(built)[name]
        assert type(found) is type(expected), name
        if isinstance(expected, np.ndarray):
            assert found.dtype == expected.dtype and np.array_equal(found, expected), name
        elif name == "keys":
            for layer, filed in expected.items():
                assert isinstance(filed, FiledKeys)
                assert np.array_equal(found[layer].digests, filed.digests), layer
                assert np.array_equal(found[layer].form_ids, filed.form_ids), layer
        elif isinstance(expected, SpottingKeys):
            assert_same(found, expected)
        elif name == "automaton":
            assert list(found.items()) == list(expected.items())
        elif name == "entities":
            assert list(found.values()) == list(expected.values())
        else:
            assert found == expected, name


def test_a_segment_built_by_workers_is_the_one_built_serially() -> None:
    entities = records()
    serial, built = Segment(entities), built_by_workers(entities)
    assert built.form_count > len(entities) > 2 * derived_forms.RUNS_PER_WORKER
    assert_same(built, serial)


def test_a_build_by_workers_tells_its_spotting_keys_run_after_run() -> None:
    told = Told()
    built = Segment(records(), workers=2, parallel_from=1, keys_numbered=told)
    assert len(told.batches) > 2 and told.done
    assert [key for batch in told.batches for key in batch] == built.spotting.keys_by_number()


def test_a_build_tells_that_every_key_is_numbered_before_it_files_the_rest(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The other process makes the keys' automaton while this one finishes the segment.
    events: list[str] = []
    told = Told()
    monkeypatch.setattr(told, "all_numbered", lambda: events.append("all numbered"))
    finish = SpottingKeys.finish
    monkeypatch.setattr(
        SpottingKeys, "finish", lambda keys: events.append("spotting keys filed") or finish(keys)
    )
    filed = FiledKeys.of
    monkeypatch.setattr(FiledKeys, "of", lambda *a: events.append("keys filed") or filed(*a))
    Segment(records(), workers=2, parallel_from=1, keys_numbered=told)
    assert events == ["all numbered", "spotting keys filed", *["keys filed"] * 4]


def test_an_index_built_by_workers_answers_as_the_one_built_serially() -> None:
    serial = AliasIndex(base=Segment(records()))
    built = AliasIndex(base=built_by_workers(records()))
    assert [resolve(built, q) for q in QUERIES] == [resolve(serial, q) for q in QUERIES]
    assert annotate(built, ARTICLE) == annotate(serial, ARTICLE)
    assert annotate(serial, ARTICLE)


def test_a_small_table_is_built_in_this_process(monkeypatch: pytest.MonkeyPatch) -> None:
    def forked(*_: object) -> None:
        raise AssertionError("no worker for a small table")

    monkeypatch.setattr("app.matching.index.derived_in_workers", forked)
    assert Segment(MORE, workers=2).form_count == Segment(MORE).form_count


def _raises(*_: object) -> None:
    raise RuntimeError("derivation broke")


def _dies(*_: object) -> None:
    os._exit(3)


def _hangs(*_: object) -> None:
    time.sleep(3600)


_derive = derived_forms.derive_forms


def _raises_after_the_first_run(
    entities: list[EntityRecord], start: int, end: int, key_maker: FormKeyMaker | None = None
) -> DerivedForms:
    if start > 0:
        raise RuntimeError("derivation broke")
    return _derive(entities, start, end, key_maker)


@pytest.mark.parametrize(
    "failure",
    [_raises, _dies, _hangs, _raises_after_the_first_run],
    ids=["raises", "dies", "hangs", "raises after the first run"],
)
def test_a_worker_that_fails_leaves_the_build_to_this_process(
    failure: object, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    entities = records()
    monkeypatch.setattr(derived_forms, "derive_forms", failure)  # the workers inherit it
    monkeypatch.setattr(derived_forms, "RUN_TIME_LIMIT", 1.0)
    warning = built_alone_despite_workers(entities, monkeypatch, caplog)
    assert "a worker failed" in warning
    assert "building on one core" in warning


def built_alone_despite_workers(
    entities: list[EntityRecord], monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> str:
    """Build ``entities`` asking for workers, check that the segment is the one
    built serially, and give the one warning the build logged."""
    told = Told()
    with caplog.at_level(logging.WARNING, logger="app.matching.index"):
        built = Segment(entities, workers=2, parallel_from=1, keys_numbered=told)
    monkeypatch.undo()
    # The keys told before a worker failed are the first of those built after.
    assert [key for batch in told.batches for key in batch] == built.spotting.keys_by_number()
    built.spotting.make_automaton()
    assert_same(built, Segment(entities))
    [record] = [r for r in caplog.records if r.name == "app.matching.index"]
    return record.getMessage()


def test_derived_forms_are_numbered_within_their_run() -> None:
    derived = derive_forms(MORE, 6, 8)
    assert derived.entity_numbers.tolist() == [6, 6, 7, 7, 7]
    assert derived.places.tolist() == [0, 1, 0, 1, 2]  # "ttp" repeats "TTP"
    assert derived.spot_keys.unpacked()[derived.form_spot_keys[1]] == "ttp"
    words = derived.words.unpacked()
    assert words[: derived.form_word_counts[0]] == ["tihrik", "taliban", "pakistan"]
    everything = derive_forms(MORE, 0, len(MORE))  # "dawn" and "taliban", again and again
    words = everything.words.unpacked()
    assert len(set(words)) == len(words) < len(everything.form_words)
    assert everything.form_count == len(everything.latin_lengths) == len(everything.case_rules)
    assert derived.exact_letters.unpacked() == ["TTP"]
    assert derived.exact_forms.tolist() == [1]


def test_packed_strings_come_back_as_they_went() -> None:
    strings = ["", "a", "Кореновск", "海屋木", "𝔸 emoji 🙂", "", "\x00"]
    packed = PackedStrings.of(strings)
    assert packed.unpacked() == strings
    assert PackedStrings.of([]).unpacked() == []


def test_usable_cores_are_those_this_process_may_run_on(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(derived_forms, "CPU_QUOTA_FILE", str(tmp_path / "no such file"))
    assert derived_forms.usable_cores() == len(os.sched_getaffinity(0))


@pytest.mark.parametrize(("quota", "cores"), [("max 100000", 64), ("150000 100000", 2)])
def test_usable_cores_are_no_more_than_the_cpu_quota(
    quota: str, cores: int, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "cpu.max").write_text(quota + "\n")
    monkeypatch.setattr(derived_forms, "CPU_QUOTA_FILE", str(tmp_path / "cpu.max"))
    monkeypatch.setattr(os, "sched_getaffinity", lambda _: set(range(64)))
    assert derived_forms.usable_cores() == cores


def test_a_system_that_refuses_to_fork_leaves_the_build_to_this_process(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def refused() -> int:
        raise OSError(12, "Cannot allocate memory")

    entities = records()
    monkeypatch.setattr(os, "fork", refused)
    assert "Cannot allocate memory" in built_alone_despite_workers(entities, monkeypatch, caplog)


def test_builds_in_two_threads_at_once_each_derive_their_own_records() -> None:
    first, second = records(), list(reversed(records()))
    built: dict[str, Segment] = {}

    def build(name: str, entities: list[EntityRecord]) -> None:
        built[name] = built_by_workers(entities)

    threads = [Thread(target=build, args=pair) for pair in (("first", first), ("second", second))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert_same(built["first"], Segment(first))
    assert_same(built["second"], Segment(second))


def test_runs_hold_about_as_many_forms_each() -> None:
    many = [EntityRecord(str(i), "Name", "place", ("alias",) * 9) for i in range(3)]
    few = [EntityRecord(str(i), "Name", "place") for i in range(3, 33)]
    bounds = derived_forms.run_bounds([*many, *few], 4)
    assert bounds == [0, 1, 3, 18, 33]  # 10, 20, 15 and 15 of 60 forms: no entity split
    assert derived_forms.run_bounds(few, 3) == [0, 10, 20, 30]
    assert derived_forms.run_bounds(few[:2], 8) == [0, 1, 2]
    assert derived_forms.run_bounds([], 8) == [0]


def test_a_build_interrupted_while_its_workers_derive_stops_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    forked: list[Process] = []
    derive = derived_forms.derived_in_workers

    def forking(entities: list[EntityRecord], workers: int) -> derived_forms.WorkerRuns:
        runs = derive(entities, workers)
        forked.extend(runs.pool._processes.values())  # type: ignore[union-attr]
        return runs

    def interrupted(*_: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(derived_forms, "derive_forms", _hangs)  # the workers inherit it
    monkeypatch.setattr("app.matching.index.derived_in_workers", forking)
    monkeypatch.setattr("app.matching.index.EntityTable", interrupted)  # made meanwhile
    with pytest.raises(KeyboardInterrupt):
        Segment(records(), workers=2, parallel_from=1)
    assert len(forked) == 2
    for worker in forked:  # busy for an hour unless stopped
        assert worker.pid is not None and ended_within(worker.pid, 5)


def test_a_stop_signal_while_the_workers_are_forked_stops_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Ctrl-C (or the command line's SIGTERM) raised inside the pool's start left
    its workers forked but not the thread that stops them: they waited for
    work, and this process's end waited for them."""
    forked: list[int] = []
    launch = ProcessPoolExecutor._launch_processes

    def launched_then_interrupted(pool: ProcessPoolExecutor) -> None:
        launch(pool)  # type: ignore[attr-defined]
        forked.extend(pool._processes)  # type: ignore[attr-defined]
        signal.raise_signal(signal.SIGINT)

    monkeypatch.setattr(ProcessPoolExecutor, "_launch_processes", launched_then_interrupted)
    with pytest.raises(KeyboardInterrupt):
        derived_forms.derived_in_workers(records(), 2)
    assert len(forked) == 2
    assert all(ended_within(worker, 5) for worker in forked)
