"""Instructions per unit of work, counted by callgrind: before and after, on a noisy machine.

    python -m benchmarks.instructions [--before REF] [--seeds 3] [--work annotate,resolve]
                                      [--jobs 2]

On the project's shared machine the wall time of the same work varies by 5 to
15 % from one round to the next, more than the differences a change must be
shown to stay within. The instructions a process runs do not vary: for the
same interpreter, code, inputs and environment, ``valgrind --tool=callgrind``
counts the same total every time. The hash seed does move them (the order of
sets and dictionaries of strings, a few per cent), so each figure is counted
under the fixed seeds ``PYTHONHASHSEED`` = 1, 2, ... ``--seeds``; each is
printed, and their mean.

Each work runs in a child process under callgrind twice: once with its setup
alone (inputs read, index built and its heap frozen as the service does after
loading one, one warm-up call so that the caches are warm as in a running
service) and once with ``COUNTED_CALLS`` calls more. The difference of the
two totals, per call and per unit, is the figure:

* annotate: instructions per character of ``annotate(index, text)`` over the
  seed articles (their first 250,000 characters), on the shipped table and on
  a GeoNames table of about 20,000 aliases beside it;
* resolve: instructions per query of ``resolve(index, query)`` over the
  queries held out of a GeoNames table of about 20,000 aliases.

The inputs are made once, by this code, and handed to every child as a file,
so that every code counts the same work. With ``--before REF`` the code of
that git revision (``git archive``) is counted too, turn about with this code,
and each figure is printed beside the other with the ratio now/before. The
child is this file, run by path with the counted code's folder as its working
directory and ``PYTHONPATH``; it imports only engine functions that both have.

Python runs about 50 times slower under callgrind: the whole run, 3 seeds and
two codes, takes 28 minutes of CPU, 15 on two cores with ``--jobs 2`` (the
children counted at a time; what one counts does not depend on the others).
"""

import argparse
import importlib
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

# Only the standard library is imported at run time here: the child runs this
# file with another revision's code, whose modules may differ from this one's.
if TYPE_CHECKING:
    from app.matching.index import AliasIndex, EntityRecord
    from benchmarks.scale import Code

ANNOTATED_CHARS = 250_000
GEONAMES_ALIASES = 20_000
RESOLVED_QUERIES = 1_000
COUNTED_CALLS = 2
WORKS = ("annotate", "resolve")
COLLECTED = re.compile(r"^==\d+== Collected : (\d+)$", re.MULTILINE)


@dataclass(frozen=True)
class Measurement:
    """One figure: a work of the engine over its inputs, counted per unit."""

    label: str
    work: str  # "annotate" or "resolve", what the child calls for each text
    inputs: Path  # the entities and the texts, as JSON
    units: int  # characters annotated or queries resolved by one call over all the texts
    unit: str


# --- the child, run under callgrind --------------------------------------------------


def run_work(work: str, inputs: Path, times: int) -> None:
    """Set ``work`` up on its inputs, call it once to warm up and ``times`` more,
    then leave at once: freeing what was made is no part of the figure."""
    import app

    index, texts = read_inputs(inputs)
    heap_settler()()
    call = {"annotate": annotate_all, "resolve": resolve_all}[work]
    found = call(index, texts)
    for _ in range(times):
        call(index, texts)
    print(json.dumps({"app": app.__file__, "found": found}), flush=True)
    os._exit(0)


def read_inputs(inputs: Path) -> tuple["AliasIndex", list[str]]:
    from app.matching.index import AliasIndex, EntityRecord

    data = json.loads(inputs.read_text(encoding="utf-8"))
    entities = [
        EntityRecord(**{name: as_tuples(value) for name, value in fields.items()})
        for fields in data["entities"]
    ]
    return AliasIndex.build(entities), data["texts"]


def as_tuples(value: Any) -> Any:
    """JSON's lists as the tuples an entity record holds."""
    return tuple(as_tuples(item) for item in value) if isinstance(value, list) else value


def heap_settler() -> Callable[[], None]:
    """What the service calls once its index is loaded: ``gc.freeze`` and a trim of
    the C heap. Named ``app.live_index.settle_heap`` before ``app.heap`` existed."""
    try:
        from app.heap import freeze_and_trim
    except ImportError:
        settle_heap: Callable[[], None] = importlib.import_module("app.live_index").settle_heap
        return settle_heap
    return freeze_and_trim


