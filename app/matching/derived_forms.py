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
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from itertools import accumulate, pairwise
from typing import Literal

import numpy as np

from app.matching.casing import CaseRule, case_rule, letters
from app.matching.keys import FormKeyMaker, FormKeys, deletion_keys, digest, phonetic_word
from app.matching.normalize import APOSTROPHES, normalize, spot_key
from app.matching.records import EntityRecord

Layer = Literal["exact", "compact", "transliteration", "phonetic"]
LAYERS: tuple[Layer, ...] = ("exact", "compact", "transliteration", "phonetic")

# Fewer forms than this are built on one core: forking costs more than it saves.
PARALLEL_FROM_FORMS = 50_000
# Runs of entities per worker: the parent files the first runs while the
# workers derive the later ones, and a slow worker holds up less.
RUNS_PER_WORKER = 4


def usable_cores() -> int:
    """The cores this process may run on (all of them where the system cannot say)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


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


def word_block_digests(word: str) -> Iterator[int]:
    """The digests of the phonetic blocks a word is filed under: its code and
    the codes one letter shorter."""
    return map(digest, deletion_keys(phonetic_word(word)))


@dataclass(frozen=True, slots=True)
class PackedStrings:
    """Strings in one byte string: sent between processes as two objects, not one each."""

    text: bytes  # UTF-8, the strings one after another
    lengths: np.ndarray  # of each, in characters

    @classmethod
    def of(cls, strings: Sequence[str]) -> "PackedStrings":
        return cls("".join(strings).encode(), np.fromiter(map(len, strings), dtype=np.int64))

    def unpacked(self) -> list[str]:
        text, lengths = self.text.decode(), self.lengths.tolist()
        ends = accumulate(lengths)
        return [text[end - length : end] for end, length in zip(ends, lengths, strict=True)]


@dataclass(frozen=True, slots=True)
class DerivedForms:
    """What the kept forms of a run of entities derive, in form order.

    Words and spotting keys are given once each, in the order first met, and
    numbered by that order within the run.
    """

    entity_numbers: np.ndarray  # int32: each form's entity, a number into the whole table
    places: np.ndarray  # int32: its place among the entity's surface forms
    digests: dict[Layer, np.ndarray]  # uint64: its key's digest in each layer
    case_rules: bytes  # its CaseRule
    spot_keys: PackedStrings
    form_spot_keys: np.ndarray  # int32: each form's spotting key, a number into spot_keys
    latin: bytes  # the forms' Latin spellings, one after another
    latin_lengths: np.ndarray  # int64
    words: PackedStrings  # transliterated words
    block_digests: np.ndarray  # uint64: each word's ``word_block_digests``, one after another
    block_counts: np.ndarray  # int64: how many each word has
    form_words: np.ndarray  # int32: each form's words, numbers into words, one after another
    form_word_counts: np.ndarray  # int64
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
    layers = [(digests[layer], layer) for layer in LAYERS]
    spot_keys: dict[str, int] = {}
    form_spot_keys = array("i")
    latin, latin_lengths = bytearray(), array("q")
    words: dict[str, int] = {}
    form_words, form_word_counts = array("i"), array("q")
    exact_forms, exact_letters = array("i"), []
    for number in range(start, end):
        for place, text, keys, rule, spot in entity_forms(records[number], key_maker):
            if rule is CaseRule.EXACT:
                exact_forms.append(len(entity_numbers))
                exact_letters.append(letters(text))
            entity_numbers.append(number)
            places.append(place)
            rules.append(rule)
            for filed, layer in layers:
                filed.append(digest(getattr(keys, layer)))
            form_spot_keys.append(spot_keys.setdefault(spot, len(spot_keys)))
            latin += keys.latin.encode("ascii")
            latin_lengths.append(len(keys.latin))
            form_words.extend(words.setdefault(word, len(words)) for word in keys.words)
            form_word_counts.append(len(keys.words))
    blocks = [list(word_block_digests(word)) for word in words]
    return DerivedForms(
        entity_numbers=np.frombuffer(entity_numbers, dtype=np.int32),
        places=np.frombuffer(places, dtype=np.int32),
        digests={layer: np.frombuffer(found, dtype=np.uint64) for layer, found in digests.items()},
        case_rules=bytes(rules),
        spot_keys=PackedStrings.of(list(spot_keys)),
        form_spot_keys=np.frombuffer(form_spot_keys, dtype=np.int32),
        latin=bytes(latin),
        latin_lengths=np.frombuffer(latin_lengths, dtype=np.int64),
        words=PackedStrings.of(list(words)),
        block_digests=np.array([d for block in blocks for d in block], dtype=np.uint64),
        block_counts=np.fromiter(map(len, blocks), dtype=np.int64, count=len(blocks)),
        form_words=np.frombuffer(form_words, dtype=np.int32),
        form_word_counts=np.frombuffer(form_word_counts, dtype=np.int64),
        exact_forms=np.frombuffer(exact_forms, dtype=np.int32),
        exact_letters=PackedStrings.of(exact_letters),
    )


class WorkerFailed(Exception):
    """A worker process of a build died or raised: the build is done again on one core."""


# The records the workers inherit when they are forked.
_shared: Sequence[EntityRecord] = ()
# A worker's key maker, which remembers words from one run to the next.
_key_maker: FormKeyMaker | None = None


def _derive_shared(start: int, end: int) -> DerivedForms:
    global _key_maker
    if _key_maker is None:  # the worker's first run
        gc.freeze()  # the inherited records stay out of its collections (and their pages)
        _key_maker = FormKeyMaker()
    return derive_forms(_shared, start, end, _key_maker)


def derived_in_workers(records: Sequence[EntityRecord], workers: int) -> Iterator[DerivedForms]:
    """What the forms of ``records`` derive, run after run in order, derived by
    ``workers`` processes forked now; raises ``WorkerFailed`` if one fails."""
    global _shared
    runs = min(len(records), workers * RUNS_PER_WORKER) or 1
    bounds = [len(records) * run // runs for run in range(runs + 1)]
    _shared = records
    pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"))
    try:
        pending = [pool.submit(_derive_shared, start, end) for start, end in pairwise(bounds)]
        for future in pending:
            try:
                derived = future.result()
            except Exception as error:  # a worker's own error, or BrokenProcessPool
                raise WorkerFailed(f"{type(error).__name__}: {error}") from error
            yield derived
    finally:
        _shared = ()
        pool.shutdown(cancel_futures=True)
