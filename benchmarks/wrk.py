"""Running wrk (Debian package ``wrk``) with the Lua scripts in ``benchmarks/lua``.

wrk keeps every connection busy (a closed loop): its latencies are those of a
saturated server, and requests/s is what the server can do at that concurrency.
"""

import json
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

LUA = Path(__file__).parent / "lua"
MARK = "WRK-JSON "


@dataclass(frozen=True)
class Load:
    """How hard and how long wrk drives the server."""

    seconds: float
    connections: int
    threads: int = 1


@dataclass(frozen=True)
class WrkResult:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int  # refused, broken or timed-out connections, and answers not 2xx or 3xx

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    def row(self, name: str) -> str:
        return (
            f"{name:<34} {self.rate:>9.1f} {self.p50_ms:>9.2f} {self.p99_ms:>9.2f}"
            f" {self.errors:>7d} {self.requests:>9d}"
        )


HEADER = f"{'':<34} {'req/s':>9} {'p50 ms':>9} {'p99 ms':>9} {'errors':>7} {'requests':>9}"


def command(url: str, load: Load, script: str = "get.lua", *args: str) -> list[str]:
    """The wrk command line: ``script`` (in benchmarks/lua) with ``args`` after ``--``."""
    binary = shutil.which("wrk")
    if binary is None:
        sys.exit("wrk is not installed (Debian: apt-get install wrk)")
    options = [f"-t{load.threads}", f"-c{load.connections}", f"-d{load.seconds:g}s"]
    return [binary, *options, "--timeout", "10s", "-s", str(LUA / script), url, *_after(args)]


def _after(args: tuple[str, ...]) -> list[str]:
    return ["--", *args] if args else []


def parse(output: str) -> WrkResult:
    """The figures ``lua/report.lua`` printed at the end of a run."""
    line = next(line for line in output.splitlines() if line.startswith(MARK))
    figures = json.loads(line.removeprefix(MARK))
    errors = sum(figures[k] for k in ("connect", "read", "write", "status", "timeout"))
    return WrkResult(
        requests=figures["requests"],
        seconds=figures["duration_us"] / 1e6,
        p50_ms=figures["p50_us"] / 1000,
        p99_ms=figures["p99_us"] / 1000,
        errors=errors,
    )


def run(url: str, load: Load, script: str = "get.lua", *args: str) -> WrkResult:
    """One wrk run, to its end."""
    done = subprocess.run(
        command(url, load, script, *args), capture_output=True, text=True, check=True
    )
    return parse(done.stdout)
