"""Annotation throughput, beside raw pyahocorasick over the same text in the same run.

    python -m benchmarks.annotate [--aliases 1000000] [--http] [--before REF] [--rounds 1]

For the shipped table and for a GeoNames table of about ``--aliases`` aliases:
the index (and automaton) build time, then characters per second on one core
over the seed articles repeated to about 1 MB, for

* raw: ``Automaton.iter_long`` over the text's spotting form, already made
  (no normalisation, no word boundaries, no case rules, no offsets), once
  with a plain automaton of the normalised aliases (pyahocorasick as one would
  first use it; it also reports every alias inside a word, which at a million
  aliases makes it slower than the service's whole spotting) and once with
  the service's own automaton, whose keys begin at word starts;
* dictionary spotting end to end, the figure the targets speak of:
  ``dictionary_hits(index, prepare(text))`` on the raw text (normalisation,
  offset map, word boundaries, case rules: every span with its curated forms);
* the dictionary pass: ``dictionary_mentions``, the same with each span
  resolved to its entities (memoised per snapshot, so the first round, printed
  too, is the one that resolves every distinct name);
* the full engine: ``annotate`` (variants and the document passes too).

The works take turns round by round (see ``timed_rounds``). With ``--http``
it also times ``POST /annotate`` of a 5 KB article against a server on the
shipped table, taking turns with a one-word text as the baseline. With
``--before REF`` the benchmark runs with that git revision's code and with this
code, turn about, each in a fresh process.
"""

import argparse
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import ahocorasick

from app.aliasfile import parse_alias_file
from app.heap import freeze_and_trim
from app.matching.annotate import annotate, dictionary_mentions
from app.matching.index import AliasIndex, EntityRecord
from app.matching.spotting import dictionary_hits, prepare
from app.matching.spotting_keys import spotting_automaton
from app.resources import SHIPPED_ALIASES_FILE
from benchmarks.common import percentile, table_and_queries
from benchmarks.scale import turn_about

SEEDS = Path(__file__).resolve().parent.parent / "tests" / "data" / "seeds"
CORPUS_CHARS = 1_000_000
ROUNDS = 7