def annotate_all(index: "AliasIndex", texts: Iterable[str]) -> int:
    """Annotate each text; the number of mentions found."""
    from app.matching.annotate import annotate

    return sum(len(annotate(index, text)) for text in texts)


def resolve_all(index: "AliasIndex", texts: Iterable[str]) -> int:
    """Resolve each query; the number matched."""
    from app.matching.resolve import resolve

    return sum(resolve(index, text).status.value == "matched" for text in texts)


# --- the inputs ------------------------------------------------------------------------


def write_inputs(folder: Path, name: str, entities: list["EntityRecord"], texts: list[str]) -> Path:
    """The entities and the texts as one JSON file, which every code reads alike."""
    path = folder / f"{name}.json"
    table = [asdict(entity) for entity in entities]
    path.write_text(json.dumps({"entities": table, "texts": texts}), encoding="utf-8")
    return path


def measurements(works: list[str], folder: Path) -> list[Measurement]:
    """The figures of ``works``, their inputs written into ``folder``."""
    from benchmarks.annotate import corpus, shipped_entities
    from benchmarks.common import table_and_queries

    shipped = shipped_entities()
    geonames, queries = table_and_queries(GEONAMES_ALIASES)
    geonames_aliases = sum(len(entity.aliases) for entity in geonames)
    text = corpus()[:ANNOTATED_CHARS]
    chosen = []
    if "annotate" in works:
        chars = f"{len(text):,} chars"
        chosen += [
            Measurement(
                f"annotate, shipped table, {chars}",
                "annotate",
                write_inputs(folder, "annotate-shipped", shipped, [text]),
                len(text),
                "char",
            ),
            Measurement(
                f"annotate, GeoNames {geonames_aliases:,} aliases + shipped table, {chars}",
                "annotate",
                # The seed articles' entities are in the large table too.
                write_inputs(folder, "annotate-geonames", geonames + shipped, [text]),
                len(text),
                "char",
            ),
        ]
    if "resolve" in works:
        held_out = [query.text for query in queries[:RESOLVED_QUERIES]]
        chosen.append(
            Measurement(
                f"resolve, GeoNames {geonames_aliases:,} aliases, {len(held_out):,} queries",
                "resolve",
                write_inputs(folder, "resolve-geonames", geonames, held_out),
                len(held_out),
                "query",
            )
        )
    return chosen


# --- counting --------------------------------------------------------------------------


def child_command(measurement: Measurement, times: int) -> list[str]:
    """This file run by path (``-P``: its own folder, whose modules are named as
    the standard library's ``http``, is not put first on the import path)."""
    script = str(Path(__file__).resolve())
    return [
        *(sys.executable, "-P", script, "--run", measurement.work),
        *("--inputs", str(measurement.inputs), "--times", str(times)),
    ]


def run_child(command: list[str], code: "Code", seed: int) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PYTHONHASHSEED": str(seed),
        "PYTHONPATH": str(code.folder),
        # numpy's OpenBLAS otherwise starts threads that spin while they wait for
        # work; how long they spin depends on timing, millions of instructions more or less.
        "OPENBLAS_NUM_THREADS": "1",
    }
    result = subprocess.run(command, cwd=code.folder, env=env, capture_output=True, text=True)
    if result.returncode:
        raise SystemExit(f"[{code.label}] {' '.join(command)} failed:\n{result.stderr[-3000:]}")
    report = json.loads(result.stdout.splitlines()[-1])
    if not Path(report["app"]).resolve().is_relative_to(code.folder.resolve()):
        raise SystemExit(f"[{code.label}] the child imported {report['app']}, not this code's app")
    return result


def prepare(code: "Code", measurement: Measurement) -> None:
    """Run the child once without callgrind: it fails here, not after minutes under
    it, and the code's modules are compiled now, not in the first counted run only
    (which would then count the compiling in its setup and not the other's)."""
    run_child(child_command(measurement, 0), code, seed=1)


@dataclass(frozen=True)
class Counted:
    """What callgrind counted in one child, and what its warm-up call found."""

    instructions: int
    found: int


def collected(code: "Code", measurement: Measurement, seed: int, times: int) -> Counted:
    """The instructions of the child that calls the work ``times`` times after warming up."""
    valgrind = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null"]
    result = run_child([*valgrind, *child_command(measurement, times)], code, seed)
    match = COLLECTED.search(result.stderr)
    if match is None:
        raise SystemExit(f"no instruction count from callgrind:\n{result.stderr[-3000:]}")
    return Counted(int(match.group(1)), json.loads(result.stdout.splitlines()[-1])["found"])


