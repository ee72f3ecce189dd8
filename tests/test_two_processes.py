"""Two server processes on one database: an edit made through one is served
by the other within a second, and by the first as soon as its request returns."""

from pathlib import Path

import pytest

from tests.conftest import SMALL_TABLE, TOKEN
from tests.servers import http, resolved_id, seconds_until, serve

pytestmark = pytest.mark.slow
ADMIN = {"Authorization": f"Bearer {TOKEN}"}


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
