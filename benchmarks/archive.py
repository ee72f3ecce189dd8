"""Archive throughput: ``alias-service annotate`` on one core and on every core,
and a Dask local cluster, beside ``POST /annotate`` over HTTP in the same run.

    python -m benchmarks.archive [--records 4000] [--rounds 2]

The seed articles (``tests/data/seeds``), each a record with an ``id`` and
its ``text``, repeated to ``--records`` records and gzipped (the output is
gzipped too), are annotated on the shipped table by

* HTTP, the baseline: one ``POST /annotate`` per record, one after another on
  one keep-alive connection, to ``alias-service serve`` (one worker), each
  answer's mentions added to its record as the command does;
* ``alias-service annotate --workers 1`` and ``--workers N`` (N: the cores
  this process may use), timed by the command's own summary line (reading
  the input to writing the last record; not the start-up and index load);
* the README's Dask lines on a ``LocalCluster`` of N worker processes, over
  2 × N partitions (the annotator scattered to the workers counts);
* a control: N commands with ``--workers 1`` at once, each on the whole
  archive, counted per archive: what this machine gives N independent
  processes at that moment, the ceiling of any N-process figure beside it.

The works take turns round by round, and each figure is its best round, so
the machine's slow moments fall on all of them alike. Beside records per
second it prints the CPU seconds each used (this process and every process
under it), which a machine shared with other work does not inflate. The
articles repeat, so after the first few each process serves its names'
resolutions from its memo, as it does for the repeated names of real news.
"""

import argparse
import gzip
import http.client
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import orjson

from app.archive import annotate_partition, load_annotator, write_annotated
from app.bootstrap import prepare_database
from app.db import make_engine
from app.resources import SHIPPED_ALIASES_FILE
from app.settings import Settings
from benchmarks.server import RunningServer, cpu_seconds, running_server

