"""Entity suggest at a million aliases, beside GET /resolve of an exact name in the same run.

    python -m benchmarks.suggest [--aliases 1000000] [--requests 3000] [--in-process]

Builds the GeoNames table of about ``--aliases`` aliases (``benchmarks.common``),
stores it through the service's import into a new SQLite database and starts
``alias-service serve`` on it. The first suggest request builds the sorted
word starts of the index (its time is printed apart). Then, on one keep-alive
connection, requests are sent one at a time, turn about:

* ``GET /reconcile/suggest/entity?prefix=...``: the first 1 to 8 characters
  of a random name or alias of a random entity, as a user types them;
* ``GET /resolve?q=...``: a random entity's name, found by the exact layer,
  the cheapest request that matches (the baseline).

It prints p50 and p99 of each, in milliseconds as the client sees them, and
suggest's as a ratio of the baseline's. With ``--in-process`` it also times
the engine alone (``app.matching.completion.suggest`` beside ``resolve``).
The target: suggest p99 <= 5 ms over HTTP at a million aliases.
"""

import argparse
import http.client
import random
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote, urlsplit

from app.matching.completion import completions, suggest
from app.matching.index import AliasIndex, EntityRecord
from app.matching.resolve import resolve
from benchmarks.common import percentile, table_and_queries
from benchmarks.http import load_table
from benchmarks.scale import Code, environment, server

P99_BUDGET_MS = 5.0
SEED = 20261205
LONGEST_PREFIX = 8


def typed_prefixes(entities: list[EntityRecord], count: int) -> list[str]:
    """What users type: the start of a random form of a random entity."""
    rng = random.Random(SEED)
    prefixes: list[str] = []
    while len(prefixes) < count:
        entity = rng.choice(entities)
        form = rng.choice([entity.name, *entity.aliases])
        prefix = form[: rng.randint(1, LONGEST_PREFIX)]
        if prefix.strip():
            prefixes.append(prefix)
    return prefixes


def exact_names(entities: list[EntityRecord], count: int) -> list[str]:
    rng = random.Random(SEED + 1)
    return [rng.choice(entities).name for _ in range(count)]


def summary(label: str, seconds: list[float], baseline: list[float] | None = None) -> str:
    p50, p99 = percentile(seconds, 0.5) * 1000, percentile(seconds, 0.99) * 1000
    line = f"{label:<38} p50 {p50:7.3f} ms   p99 {p99:7.3f} ms"
    if baseline is not None:
        base50, base99 = percentile(baseline, 0.5) * 1000, percentile(baseline, 0.99) * 1000
        line += f"   ({p50 / base50:.2f}x, {p99 / base99:.2f}x the baseline's p50, p99)"
    return line


def turn_about(
    first: Callable[[str], object], second: Callable[[str], object], a: list[str], b: list[str]
) -> tuple[list[float], list[float]]:
    """Time ``first(x)`` for each of ``a`` and ``second(y)`` for each of ``b``, alternately."""
    times_a, times_b = [], []
    for x, y in zip(a, b, strict=True):
        started = time.perf_counter()
        first(x)
        times_a.append(time.perf_counter() - started)
        started = time.perf_counter()
        second(y)
        times_b.append(time.perf_counter() - started)
    return times_a, times_b


def in_process(entities: list[EntityRecord], prefixes: list[str], names: list[str]) -> None:
    started = time.perf_counter()
    index = AliasIndex.build(entities)
    print(f"in process: index built in {time.perf_counter() - started:.1f} s")
    started = time.perf_counter()
    completions(index)
    print(f"in process: word starts sorted in {time.perf_counter() - started:.1f} s")
    suggested, resolved = turn_about(
        lambda p: suggest(index, p), lambda n: resolve(index, n), prefixes, names
    )
    print(summary("in process: resolve (exact name)", resolved))
    print(summary("in process: suggest", suggested, resolved))


class Client:
    """GETs on one keep-alive connection; every answer must be 200."""

    def __init__(self, origin: str) -> None:
        parts = urlsplit(origin)
        if parts.hostname is None:
            raise ValueError(f"no host in {origin!r}")
        self.connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)

    def get(self, path: str) -> bytes:
        self.connection.request("GET", path)
        response = self.connection.getresponse()
        body = response.read()
        if response.status != 200:
            raise SystemExit(f"GET {path}: {response.status} {body[:200]!r}")
        return body


def over_http(entities: list[EntityRecord], prefixes: list[str], names: list[str]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        database = Path(folder) / "bench.db"
        seconds = load_table(f"sqlite:///{database}", entities)
        print(f"http: table stored through the import path in {seconds:.1f} s")
        with server(
            environment(database), Path(folder) / "server.log", Code("this", Path.cwd())
        ) as s:
            print(f"http: server ready in {s.ready_after:.1f} s")
            client = Client(s.origin)
            started = time.perf_counter()
            client.get("/reconcile/suggest/entity?prefix=a")
            print(
                f"http: first suggest (sorts the word starts) {time.perf_counter() - started:.1f} s"
            )
            for name in names[:200]:  # warm-up
                client.get(f"/resolve?q={quote(name)}")
            suggested, resolved = turn_about(
                lambda p: client.get(f"/reconcile/suggest/entity?prefix={quote(p)}"),
                lambda n: client.get(f"/resolve?q={quote(n)}"),
                prefixes,
                names,
            )
    print(summary("http: GET /resolve (exact name)", resolved))
    print(summary("http: GET /reconcile/suggest/entity", suggested, resolved))
    p99 = percentile(suggested, 0.99) * 1000
    verdict = "within" if p99 <= P99_BUDGET_MS else "OVER"
    print(f"suggest p99 {p99:.3f} ms: {verdict} the budget of {P99_BUDGET_MS} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--aliases", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--in-process", action="store_true", help="time the engine alone too")
    args = parser.parse_args()
    entities, _ = table_and_queries(args.aliases)
    aliases = sum(len(e.aliases) for e in entities)
    print(f"table: {len(entities):,} entities, {aliases:,} aliases")
    prefixes = typed_prefixes(entities, args.requests)
    names = exact_names(entities, args.requests)
    if args.in_process:
        in_process(entities, prefixes, names)
    over_http(entities, prefixes, names)


if __name__ == "__main__":
    main()
