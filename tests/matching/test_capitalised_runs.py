"""The variant pass's run finder against a plain reading of its definition.

``capitalised_runs`` visits only the words that begin with a capital or a
digit, found in a case mask. ``capitalised_runs_plain`` visits every word of
the spot form and asks the text for its first character: slow, and plainly
right.
"""

import random
from pathlib import Path

import pytest

from app.matching.annotation.runs import (
    capitalised_runs,
    capitalised_runs_plain,
    split_coordinations,
)
from app.matching.spotting import Span, prepare

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


def runs_split(text: str, names: set[str]) -> list[str]:
    """The runs of ``text`` after coordination splitting, when only ``names`` are names."""
    spotted = prepare(text)
    asked: list[str] = []

    def is_name(run: Span) -> bool:
        asked.append(text[run.start : run.end])
        return text[run.start : run.end] in names

    runs = split_coordinations(spotted, capitalised_runs(spotted), is_name)
    found = [text[run.start : run.end] for run in runs]
    assert all(" and " in run for run in asked)  # only runs with an "and" are asked about
    return found


def test_a_run_that_is_no_name_as_a_whole_is_cut_around_its_and() -> None:
    text = "Talks between Pakistan and Afghanistan ended."
    assert runs_split(text, set()) == ["Talks", "Pakistan", "Afghanistan"]


def test_a_run_that_is_a_name_as_a_whole_is_kept_whole() -> None:
    text = "The Ministry of Law and Justice said so."
    assert runs_split(text, {"The Ministry of Law and Justice"}) == [
        "The Ministry of Law and Justice"
    ]
