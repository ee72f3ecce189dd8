"""The variant pass's run finder against a plain reading of its definition.

``capitalised_runs`` visits only the words that begin with a capital or a
digit, found in a case mask. ``capitalised_runs_plain`` visits every word of
the spot form and asks the text for its first character: slow, and plainly
right.
"""

import random
from pathlib import Path

import pytest

from app.matching.annotation.runs import capitalised_runs, capitalised_runs_plain
from app.matching.spotting import prepare

SEEDS = sorted((Path(__file__).parent.parent / "data" / "seeds").glob("*.txt"))
WORDS = [
    *("Tehreek", "e", "of", "the", "and", "bin", "al", "x", "is", "1990"),
    *("Pakistan", "US", "Ministry", "Foreign", "Affairs", "O’Brien", "Da'ish"),
    *("Ünder", "e\u0301X", "ﬁne", "Ⓐ", "⒈", "İstanbul", "ǅem", "ŞEHİR", "тест", "Тест", "تحریک"),
]
SEPARATORS = [" ", " ", " ", "-", ", ", ". ", "\n", " – ", "’s ", " (", ") ", "  ", ": ", "\xa0"]


def random_text(seed: int) -> str:
    rng = random.Random(seed)
    count = rng.randrange(1, 25)
    return "".join(rng.choice(WORDS) + rng.choice(SEPARATORS) for _ in range(count))


@pytest.mark.parametrize("seed", range(500))
def test_the_runs_of_random_texts(seed: int) -> None:
    spotted = prepare(random_text(seed))
    assert list(capitalised_runs(spotted)) == list(capitalised_runs_plain(spotted))


@pytest.mark.parametrize("path", SEEDS, ids=lambda path: path.stem)
def test_the_runs_of_the_seed_articles(path: Path) -> None:
    spotted = prepare(path.read_text(encoding="utf-8"))
    runs = list(capitalised_runs(spotted))
    assert runs and runs == list(capitalised_runs_plain(spotted))
