"""Find the curated names and aliases in running text: dictionary spotting.

The text is brought to its spotting form (``normalize.spot_form``), every
segment's Aho-Corasick automaton reports its leftmost-longest, non-overlapping
keys there that begin a word (pyahocorasick ``iter_long``; see
``index.spotting_automaton``), and a key counts as a mention when it ends a
word too and its case fits the alias (``casing``). Offsets
are code points of the text as sent.
"""

from dataclasses import dataclass

from app.matching.casing import CaseRule, Written
from app.matching.index import WORD_START, AliasIndex, Posting, Segment
from app.matching.normalize import OffsetMap, spot_form


@dataclass(frozen=True, slots=True)
class Span:
    """A stretch of the text: ``text[start:end]``."""

    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Hit:
    """Curated forms found at one span of the text."""

    span: Span
    postings: tuple[Posting, ...]
    forms: tuple[int, tuple[int, ...]]  # the segment's identity and its form ids: a cheap key


@dataclass(frozen=True, slots=True)
class SpottedText:
    """A text with its spotting form, for the steps after dictionary spotting."""

    text: str
    spot: str
    offsets: OffsetMap
    padded: str  # WORD_START + spot: what the automata search

    def span(self, start: int, end: int) -> Span:
        """The text's span for ``spot[start:end]``."""
        return Span(self.offsets(start), self.offsets(end - 1) + 1)


def prepare(text: str) -> SpottedText:
    spot, offsets = spot_form(text)
    return SpottedText(text, spot, offsets, WORD_START + spot)


def dictionary_hits(index: AliasIndex, text: SpottedText) -> list[Hit]:
    """Whole-word, case-fitting curated forms in ``text``, leftmost-longest, not overlapping."""
    hits: list[Hit] = []
    for segment, hidden in index.spotting_segments():
        hits.extend(_segment_hits(segment, hidden, text))
    return _without_overlaps(hits) if len(hits) > 1 else hits


def _segment_hits(segment: Segment, hidden: frozenset[str], text: SpottedText) -> list[Hit]:
    padded, postings = text.padded, segment.postings
    last = len(padded) - 1
    found = []
    for end, key in segment.automaton.iter_long(padded) if segment.spot_keys else ():
        # padded[end - len(key) : end + 1] is " " + key, so the key is
        # spot[end - len(key) : end]; it began a word, it must end one too.
        if end < last and padded[end + 1] != " ":
            continue
        start = end - len(key)
        span = text.span(start, end)
        forms, shared_rule = segment.spotted_forms(key)
        if shared_rule is not CaseRule.ANY:
            written = Written(text.text[span.start : span.end])
            if shared_rule is CaseRule.CAPITALISED:  # nearly every name: one check for all
                if not written.allows(shared_rule, ""):
                    continue
            else:
                rules, letters = segment.case_rules, segment.alias_letters
                forms = tuple(f for f in forms if written.allows(rules[f], letters.get(f, "")))
        if hidden:
            forms = tuple(f for f in forms if postings[f].entity_id not in hidden)
        if forms:
            found.append(Hit(span, tuple(postings[f] for f in forms), (id(segment), forms)))
    return found


def _without_overlaps(hits: list[Hit]) -> list[Hit]:
    # Segments are spotted apart; where their hits overlap, the longer wins.
    hits.sort(key=lambda h: (h.span.start, h.span.start - h.span.end))
    kept: list[Hit] = []
    for hit in hits:
        if kept and hit.span.start < kept[-1].span.end:
            if hit.span.end - hit.span.start <= kept[-1].span.end - kept[-1].span.start:
                continue
            kept.pop()
        kept.append(hit)
    return kept
