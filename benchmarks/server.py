"""A real ``alias-service serve`` with workers, for the load and soak benchmarks,
and the resident memory of its processes."""

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

STARTUP_TIMEOUT = 120.0


@dataclass(frozen=True)
class RunningServer:
    origin: str
    pid: int  # the process that was started: uvicorn's supervisor of the workers
    log: Path


@contextmanager
def running_server(
    *,
    workers: int,
    database_url: str | None = None,
    env: dict[str, str] | None = None,
    code: Path | None = None,
) -> Iterator[RunningServer]:
    """``alias-service serve --workers N`` on a free loopback port, every worker
    started when yielded. Without ``database_url``, a new SQLite file (the
    shipped table is loaded into it). With ``code``, the code of that folder
    (an exported git revision) serves."""
    with tempfile.TemporaryDirectory() as folder:
        port = _free_port()
        log = Path(folder) / "server.log"
        url = database_url or f"sqlite:///{Path(folder) / 'bench.db'}"
        command = [sys.executable, "-m", "app.cli", "serve", "--port", str(port)]
        with log.open("wb") as output:
            process = subprocess.Popen(
                [*command, "--workers", str(workers)],
                env={**os.environ, "DATABASE_URL": url, **(env or {})},
                stdout=output,
                stderr=subprocess.STDOUT,
                cwd=code,
            )
        server = RunningServer(origin=f"http://127.0.0.1:{port}", pid=process.pid, log=log)
        try:
            _wait_for_workers(server, process, workers)
            yield server
        finally:
            process.terminate()
            process.wait(timeout=60)


def _wait_for_workers(server: RunningServer, process: subprocess.Popen[bytes], n: int) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while server.log.read_text(errors="replace").count("Application startup complete") < n:
        if process.poll() is not None or time.monotonic() > deadline:
            sys.exit(f"the server did not start:\n{server.log.read_text(errors='replace')}")
        time.sleep(0.2)
    with urllib.request.urlopen(f"{server.origin}/readyz", timeout=10) as response:
        assert response.status == 200


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def memory_mib(root: int) -> dict[str, float]:
    """Resident memory (MiB) of ``root`` and of every process under it, by a
    label: ``supervisor`` for ``root``, then ``worker <pid>`` and the like."""
    page = os.sysconf("SC_PAGE_SIZE") / 2**20
    found: dict[str, float] = {}
    for pid in _descendants(root):
        try:
            resident = int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * page
        except OSError:  # it ended meanwhile
            continue
        # With --workers N the workers are forked from the supervisor, its children.
        role = "supervisor" if pid == root else "worker"
        found[f"{role} {pid}"] = resident
    return found


def cpu_seconds(root: int) -> float:
    """CPU time (user and system) spent so far by ``root`` and every process under it."""
    ticks = 0
    for pid in _descendants(root):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def _descendants(root: int) -> list[int]:
    """``root`` and every process under it."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found
