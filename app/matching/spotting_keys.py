"""A segment's spotting keys: what finds its forms in running text.

Each form has a spotting key (``spot_form.spot_key``) and a case rule
(``casing``). The distinct keys are numbered in the order first met; an
Aho-Corasick automaton over them gives each key's number when it is found in
a text, and the number gives the key's length, its flags and its forms. The
case rules say which of those forms the text, as written, may be a mention
of (``app.matching.spotting`` runs the pass).
"""

from array import array
from collections import deque
from dataclasses import dataclass
from functools import cached_property
from itertools import islice
from typing import Protocol

import ahocorasick
import numpy as np

from app.matching.arrays import grouped, int32s
from app.matching.caches import WRITINGS_CACHE_BYTES, MemoryCache, segment_cache
from app.matching.casing import CaseRule, Written, is_capitalised, letters
from app.matching.derived_forms import DerivedForms, unpacked

# A spotting key's flags: some form of it has a case rule other than
# CAPITALISED; some form of it is written in lower case (a gazetteer's "as").
OTHER_CASE_KEY = 1
LOWER_CASE_KEY = 2
_RULES = tuple(CaseRule)  # by value
LOWER_CASE_RULE = int(CaseRule.LOWER_CASE)
WORD_START = " "

# One form id, or a tuple of them: most spotting keys have one form.
FormIds = int | tuple[int, ...]


def form_ids(found: FormIds | None) -> tuple[int, ...]:
    """``found`` as a tuple of form ids, however many it holds."""
    if found is None:
        return ()
    return (found,) if isinstance(found, int) else found


def spotting_automaton(keys: list[str]) -> ahocorasick.Automaton:
    """An Aho-Corasick automaton over spotting keys, each behind a space, whose
    value is the key's number: its place in ``keys``.

    Texts are searched with a space in front too (``SpottedText.padded``), so
    a match can only begin where a word does: no match inside a word is
    reported, nor can one hide a real mention starting later (the "e l" of
    "the lahore" hiding "lahore"). Only its leading space belongs to a key,
    so neighbouring words still match one after the other.
    """
    automaton = _empty_automaton()
    _add_keys(automaton, keys, 0)
    if len(automaton):
        automaton.make_automaton()
    return automaton


def pack_keys(keys: list[str]) -> tuple[bytes, "array[int]"]:
    """Keys one after another (UTF-8), and their lengths in characters: as
    ``SpottingKeys`` keeps them, and as a build sends them ahead."""
    return "".join(keys).encode(), array("i", map(len, keys))


def _empty_automaton() -> ahocorasick.Automaton:
    return ahocorasick.Automaton(ahocorasick.STORE_INTS, ahocorasick.KEY_STRING)


def _add_keys(automaton: ahocorasick.Automaton, keys: list[str], first: int) -> None:
    """Add ``keys``, numbered from ``first``, in sorted order: keys that share
    a beginning are then added one after another, their trie's nodes lie near
    each other in memory, and the automaton is made faster (0.86 against
    1.14 s for a million keys added in sixteen batches)."""
    order = sorted(range(len(keys)), key=keys.__getitem__)
    words = [WORD_START + keys[i] for i in order]
    deque(map(automaton.add_word, words, [first + i for i in order]), maxlen=0)


# What a pickled ``SpottingKeys`` leaves out.
_NOT_PICKLED = frozenset({"_written_as", "automaton"})


class KeysListener(Protocol):
    """What a build for another process tells of its spotting keys as it
    numbers them (``Segment``), so that the other can make their automaton
    meanwhile (``AutomatonMaker``)."""

    def numbered(self, keys: list[str]) -> None:
        """The keys numbered since the last call, in number order."""

    def all_numbered(self) -> None:
        """Every key of the build has been told."""


@dataclass(frozen=True)
class KeysAutomaton:
    """An automaton made of spotting keys sent ahead of their segment: a
    process that reads back a segment built by another can make it while the
    other builds (``app.child_build``)."""

    key_text: bytes  # the keys one after another, UTF-8
    key_lengths: bytes  # array("i") of their lengths, in characters
    automaton: ahocorasick.Automaton


