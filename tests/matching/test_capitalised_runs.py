"""The variant pass's run finder against a plain reading of its definition.

``_capitalised_runs`` visits only the words that begin with a capital or a
digit, found in a case mask. The reference below visits every word of the spot
form and asks the text for its first character: slow, and plainly right.
"""

import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.matching.annotate import _BREAK, MAX_RUN_WORDS, NAME_CONNECTORS, _capitalised_runs
from app.matching.spotting import Span, SpottedText, prepare

SEEDS = sorted((Path(__file__).parent.parent / "data" / "seeds").glob("*.txt"))
WORDS = [
    *("Tehreek", "e", "of", "the", "and", "bin", "al", "x", "is", "1990"),
    *("Pakistan", "US", "Ministry", "Foreign", "Affairs", "O’Brien", "Da'ish"),
    *("Ünder", "e\u0301X", "ﬁne", "Ⓐ", "⒈", "İstanbul", "ǅem", "ŞEHİR", "тест", "Тест", "تحریک"),
]
SEPARATORS = [" ", " ", " ", "-", ", ", ". ", "\n", " – ", "’s ", " (", ") ", "  ", ": ", "\xa0"]


def reference_runs(spotted: SpottedText) -> Iterator[tuple[int, int]]:
    text, offsets = spotted.text, spotted.offsets
    words: list[Span] = []
    pending: list[Span] = []  # a connector waiting for the next capitalised word
    for index, word in enumerate(spotted.spot.split(" ")):
        if not word:
            continue
        start = len(" ".join(spotted.spot.split(" ")[:index])) + (1 if index else 0)
        span = Span(offsets(start), offsets(start + len(word) - 1) + 1)
        first = text[span.start]
        if words and _BREAK.search(text, (pending or words)[-1].end, span.start):
            yield words[0].start, words[-1].end
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
            yield words[0].start, words[-1].end
        words, pending = ([span], []) if len(words) >= MAX_RUN_WORDS else ([], [])
    if words:
        yield words[0].start, words[-1].end


def random_text(seed: int) -> str:
    rng = random.Random(seed)
    count = rng.randrange(1, 25)
    return "".join(rng.choice(WORDS) + rng.choice(SEPARATORS) for _ in range(count))


@pytest.mark.parametrize("seed", range(500))
def test_the_runs_of_random_texts(seed: int) -> None:
    spotted = prepare(random_text(seed))
    assert [tuple(run) for run in _capitalised_runs(spotted)] == list(reference_runs(spotted))


@pytest.mark.parametrize("path", SEEDS, ids=lambda path: path.stem)
def test_the_runs_of_the_seed_articles(path: Path) -> None:
    spotted = prepare(path.read_text(encoding="utf-8"))
    runs = [tuple(run) for run in _capitalised_runs(spotted)]
    assert runs and runs == list(reference_runs(spotted))
