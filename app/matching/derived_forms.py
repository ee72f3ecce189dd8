"""What an index build derives from each surface form, and the build's worker processes.

Most of a segment's build is work on one form at a time that needs nothing
of the others: its normal form, its keys in every layer and their digests,
its Latin spelling and transliterated words, its case rule and spotting key.
``entity_forms`` does that work for the serial build (``Segment``) and for
the worker processes alike, so the two derive the same.

A large table's forms are derived on every usable core: worker processes,
forked so that they share the parent's records, each take a contiguous run of
the entities and give back what its forms derive as a ``DerivedForms`` of
arrays and byte strings (a handful of objects to send back, not millions).
The parent files them in form order as the serial build does: what numbers
forms, words and spotting keys by their first appearance stays with it, so
the segment is the same whichever way it was built.
"""

import gc
import multiprocessing
import os
from array import array
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from itertools import accumulate, pairwise, repeat
from typing import Literal

import numpy as np
from xxhash import xxh3_64_intdigest

from app.matching.arrays import sorted_pairs, stably_sorted
from app.matching.casing import CaseRule, case_rule, letters
from app.matching.keys import (
    FormKeyMaker,
    FormKeys,
    block_digests,
    phonetic_code,
    phonetic_word,
)
from app.matching.normalize import APOSTROPHES, normalize
from app.matching.records import EntityRecord
from app.matching.spot_form import spot_key
from app.matching.worker_pools import stop_signals_held

Layer = Literal["exact", "compact", "transliteration", "phonetic"]
LAYERS: tuple[Layer, ...] = ("exact", "compact", "transliteration", "phonetic")

# Fewer forms than this are built on one core: forking costs more than it saves.
PARALLEL_FROM_FORMS = 50_000
# Runs of entities per worker: the parent files the first runs while the
# workers derive the later ones, and a slow worker holds up less.
RUNS_PER_WORKER = 8
# A run takes seconds (about 80,000 forms at a million aliases on 2 cores): a
# worker that has not given its run back after this many is stuck (a lock held
# by another thread when the server forked it, say), and the build goes on
# without the workers.
RUN_TIME_LIMIT = 120.0

# Trigrams are filed by the length of their spelling too, in bands of this
# many letters (see ``index.Segment.spelt_near``).
LENGTH_BAND = 3
# A trigram's code: its three ASCII characters in the low 24 bits, its band above.
BAND_SHIFT = 24
# Where a spelling starts and ends, in its trigrams (see ``keys.trigrams``).
_START, _END, _SPACE = ord("^"), ord("$"), ord(" ")


# Where cgroup v2 states this process's CPU quota ("max 100000", or "200000 100000": 2 CPUs).
CPU_QUOTA_FILE = "/sys/fs/cgroup/cpu.max"


def usable_cores() -> int:
    """The cores this process may run on (all of them where the system cannot say),
    no more than its CPU quota (a container's ``--cpus``) allows, rounded up."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, min(cores or 1, _cpu_quota() or cores or 1))


def _cpu_quota() -> int | None:
    try:
        with open(CPU_QUOTA_FILE) as quota:
            limit, period = quota.read().split()[:2]
    except (OSError, ValueError):
        return None
    if limit == "max":
        return None
    return -(-int(limit) // int(period))


def can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


def spotting_key(text: str, normal: str) -> str:
    """The key under which running text finds the form ``text`` (of normal form ``normal``)."""
    # It differs from the normal form only where an apostrophe or a lone "s"
    # is: most aliases have neither.
    if APOSTROPHES.isdisjoint(text) and " s " not in f" {normal} ":
        return normal
    return spot_key(text)


def entity_forms(
    entity: EntityRecord, key_maker: FormKeyMaker
) -> Iterator[tuple[int, str, FormKeys, CaseRule, str]]:
    """The surface forms of ``entity`` that a segment keeps, each with its place
    among them, its text, keys, case rule and spotting key. A form whose normal
    form is empty, or the same as an earlier form's of the entity, is not kept."""
    seen: set[str] = set()
    explicit = dict(entity.case_rules) if entity.case_rules else {}
    for place, text in enumerate(entity.surface_forms()):
        normal = normalize(text)
        if not normal or normal in seen:
            continue
        seen.add(normal)
        rule = case_rule(text, explicit.get(text))
        yield place, text, key_maker.keys(normal), rule, spotting_key(text, normal)