Runs = dict[tuple[str, int, int], Counted]  # by code, seed and the calls counted


def per_unit(counted: Runs, label: str, seed: int, measurement: Measurement) -> float:
    """Instructions per unit of one counted call, with the code and seed given."""
    setup, total = counted[label, seed, 0], counted[label, seed, COUNTED_CALLS]
    return (total.instructions - setup.instructions) / COUNTED_CALLS / measurement.units


def figure(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:.1f}"


def line(measurement: Measurement, codes: list["Code"], by_seed: dict[str, list[float]]) -> str:
    """The mean of each code, the ratio now/before with two, and each seed's figures."""
    means = [statistics.fmean(by_seed[code.label]) for code in codes]
    shown = [f"[{code.label}] {figure(mean)}" for code, mean in zip(codes, means, strict=True)]
    shown[0] += f" instr/{measurement.unit}"
    seeds = zip(*(by_seed[code.label] for code in codes), strict=True)
    detail = ", ".join(
        f"{seed}: {'/'.join(figure(value) for value in values)}"
        for seed, values in enumerate(seeds, start=1)
    )
    if len(codes) == 1:
        return f"{measurement.label}: {shown[0]}  (seeds {detail})"
    ratio = means[1] / means[0]
    return (
        f"{measurement.label}: {'  '.join(shown)}  now/before {ratio:.3f}"
        f"  (seeds, before/now: {detail})"
    )


def count(codes: list["Code"], measurement: Measurement, seeds: int, jobs: int) -> None:
    """Count ``measurement`` with each code under each seed, turn about, ``jobs``
    children at a time (what each counts does not depend on the others), and print it."""
    runs: dict[tuple[str, int, int], Future[Counted]] = {}
    with ThreadPoolExecutor(jobs) as pool:
        for seed in range(1, seeds + 1):
            for code in codes:
                for times in (0, COUNTED_CALLS):
                    runs[code.label, seed, times] = pool.submit(
                        collected, code, measurement, seed, times
                    )
        try:
            counted: Runs = {key: run.result() for key, run in runs.items()}
        except BaseException:
            pool.shutdown(cancel_futures=True)
            raise
    by_seed = {
        code.label: [
            per_unit(counted, code.label, seed, measurement) for seed in range(1, seeds + 1)
        ]
        for code in codes
    }
    print(line(measurement, codes, by_seed), flush=True)
    found = {
        code.label: sorted({run.found for key, run in counted.items() if key[0] == code.label})
        for code in codes
    }
    if len({tuple(answers) for answers in found.values()}) > 1 or any(
        len(answers) > 1 for answers in found.values()
    ):
        # Not quite the same work: other answers, or answers that change with the seed.
        what = "mentions" if measurement.work == "annotate" else "queries matched"
        answers = ", ".join(f"[{label}] {' or '.join(map(str, n))}" for label, n in found.items())
        print(f"  {what} differ: {answers}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--before", metavar="REF", help="also count this git revision's code")
    parser.add_argument("--seeds", type=int, default=3, help="PYTHONHASHSEED 1, 2, ... this")
    parser.add_argument("--work", default=",".join(WORKS), help="of: " + ", ".join(WORKS))
    parser.add_argument("--jobs", type=int, default=2, help="children counted at a time")
    parser.add_argument("--run", choices=WORKS, help=argparse.SUPPRESS)
    parser.add_argument("--inputs", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--times", type=int, default=COUNTED_CALLS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run:
        run_work(args.run, args.inputs, args.times)
        return
    works = args.work.split(",")
    if unknown := set(works) - set(WORKS):
        parser.error(f"no such work: {', '.join(sorted(unknown))}")

    from benchmarks.scale import codes_measured

    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        codes = codes_measured(args.before, Path(folder))
        figures = measurements(works, Path(folder))
        for measurement in figures:
            for code in codes:
                prepare(code, measurement)
        print(
            f"instructions counted by callgrind, per unit of work, over {COUNTED_CALLS} calls"
            f" after a warm-up call, the setup's left out; PYTHONHASHSEED 1 to {args.seeds},"
            f" Python {sys.version.split()[0]}",
            flush=True,
        )
        for measurement in figures:
            count(codes, measurement, args.seeds, args.jobs)
    print(f"{(time.perf_counter() - started) / 60:.1f} minutes")


if __name__ == "__main__":
    main()
