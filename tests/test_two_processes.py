"""Two server processes on one database: an edit made through one is served
by the other within a second, and by the first as soon as its request returns."""

import json
import time
from pathlib import Path

import pytest

from tests.conftest import SMALL_TABLE, TOKEN
from tests.servers import Server, http, serve

pytestmark = pytest.mark.slow
ADMIN = {"Authorization": f"Bearer {TOKEN}"}


def resolved_id(server: Server, mention: str) -> str | None:
    status, body = http("GET", f"{server.origin}/resolve?q={mention}")
    assert status == 200
    entity = json.loads(body)["entity"]
    return entity and entity["id"]


def seconds_until(server: Server, mention: str, expected: str | None, limit: float) -> float:
    started = time.monotonic()
    while resolved_id(server, mention) != expected:
        waited = time.monotonic() - started
        assert waited < limit, (
            f"{mention!r} not {expected!r} on {server.origin} after {waited:.2f} s"
        )
        time.sleep(0.02)
    return time.monotonic() - started


def test_an_edit_reaches_the_other_process_within_a_second(
    database_url: str, tmp_path: Path
) -> None:
    env = {"DATABASE_URL": database_url, "ADMIN_TOKEN": TOKEN, "ALIASES_FILE": str(SMALL_TABLE)}
    with serve(tmp_path, **env) as first, serve(tmp_path, **env) as second:
        assert resolved_id(second, "Labbaik") is None
        status, _ = http(
            "POST", f"{first.origin}/admin/entities/tlp/aliases", {"text": "Labbaik"}, ADMIN
        )
        assert status == 201
        assert resolved_id(first, "Labbaik") == "tlp"  # at once where it was made
        seconds_until(second, "Labbaik", "tlp", limit=1.0)

        status, _ = http("DELETE", f"{second.origin}/admin/entities/tlp", headers=ADMIN)
        assert status == 204
        assert resolved_id(second, "TLP") is None
        seconds_until(first, "TLP", None, limit=1.0)
