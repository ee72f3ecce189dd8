"""Building the index at scale: seconds and resident memory, and a digest of its answers.

    python -m benchmarks.index_build [--aliases 1000000] [--before REF] [--rounds 1]
                                     [--queries 3000] [--profile FILE]

Builds ``AliasIndex`` over GeoNames' cities500 (``benchmarks.common``) in a
fresh process and prints the build's seconds, the resident memory the index
adds (the records are loaded before it is measured) and a digest of what the
index answers: ``resolve`` of held-out queries and ``annotate`` of the seed
articles with the table's names written into them. Two revisions with the same
digest gave the same answers to every one of those requests.

With ``--before REF`` each round also builds with the code of that git
revision, turn about, so the two are compared on the machine at the same
moment. ``--profile FILE`` writes a cProfile of the build (this code only).
"""

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks.common import table_and_queries
from benchmarks.scale import Code, checkout

SEEDS = Path(__file__).resolve().parent.parent / "tests" / "data" / "seeds"

# Run in the measured revision's folder, so it may use only what every
# revision has: the records, AliasIndex.build, settle_heap, resolve, annotate.
CHILD = r"""
import cProfile, hashlib, json, os, sys, time
from app.live_index import settle_heap
from app.matching.annotate import annotate
from app.matching.index import AliasIndex, EntityRecord
from app.matching.resolve import resolve

def rss():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20

table = json.loads(open(sys.argv[1], encoding="utf-8").read())
profile = sys.argv[2]
records = [
    EntityRecord(e["id"], e["name"], e["type"], tuple(e["aliases"]), prominence=e["prominence"])
    for e in table["entities"]
]
del table["entities"]
before = rss()
started = time.perf_counter()
if profile:
    profiler = cProfile.Profile()
    index = profiler.runcall(AliasIndex.build, records)
    profiler.dump_stats(profile)
else:
    index = AliasIndex.build(records)
settle_heap()
seconds = time.perf_counter() - started
after = rss()
def shape(result):
    return (result.status, result.tie_break, [
        (c.entity.id, c.score, c.method, c.matched_alias, c.exchanged) for c in result.candidates
    ])

digest = hashlib.sha256()
for query in table["queries"]:
    digest.update(repr(shape(resolve(index, query))).encode())
for text in table["texts"]:
    for mention in annotate(index, text):
        digest.update(repr((mention.span, mention.text, mention.method,
                            shape(mention.resolution))).encode())
print(json.dumps({"seconds": seconds, "index_mib": after - before, "rss_mib": after,
                  "digest": digest.hexdigest()[:16]}))
"""


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


def measure(code: Code, table: Path, profile: str) -> dict[str, float | str]:
    output = subprocess.run(
        [sys.executable, "-c", CHILD, str(table), profile],
        cwd=code.folder,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    measured: dict[str, float | str] = json.loads(output.splitlines()[-1])
    return measured


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--aliases", type=int, default=1_000_000)
    parser.add_argument("--before", metavar="REF", help="also build with this git revision's code")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--queries", type=int, default=3000)
    parser.add_argument("--profile", default="", help="write a cProfile of this code's build")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        table = Path(folder) / "table.json"
        write_table(table, args.aliases, args.queries)
        codes = [Code("now", Path.cwd())]
        if args.before:
            codes.insert(0, checkout(args.before, Path(folder) / "before"))
        print(f"index build over about {args.aliases:,} aliases")
        for round_ in range(args.rounds):
            for code in codes:
                profile = args.profile if code.label == "now" and round_ == 0 else ""
                m = measure(code, table, str(Path(profile).resolve()) if profile else "")
                print(
                    f"  [{code.label}] build {m['seconds']:.1f} s, index {m['index_mib']:.0f} MiB"
                    f" (process RSS {m['rss_mib']:.0f} MiB), answers {m['digest']}"
                )


if __name__ == "__main__":
    main()
