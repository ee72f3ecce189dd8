"""Load test: a server with 2 workers on loopback, driven by wrk, endpoint by endpoint.

    python -m benchmarks.load [--seconds 10] [--connections 16] [--workers 2]

Each endpoint gets wrk for ``--seconds`` (after a short warm-up): ``GET
/healthz`` (the trivial baseline, measured first and last), ``GET /resolve``
with an exact alias and with a misspelt name, ``POST /resolve`` with a batch of
100 mentions and ``POST /annotate`` with a seed article. Prints requests/s,
p50, p99, errors and the server's CPU time per request for each, and ``GET
/resolve``'s requests/s as a share of ``/healthz``'s (target: at least 0.7),
beside the same share by CPU per request (steadier on a shared machine).
"""

import argparse
import json
import random
import statistics
import tempfile
import urllib.parse
import urllib.request
from pathlib import Path

from app.aliasfile import parse_alias_file
from app.resources import SHIPPED_ALIASES_FILE
from benchmarks import wrk
from benchmarks.annotate import SEEDS
from benchmarks.common import SEED, typo
from benchmarks.server import RunningServer, cpu_seconds, running_server

EXACT = "Tehreek-i-Taliban Pakistan"  # an alias of the shipped table, as written
FUZZY = "Tehrik-e-Talibaan Pakistn"  # two letters off
BATCH = 100
ARTICLE = SEEDS / "004_3f83086a5cd0dd51.txt"
TARGET = 0.7


def batch_mentions() -> list[str]:
    """BATCH of the shipped table's names and aliases, every second one misspelt."""
    table = parse_alias_file(SHIPPED_ALIASES_FILE.read_bytes())
    forms = [form for e in table.entities for form in (e.name, *(a.text for a in e.aliases))]
    rng = random.Random(SEED)
    chosen = rng.sample(forms, BATCH)
    return [typo(f, rng) if i % 2 and len(f) >= 6 else f for i, f in enumerate(chosen)]


def resolve_path(mention: str) -> str:
    return f"/resolve?q={urllib.parse.quote(mention)}"


def check(origin: str, path: str, body: bytes | None = None) -> dict:
    """One request before the load: it must answer 200; its JSON."""
    headers = {"Content-Type": "application/json"}
    request = urllib.request.Request(origin + path, data=body, headers=headers)
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 200, (path, response.status)
        answer: dict = json.loads(response.read())
        return answer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=10, help="per endpoint")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=1, help="wrk's threads")
    parser.add_argument("--workers", type=int, default=2, help="the server's workers")
    parser.add_argument("--database-url", help="default: a new SQLite file")
    args = parser.parse_args()
    load = wrk.Load(args.seconds, args.connections, args.threads)
    warm_up = wrk.Load(min(2.0, args.seconds), args.connections, args.threads)

    with tempfile.TemporaryDirectory() as folder:
        batch = Path(folder) / "batch.json"
        batch.write_text(json.dumps({"mentions": batch_mentions()}), encoding="utf-8")
        article = Path(folder) / "article.json"
        text = ARTICLE.read_text(encoding="utf-8")
        article.write_text(json.dumps({"text": text}), encoding="utf-8")
        runs: dict[str, tuple[str, str, tuple[str, ...]]] = {
            "GET /healthz": ("/healthz", "get.lua", ()),
            "GET /resolve, exact": (resolve_path(EXACT), "get.lua", ()),
            "GET /resolve, misspelt": (resolve_path(FUZZY), "get.lua", ()),
            f"POST /resolve, {BATCH} mentions": ("/resolve", "post.lua", (str(batch),)),
            f"POST /annotate, {len(text):,} chars": ("/annotate", "post.lua", (str(article),)),
        }
        with running_server(workers=args.workers, database_url=args.database_url) as server:
            describe(server.origin, batch.read_bytes(), article.read_bytes())
            for path, script, extra in runs.values():
                wrk.run(server.origin + path, warm_up, script, *extra)
            results = {
                name: measured(server, path, load, script, *extra)
                for name, (path, script, extra) in runs.items()
            }
            results["GET /healthz, again"] = measured(server, "/healthz", load, "get.lua")
    report(results, args)


def measured(
    server: RunningServer, path: str, load: wrk.Load, script: str, *extra: str
) -> tuple[wrk.WrkResult, float]:
    """wrk's figures, and the server's CPU microseconds per request meanwhile."""
    before = cpu_seconds(server.pid)
    result = wrk.run(server.origin + path, load, script, *extra)
    return result, (cpu_seconds(server.pid) - before) / max(result.requests, 1) * 1e6


def describe(origin: str, batch: bytes, article: bytes) -> None:
    """What the endpoints answer, checked once before the load."""
    for mention in (EXACT, FUZZY):
        answer = check(origin, resolve_path(mention))
        best = answer["candidates"][0]
        print(f"{mention!r}: {answer['status']} {best['id']} by {best['method']}")
    statuses = [r["status"] for r in check(origin, "/resolve", batch)["results"]]
    counts = {status: statuses.count(status) for status in sorted(set(statuses))}
    print(f"batch of {len(statuses)}: {counts}")
    mentions = check(origin, "/annotate", article)["mentions"]
    print(f"article {ARTICLE.name}: {len(mentions)} mentions\n")


def report(results: dict[str, tuple[wrk.WrkResult, float]], args: argparse.Namespace) -> None:
    print(
        f"wrk: {args.connections} connections, {args.threads} thread(s), "
        f"{args.seconds:g} s per endpoint; server: {args.workers} workers"
    )
    print(f"{wrk.HEADER} {'CPU us/req':>10}")
    for name, (result, cpu) in results.items():
        print(f"{result.row(name)} {cpu:>10.0f}")
    baselines = [results[name] for name in ("GET /healthz", "GET /healthz, again")]
    rate = statistics.fmean(result.rate for result, _ in baselines)
    cost = statistics.fmean(cpu for _, cpu in baselines)
    for name in ("GET /resolve, exact", "GET /resolve, misspelt"):
        result, cpu = results[name]
        share = result.rate / rate
        verdict = "meets" if share >= TARGET else "BELOW"
        print(
            f"{name} / GET /healthz (mean of both runs): requests/s {share:.2f} "
            f"({verdict} the {TARGET} target); by CPU per request {cost / cpu:.2f}"
        )
    print(f"errors in all: {sum(result.errors for result, _ in results.values())}")


if __name__ == "__main__":
    main()
