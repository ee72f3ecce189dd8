"""Resolve at scale, beside a brute-force baseline measured in the same run.

    python -m benchmarks.resolve [--aliases 300000] [--baseline-queries 300] [--http]

Prints the index build time and memory, in-process resolve latency (p50,
p99), and accuracy and wrong matches on held-out queries, for the engine (also
with ``tie_break=prominence``, the population deciding between namesakes) and
for the baseline: ``rapidfuzz.process.extractOne`` over every alias (normal
forms, WRatio, cutoff 85), which always picks one alias and so always
guesses. With ``--http``, it also loads the table into a SQLite database,
starts ``alias-service serve`` and times ``POST /resolve`` batches per mention.
"""

import argparse
import time
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from app.live_index import settle_heap
from app.matching.index import AliasIndex, EntityRecord
from app.matching.normalize import normalize
from app.matching.resolve import Status, TieBreak, resolve
from benchmarks.common import Query, peak_rss_mib, summary_ms, table_and_queries
from benchmarks.memory import measure

BASELINE_CUTOFF = 85


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


def run_baseline(entities: list[EntityRecord], queries: list[Query]) -> tuple[list[float], Outcome]:
    choices, owners = [], []
    for entity in entities:
        for form in entity.surface_forms():
            choices.append(normalize(form))
            owners.append(entity.id)
    times, outcome = [], Outcome()
    for query in queries:
        started = time.perf_counter()
        best = process.extractOne(
            normalize(query.text), choices, scorer=fuzz.WRatio, score_cutoff=BASELINE_CUTOFF
        )
        times.append(time.perf_counter() - started)
        outcome.add(owners[best[2]] if best else None, query.expected)
    return times, outcome


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--aliases", type=int, default=300_000)
    parser.add_argument("--baseline-queries", type=int, default=300)
    parser.add_argument("--http", action="store_true", help="also time POST /resolve")
    args = parser.parse_args()

    entities, queries = table_and_queries(args.aliases)
    aliases = sum(len(e.aliases) for e in entities)
    print(f"table: {len(entities):,} entities, {aliases:,} aliases (GeoNames cities500)")
    print(f"queries: {len(queries):,} held out of the table ({_kinds(queries)})")

    started = time.perf_counter()
    index = AliasIndex.build(entities)
    build = time.perf_counter() - started
    settle_heap()  # as the service does after loading its index
    records, memory = measure(entities)
    print(
        f"index build: {build:.1f} s; memory: index {memory:.0f} MiB + records {records:.0f} MiB"
        f" = {(memory + records) / aliases * 1e5:.0f} MiB per 100k aliases"
    )

    times, outcome = run_engine(index, queries)
    print(f"engine    {summary_ms(times)}")
    print(f"engine    {outcome.line()}")
    _, by_prominence = run_engine(index, queries, TieBreak.PROMINENCE)
    print(f"engine with tie_break=prominence  {by_prominence.line()}")
    sample = (
        queries[:: max(1, len(queries) // args.baseline_queries)] if args.baseline_queries else []
    )
    baseline_per_mention = None
    if sample:
        engine_times, engine_on_sample = run_engine(index, sample)
        base_times, base_outcome = run_baseline(entities, sample)
        print(f"baseline  {summary_ms(base_times)}")
        print(f"baseline  {base_outcome.line()}")
        print(f"engine on the baseline's sample: {engine_on_sample.line()}")
        ratio = sum(base_times) / sum(engine_times)
        print(f"speed-up per mention over the baseline (same sample, same run): {ratio:.0f}x")
        baseline_per_mention = sum(base_times) / len(base_times)
    if args.http:
        from benchmarks.http import time_http_batches

        per_mention = time_http_batches(entities, queries)
        if baseline_per_mention is not None:
            ratio = baseline_per_mention / per_mention
            print(
                f"speed-up per mention over HTTP batches vs the in-process baseline: {ratio:.0f}x"
            )
    print(f"peak memory of the run: {peak_rss_mib():.0f} MiB")


def _kinds(queries: list[Query]) -> str:
    kinds: dict[str, int] = {}
    for query in queries:
        kinds[query.kind] = kinds.get(query.kind, 0) + 1
    return ", ".join(f"{n:,} {kind}" for kind, n in kinds.items())


if __name__ == "__main__":
    main()