class AutomatonMaker:
    """Makes the automaton of keys told in batches, as they are numbered: each
    batch added as it comes, the automaton made once all have come."""

    def __init__(self) -> None:
        self._automaton = _empty_automaton()
        self._texts: list[bytes] = []
        self._lengths: list[bytes] = []
        self._count = 0

    def add(self, key_text: bytes, key_lengths: bytes) -> None:
        """The next keys: one after another (UTF-8), and their lengths (``array("i")``)."""
        lengths = np.frombuffer(key_lengths, dtype=np.int32).tolist()
        _add_keys(self._automaton, unpacked(key_text, lengths), self._count)
        self._count += len(lengths)
        self._texts.append(key_text)
        self._lengths.append(key_lengths)

    def made(self) -> KeysAutomaton:
        """The automaton of all the keys added."""
        if len(self._automaton):
            self._automaton.make_automaton()
        return KeysAutomaton(b"".join(self._texts), b"".join(self._lengths), self._automaton)


class SpottingKeys:
    """The spotting keys of a segment's forms, numbered, with the forms of each
    key and each form's case rule.

    Filled form by form (``add_form``, or ``add_derived`` for forms derived by
    a worker), then completed by ``finish``. The automaton is made by
    ``make_automaton``, or else when first searched. It is not pickled: a
    million keys are pickled in a fraction of the time their automaton is, so
    a build kept in a file for another process (``app.child_build``) never
    makes it, and the process that reads the keys back makes it.
    """

    def __init__(self) -> None:
        # Spotting keys, by number (the automaton's value): the keys one after
        # another (UTF-8), each key's length, its flags (OTHER_CASE_KEY,
        # LOWER_CASE_KEY) and its forms,
        # key_form_ids[key_form_starts[k] : key_form_starts[k + 1]].
        self.key_text = b""
        self.key_lengths = array("i")
        self.key_flags = bytearray()
        self.key_form_starts = array("i", [0])
        self.key_form_ids = array("i")
        self.case_rules = array("b")  # each form's CaseRule
        # The forms that a writing of a key of other case may be a mention of.
        self._written_as: MemoryCache[tuple[int, str], tuple[int, ...]] = segment_cache(
            WRITINGS_CACHE_BYTES
        )
        self.alias_letters: dict[int, str] = {}  # of the forms whose case must be exact
        # While building: each key's number, in the order first met, and each form's key's.
        self._numbers: dict[str, int] = {}
        self._form_keys = array("i")

    def add_form(self, form_id: int, text: str, rule: CaseRule, key: str) -> None:
        """Files the form ``form_id`` (the next one), written ``text``, with its rule and key."""
        self.case_rules.append(rule)
        numbers = self._numbers
        self._form_keys.append(numbers.setdefault(key, len(numbers)))
        if rule is CaseRule.EXACT:
            self.alias_letters[form_id] = letters(text)

    def add_derived(self, derived: DerivedForms, first_form: int) -> list[str]:
        """Files forms derived in a worker (the first is ``first_form``) as
        ``add_form`` does; gives the keys it numbered, in number order."""
        self.case_rules.frombytes(derived.case_rules)
        known = self._numbers
        before = len(known)
        keys = derived.spot_keys.unpacked()
        numbers = np.array([known.setdefault(key, len(known)) for key in keys], np.int32)
        self._form_keys.frombytes(numbers[derived.form_spot_keys].tobytes())
        positions = (derived.exact_forms + first_form).tolist()
        self.alias_letters.update(zip(positions, derived.exact_letters.unpacked(), strict=True))
        # A run's keys are given once each: those it numbered, in the order it met them.
        return [keys[i] for i in np.flatnonzero(numbers >= before).tolist()]

    def numbered_since(self, first: int) -> list[str]:
        """The keys numbered from ``first`` on, in number order (before ``finish``)."""
        return list(islice(self._numbers, first, None))

    def finish(self) -> None:
        """The keys in number order, and each key's forms and flags filed."""
        # A dict keeps the order its keys came in.
        self.key_text, self.key_lengths = pack_keys(list(self._numbers))
        del self._numbers
        # A form's position is its id.
        keys = np.frombuffer(self._form_keys, dtype=np.int32)
        starts, forms = grouped(self._form_keys, len(self.key_lengths))
        self.key_form_starts, self.key_form_ids = int32s(starts), int32s(forms)
        rules = np.frombuffer(self.case_rules, dtype=np.int8)
        flags = np.zeros(len(self.key_lengths), dtype=np.uint8)
        # A key met again is set again to the same flags: ``np.bitwise_or.at``
        # would take six times as long.
        flags[keys[rules != int(CaseRule.CAPITALISED)]] |= OTHER_CASE_KEY
        flags[keys[rules == LOWER_CASE_RULE]] |= LOWER_CASE_KEY
        self.key_flags = bytearray(flags.tobytes())
        del self._form_keys

    @cached_property
    def automaton(self) -> ahocorasick.Automaton:
        """The automaton over the keys (``spotting_automaton``)."""
        return spotting_automaton(self.keys_by_number())

    def make_automaton(self, made: KeysAutomaton | None = None) -> None:
        """Make the automaton now, or take ``made`` if it was made of these very keys."""
        if made is not None and (made.key_text, made.key_lengths) == self.packed_keys():
            vars(self)["automaton"] = made.automaton
        else:
            vars(self)["automaton"] = spotting_automaton(self.keys_by_number())

    def packed_keys(self) -> tuple[bytes, bytes]:
        """The keys one after another (UTF-8), and their lengths as ``array("i")`` bytes."""
        return self.key_text, self.key_lengths.tobytes()

    # Pickled without what it learns while it serves (the writings it
    # remembers), and without its automaton.
    def __getstate__(self) -> dict[str, object]:
        return {k: v for k, v in self.__dict__.items() if k not in _NOT_PICKLED}

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)
        self._written_as = segment_cache(WRITINGS_CACHE_BYTES)

    def number(self, key: str) -> int:
        """The number of a spotting key; -1 for a key no form has."""
        number: int = self.automaton.get(WORD_START + key, -1)
        return number

    def keys_by_number(self) -> list[str]:
        """The spotting keys, by number."""
        return unpacked(self.key_text, self.key_lengths.tolist())

    def forms(self, number: int) -> FormIds:
        """The forms of the spotting key numbered ``number``: one id, or a tuple of them."""
        start, end = self.key_form_starts[number], self.key_form_starts[number + 1]
        if end - start == 1:
            return self.key_form_ids[start]
        return tuple(self.key_form_ids[start:end])

    def forms_written(self, number: int, written: str) -> FormIds:
        """The forms of the spotting key numbered ``number`` that ``written``,
        found in text, may be a mention of (``fits``)."""
        if not self.key_flags[number] & OTHER_CASE_KEY:
            return self.forms(number) if is_capitalised(written) else ()
        # Acronyms mostly, met again and again as written ("US", "TTP"): kept.
        return self._written_as.remembered((number, written), self._forms_fitting)

    def _forms_fitting(self, key: tuple[int, str]) -> tuple[int, ...]:
        number, written = key
        text = Written(written)
        return tuple(f for f in form_ids(self.forms(number)) if self.fits(f, text))

    def fits(self, form_id: int, written: Written) -> bool:
        """Whether ``written`` may be a mention of the form by the form's case rule."""
        return written.allows(_RULES[self.case_rules[form_id]], self.alias_letters.get(form_id, ""))

    def written_in_lower_case(self, form_id: int) -> bool:
        """Whether the form is written without capitals (``CaseRule.LOWER_CASE``)."""
        return self.case_rules[form_id] == LOWER_CASE_RULE