def corpus() -> str:
    articles = [path.read_text(encoding="utf-8") for path in sorted(SEEDS.glob("*.txt"))]
    text = "\n\n".join(articles)
    return (text + "\n\n") * (CORPUS_CHARS // len(text) + 1)


def shipped_entities() -> list[EntityRecord]:
    table = parse_alias_file(SHIPPED_ALIASES_FILE.read_bytes())
    return [
        EntityRecord(e.id, e.name, e.type, tuple(a.text for a in e.aliases)) for e in table.entities
    ]


def timed_rounds(works: dict[str, Callable[[], object]]) -> dict[str, list[float]]:
    """Seconds per round of each work, the works taking turns round by round.

    Taking turns spreads the machine's slow moments over all of them alike, so
    the ratios of their best rounds (the least disturbed) hold within one run.
    """
    seconds: dict[str, list[float]] = {name: [] for name in works}
    for _ in range(ROUNDS):
        for name, work in works.items():
            started = time.perf_counter()
            work()
            seconds[name].append(time.perf_counter() - started)
    return seconds


def measure(name: str, entities: list[EntityRecord], text: str) -> None:
    aliases = sum(len(e.aliases) for e in entities)
    started = time.perf_counter()
    index = AliasIndex.build(entities)
    build = time.perf_counter() - started
    freeze_and_trim()
    automaton_build = _automaton_build_seconds(index)
    print(f"\n{name}: {len(entities):,} entities, {aliases:,} aliases")
    print(
        f"  index build {build:.1f} s, of which the Aho-Corasick automaton {automaton_build:.1f} s"
    )
    spotted = prepare(text)
    plain, words = _plain_automaton(index), index.base.spotting.automaton
    seconds = timed_rounds(
        {
            "raw plain": lambda: sum(1 for _ in plain.iter_long(spotted.spot)),
            "raw word-start": lambda: sum(1 for _ in words.iter_long(spotted.padded)),
            "spotting": lambda: dictionary_hits(index, prepare(text)),
            "dictionary": lambda: dictionary_mentions(index, text),
            "full": lambda: annotate(index, text),
        }
    )
    rate = {name: len(text) / min(times) for name, times in seconds.items()}
    raw_plain, raw_words = rate["raw plain"], rate["raw word-start"]
    found = len(dictionary_mentions(index, text))
    print(f"  text: {len(text):,} characters, {found:,} dictionary mentions")
    print(f"  raw iter_long, plain automaton of the normalised aliases: {_rate(raw_plain)}")
    print(f"  raw iter_long, the service's word-start automaton       : {_rate(raw_words)}")
    spotting, dictionary, full = rate["spotting"], rate["dictionary"], rate["full"]
    dictionary_first = len(text) / seconds["dictionary"][0]
    print(
        f"  dictionary spotting end to end   : {_rate(spotting)}  ({spotting / raw_plain:.2f} of"
        f" raw plain, {spotting / raw_words:.2f} of raw word-start)"
    )
    print(
        f"  dictionary pass, with resolutions: {_rate(dictionary)}  ({dictionary / raw_plain:.2f}"
        f" of raw plain; first round {_rate(dictionary_first)})"
    )
    print(
        f"  full engine (variants, document) : {_rate(full)}  ({full / raw_plain:.2f} of raw plain)"
    )


def _rate(chars_per_second: float) -> str:
    return f"{chars_per_second / 1e6:6.2f} M chars/s"


def _plain_automaton(index: AliasIndex) -> ahocorasick.Automaton:
    """pyahocorasick as one would use it first: every normalised alias, as it is."""
    automaton = ahocorasick.Automaton(ahocorasick.STORE_ANY, ahocorasick.KEY_STRING)
    for key in index.base.spotting.keys_by_number():
        automaton.add_word(key, key)
    automaton.make_automaton()
    return automaton


def _automaton_build_seconds(index: AliasIndex) -> float:
    started = time.perf_counter()
    spotting_automaton(index.base.spotting.keys_by_number())
    return time.perf_counter() - started


def http_article(entities: list[EntityRecord]) -> None:
    import http.client
    import json
    import os
    import subprocess
    import sys
    import tempfile

    from benchmarks.http import _wait_ready

    article = (SEEDS / "004_3f83086a5cd0dd51.txt").read_text(encoding="utf-8")
    article = (article + "\n" + article)[:5000]
    body = json.dumps({"text": article}).encode()
    with tempfile.TemporaryDirectory() as folder:
        port = 18432
        env = {**os.environ, "DATABASE_URL": f"sqlite:///{Path(folder) / 'a.db'}"}
        server = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            _wait_ready(f"http://127.0.0.1:{port}/readyz")
            # One kept-alive connection, as a pipeline calling the service has.
            # The article and a one-word text take turns: the second is the
            # baseline, what any request costs on this machine at this moment.
            connection = http.client.HTTPConnection("127.0.0.1", port)
            headers = {"Content-Type": "application/json"}
            bodies = {"article": body, "baseline": json.dumps({"text": "Hello."}).encode()}
            times: dict[str, list[float]] = {name: [] for name in bodies}
            mentions = 0
            for attempt in range(420):
                for name, request in bodies.items():
                    # Timed: from sending the request to holding the whole answer.
                    started = time.perf_counter()
                    connection.request("POST", "/annotate", body=request, headers=headers)
                    answer = connection.getresponse().read()
                    if attempt >= 20:  # the first are warm-up
                        times[name].append((time.perf_counter() - started) * 1000)
                    if name == "article":
                        mentions = len(json.loads(answer)["mentions"])
            connection.close()
        finally:
            server.terminate()
            server.wait(timeout=30)
    article_times, baseline = times["article"], times["baseline"]
    print(
        f"\nhttp: POST /annotate, a {len(article):,}-character article ({mentions} mentions), "
        f"shipped table: p50 {percentile(article_times, 0.5):.2f} ms"
        f"  p99 {percentile(article_times, 0.99):.2f} ms"
        f"  mean {statistics.fmean(article_times):.2f} ms"
    )
    print(
        f"  baseline, a one-word text in the same run: p50 {percentile(baseline, 0.5):.2f} ms"
        f"  p99 {percentile(baseline, 0.99):.2f} ms  mean {statistics.fmean(baseline):.2f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--aliases", type=int, default=1_000_000)
    parser.add_argument("--http", action="store_true")
    parser.add_argument("--before", metavar="REF", help="also run with this git revision's code")
    parser.add_argument("--rounds", type=int, default=1, help="turns of each code with --before")
    args = parser.parse_args()
    if args.before:
        arguments = ["--aliases", str(args.aliases), *(["--http"] if args.http else [])]
        turn_about("benchmarks.annotate", args.before, arguments, args.rounds)
        return
    text = corpus()[:CORPUS_CHARS]
    shipped = shipped_entities()
    measure("shipped table", shipped, text)
    if args.aliases:
        entities, _ = table_and_queries(args.aliases)
        # The seed articles' entities are in the large table too.
        measure("GeoNames cities500 + shipped table", entities + shipped, text)
    if args.http:
        http_article(shipped)


if __name__ == "__main__":
    main()
