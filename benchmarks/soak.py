"""Soak: a server with 2 workers under steady reads and an admin write every second.

    python -m benchmarks.soak [--seconds 300] [--connections 4] [--database-url URL]

wrk reads for the whole time (``GET /resolve`` exact, misspelt and unknown
mentions, ``GET /entities/{id}``, ``/healthz`` in turn) while an editor adds an
alias one second and deletes it the next; before deleting, the alias must
resolve (every worker serves an edit within a second). Prints the reads'
figures, the writes and every error, and the resident memory of the server's
processes at the start (after a warm-up) and at the end, with samples between.
"""

import argparse
import json
import secrets
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks import wrk
from benchmarks.load import EXACT, FUZZY, resolve_path
from benchmarks.server import RunningServer, memory_mib, running_server

ENTITY = "ttp"
READS = [
    resolve_path(EXACT),
    resolve_path(FUZZY),
    resolve_path("Quorvel Umbrata"),  # unmatched
    f"/entities/{ENTITY}",
    "/healthz",
]


@dataclass
class Writes:
    done: int = 0
    errors: list[str] = field(default_factory=list)


class Editor:
    """Adds an alias, then (a second later, once it resolves) deletes it."""

    def __init__(self, server: RunningServer, token: str) -> None:
        self.origin = server.origin
        self.headers = {"Authorization": f"Bearer {token}"}
        self.pending: tuple[int, str] | None = None  # the alias added, not yet deleted
        self.writes = Writes()

    def step(self, number: int) -> None:
        try:
            if self.pending is None:
                self._add(f"Soak Probe {number}")
            else:
                self._delete(*self.pending)
        except (OSError, AssertionError, ValueError) as error:
            self.writes.errors.append(f"write {number}: {error!r}")
            self.pending = None

    def _add(self, text: str) -> None:
        status, body = self._send("POST", f"/admin/entities/{ENTITY}/aliases", {"text": text})
        assert status == 201, (status, body)
        self.pending = (json.loads(body)["id"], text)
        self.writes.done += 1

    def _delete(self, alias_id: int, text: str) -> None:
        status, body = self._send("GET", resolve_path(text))
        served = json.loads(body).get("entity") if status == 200 else None
        if served is None or served["id"] != ENTITY:
            self.writes.errors.append(f"{text!r} not served a second after it was added: {body}")
        status, body = self._send("DELETE", f"/admin/entities/{ENTITY}/aliases/{alias_id}")
        assert status == 204, (status, body)
        self.pending = None
        self.writes.done += 1

    def _send(self, method: str, path: str, body: object = None) -> tuple[int, str]:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.origin + path, data=data, method=method, headers=self.headers
        )
        request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            with error:
                return error.code, error.read().decode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=int, default=300)
    parser.add_argument("--connections", type=int, default=4, help="wrk's, for the reads")
    parser.add_argument("--workers", type=int, default=2, help="the server's workers")
    parser.add_argument("--sample-every", type=int, default=60, help="seconds between samples")
    parser.add_argument("--database-url", help="an empty database; default: a new SQLite file")
    args = parser.parse_args()
    token = secrets.token_urlsafe(16)
    with (
        tempfile.TemporaryDirectory() as folder,
        running_server(
            workers=args.workers, database_url=args.database_url, env={"ADMIN_TOKEN": token}
        ) as server,
    ):
        paths = Path(folder) / "paths.txt"
        paths.write_text("\n".join(READS) + "\n", encoding="utf-8")
        wrk.run(server.origin + "/", wrk.Load(5, args.connections), "paths.lua", str(paths))
        start = memory_mib(server.pid)
        print_memory("start (after a 5 s warm-up)", start)
        reads = wrk.Load(args.seconds, args.connections)
        reader = subprocess.Popen(
            wrk.command(server.origin + "/", reads, "paths.lua", str(paths)),
            stdout=subprocess.PIPE,
            text=True,
        )
        editor = Editor(server, token)
        began = time.monotonic()
        for second in range(1, args.seconds + 1):
            editor.step(second)
            if second % args.sample_every == 0:
                print_memory(f"after {second} s", memory_mib(server.pid))
            time.sleep(max(0.0, began + second - time.monotonic()))
        output, _ = reader.communicate(timeout=60)
        end = memory_mib(server.pid)
    report(wrk.parse(output), editor.writes, start, end, args)


def print_memory(when: str, memory: dict[str, float]) -> None:
    parts = ", ".join(f"{name} {mib:.1f}" for name, mib in memory.items())
    print(f"RSS MiB {when}: {parts}; total {sum(memory.values()):.1f}", flush=True)


def report(
    reads: wrk.WrkResult,
    writes: Writes,
    start: dict[str, float],
    end: dict[str, float],
    args: argparse.Namespace,
) -> None:
    print(f"\n{args.seconds} s, {args.workers} workers, wrk on {args.connections} connections")
    print(wrk.HEADER)
    print(reads.row("reads (5 kinds in turn)"))
    print(f"writes: {writes.done} done, {len(writes.errors)} errors")
    for error in writes.errors[:20]:
        print(f"  {error}")
    print_memory("at the start", start)
    print_memory("at the end", end)
    for name in start:
        if name in end:
            print(f"  {name}: {end[name] - start[name]:+.1f} MiB")
    growth = sum(end.values()) - sum(start.values())
    print(f"total: {growth:+.1f} MiB; errors: {reads.errors + len(writes.errors)}")


if __name__ == "__main__":
    main()
