"""Cache memory: a worker's resident memory under traffic that never repeats itself.

    python -m benchmarks.cache_memory [--seconds 240] [--before main] [--sample-every 10]

Starts ``alias-service serve`` (one worker, the shipped table in a new SQLite
file) and, for ``--seconds``, has two readers send made-up names and texts
that are never the same twice (one ``GET /resolve`` after another, one ``POST
/annotate`` after another) while an editor adds an alias one second and
deletes it the next, so that every second brings a new index snapshot. The
worker's RSS is sampled every ``--sample-every`` seconds; prints it at the
start (after a short warm-up), at its peak and at the end.

With ``--before REF`` (e.g. ``main``) the same run is made first with that git
revision's code, so the two stand side by side from one invocation. The
target: the worker stays under 200 MiB however varied the traffic.
"""

import argparse
import json
import random
import secrets
import tempfile
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.load import resolve_path
from benchmarks.scale import Code, codes_measured
from benchmarks.server import RunningServer, memory_mib, running_server
from benchmarks.soak import Editor

TARGET_MIB = 200
WARM_UP_SECONDS = 5
SYLLABLES = [c + v for c in "bdhklmnqrstz" for v in ("a", "u", "i", "o", "ar", "an", "ul")]
OTHER_SCRIPTS = ("کرا", "لاہور", "Мос", "ква", "北京", "Ñu", "Zü", "Ølo")
KNOWN = ("Karachi", "Tehreek-e-Taliban Pakistan", "ISKP", "Islamabad", "Daesh")
FILLER = ("the", "of", "and", "in", "met", "near", "said", "that", "was", "from", "with")


def made_up_word(rng: random.Random) -> str:
    word = "".join(rng.choices(SYLLABLES, k=rng.randint(1, 4)))
    if rng.random() < 0.1:
        word += rng.choice(OTHER_SCRIPTS)
    return word + (str(rng.randint(0, 99)) if rng.random() < 0.05 else "")


def made_up_name(rng: random.Random) -> str:
    return " ".join(made_up_word(rng).capitalize() for _ in range(rng.randint(1, 4)))


def made_up_text(rng: random.Random) -> str:
    parts = []
    for _ in range(rng.randint(5, 30)):
        roll = rng.random()
        if roll < 0.3:
            parts.append(made_up_name(rng))
        elif roll < 0.4:
            parts.append(rng.choice(KNOWN))
        else:
            parts.append(rng.choice(FILLER) if rng.random() < 0.7 else made_up_word(rng))
    return " ".join(parts) + "."


@dataclass
class Reads:
    done: int = 0
    errors: list[str] = field(default_factory=list)


def read(origin: str, rng: random.Random, annotating: bool) -> None:
    """One request of made-up text; raises on anything but 200."""
    if annotating:
        body = json.dumps({"text": made_up_text(rng)}).encode()
        request = urllib.request.Request(
            origin + "/annotate", body, {"Content-Type": "application/json"}
        )
    else:
        request = urllib.request.Request(origin + resolve_path(made_up_name(rng)))
    with urllib.request.urlopen(request, timeout=30) as response:
        response.read()


def reader(origin: str, seed: int, annotating: bool, stop: threading.Event, reads: Reads) -> None:
    rng = random.Random(seed)
    while not stop.is_set():
        try:
            read(origin, rng, annotating)
            reads.done += 1
        except (OSError, ValueError) as error:
            reads.errors.append(repr(error))


def worker_mib(server: RunningServer) -> float:
    """The resident memory of the server's worker (the largest process under it)."""
    found = memory_mib(server.pid)
    workers = [mib for name, mib in found.items() if name.startswith("worker")]
    return max(workers or found.values())


@dataclass
class Figures:
    label: str
    start: float
    peak: float
    end: float
    reads: int
    errors: int
    writes: int

    def line(self) -> str:
        verdict = "met" if self.peak < TARGET_MIB else "MISSED"
        return (
            f"[{self.label}] worker RSS MiB: start {self.start:.0f}, peak {self.peak:.0f},"
            f" end {self.end:.0f} (target < {TARGET_MIB}: {verdict}); {self.reads:,} reads,"
            f" {self.writes} writes, {self.errors} errors"
        )


def run(code: Code, seconds: int, sample_every: int) -> Figures:
    """The traffic for ``seconds`` against a server of ``code``, its worker sampled."""
    token = secrets.token_urlsafe(16)
    with running_server(workers=1, env={"ADMIN_TOKEN": token}, code=code.folder) as server:
        stop, reads = threading.Event(), Reads()
        readers = [
            threading.Thread(target=reader, args=(server.origin, n, n == 1, stop, reads))
            for n in range(2)
        ]
        for thread in readers:
            thread.start()
        try:
            time.sleep(WARM_UP_SECONDS)
            start = peak = worker_mib(server)
            print(
                f"[{code.label}] RSS MiB after a {WARM_UP_SECONDS} s warm-up: {start:.1f}",
                flush=True,
            )
            editor = Editor(server, token)
            began = time.monotonic()
            for second in range(1, seconds + 1):
                editor.step(second)
                if second % sample_every == 0:
                    now = worker_mib(server)
                    peak = max(peak, now)
                    print(f"[{code.label}] RSS MiB after {second} s: {now:.1f}", flush=True)
                time.sleep(max(0.0, began + second - time.monotonic()))
            end = worker_mib(server)
        finally:  # the readers stop with the run, however it ends
            stop.set()
            for thread in readers:
                thread.join()
    errors = len(reads.errors) + len(editor.writes.errors)
    for error in [*reads.errors, *editor.writes.errors][:10]:
        print(f"  [{code.label}] error: {error}")
    return Figures(code.label, start, max(peak, end), end, reads.done, errors, editor.writes.done)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=int, default=240)
    parser.add_argument("--sample-every", type=int, default=10, help="seconds between samples")
    parser.add_argument("--before", metavar="REF", help="also measure this git revision's code")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        codes = codes_measured(args.before, Path(folder))
        figures = [run(code, args.seconds, args.sample_every) for code in codes]
    print(f"\n{args.seconds} s each: two readers of made-up names and texts, an edit a second")
    for found in figures:
        print(found.line())


if __name__ == "__main__":
    main()
