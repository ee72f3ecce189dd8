"""Resident memory of an index, measured in a fresh process.

    python -m benchmarks.memory RECORDS.pickle

Prints two numbers, MiB: the records as loaded, and the index built over them.
Run by the other benchmarks through :func:`measure`, so that memory freed by
their own set-up (a large JSON file) cannot hide what the index takes.
"""

import pickle
import subprocess
import sys
import tempfile
from pathlib import Path

from app.heap import freeze_and_trim
from app.matching.index import AliasIndex, EntityRecord
from benchmarks.common import rss_mib


def measure(entities: list[EntityRecord]) -> tuple[float, float]:
    """(records MiB, index MiB) for ``entities``, in a fresh process."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "records.pickle"
        path.write_bytes(pickle.dumps(entities, protocol=pickle.HIGHEST_PROTOCOL))
        output = subprocess.run(
            [sys.executable, "-m", "benchmarks.memory", str(path)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    records, index = output.split()
    return float(records), float(index)


def main() -> None:
    start = rss_mib()
    entities = pickle.loads(Path(sys.argv[1]).read_bytes())
    loaded = rss_mib()
    index = AliasIndex.build(entities)
    freeze_and_trim()
    print(f"{loaded - start:.1f} {rss_mib() - loaded:.1f}")
    del index


if __name__ == "__main__":
    main()
