"""No text costs more than a small multiple of a normal article of its length.

A word longer than any name once went through the variant layers, whose keys
cost the square of its length: "Pakistan" * 25,000 kept a core busy for tens
of seconds. Each text here is annotated on a fresh snapshot of the shipped
table (nothing remembered from another text), the texts taking turns round by
round; the best round of each is compared with the best of a normal article
of the same length, the seed articles repeated, measured in the same turns.
The multiple is generous, so that a busy machine does not fail it.
"""

import random
import string
import time
from collections.abc import Callable
from pathlib import Path

from app.matching.annotate import annotate
from app.matching.index import AliasIndex
from app.matching.resolve import resolve
from app.models.api import MAX_MENTION_LENGTH, MAX_TEXT_LENGTH
from tests.evaluation import shipped_index

SEEDS = sorted((Path(__file__).parent.parent / "data" / "seeds").glob("*.txt"))
MULTIPLE = 5
ROUNDS = 3
# Before the long word, so that it does not begin a sentence: a word that does
# is not looked up at all, and the test would not see what looking it up costs.
IN_A_SENTENCE = "We met the "


def article(length: int) -> str:
    text = "\n\n".join(path.read_text(encoding="utf-8") for path in SEEDS)
    return ((text + "\n\n") * (length // len(text) + 1))[:length]


def random_letters(length: int, rng: random.Random, spaces: str = "") -> str:
    return "".join(rng.choices(string.ascii_letters + spaces, k=length))


def best_seconds(works: dict[str, Callable[[], float]]) -> dict[str, float]:
    """The best of ``ROUNDS`` rounds of each work (each returns its own time), taking turns."""
    best = dict.fromkeys(works, float("inf"))
    for _ in range(ROUNDS):
        for name, work in works.items():
            best[name] = min(best[name], work())
    return best


def timed(work: Callable[[], object]) -> Callable[[], float]:
    def seconds() -> float:
        started = time.perf_counter()
        work()
        return time.perf_counter() - started

    return seconds


def annotated_on_a_fresh_snapshot(text: str) -> Callable[[], float]:
    entities = list(shipped_index().entities())

    def seconds() -> float:
        index = AliasIndex.build(entities)  # its memos start empty; only annotating is timed
        return timed(lambda: annotate(index, text))()

    return seconds


def test_no_text_costs_more_than_a_small_multiple_of_an_article() -> None:
    rng = random.Random(20261202)
    rest = MAX_TEXT_LENGTH - len(IN_A_SENTENCE)
    texts = {
        "article": article(MAX_TEXT_LENGTH),
        "one repeated word": IN_A_SENTENCE + ("Pakistan" * rest)[:rest],
        "random letters": IN_A_SENTENCE + "P" + random_letters(rest - 1, rng),
        "random letters and spaces": IN_A_SENTENCE + random_letters(rest, rng, spaces="  "),
    }
    assert all(len(text) == MAX_TEXT_LENGTH for text in texts.values())
    best = best_seconds({name: annotated_on_a_fresh_snapshot(t) for name, t in texts.items()})
    for name, seconds in best.items():
        assert seconds <= MULTIPLE * best["article"], (name, best)


def test_resolving_a_longest_word_costs_about_what_names_of_its_length_do() -> None:
    index = shipped_index()
    rng = random.Random(20261202)
    names = [e.name for e in index.entities()]
    # Names of the table, with a letter changed so that the loose layers work
    # too, about MAX_MENTION_LENGTH characters in all.
    queries: list[str] = []
    while sum(map(len, queries)) < MAX_MENTION_LENGTH:
        name = rng.choice(names)
        at = rng.randrange(len(name))
        queries.append(name[:at] + rng.choice(string.ascii_lowercase) + name[at + 1 :])

    def names_of_that_length() -> None:
        for query in queries:
            resolve(index, query)

    def longest_words() -> None:
        # A new word each time, so that no cache remembers it.
        resolve(index, "P" + random_letters(MAX_MENTION_LENGTH - 1, rng))
        resolve(index, "Pakistan" * (MAX_MENTION_LENGTH // 8) + rng.choice("abc"))

    best = best_seconds({"names": timed(names_of_that_length), "longest": timed(longest_words)})
    assert best["longest"] <= MULTIPLE * best["names"], best
