"""Per-mention cost of ``POST /resolve`` batches against a real server process."""

import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from sqlmodel import Session

from app import store
from app.db import make_engine, migrate
from app.matching.index import EntityRecord
from benchmarks.common import Query, alias_file

BATCH = 1000


def load_table(database_url: str, entities: list[EntityRecord]) -> float:
    """Store ``entities`` through the service's own import; the seconds it took."""
    table = alias_file(entities)
    engine = make_engine(database_url)
    migrate(engine)
    started = time.perf_counter()
    with Session(engine) as session:
        store.import_table(
            session=session, actor="benchmark", table=table, mode="replace", allow_shared=True
        )
    engine.dispose()
    return time.perf_counter() - started


def time_http_batches(entities: list[EntityRecord], queries: list[Query]) -> float:
    """Seconds per mention over HTTP, in batches of BATCH."""
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'bench.db'}"
        print(f"http: table stored through the import path in {load_table(url, entities):.1f} s")
        port = 18431
        server = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "serve", "--port", str(port)],
            env={**os.environ, "DATABASE_URL": url},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            started = time.perf_counter()
            _wait_ready(f"http://127.0.0.1:{port}/readyz")
            print(f"http: server ready in {time.perf_counter() - started:.1f} s")
            mentions = [q.text for q in queries]
            _post(port, mentions[:BATCH])  # warm-up
            started = time.perf_counter()
            for start in range(0, len(mentions), BATCH):
                _post(port, mentions[start : start + BATCH])
            elapsed = time.perf_counter() - started
            per = elapsed / len(mentions)
            print(f"http: POST /resolve in batches of {BATCH}: {per * 1000:.3f} ms per mention")
            return per
        finally:
            server.terminate()
            server.wait(timeout=30)


def _post(port: int, mentions: list[str]) -> None:
    body = json.dumps({"mentions": mentions}).encode()
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/resolve",
        data=body,
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=120) as response:
        assert response.status == 200


def _wait_ready(url: str) -> None:
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise TimeoutError(url)
