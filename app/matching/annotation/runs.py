"""Capitalised runs: the stretches of a text that may be names.

A run is a sequence of capitalised words, with the connectors of names
between them (Tehreek-*i*-Taliban, Ministry *of* Foreign Affairs), of at most
``MAX_RUN_WORDS`` words. Punctuation other than the marks inside names
(hyphens, dashes, dots, apostrophes) ends a run, as does the end of a line.
A run that is no name as a whole is tried again as its parts around "and".

``capitalised_runs`` is the one the passes use; ``capitalised_runs_plain``
says the same plainly, and a seeded test holds the two equal.
"""

import re
from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator

from app.matching.keys import CONNECTORS
from app.matching.spot_form import case_mask
from app.matching.spotting import Span, SpottedText

# Lower-case words that may stand inside a name between capitalised words.
NAME_CONNECTORS = CONNECTORS | {"of", "the", "and", "for", "de", "bin", "ibn", "i", "e"}
MAX_RUN_WORDS = 8
# In " " + a case mask: a word that begins with a capital or a digit, at the
# index of its first character in the mask.
_NAME_WORD_START = re.compile(" [A0]")
# What ends a run between two of its words: punctuation not found inside names, a new line.
_RUN_BREAK = re.compile(r"[^\w\s\-‐‑‒–—.'’ʼ]|\n")
_AND = re.compile(r"\s+and\s+")


def capitalised_runs(spotted: SpottedText) -> Iterator[Span]:
    """Runs of capitalised words, connectors allowed inside: candidate names.

    Only the words that begin with a capital or a digit are visited, found in
    the case mask; what lies between two of them either joins them (a space,
    or one connector) or ends the run.
    """
    text, spot = spotted.text, spotted.spot
    mask = case_mask(text, spot, spotted.offsets)
    cuts, shifts = spotted.offsets.cuts, spotted.offsets.shifts
    first = last = -1  # the run's first and last word, as offsets into the text
    words = 0  # in the run, its connectors included
    spot_end = 0  # where the run's last word ends in the spot form
    for match in _NAME_WORD_START.finditer(" " + mask):
        start = match.start()
        capital = mask[start] == "A"
        if not words and not capital:
            continue  # a digit starts no run
        end = spot.find(" ", start)
        end = len(spot) if end < 0 else end
        # Where the word stands in the text (the offset map's rule): text[word_start:word_end].
        word_start = start + shifts[bisect_right(cuts, start)]
        word_end = end + shifts[bisect_right(cuts, end - 1)]
        if words:
            between = spot[spot_end + 1 : start - 1]  # the words in between, if any
            if (between and between not in NAME_CONNECTORS) or _RUN_BREAK.search(
                text, last, word_start
            ):
                yield Span(first, last)
                words = 0
                if not capital:
                    continue
            elif between:  # one connector, kept inside the run
                words += 1
        if not words:
            first = word_start
        last, spot_end = word_end, end
        words += 1
        if words >= MAX_RUN_WORDS:
            yield Span(first, last)
            first, words = word_start, 1
    if words:
        yield Span(first, last)


def capitalised_runs_plain(spotted: SpottedText) -> Iterator[Span]:
    """``capitalised_runs``, read plainly from its definition.

    Every word of the spot form is visited and the text asked for its first
    character: slow, and plainly right.
    """
    text, offsets = spotted.text, spotted.offsets
    words: list[Span] = []
    pending: list[Span] = []  # a connector waiting for the next capitalised word
    for word, start in _spot_words(spotted.spot):
        span = Span(offsets(start), offsets(start + len(word) - 1) + 1)
        first = text[span.start]
        if words and _RUN_BREAK.search(text, (pending or words)[-1].end, span.start):
            yield Span(words[0].start, words[-1].end)
            words, pending = [], []
        if first.isupper() or (first.isdigit() and words):
            words += [*pending, span]
            pending = []
            if len(words) < MAX_RUN_WORDS:
                continue
        elif words and word in NAME_CONNECTORS and not pending:
            pending.append(span)
            continue
        if words:
            yield Span(words[0].start, words[-1].end)
        words, pending = ([span], []) if len(words) >= MAX_RUN_WORDS else ([], [])
    if words:
        yield Span(words[0].start, words[-1].end)


def _spot_words(spot: str) -> Iterator[tuple[str, int]]:
    """The words of a spot form, each with the index where it begins."""
    start = 0
    for word in spot.split(" "):
        if word:
            yield word, start
        start += len(word) + 1


def split_coordinations(
    spotted: SpottedText, runs: Iterable[Span], is_name: Callable[[Span], bool]
) -> Iterator[Span]:
    """Each run, or its parts around "and" when ``is_name`` says the whole is no name."""
    for run in runs:
        parts = list(_AND.finditer(spotted.text, run.start, run.end))
        if not parts or is_name(run):
            yield run
            continue
        start = run.start
        for part in parts:
            yield Span(start, part.start())
            start = part.end()
        yield Span(start, run.end)
