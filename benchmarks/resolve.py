"""Resolve at scale, beside the brute-force baselines measured in the same run.

    python -m benchmarks.resolve [--aliases 300000] [--baseline-queries 1000] [--http]
                                 [--before REF] [--rounds 1]

Prints the index build time and memory, in-process resolve latency (p50,
p99), and accuracy and wrong matches on held-out queries, for the engine (also
with ``tie_break=prominence``, the population deciding between namesakes) and
for the baselines (benchmarks/baselines.py): ``rapidfuzz.process.extractOne``
with ``fuzz.ratio`` over every alias's anyascii-transliterated normal form,
cutoff 85, which always picks one alias and so always guesses; and the same
scan with the margin rule (the best entity 3 points above any other, else
no answer). The baselines' time per mention is extractOne's, one query at a
time on one core. With ``--http``, it also loads the table into a SQLite
database, starts ``alias-service serve``, times ``POST /resolve`` batches per
mention and prints that time as a share of the baseline's.

With ``--before REF`` the benchmark runs with the code of that git revision
and with this code, turn about (``--rounds`` times each), each in a fresh
process, so the two are compared on the machine at the same moment.

The budget: p50 <= 0.3 ms and p99 <= 3 ms in process at 300k aliases; over
HTTP batches at most 0.04x the baseline's time per mention.
"""

import argparse
import time
from dataclasses import dataclass

from app.heap import freeze_and_trim
from app.matching.index import AliasIndex, EntityRecord
from app.matching.resolve import Status, TieBreak, resolve
from benchmarks.baselines import Scan
from benchmarks.common import Query, peak_rss_mib, percentile, summary_ms, table_and_queries
from benchmarks.memory import measure
from benchmarks.scale import turn_about

P50_BUDGET_MS, P99_BUDGET_MS = 0.3, 3.0
HTTP_SHARE_BUDGET = 0.04  # of the baseline's time per mention


@dataclass
class Outcome:
    correct: int = 0
    wrong: int = 0
    abstained: int = 0  # ambiguous or unmatched

    def add(self, found: str | None, expected: str) -> None:
        if found is None:
            self.abstained += 1
        elif found == expected:
            self.correct += 1
        else:
            self.wrong += 1

    def line(self) -> str:
        total = self.correct + self.wrong + self.abstained
        return (
            f"accuracy {self.correct / total:.3f}  wrong {self.wrong / total:.3f}  "
            f"abstained {self.abstained / total:.3f}  (n={total})"
        )


def run_engine(
    index: AliasIndex, queries: list[Query], tie_break: TieBreak | None = None
) -> tuple[list[float], Outcome]:
    for query in queries[:200]:  # warm the caches as a running service has them
        resolve(index, query.text, tie_break=tie_break)
    times, outcome = [], Outcome()
    for query in queries:
        started = time.perf_counter()
        result = resolve(index, query.text, tie_break=tie_break)
        times.append(time.perf_counter() - started)
        matched = result.entity.id if result.status is Status.MATCHED and result.entity else None
        outcome.add(matched, query.expected)
    return times, outcome


def run_baselines(
    entities: list[EntityRecord], queries: list[Query]
) -> tuple[list[float], Outcome, Outcome]:
    """extractOne timed one query at a time, and the outcomes without and with the margin."""
    scan = Scan(entities)
    times, plain = [], Outcome()
    for query in queries:
        started = time.perf_counter()
        found = scan.extract_one(query.text)
        times.append(time.perf_counter() - started)
        plain.add(found, query.expected)
    margin = Outcome()
    for query, answer in zip(queries, scan.answers([q.text for q in queries]), strict=True):
        margin.add(answer.margin, query.expected)
    return times, plain, margin


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--aliases", type=int, default=300_000)
    parser.add_argument("--baseline-queries", type=int, default=1000)
    parser.add_argument("--http", action="store_true", help="also time POST /resolve")
    parser.add_argument("--before", metavar="REF", help="also run with this git revision's code")
    parser.add_argument("--rounds", type=int, default=1, help="turns of each code with --before")
    args = parser.parse_args()
    if args.before:
        same = ["--aliases", str(args.aliases), "--baseline-queries", str(args.baseline_queries)]
        arguments = [*same, *(["--http"] if args.http else [])]
        turn_about("benchmarks.resolve", args.before, arguments, args.rounds)
        return

    entities, queries = table_and_queries(args.aliases)
    aliases = sum(len(e.aliases) for e in entities)
    print(f"table: {len(entities):,} entities, {aliases:,} aliases (GeoNames cities500)")
    print(f"queries: {len(queries):,} held out of the table ({_kinds(queries)})")

    started = time.perf_counter()
    index = AliasIndex.build(entities)
    build = time.perf_counter() - started
    freeze_and_trim()  # as the service does after loading its index
    records, memory = measure(entities)
    print(
        f"index build: {build:.1f} s; memory: index {memory:.0f} MiB + records {records:.0f} MiB"
        f" = {(memory + records) / aliases * 1e5:.0f} MiB per 100k aliases"
    )

    times, outcome = run_engine(index, queries)
    print(f"engine    {summary_ms(times)}")
    p50, p99 = percentile(times, 0.5) * 1000, percentile(times, 0.99) * 1000
    print(
        f"engine    budget p50 <= {P50_BUDGET_MS} ms: {'met' if p50 <= P50_BUDGET_MS else 'MISSED'}"
        f"; p99 <= {P99_BUDGET_MS} ms: {'met' if p99 <= P99_BUDGET_MS else 'MISSED'}"
    )
    print(f"engine    {outcome.line()}")
    _, by_prominence = run_engine(index, queries, TieBreak.PROMINENCE)
    print(f"engine with tie_break=prominence  {by_prominence.line()}")
    sample = (
        queries[:: max(1, len(queries) // args.baseline_queries)] if args.baseline_queries else []
    )
    baseline_per_mention = None
    if sample:
        engine_times, engine_on_sample = run_engine(index, sample)
        base_times, plain, margin = run_baselines(entities, sample)
        print(f"baseline (ratio, transliterated, cutoff 85)  {summary_ms(base_times)}")
        print(f"baseline (ratio)         {plain.line()}")
        print(f"baseline (ratio+margin)  {margin.line()}")
        print(f"engine on the same sample {engine_on_sample.line()}")
        ratio = sum(base_times) / sum(engine_times)
        print(f"speed-up per mention over the baseline (same sample, same run): {ratio:.0f}x")
        baseline_per_mention = sum(base_times) / len(base_times)
    if args.http:
        from benchmarks.http import time_http_batches

        per_mention = time_http_batches(entities, queries)
        if baseline_per_mention is not None:
            share = per_mention / baseline_per_mention
            print(
                f"HTTP batches per mention vs the in-process baseline: {share:.4f}x the time"
                f" ({1 / share:.0f}x faster); budget <= {HTTP_SHARE_BUDGET}x: "
                f"{'met' if share <= HTTP_SHARE_BUDGET else 'MISSED'}"
            )
    print(f"peak memory of the run: {peak_rss_mib():.0f} MiB")


def _kinds(queries: list[Query]) -> str:
    kinds: dict[str, int] = {}
    for query in queries:
        kinds[query.kind] = kinds.get(query.kind, 0) + 1
    return ", ".join(f"{n:,} {kind}" for kind, n in kinds.items())


if __name__ == "__main__":
    main()
