"""Cost of /readyz's write check beside a bare ``SELECT 1`` on the same database.

    python -m benchmarks.write_check [--database-url URL] [--repeat N]

Without a URL, a new SQLite file in a temporary folder. A given database is
migrated first (its table is not changed: the check rolls back).
"""

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Engine, text

from app.db import make_engine, migrate
from app.health import check_writes


def per_call_ms(action: Callable[[], None], repeat: int) -> float:
    action()  # a connection in the pool, statements prepared
    started = time.perf_counter()
    for _ in range(repeat):
        action()
    return (time.perf_counter() - started) / repeat * 1000


def select_one(engine: Engine) -> None:
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))


def measure(database_url: str, repeat: int) -> None:
    engine = make_engine(database_url)
    try:
        migrate(engine)
        baseline = per_call_ms(lambda: select_one(engine), repeat)
        check = per_call_ms(lambda: check_writes(engine), repeat)
    finally:
        engine.dispose()
    print(f"{engine.dialect.name}: SELECT 1 {baseline:.3f} ms, write check {check:.3f} ms")
    print(f"write check / SELECT 1: {check / baseline:.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="default: a new SQLite file")
    parser.add_argument("--repeat", type=int, default=500)
    args = parser.parse_args()
    if args.database_url:
        measure(args.database_url, args.repeat)
        return
    with tempfile.TemporaryDirectory() as folder:
        measure(f"sqlite:///{Path(folder) / 'bench.db'}", args.repeat)


if __name__ == "__main__":
    main()