SEEDS = Path(__file__).resolve().parent.parent / "tests" / "data" / "seeds"
SUMMARY_SECONDS = re.compile(r"records annotated .* in ([\d.]+) s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=4000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    cores = len(os.sched_getaffinity(0))
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        database_url = f"sqlite:///{work / 'bench.db'}"
        prepare_database(engine=make_engine(database_url), aliases_file=SHIPPED_ALIASES_FILE)
        texts = _write_archive(work, args.records, partitions=2 * cores)
        print(
            f"archive: {args.records:,} records of the seed articles "
            f"({sum(map(len, texts)) / len(texts) / 1000:.1f} K characters on average), "
            f"shipped table, {cores} cores; best of {args.rounds} rounds; "
            f"load average {os.getloadavg()[0]:.1f} at the start"
        )
        # The command's start-up (imports, index load) is not in its seconds:
        # its CPU seconds are taken out too, measured on an empty archive.
        (work / "empty.jsonl.gz").write_bytes(gzip.compress(b""))
        start_up = {n: _command(work, database_url, n, "empty")[1] for n in {1, cores}}
        with running_server(workers=1, database_url=database_url) as server, _dask(cores) as dask:
            works: dict[str, Callable[[], tuple[float, float]]] = {
                "POST /annotate over HTTP, 1 server worker": lambda: _over_http(
                    server, texts, work
                ),
                "annotate --workers 1": lambda: _less_start_up(
                    _command(work, database_url, 1), start_up[1]
                ),
                f"annotate --workers {cores}": lambda: _less_start_up(
                    _command(work, database_url, cores), start_up[cores]
                ),
                f"control: {cores} × annotate --workers 1 at once": lambda: _less_start_up(
                    _command(work, database_url, 1, copies=cores), start_up[1]
                ),
                f"Dask LocalCluster, {cores} worker processes": lambda: _on_dask(
                    dask, work, database_url, server.pid
                ),
            }
            best = _best_rounds(works, args.rounds)
        print(f"load average {os.getloadavg()[0]:.1f} at the end")
    _report(best, args.records, cores)


def _write_archive(folder: Path, records: int, *, partitions: int) -> list[str]:
    """The archive, gzipped, as one file (``news.jsonl.gz``) and in ``partitions`` parts."""
    articles = [path.read_text(encoding="utf-8") for path in sorted(SEEDS.glob("*.txt"))]
    texts = [articles[n % len(articles)] for n in range(records)]
    lines = [orjson.dumps({"id": n, "text": text}) + b"\n" for n, text in enumerate(texts)]
    (folder / "news.jsonl.gz").write_bytes(gzip.compress(b"".join(lines)))
    (folder / "parts").mkdir()
    share = -(-records // partitions)
    for number in range(partitions):
        part = gzip.compress(b"".join(lines[number * share : (number + 1) * share]))
        (folder / "parts" / f"news-{number:03}.jsonl.gz").write_bytes(part)
    return texts


def _best_rounds(
    works: dict[str, Callable[[], tuple[float, float]]], rounds: int
) -> dict[str, tuple[float, float]]:
    """Each work's best (seconds, CPU seconds) over ``rounds`` rounds taken in turn."""
    best: dict[str, tuple[float, float]] = {}
    for round_number in range(1, rounds + 1):
        for name, work in works.items():
            seconds, cpu = work()
            print(f"  round {round_number}: {name}: {seconds:.2f} s, {cpu:.1f} CPU s", flush=True)
            if name not in best or seconds < best[name][0]:
                best[name] = (seconds, cpu)
    return best


def _less_start_up(measured: tuple[float, float], start_up: float) -> tuple[float, float]:
    seconds, cpu = measured
    return seconds, cpu - start_up


def _own_cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_SELF)
    return used.ru_utime + used.ru_stime


def _ended_children_cpu() -> float:
    """CPU seconds of the processes this one started and waited for (and theirs)."""
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def _over_http(server: RunningServer, texts: list[str], folder: Path) -> tuple[float, float]:
    """Seconds, and CPU seconds of the server and of this client."""
    address = urlsplit(server.origin)
    cpu_before = cpu_seconds(server.pid) + _own_cpu()
    connection = http.client.HTTPConnection(address.hostname or "127.0.0.1", address.port)
    headers = {"Content-Type": "application/json"}
    started = time.perf_counter()
    with (folder / "http.jsonl").open("wb") as output:
        for n, text in enumerate(texts):
            connection.request("POST", "/annotate", orjson.dumps({"text": text}), headers)
            response = connection.getresponse()
            answer = orjson.loads(response.read())
            assert response.status == 200, answer
            output.write(orjson.dumps({"id": n, "text": text, **answer}) + b"\n")
    connection.close()
    seconds = time.perf_counter() - started
    return seconds, cpu_seconds(server.pid) + _own_cpu() - cpu_before


def _command(
    folder: Path, database_url: str, workers: int, archive: str = "news", *, copies: int = 1
) -> tuple[float, float]:
    """The seconds the command's summary line gives for its work, and the CPU
    seconds of the command and its workers. With ``copies``, that many commands
    annotate the archive at once, each to its own output, and both figures are
    per archive: the slowest one's seconds and their CPU seconds, over ``copies``."""
    cpu_before = _ended_children_cpu()
    source = folder / f"{archive}.jsonl.gz"
    running = []
    for copy in range(copies):
        output = folder / f"out-{workers}-{copy}.jsonl.gz"
        command = ["annotate", str(source), "-o", str(output), "--workers", str(workers)]
        running.append(
            subprocess.Popen(
                [sys.executable, "-m", "app.cli", *command],
                env={**os.environ, "DATABASE_URL": database_url},
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    seconds = [_summary_seconds(process, workers) for process in running]
    return max(seconds) / copies, (_ended_children_cpu() - cpu_before) / copies


def _summary_seconds(process: subprocess.Popen[str], workers: int) -> float:
    _, stderr = process.communicate()
    found = SUMMARY_SECONDS.search(stderr)
    if process.returncode != 0 or found is None:
        sys.exit(f"annotate --workers {workers} failed:\n{stderr}")
    return float(found.group(1))


class _dask:
    """A local Dask cluster of ``cores`` worker processes, a client of it, and
    the annotator loaded once (the README's ``load_annotator()``)."""

    def __init__(self, cores: int) -> None:
        self.cores = cores

    def __enter__(self) -> "_dask":
        from distributed import Client, LocalCluster

        self.cluster = LocalCluster(
            n_workers=self.cores,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        )
        self.client = Client(self.cluster)
        return self

    def __exit__(self, *_exc: object) -> None:
        self.client.close()
        self.cluster.close()


def _on_dask(dask: _dask, folder: Path, database_url: str, server: int) -> tuple[float, float]:
    """The README's lines: the annotator scattered once, then the partitions
    annotated. Seconds, and CPU seconds of this process (the client and the
    scheduler) and of the processes under it but the ``server``."""
    import dask.bag as db

    def cpu_so_far() -> float:
        return cpu_seconds(os.getpid()) - cpu_seconds(server)

    annotator = load_annotator(Settings(database_url=database_url))
    cpu_before = cpu_so_far()
    started = time.perf_counter()
    shipped = dask.client.scatter(annotator, broadcast=True)
    results = db.read_text(
        str(folder / "parts" / "news-*.jsonl.gz"), include_path=True
    ).map_partitions(annotate_partition, shipped)
    skipped = write_annotated(results, str(folder / "dask" / "annotated-*.jsonl.gz"))
    if skipped:
        sys.exit(f"the Dask run skipped lines: {skipped[0]}")
    return time.perf_counter() - started, cpu_so_far() - cpu_before


def _report(best: dict[str, tuple[float, float]], records: int, cores: int) -> None:
    http_name, one_core_name, all_cores_name, control_name, _ = best
    rate = {name: records / seconds for name, (seconds, _) in best.items()}
    print(f"\n{'':46} {'records/s':>9} {'× HTTP':>7} {'× 1 core':>8} {'CPU s':>6} {'rec/CPU s':>9}")
    for name, (_, cpu) in best.items():
        print(
            f"{name:46} {rate[name]:9,.0f} {rate[name] / rate[http_name]:7.2f}"
            f" {rate[name] / rate[one_core_name]:8.2f} {cpu:6.1f} {records / cpu:9,.0f}"
        )
    scaling = rate[all_cores_name] / rate[one_core_name]
    ceiling = rate[control_name] / rate[one_core_name]
    print(
        f"\n{cores} cores give {scaling:.2f} × one core "
        f"(the target: at least {0.8 * cores:.1f}, 0.8 × {cores}); {cores} independent "
        f"processes got {ceiling:.2f} × one from this machine at the time"
    )


if __name__ == "__main__":
    main()
