"""Memory and start-up at scale: import, start and workers, on real processes.

    python -m benchmarks.scale [--import-aliases 400000] [--serve-aliases 1000000]
                               [--workers 2] [--skip-http] [--skip-import]
                               [--skip-serve] [--skip-workers] [--starts 1] [--before REF]

Builds alias files from GeoNames' cities500 (``benchmarks.common``) and prints:

* ``alias-service import`` of a YAML file of about 400k aliases and of the same
  table as JSON, and ``POST /admin/import`` of the JSON to a running server:
  wall time and peak resident memory (the importing process's, or the server's
  growth while it imported and refreshed its index), and the peak PSS of that
  process and its children together (the child that reads the file, the one
  that builds the index), sampled twice a second;
* ``alias-service serve`` on a table of a million aliases: seconds from start
  until ``/readyz`` answers 200, and resident memory then (``--starts`` times,
  the kept index deleted before each); and once more, with the index that the
  first start kept in ``INDEX_SNAPSHOT`` (a restart);
* ``serve --workers 1`` and ``--workers N`` on that table: PSS and USS
  (``/proc/PID/smaps_rollup``) of every process of the server, once their
  memory has settled, and what each worker past the first adds.

Every figure comes from fresh processes. With ``--before REF`` (e.g. ``main``)
each measurement is also made, in the same run and turn about, with the code of
that git revision (``git archive``; its processes run from that folder), so the
two are compared on the same machine at the same moment. The targets: import
<= 20 s and <= 600 MB; ready <= 15 s with <= 700 MiB; each extra worker <= a
quarter of the first.
"""

import argparse
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from app.aliasfile import dump_alias_file
from benchmarks.common import alias_file, table_and_queries

TOKEN = "benchmark-token"
HOST = "127.0.0.1"


def write_files(folder: Path, aliases: int) -> tuple[Path, Path]:
    """The table of about ``aliases`` aliases as YAML and as JSON.

    They are made in a child process: a process forked from this one would
    otherwise start with its memory, and report it as part of its own peak.
    """
    subprocess.run(
        [sys.executable, "-m", "benchmarks.scale", "--write-files", str(folder), str(aliases)],
        check=True,
    )
    return folder / f"table-{aliases}.yaml", folder / f"table-{aliases}.json"


def _write_files(folder: Path, aliases: int) -> None:
    entities, _ = table_and_queries(aliases)
    table = alias_file(entities)
    yaml_path, json_path = folder / f"table-{aliases}.yaml", folder / f"table-{aliases}.json"
    yaml_path.write_text(dump_alias_file(table), encoding="utf-8")
    json_path.write_text(table.model_dump_json(exclude_none=True), encoding="utf-8")


def mib(path: Path) -> str:
    return f"{path.stat().st_size / 2**20:.1f} MiB"


@dataclass(frozen=True)
class Code:
    """A version of the service: its label and the folder its processes run from."""

    label: str
    folder: Path


def checkout(ref: str, folder: Path) -> Code:
    """The code of git revision ``ref``, exported into ``folder``."""
    folder.mkdir()
    archive = subprocess.run(["git", "archive", ref], capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    return Code(ref, folder)


def codes_measured(before: str | None, folder: Path) -> list[Code]:
    """This code, after revision ``before``'s exported into ``folder`` when one is named."""
    now = Code("now", Path.cwd())
    return [checkout(before, folder / "before"), now] if before else [now]


def turn_about(module: str, before: str, arguments: list[str], rounds: int) -> None:
    """Benchmark ``module`` with ``arguments``, run with revision ``before``'s code
    and with this code, turn about (``rounds`` times each), each in a fresh process,
    so that both are measured on the machine at the same moment."""
    with tempfile.TemporaryDirectory() as folder:
        codes = codes_measured(before, Path(folder))
        for round_ in range(rounds):
            for code in codes:
                print(f"--- [{code.label}] round {round_ + 1}", flush=True)
                command = [sys.executable, "-m", module, *arguments]
                subprocess.run(command, cwd=code.folder, check=True)


@dataclass(frozen=True)
class Run:
    """A process run to its end: wall seconds, CPU seconds (user and system, its
    children's included), peak RSS, and the peak PSS of it and its children together."""

    seconds: float
    cpu: float
    peak_mib: float
    tree_peak_mib: float


def run_measured(command: list[str], env: dict[str, str], code: Code) -> Run:
    """Run ``command`` to its end and measure it.

    The CPU seconds are the steadier figure on a shared machine: waiting for
    a core that others use adds to the wall time, not to them.
    """
    started = time.perf_counter()
    process = subprocess.Popen(
        command, env=env, cwd=code.folder, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    with TreePeak(process.pid) as tree:
        _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    elapsed = time.perf_counter() - started
    if process.returncode:
        raise SystemExit(f"{' '.join(command)} failed ({process.returncode})")
    return Run(elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, tree.peak_mib)


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "app.cli", *args]


def import_command(path: Path, code: Code) -> list[str]:
    """``alias-service import`` of the table, whose cities share names (two Ottawas):
    a version that refuses shared forms is told to accept them."""
    refuses_shared = "--allow-shared" in (code.folder / "app" / "cli.py").read_text()
    return cli("import", str(path), *(["--allow-shared"] if refuses_shared else []))


def environment(database: Path) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{database}",
        "ADMIN_TOKEN": TOKEN,
    }