def word_block_digests(word: str) -> list[int]:
    """The digests of the phonetic blocks a word is filed under: its code and
    the codes one letter shorter."""
    return block_digests(phonetic_word(word))


def trigram_codes(blob: bytes | bytearray, starts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every trigram of each spelling of ``blob`` (the form's are
    ``blob[starts[f]:starts[f + 1]]``) as ``keys.trigrams`` makes them, with the
    spelling's length band: (codes, form ids), in form order."""
    forms = len(starts) - 1
    chars = np.frombuffer(blob, dtype=np.uint8)
    owners = np.repeat(np.arange(forms, dtype=np.int64), np.diff(starts))
    letter = chars != _SPACE  # the words run together
    chars, owners = chars[letter], owners[letter]
    counts = np.bincount(owners, minlength=forms)
    # Each spelling as "^" + its letters + "$": a form's letters move right by
    # its start marker and by the two markers of every form before it.
    padded_starts = np.arange(forms, dtype=np.int64) * 2
    padded_starts[1:] += np.cumsum(counts)[:-1]
    padded = np.empty(len(chars) + 2 * forms, dtype=np.int64)
    padded[padded_starts] = _START
    padded[padded_starts + counts + 1] = _END
    at = np.arange(len(chars), dtype=np.int64) + 2 * owners + 1
    padded[at] = chars
    # A spelling of n letters has n trigrams, beginning one before each letter.
    at -= 1
    bands = (counts // LENGTH_BAND)[owners]
    codes = bands << BAND_SHIFT | padded[at] << 16 | padded[at + 1] << 8 | padded[at + 2]
    return codes, owners.astype(np.int32)


def sorted_trigrams(blob: bytes | bytearray, starts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The trigrams of ``trigram_codes``, sorted by code, each code's forms in
    form order, a trigram repeated in a form once: (codes, form ids)."""
    # Each code's forms in form order, a form's repeats of a trigram side by
    # side, so that it is filed once.
    codes, forms = sorted_pairs(*trigram_codes(blob, starts))
    first = np.ones(len(codes), dtype=bool)
    first[1:] = (codes[1:] != codes[:-1]) | (forms[1:] != forms[:-1])
    return codes[first], forms[first]


@dataclass(frozen=True, slots=True)
class PackedStrings:
    """Strings in one byte string: sent between processes as two objects, not one each."""

    text: bytes  # UTF-8, the strings one after another
    lengths: np.ndarray  # of each, in characters

    @classmethod
    def of(cls, strings: Sequence[str]) -> "PackedStrings":
        return cls("".join(strings).encode(), np.fromiter(map(len, strings), dtype=np.int64))

    def unpacked(self) -> list[str]:
        return unpacked(self.text, self.lengths.tolist())


def unpacked(text: bytes, lengths: list[int]) -> list[str]:
    """The strings of ``text`` (UTF-8, one after another), of these lengths in characters."""
    joined = text.decode()
    ends = accumulate(lengths)
    return [joined[end - length : end] for end, length in zip(ends, lengths, strict=True)]


@dataclass(frozen=True, slots=True)
class DerivedForms:
    """What the kept forms of a run of entities derive, in form order.

    Words and spotting keys are given once each, in the order first met, and
    numbered by that order within the run.
    """

    entity_numbers: np.ndarray  # int32: each form's entity, a number into the whole table
    places: np.ndarray  # int32: its place among the entity's surface forms
    # Each layer's key digests (uint64), sorted, and their forms (int32, by
    # position here): a key's forms in form order (``arrays.stably_sorted``).
    key_digests: dict[Layer, tuple[np.ndarray, np.ndarray]]
    case_rules: bytes  # its CaseRule
    spot_keys: PackedStrings
    form_spot_keys: np.ndarray  # int32: each form's spotting key, a number into spot_keys
    latin: bytes  # the forms' Latin spellings, one after another
    latin_lengths: np.ndarray  # int64
    words: PackedStrings  # transliterated words
    # Each word's ``word_block_digests`` (uint64), sorted, and their words
    # (int32, numbers into words): a block's words in word order.
    block_digests: np.ndarray
    block_words: np.ndarray
    form_words: np.ndarray  # int32: each form's words, numbers into words, one after another
    form_word_counts: np.ndarray  # int64
    trigram_codes: np.ndarray  # the spellings' ``sorted_trigrams``
    trigram_forms: np.ndarray  # int32: their forms, by position here
    exact_forms: np.ndarray  # int32: the forms (their position here) whose case must be exact
    exact_letters: PackedStrings  # and their letters

    @property
    def form_count(self) -> int:
        return len(self.entity_numbers)


def derive_forms(
    records: Sequence[EntityRecord], start: int, end: int, key_maker: FormKeyMaker | None = None
) -> DerivedForms:
    """What the forms of ``records[start:end]`` derive (their keys made by ``key_maker``)."""
    key_maker = key_maker or FormKeyMaker()
    entity_numbers, places, rules = array("i"), array("i"), bytearray()
    digests = {layer: array("Q") for layer in LAYERS}
    exact, compact, transliteration, phonetic = (digests[layer].append for layer in LAYERS)
    spot_keys: dict[str, int] = {}
    form_spot_keys = array("i")
    spellings: list[str] = []
    words: dict[str, int] = {}
    form_words, form_word_counts = array("i"), array("q")
    exact_forms, exact_letters = array("i"), []
    # The hot loop of a build: a million forms pass here, so methods are local.
    add_place, add_rule, add_spot_key = places.append, rules.append, form_spot_keys.append
    add_spelling, add_word = spellings.append, form_words.append
    add_word_count = form_word_counts.append
    for number in range(start, end):
        kept = len(places)
        for place, text, keys, rule, spot in entity_forms(records[number], key_maker):
            if rule is CaseRule.EXACT:
                exact_forms.append(len(places))
                exact_letters.append(letters(text))
            add_place(place)
            add_rule(rule)
            exact_key, compact_key = keys.exact, keys.compact
            # Each key's ``digest``, without a call of Python's each.
            exact_digest = xxh3_64_intdigest(exact_key.encode())
            exact(exact_digest)
            # One word: the compact key is the normal form itself.
            if compact_key is not exact_key:
                compact(xxh3_64_intdigest(compact_key.encode()))
            else:
                compact(exact_digest)
            transliteration(xxh3_64_intdigest(keys.transliteration.encode()))
            phonetic(xxh3_64_intdigest(keys.phonetic.encode()))
            add_spot_key(spot_keys.setdefault(spot, len(spot_keys)))
            add_spelling(keys.latin)
            its_words = keys.words
            if len(its_words) == 1:
                add_word(words.setdefault(its_words[0], len(words)))
            else:
                form_words.extend([words.setdefault(word, len(words)) for word in its_words])
            add_word_count(len(its_words))
        entity_numbers.extend(repeat(number, len(places) - kept))
    # A run's words are mostly new to its worker: their codes are worked out,
    # not first looked for among those remembered (``word_block_digests``).
    blocks = [block_digests(phonetic_code(word)) for word in words]
    latin = "".join(spellings).encode("ascii")
    latin_lengths = np.fromiter(map(len, spellings), dtype=np.int64, count=len(spellings))
    latin_starts = np.zeros(len(latin_lengths) + 1, dtype=np.int64)
    np.cumsum(latin_lengths, out=latin_starts[1:])
    trigram_codes, trigram_forms = sorted_trigrams(latin, latin_starts)
    block_counts = np.fromiter(map(len, blocks), dtype=np.int64, count=len(blocks))
    unsorted_blocks = np.array([d for block in blocks for d in block], dtype=np.uint64)
    sorted_blocks, filed_at = stably_sorted(unsorted_blocks)
    block_words = np.repeat(np.arange(len(blocks), dtype=np.int32), block_counts)[filed_at]
    return DerivedForms(
        entity_numbers=np.frombuffer(entity_numbers, dtype=np.int32),
        places=np.frombuffer(places, dtype=np.int32),
        # Sorted here, each run's keys and blocks are merged whole at the end
        # of the build, not sorted there while the workers stand idle.
        key_digests={
            layer: stably_sorted(np.frombuffer(found, dtype=np.uint64))
            for layer, found in digests.items()
        },
        case_rules=bytes(rules),
        spot_keys=PackedStrings.of(list(spot_keys)),
        form_spot_keys=np.frombuffer(form_spot_keys, dtype=np.int32),
        latin=latin,
        latin_lengths=latin_lengths,
        words=PackedStrings.of(list(words)),
        block_digests=sorted_blocks,
        block_words=block_words,
        form_words=np.frombuffer(form_words, dtype=np.int32),
        form_word_counts=np.frombuffer(form_word_counts, dtype=np.int64),
        trigram_codes=trigram_codes,
        trigram_forms=trigram_forms,
        exact_forms=np.frombuffer(exact_forms, dtype=np.int32),
        exact_letters=PackedStrings.of(exact_letters),
    )


class WorkerFailed(Exception):
    """A worker process of a build died or raised: the build is done again on one core."""


# In a worker: the records it was forked with, and its key maker, which
# remembers words from one run to the next.
_shared: Sequence[EntityRecord] = ()
_key_maker: FormKeyMaker | None = None


def _start_worker(records: Sequence[EntityRecord]) -> None:
    """Run first in each worker. Given as the worker's argument, which a fork
    does not copy, the records are the ones of the build that forked it,
    whichever other builds other threads start meanwhile."""
    global _shared, _key_maker
    _shared, _key_maker = records, FormKeyMaker()
    gc.freeze()  # the inherited records stay out of its collections (and their pages)


def _derive_shared(start: int, end: int) -> DerivedForms:
    return derive_forms(_shared, start, end, _key_maker)


def run_bounds(records: Sequence[EntityRecord], runs: int) -> list[int]:
    """Where each of about ``runs`` runs of ``records`` begins, and the end: runs
    of about as many surface forms each (a table's first entities may have
    many more aliases than its last)."""
    forms = np.cumsum(np.fromiter((len(e.aliases) + 1 for e in records), dtype=np.int64))
    total = int(forms[-1]) if len(forms) else 0
    wanted = np.arange(1, runs, dtype=np.int64) * total // runs
    starts = np.searchsorted(forms, wanted, side="right")
    return sorted({0, *starts.tolist(), len(records)})


def derived_in_workers(records: Sequence[EntityRecord], workers: int) -> "WorkerRuns":
    """What the forms of ``records`` derive, run after run in order, derived by
    ``workers`` processes forked now, at the call: the caller may do other
    work while they derive the first runs. Raises ``WorkerFailed`` if the
    system refuses to fork them, and as the runs are taken, if one fails."""
    bounds = run_bounds(records, workers * RUNS_PER_WORKER)
    pool = ProcessPoolExecutor(
        workers,
        mp_context=multiprocessing.get_context("fork"),
        initializer=_start_worker,
        initargs=(records,),
    )
    runs = WorkerRuns(pool)
    try:  # the workers are forked here: the system may refuse (memory, a process limit)
        with stop_signals_held():
            runs.pending.extend(pool.submit(_derive_shared, s, e) for s, e in pairwise(bounds))
    except OSError as error:
        runs.stop()
        raise WorkerFailed(f"{type(error).__name__}: {error}") from error
    except BaseException:  # a stop signal, held until they were all forked
        runs.stop()
        raise
    return runs


@dataclass
class WorkerRuns:
    """Runs that forked workers derive: taken in order, or stopped unread."""

    pool: ProcessPoolExecutor
    pending: "deque[Future[DerivedForms]]" = field(default_factory=deque)

    def __iter__(self) -> Iterator[DerivedForms]:
        """The runs as they come back, in order; the workers stopped after them
        (or as soon as one fails, or the caller stops taking them)."""
        finished = False
        try:
            while self.pending:
                # Taken off the queue, a run's arrays are freed once filed.
                future = self.pending.popleft()
                try:
                    derived = future.result(timeout=RUN_TIME_LIMIT)
                except FutureTimeout as error:
                    raise WorkerFailed(f"no run back in {RUN_TIME_LIMIT:g} s") from error
                except Exception as error:  # a worker's own error, or BrokenProcessPool
                    raise WorkerFailed(f"{type(error).__name__}: {error}") from error
                del future
                yield derived
                del derived
            finished = True
        finally:
            with stop_signals_held():
                if finished:
                    self.pool.shutdown(wait=True)
                else:
                    self.stop()

    def stop(self) -> None:
        """Kill the workers: a stuck worker never ends by itself, and the
        executor offers no way to stop its processes but to kill them."""
        for process in list((self.pool._processes or {}).values()):
            process.kill()
        self.pool.shutdown(wait=False, cancel_futures=True)
