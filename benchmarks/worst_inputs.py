"""What the costliest texts cost a real server, beside articles of the same size.

    python -m benchmarks.worst_inputs

Starts ``alias-service serve`` on the shipped table and sends ``POST
/annotate`` texts of 200,000 characters of each kind (the seed articles
repeated, one repeated word, one made-up word, random letters, random
letters and spaces, capitalised made-up names), the kinds taking turns, best
of three rounds; then ``POST /annotate/batch`` of 100 texts of 80,000
characters (the largest batch body, 8 MiB), articles against made-up names,
which answer 503 at the time budget (``REQUEST_TIME_BUDGET``, 10 s). Prints
seconds, the multiple of the article's, and the status.
"""

import random
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from app.models.api import MAX_DOCUMENTS, MAX_TEXT_LENGTH
from tests.matching.test_bounded_work import IN_A_SENTENCE, article, random_letters
from tests.matching.test_budget import made_up_names
from tests.servers import http, serve

ROUNDS = 3
BATCH_TEXT = 80_000


def main() -> None:
    rng = random.Random(7)
    rest = MAX_TEXT_LENGTH - len(IN_A_SENTENCE)
    normal = article(MAX_TEXT_LENGTH)
    texts: dict[str, Callable[[], str]] = {
        "article": lambda: normal,
        "one repeated word": lambda: IN_A_SENTENCE + ("Pakistan" * rest)[:rest],
        "one made-up word": lambda: IN_A_SENTENCE + "Q" + random_letters(rest - 1, rng).lower(),
        "random letters": lambda: IN_A_SENTENCE + "P" + random_letters(rest - 1, rng),
        "random letters and spaces": lambda: random_letters(MAX_TEXT_LENGTH, rng, spaces="  "),
        "made-up names": lambda: made_up_names(MAX_TEXT_LENGTH, seed=rng.randrange(1 << 30)),
    }
    batch_article = article(BATCH_TEXT)
    batches: dict[str, Callable[[], list[str]]] = {
        "100 articles": lambda: [batch_article] * MAX_DOCUMENTS,
        "100 made-up names": lambda: [made_up_names(BATCH_TEXT, seed=s) for s in range(100)],
    }
    with tempfile.TemporaryDirectory() as folder, serve(Path(folder)) as server:
        print(f"POST /annotate, {MAX_TEXT_LENGTH:,} characters, best of {ROUNDS} rounds")
        singles = _best(server.origin, "/annotate", {k: _single(t) for k, t in texts.items()})
        _print(singles, "article")
        print(f"POST /annotate/batch, {MAX_DOCUMENTS} texts of {BATCH_TEXT:,} characters, once")
        batch = {k: _batch(t) for k, t in batches.items()}
        _print(_best(server.origin, "/annotate/batch", batch, rounds=1), "100 articles")


def _single(text: Callable[[], str]) -> Callable[[], Any]:
    return lambda: {"text": text()}


def _batch(texts: Callable[[], list[str]]) -> Callable[[], Any]:
    return lambda: {"documents": [{"text": text} for text in texts()]}


def _best(
    origin: str, path: str, bodies: dict[str, Callable[[], Any]], rounds: int = ROUNDS
) -> dict[str, tuple[float, int]]:
    best: dict[str, tuple[float, int]] = {}
    for _ in range(rounds):
        for name, body in bodies.items():
            payload = body()
            started = time.perf_counter()
            status, _ = http("POST", f"{origin}{path}", payload, timeout=120)
            seconds = time.perf_counter() - started
            if name not in best or seconds < best[name][0]:
                best[name] = (seconds, status)
    return best


def _print(best: dict[str, tuple[float, int]], baseline: str) -> None:
    base = best[baseline][0]
    for name, (seconds, status) in best.items():
        print(f"  {name:28} {seconds:8.3f} s {seconds / base:7.1f}x  {status}")


if __name__ == "__main__":
    main()
