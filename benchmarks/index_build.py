"""Building the index at scale: seconds and resident memory, and a digest of its answers.

    python -m benchmarks.index_build [--aliases 1000000] [--before REF] [--rounds 1]
                                     [--queries 3000] [--profile FILE] [--workers N]

Builds ``AliasIndex`` over GeoNames' cities500 (``benchmarks.common``) in a
fresh process and prints the build's seconds, the resident memory the index
adds (the records are loaded before it is measured) and a digest of what the
index answers, for the index built and for the same index written to a
snapshot file and read back in another fresh process
(``app.matching.snapshot``): ``resolve`` of held-out queries and ``annotate`` of the seed
articles with the table's names written into them. Two revisions with the same
digest gave the same answers to every one of those requests.

With ``--before REF`` each round also builds with the code of that git
revision, turn about, so the two are compared on the machine at the same
moment. ``--workers N`` (default: the usable CPUs) builds with this code
twice a round, in one process and with N worker processes (``BUILD_WORKERS``),
so that the two are compared in the same run; 1 builds once, in one process.
``--profile FILE`` writes a cProfile of the build (this code only, in one
process).
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from app.matching.derived_forms import usable_cores
from benchmarks.common import table_and_queries
from benchmarks.scale import Code, checkout

SEEDS = Path(__file__).resolve().parent.parent / "tests" / "data" / "seeds"

# Run in the measured revision's folder, so it may use only what every
# revision has: the records, AliasIndex.build, the heap settled after it, resolve, annotate.
COMMON = r"""
import cProfile, hashlib, json, os, sys, time
try:
    from app.heap import freeze_and_trim
except ImportError:  # a revision that named it live_index.settle_heap
    from app.live_index import settle_heap as freeze_and_trim
from app.matching.annotate import annotate
from app.matching.index import AliasIndex, EntityRecord
from app.matching.resolve import resolve

def rss():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20

def shape(result):
    return (result.status, result.tie_break, [
        (c.entity.id, c.score, c.method, c.matched_alias, c.exchanged) for c in result.candidates
    ])

def report(index, table, seconds, before):
    after = rss()
    digest = hashlib.sha256()
    for query in table["queries"]:
        digest.update(repr(shape(resolve(index, query))).encode())
    for text in table["texts"]:
        for mention in annotate(index, text):
            digest.update(repr((mention.span, mention.text, mention.method,
                                shape(mention.resolution))).encode())
    print(json.dumps({"seconds": seconds, "index_mib": after - before, "rss_mib": after,
                      "digest": digest.hexdigest()[:16]}))

table = json.loads(open(sys.argv[1], encoding="utf-8").read())
"""

BUILD = (
    COMMON
    + r"""
import inspect
profile, kept, workers = sys.argv[2], sys.argv[3], int(sys.argv[4])
# Revisions before BUILD_WORKERS build in one process.
takes_workers = "workers" in inspect.signature(AliasIndex.build).parameters
options = {"workers": workers} if takes_workers else {}
records = [
    EntityRecord(e["id"], e["name"], e["type"], tuple(e["aliases"]), prominence=e["prominence"])
    for e in table["entities"]
]
del table["entities"]
before = rss()
started = time.perf_counter()
if profile:
    profiler = cProfile.Profile()
    index = profiler.runcall(AliasIndex.build, records, **options)
    profiler.dump_stats(profile)
else:
    index = AliasIndex.build(records, **options)
freeze_and_trim()
report(index, table, time.perf_counter() - started, before)
if kept:
    from pathlib import Path
    from app.matching.snapshot import write_snapshot
    write_snapshot(Path(kept), index.base, "benchmark")
"""
)

# Reads back the index that BUILD kept: only for revisions that keep one.
READ_BACK = (
    COMMON
    + r"""
from pathlib import Path
from app.matching.snapshot import read_snapshot
del table["entities"]
before = rss()
started = time.perf_counter()
index = AliasIndex(base=read_snapshot(Path(sys.argv[2]), "benchmark"))
freeze_and_trim()
report(index, table, time.perf_counter() - started, before)
"""
)


def write_table(path: Path, aliases: int, queries: int) -> None:
    """The records, some held-out queries and texts that name the table's places, as JSON."""
    entities, held_out = table_and_queries(aliases)
    articles = [p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt"))]
    step = max(1, len(entities) // 400)
    names = ", ".join(
        f"{e.name} and {e.aliases[0] if e.aliases else e.name}" for e in entities[::step]
    )
    table = {
        "entities": [
            {
                "id": e.id,
                "name": e.name,
                "type": e.type,
                "aliases": list(e.aliases),
                "prominence": e.prominence,
            }
            for e in entities
        ],
        "queries": [q.text for q in held_out[:: max(1, len(held_out) // queries)]],
        "texts": [*articles, f"Visits to {names}."],
    }
    path.write_text(json.dumps(table), encoding="utf-8")


def measure(code: Code, script: str, *args: str) -> dict[str, float | str]:
    output = subprocess.run(
        [sys.executable, "-c", script, *args],
        cwd=code.folder,
        # Among candidates of equal score, a set's order may decide which are
        # listed: one hash seed for every process, so that digests compare.
        env={**os.environ, "PYTHONHASHSEED": "0"},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    measured: dict[str, float | str] = json.loads(output.splitlines()[-1])
    return measured


def line(label: str, what: str, m: dict[str, float | str]) -> str:
    return (
        f"  [{label}] {what} {m['seconds']:.1f} s, index {m['index_mib']:.0f} MiB"
        f" (process RSS {m['rss_mib']:.0f} MiB), answers {m['digest']}"
    )


def keeps_index(code: Code) -> bool:
    return (code.folder / "app" / "matching" / "snapshot.py").exists()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--aliases", type=int, default=1_000_000)
    parser.add_argument("--before", metavar="REF", help="also build with this git revision's code")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--queries", type=int, default=3000)
    parser.add_argument("--profile", default="", help="write a cProfile of this code's build")
    parser.add_argument(
        "--workers",
        type=int,
        default=usable_cores(),
        help="also build with this code by so many worker processes (default: the usable CPUs)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        table = Path(folder) / "table.json"
        write_table(table, args.aliases, args.queries)
        codes = [Code("now", Path.cwd())]
        if args.before:
            codes.insert(0, checkout(args.before, Path(folder) / "before"))
        print(f"index build over about {args.aliases:,} aliases")
        builds = [(code, 1) for code in codes]
        if args.workers > 1:
            builds.append((codes[-1], args.workers))
        for round_ in range(args.rounds):
            for code, workers in builds:
                profile = args.profile if (code.label, workers, round_) == ("now", 1, 0) else ""
                kept = str(Path(folder) / f"{code.label}.index") if keeps_index(code) else ""
                profile = str(Path(profile).resolve()) if profile else ""
                what = "build" if workers == 1 else f"build, {workers} workers"
                built = measure(code, BUILD, str(table), profile, kept, str(workers))
                print(line(code.label, what, built))
                if kept:
                    read = measure(code, READ_BACK, str(table), kept)
                    print(line(code.label, "read back from INDEX_SNAPSHOT", read))


if __name__ == "__main__":
    main()
