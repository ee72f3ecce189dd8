"""``serve --workers N``: workers forked after the index is loaded share it, see
each other's edits within a second, and one that dies is replaced.

Stopping a worker (SIGSTOP) leaves the shared socket to the others, so each
request below is answered by a known worker."""

import os
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.conftest import SMALL_TABLE, TOKEN
from tests.processes import ended_within
from tests.servers import http, resolved_id, seconds_until, serve

pytestmark = pytest.mark.slow
ADMIN = {"Authorization": f"Bearer {TOKEN}"}


def environment(database_url: str, **more: str) -> dict[str, str]:
    """A server's on ``database_url``, the small table shipped when it is new."""
    return {
        "DATABASE_URL": database_url,
        "ADMIN_TOKEN": TOKEN,
        "ALIASES_FILE": str(SMALL_TABLE),
        **more,
    }


def workers(pid: int) -> list[int]:
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return sorted(int(child) for child in children)


def wait_for_workers(pid: int, count: int, without: int | None = None) -> list[int]:
    deadline = time.monotonic() + 10
    while len(found := workers(pid)) != count or without in found:
        assert time.monotonic() < deadline, f"workers {found}, wanted {count} without {without}"
        time.sleep(0.05)
    return found


def rss_and_uss(pid: int) -> tuple[int, int]:
    """Resident and private (unique) memory of a process, kB."""
    rollup = Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]
    fields = {line.split()[0].rstrip(":"): int(line.split()[1]) for line in rollup}
    return fields["Rss"], fields["Private_Clean"] + fields["Private_Dirty"]


@contextmanager
def stopped(pid: int) -> Iterator[None]:
    os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(pid, signal.SIGCONT)


def test_forked_workers_serve_each_others_edits_and_are_replaced(
    database_url: str, tmp_path: Path
) -> None:
    env = environment(database_url)
    with serve(tmp_path, "--workers", "2", **env) as server:
        first, second = wait_for_workers(server.pid, 2)
        assert server.access_log().count("index loaded") == 1  # before the fork, once
        for worker in (first, second):  # most of its memory is the supervisor's pages
            rss, uss = rss_and_uss(worker)
            assert uss < rss / 2, f"worker {worker}: {uss} kB of {rss} kB its own"
        with stopped(second):
            status, _ = http(
                "POST", f"{server.origin}/admin/entities/tlp/aliases", {"text": "Labbaik"}, ADMIN
            )
            assert status == 201
            assert resolved_id(server, "Labbaik") == "tlp"
        with stopped(first):
            seconds_until(server, "Labbaik", "tlp", limit=1.0)
            status, _ = http("DELETE", f"{server.origin}/admin/entities/tlp", headers=ADMIN)
            assert status == 204
            assert resolved_id(server, "TLP") is None
        with stopped(second):
            seconds_until(server, "TLP", None, limit=1.0)

        os.kill(first, signal.SIGKILL)
        replacement = max(wait_for_workers(server.pid, 2, without=first), key=second.__ne__)
        assert replacement not in (first, second)
        with stopped(second):  # the new worker alone answers, with the table as it is now
            assert resolved_id(server, "Labbaik") is None
            assert resolved_id(server, "Pakistani Taliban") == "ttp"


@pytest.mark.parametrize("count", [1, 2])
def test_a_stopped_server_says_so_and_exits_as_signalled(tmp_path: Path, count: int) -> None:
    """With workers the supervisor exited 0, a single process 143."""
    with serve(tmp_path, "--workers", str(count)) as server:
        children = wait_for_workers(server.pid, count) if count > 1 else []
        server.process.terminate()
        assert server.process.wait(timeout=30) == 128 + signal.SIGTERM
    assert server.access_log().splitlines()[-1] == "alias-service: stopped"
    assert not [child for child in children if os.path.exists(f"/proc/{child}")]


def test_forked_workers_restarted_on_the_same_table_read_the_kept_index(
    database_url: str, tmp_path: Path
) -> None:
    kept = tmp_path / "index.snapshot"
    env = environment(database_url, INDEX_SNAPSHOT=str(kept))
    with serve(tmp_path, "--workers", "2", **env) as server:
        assert server.access_log().count("index loaded (built)") == 1
        status, _ = http(
            "POST", f"{server.origin}/admin/entities/tlp/aliases", {"text": "Labbaik"}, ADMIN
        )
        assert status == 201
        deadline = time.monotonic() + 30
        while not kept.exists():  # written by a child of the supervisor
            assert time.monotonic() < deadline
            time.sleep(0.05)
    with serve(tmp_path, "--workers", "2", **env) as server:
        assert server.access_log().count("index loaded (read back)") == 1
        assert resolved_id(server, "TTP") == "ttp"
        assert resolved_id(server, "Labbaik") == "tlp"  # an edit made after it was kept


def test_workers_whose_supervisor_is_killed_outright_stop(
    database_url: str, tmp_path: Path
) -> None:
    # Left serving, they would keep the port from the server that replaces it.
    env = environment(database_url)
    with serve(tmp_path, "--workers", "2", **env) as server:
        first, second = wait_for_workers(server.pid, 2)
        os.kill(server.pid, signal.SIGKILL)
        assert ended_within(first, 10) and ended_within(second, 10)