# --- servers -----------------------------------------------------------------------


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    origin: str
    ready_after: float


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def get(url: str, timeout: float = 5.0) -> int:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            response.read()
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


class NotReady(Exception):
    """The server did not answer /readyz 200 in time."""


# Five minutes: more than ten times the target, and twice what main needed for one worker.
READY_WITHIN = 300.0


@contextmanager
def server(env: dict[str, str], log: Path, code: Code, workers: int = 1) -> Iterator[Server]:
    """A running server, once ready; raises NotReady past READY_WITHIN seconds."""
    port = free_port()
    origin = f"http://{HOST}:{port}"
    command = cli("serve", "--host", HOST, "--port", str(port), "--workers", str(workers))
    started = time.perf_counter()
    with log.open("ab") as output:
        process = subprocess.Popen(
            command,
            env=env,
            cwd=code.folder,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its workers too can be killed as one group
        )
    try:
        while True:
            if process.poll() is not None:
                raise SystemExit(f"the server exited:\n{log.read_text()[-3000:]}")
            if time.perf_counter() - started > READY_WITHIN:
                raise NotReady(f"not ready after {READY_WITHIN:.0f} s")
            try:
                if get(f"{origin}/readyz", timeout=1) == 200:
                    break
            except OSError:
                pass
            time.sleep(0.05)
        yield Server(process, origin, time.perf_counter() - started)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def status_field(pid: int, name: str) -> float:
    """A ``kB`` field of /proc/PID/status, in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(name + ":"):
            return int(line.split()[1]) / 1024
    raise KeyError(name)


def process_tree(pid: int) -> list[int]:
    """``pid`` and all its descendants."""
    found, queue = [], [pid]
    while queue:
        current = queue.pop()
        found.append(current)
        for task in Path(f"/proc/{current}/task").iterdir():
            children = (task / "children").read_text().split()
            queue.extend(int(child) for child in children)
    return found


def pss_uss(pid: int) -> tuple[float, float]:
    """(PSS, USS) of one process in MiB, from /proc/PID/smaps_rollup."""
    fields: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        name, value, *_ = line.split()
        fields[name.rstrip(":")] = int(value)
    uss = fields["Private_Clean"] + fields["Private_Dirty"]
    return fields["Pss"] / 1024, uss / 1024


class TreePeak:
    """The largest PSS of a process and its descendants together (a child that
    reads an import's file, one that builds the index), sampled while in the block."""

    def __init__(self, pid: int, interval: float = 0.5) -> None:
        self.pid, self.peak_mib = pid, 0.0
        self._interval, self._done = interval, threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> "TreePeak":
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._done.set()
        self._thread.join()

    def _sample(self) -> None:
        while not self._done.wait(self._interval):
            total = 0.0
            try:
                for pid in process_tree(self.pid):
                    total += pss_uss(pid)[0]
            except (FileNotFoundError, ProcessLookupError):  # a process ended meanwhile
                continue
            self.peak_mib = max(self.peak_mib, total)


def settled_tree_memory(pid: int, origin: str) -> list[tuple[int, float, float]]:
    """Each process's (pid, PSS, USS) once the server's total PSS stops growing.

    Some requests go first, so that workers have served as they would.
    """
    previous, steady = -1.0, 0
    deadline = time.monotonic() + 180
    while steady < 3 and time.monotonic() < deadline:
        for _ in range(20):
            get(f"{origin}/resolve?q=Karachi")
        time.sleep(1)
        rows = [(p, *pss_uss(p)) for p in process_tree(pid)]
        total = sum(row[1] for row in rows)
        steady = steady + 1 if abs(total - previous) < max(2.0, 0.005 * total) else 0
        previous = total
    return rows


# --- the measurements ------------------------------------------------------------------


def measure_imports(folder: Path, aliases: int, http: bool, codes: list[Code]) -> None:
    yaml_path, json_path = write_files(folder, aliases)
    print(f"import: {aliases:,} aliases, YAML {mib(yaml_path)}, JSON {mib(json_path)}")
    for label, path in (("YAML", yaml_path), ("JSON", json_path)):
        for code in codes:
            env = environment(folder / f"import-{label}-{code.label}.db")
            run = run_measured(import_command(path, code), env, code)
            print(
                f"  [{code.label}] alias-service import ({label}):"
                f" {run.seconds:.1f} s ({run.cpu:.1f} s CPU), peak RSS {run.peak_mib:.0f} MiB,"
                f" with its children's PSS {run.tree_peak_mib:.0f} MiB"
            )
    if not http:
        return
    (folder / "empty.yaml").write_text("entities: []\n")
    for code in codes:
        env = environment(folder / f"import-http-{code.label}.db")
        env["ALIASES_FILE"] = str(folder / "empty.yaml")
        with server(env, folder / "import-http.log", code) as running:
            before = status_field(running.process.pid, "VmRSS")
            request = urllib.request.Request(
                # Versions without the parameter ignore it.
                f"{running.origin}/admin/import?allow_shared=true",
                data=json_path.read_bytes(),
                method="POST",
                headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
            )
            pid = running.process.pid
            started, cpu, children_cpu = (
                time.perf_counter(),
                _cpu_seconds(pid),
                _cpu_seconds(pid, children=True),
            )
            with TreePeak(pid) as tree, urllib.request.urlopen(request, timeout=3600) as answer:
                answer.read()
            seconds = time.perf_counter() - started
            cpu = _cpu_seconds(pid) - cpu
            peak = status_field(pid, "VmHWM")
            settled = settled_peak(pid)
            children_cpu = _cpu_seconds(pid, children=True) - children_cpu
        print(
            f"  [{code.label}] POST /admin/import (JSON): {seconds:.1f} s ({cpu:.1f} s CPU,"
            f" {children_cpu:.1f} s in its children) with the index refresh,"
            f" server peak RSS {peak:.0f} MiB (RSS {before:.0f} MiB before),"
            f" {settled:.0f} MiB once the work it started has ended;"
            f" with its children's PSS {tree.peak_mib:.0f} MiB"
        )


def settled_peak(pid: int, quiet: float = 10.0, within: float = 180.0) -> float:
    """The server's peak RSS (MiB) once it has been idle for ``quiet`` seconds: what the
    answer left running (an index compaction in the background) counts too."""
    deadline = time.monotonic() + within
    last_busy, cpu = time.monotonic(), _cpu_seconds(pid)
    while time.monotonic() - last_busy < quiet and time.monotonic() < deadline:
        time.sleep(1)
        now = _cpu_seconds(pid)
        if now - cpu > 0.2:  # more than the watching thread's polls
            last_busy = time.monotonic()
        cpu = now
    return status_field(pid, "VmHWM")


def _cpu_seconds(pid: int, *, children: bool = False) -> float:
    """User and system CPU seconds of the process so far (or of its children
    that have ended and been waited for)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    user = 13 if children else 11  # utime, stime; cutime, cstime
    return (int(fields[user]) + int(fields[user + 1])) / os.sysconf("SC_CLK_TCK")


def measure_serving(
    folder: Path,
    aliases: int,
    workers: int,
    codes: list[Code],
    *,
    starts_only: bool = False,
    starts: int = 1,
) -> None:
    yaml_path, _ = write_files(folder, aliases)
    databases = serving_databases(folder, yaml_path, aliases, codes)
    for start in range(starts):
        for code in codes:
            kept = folder / f"{code.label}.index"
            kept.unlink(missing_ok=True)  # a first start, every time
            env = {**environment(databases[code.label]), "INDEX_SNAPSHOT": str(kept)}
            with server(env, folder / "serve.log", code) as running:
                rss = status_field(running.process.pid, "VmRSS")
            print(
                f"  [{code.label}] serve: /readyz 200 after {running.ready_after:.1f} s,"
                f" RSS {rss:.0f} MiB"
            )
            if start == 0:
                measure_restart(folder, env, code)
    if starts_only:
        return
    for code in codes:
        totals = {}
        kept = folder / f"{code.label}.index"  # kept by its own starts
        env = {**environment(databases[code.label]), "INDEX_SNAPSHOT": str(kept)}
        for count in sorted({1, workers}):
            log = folder / f"workers-{count}-{code.label}.log"
            try:
                with server(env, log, code, workers=count) as running:
                    rows = settled_tree_memory(running.process.pid, running.origin)
            except NotReady as error:
                restarts = len(re.findall(r"Child process \[\d+\] died|exited \(", log.read_text()))
                print(
                    f"  [{code.label}] serve --workers {count}: {error};"
                    f" {restarts} workers died and were restarted meanwhile"
                )
                break
            total_pss = sum(row[1] for row in rows)
            totals[count] = total_pss
            detail = ", ".join(f"{pss:.0f}/{uss:.0f}" for _, pss, uss in rows)
            print(
                f"  [{code.label}] serve --workers {count}: {len(rows)} processes,"
                f" PSS total {total_pss:.0f} MiB (PSS/USS per process, MiB: {detail})"
            )
        if workers > 1 and workers in totals:
            extra = (totals[workers] - totals[1]) / (workers - 1)
            print(
                f"  [{code.label}] each worker past the first adds {extra:.0f} MiB PSS,"
                f" {extra / totals[1]:.2f} of one worker's {totals[1]:.0f} MiB"
            )


def serving_databases(
    folder: Path, yaml_path: Path, aliases: int, codes: list[Code]
) -> dict[str, Path]:
    """A database of the table for each code: imported once, by the oldest code
    (a newer one can migrate its schema, an older one cannot read a newer
    schema), copied, and each copy migrated by its code before it serves."""
    imported = folder / "serve.db"
    run = run_measured(import_command(yaml_path, codes[0]), environment(imported), codes[0])
    print(
        f"serve: {aliases:,} aliases (YAML {mib(yaml_path)}), imported by"
        f" [{codes[0].label}] in {run.seconds:.1f} s, peak RSS {run.peak_mib:.0f} MiB"
    )
    databases = {}
    for code in codes:
        databases[code.label] = folder / f"serve-{code.label}.db"
        shutil.copyfile(imported, databases[code.label])
        migrate = run_measured(cli("migrate"), environment(databases[code.label]), code)
        print(f"  [{code.label}] its copy migrated in {migrate.seconds:.1f} s")
    return databases


def measure_restart(folder: Path, env: dict[str, str], code: Code) -> None:
    """``serve`` again on the same table, once the first start has kept its index."""
    if not (code.folder / "app" / "matching" / "snapshot.py").exists():
        return  # a revision that keeps no index
    kept = Path(env["INDEX_SNAPSHOT"])
    deadline = time.monotonic() + READY_WITHIN
    while not kept.exists():
        if time.monotonic() > deadline:
            print(f"  [{code.label}] serve kept no index in {READY_WITHIN:.0f} s")
            return
        time.sleep(0.5)
    with server(env, folder / "serve.log", code) as running:
        rss = status_field(running.process.pid, "VmRSS")
    print(
        f"  [{code.label}] serve again, the index kept ({mib(kept)}): /readyz 200 after"
        f" {running.ready_after:.1f} s, RSS {rss:.0f} MiB"
    )


def main() -> None:
    if sys.argv[1:2] == ["--write-files"]:
        _write_files(Path(sys.argv[2]), int(sys.argv[3]))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--import-aliases", type=int, default=400_000)
    parser.add_argument("--serve-aliases", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--skip-http", action="store_true", help="no POST /admin/import")
    parser.add_argument("--skip-import", action="store_true")
    parser.add_argument("--skip-serve", action="store_true")
    parser.add_argument(
        "--skip-workers", action="store_true", help="serve: the first start and the restart only"
    )
    parser.add_argument(
        "--starts", type=int, default=1, help="serve: first starts of each code, turn about"
    )
    parser.add_argument("--before", metavar="REF", help="also measure this git revision's code")
    args = parser.parse_args()
    # Stopped by SIGTERM, it stops the servers it started (each in a session of
    # its own, which the signal to this one's group does not reach) and removes
    # its files, as it does when interrupted.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    with tempfile.TemporaryDirectory() as folder:
        codes = codes_measured(args.before, Path(folder))
        if not args.skip_import:
            measure_imports(Path(folder), args.import_aliases, not args.skip_http, codes)
        if not args.skip_serve:
            measure_serving(
                Path(folder),
                args.serve_aliases,
                args.workers,
                codes,
                starts_only=args.skip_workers,
                starts=args.starts,
            )


if __name__ == "__main__":
    main()
