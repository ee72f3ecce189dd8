"""Find the curated names and aliases in running text: dictionary spotting.

The text is brought to its spotting form (``app.matching.spot_form``), every
segment's Aho-Corasick automaton reports its leftmost-longest, non-overlapping
keys there that begin a word (pyahocorasick ``iter_long``; see
``spotting_keys.spotting_automaton``), and a key counts as a mention when it ends a
word too and its case fits the alias (``casing``): a form written in lower
case only where the writer capitalised it, not by starting a sentence with
it. Offsets are code points of the text as sent.

``plain_segment_hits`` reads that definition plainly; ``_segment_hits``, which
serves, finds the same hits (``tests/matching/test_segment_hits.py``).
"""

from bisect import bisect_right
from dataclasses import dataclass
from typing import NamedTuple

from app.matching.casing import Written
from app.matching.index import AliasIndex, Segment
from app.matching.spot_form import OffsetMap, spot_form
from app.matching.spotting_keys import (
    LOWER_CASE_KEY,
    OTHER_CASE_KEY,
    WORD_START,
    FormIds,
    SpottingKeys,
    form_ids,
)

# What may stand between a sentence's end and its first word: spaces, quote
# marks, brackets, bullets. Looked at no further back than this.
_BEFORE_FIRST_WORD = frozenset(" \t\r\xa0\u2002\u2003\u2009\"'“”‘’«»‹›()[]•·▪*")
_SENTENCE_ENDS = frozenset(".!?:\n")
MAX_LOOK_BACK = 32


class Span(NamedTuple):
    """A stretch of the text: ``text[start:end]``."""

    start: int
    end: int


class Hit(NamedTuple):
    """Curated forms found at ``text[start:end]``, as written there: one form
    id, or a tuple of them (``spotting_keys.FormIds``).

    Spans, hits and mentions are named tuples, not dataclasses: a text has
    thousands, and tuples are made several times faster.
    """

    start: int
    end: int
    text: str
    segment: Segment
    forms: FormIds


@dataclass(frozen=True, slots=True)
class SpottedText:
    """A text with its spotting form, for the steps after dictionary spotting."""

    text: str
    spot: str
    offsets: OffsetMap
    padded: str  # WORD_START + spot: what the automata search


def prepare(text: str) -> SpottedText:
    spot, offsets = spot_form(text)
    return SpottedText(text, spot, offsets, WORD_START + spot)


def dictionary_hits(index: AliasIndex, text: SpottedText) -> list[Hit]:
    """Whole-word, case-fitting curated forms in ``text``, leftmost-longest, not overlapping."""
    hits: list[Hit] = []
    segments = list(index.spotting_segments())
    for segment, hidden in segments:
        if segment.form_count:
            hits.extend(_segment_hits(segment, hidden, text))
    # Segments are spotted apart: only hits of two may overlap.
    return _without_overlaps(hits) if len(segments) > 1 else hits


def plain_segment_hits(segment: Segment, hidden: frozenset[str], text: SpottedText) -> list[Hit]:
    """The hits of ``segment`` in ``text``, read plainly from their definition.

    Each key the automaton reports counts where it ends a word too. Its span
    in the spot form is mapped back to the text; of its forms, those count
    whose case rule the text, as written there, fits (``_may_be_mention``)
    and whose entity is not ``hidden``.
    """
    spotting, spot = segment.spotting, text.spot
    found = []
    for last_letter, number in spotting.automaton.iter_long(text.padded):
        # The padded text has one character more in front: the key ends before
        # spot[last_letter].
        key_end = last_letter
        key_start = key_end - spotting.key_lengths[number]
        if key_end < len(spot) and spot[key_end] != " ":
            continue
        start, end = text.offsets(key_start), text.offsets(key_end - 1) + 1
        forms = tuple(
            f
            for f in form_ids(spotting.forms(number))
            if _may_be_mention(spotting, f, text.text, start, end)
            and segment.entity_id(f) not in hidden
        )
        if forms:
            found.append(Hit(start, end, text.text[start:end], segment, forms))
    return found


def _may_be_mention(spotting: SpottingKeys, form_id: int, text: str, start: int, end: int) -> bool:
    """Whether ``text[start:end]`` may be a mention of the form, by its case:
    it fits the form's case rule, and a form written in lower case is not at
    the start of a sentence, whose capital may be only the sentence's."""
    if not spotting.fits(form_id, Written(text[start:end])):
        return False
    return not (spotting.written_in_lower_case(form_id) and sentence_initial(text, start))


def _segment_hits(segment: Segment, hidden: frozenset[str], text: SpottedText) -> list[Hit]:
    """What ``plain_segment_hits`` finds, run for every key the automaton
    reports: the offset map, and the case test of keys whose forms are all
    capitalised names, are written out in the loop."""
    padded, original = text.padded, text.text
    cuts, shifts = text.offsets.cuts, text.offsets.shifts
    cut_count = len(cuts)
    spotting = segment.spotting
    key_lengths, key_flags = spotting.key_lengths, spotting.key_flags
    last = len(padded) - 1
    found = []
    for end, key in spotting.automaton.iter_long(padded):
        # padded[end - length : end + 1] is " " + the key, so the key is
        # spot[end - length : end]; it began a word, it must end one too.
        if end < last and padded[end + 1] != " ":
            continue
        start = end - key_lengths[key]
        cut = bisect_right(cuts, start)
        if cut < cut_count and cuts[cut] < end:  # spaces were removed inside the key
            end += shifts[bisect_right(cuts, end - 1)]
        else:
            end += shifts[cut]
        start += shifts[cut]
        written = original[start:end]
        forms: FormIds
        flags = key_flags[key]
        if flags & OTHER_CASE_KEY:
            forms = spotting.forms_written(key, written)
            if forms and flags & LOWER_CASE_KEY and sentence_initial(original, start):
                forms = _capitalised_by_their_writer(spotting, forms)
            if not forms:
                continue
        elif written.islower():  # not casing.is_capitalised(written): most rejected words
            continue
        else:
            forms = spotting.forms(key)
        if hidden:
            forms = segment.without_entities(forms, hidden)
            if not forms:
                continue
        found.append(_new_tuple(Hit, (start, end, written, segment, forms)))
    return found


def _capitalised_by_their_writer(spotting: SpottingKeys, forms: FormIds) -> tuple[int, ...]:
    """The forms but those written in lower case, for a word that begins a sentence,
    whose capital may be only the sentence's: "As" is not a gazetteer's "as"."""
    return tuple(f for f in form_ids(forms) if not spotting.written_in_lower_case(f))


def sentence_initial(text: str, start: int) -> bool:
    """Whether ``text[start:]`` begins a sentence, a line or the text."""
    index = start - 1
    stop = max(start - MAX_LOOK_BACK, 0)
    while index >= stop and text[index] in _BEFORE_FIRST_WORD:
        index -= 1
    return index < stop or text[index] in _SENTENCE_ENDS


_new_tuple = tuple.__new__  # Hit(...) without the Python frame of its __new__


def _without_overlaps(hits: list[Hit]) -> list[Hit]:
    # Where hits of two segments overlap, the longer wins.
    hits.sort(key=lambda h: (h.start, h.start - h.end))
    kept: list[Hit] = []
    for hit in hits:
        if kept and hit.start < kept[-1].end:
            if hit.end - hit.start <= kept[-1].end - kept[-1].start:
                continue
            kept.pop()
        kept.append(hit)
    return kept
