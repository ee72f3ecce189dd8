"""Two replicas on one new PostgreSQL database behind nginx, as ``compose.yaml``
deploys them: started together, one sets the database up while the other waits;
an edit through the proxy reaches both within a second; the proxy gives the
service its public host and scheme, and keeps answering when a replica dies."""

import json
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest
from sqlalchemy.engine import make_url

from app.aliasfile import parse_alias_file
from app.resources import SHIPPED_ALIASES_FILE
from tests.conftest import TOKEN, new_postgres_database
from tests.servers import (
    Server,
    http,
    nginx,
    nginx_binary,
    resolved_id,
    seconds_until,
    serve_together,
)

pytestmark = [pytest.mark.postgres, pytest.mark.slow]
ADMIN = {"Authorization": f"Bearer {TOKEN}"}
PUBLIC_URL = "https://aliases.example.org/"


@dataclass
class Deployment:
    database_url: str
    replicas: list[Server]
    proxy: Server
    ready_at_start: list[dict[str, Any]]  # each replica's /readyz as it first answered
    stored_at_start: dict[str, int]  # what the database held then (later tests edit it)


@pytest.fixture(scope="module")
def deployment(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Deployment]:
    if nginx_binary() is None:
        reason = "nginx is not installed (Debian package nginx)"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}; CI is set, so the replicas must be tested behind it")
        pytest.skip(reason)
    folder = tmp_path_factory.mktemp("replicas")
    server = request.getfixturevalue("postgres_server")
    with (
        new_postgres_database(server) as url,
        serve_together(
            folder,
            2,
            "--forwarded-allow-ips=127.0.0.1",
            DATABASE_URL=url,
            ADMIN_TOKEN=TOKEN,
            PUBLIC_URL=PUBLIC_URL,
        ) as replicas,
        nginx(folder, [r.origin.removeprefix("http://") for r in replicas]) as proxy,
    ):
        ready = [json.loads(http("GET", f"{r.origin}/readyz")[1]) for r in replicas]
        stored = {name: count(url, query) for name, query in STORED.items()}
        yield Deployment(url, replicas, proxy, ready, stored)


STORED = {
    "entities": "SELECT count(*) FROM entity",
    "aliases": "SELECT count(*) FROM alias",
    "revision": "SELECT revision FROM table_state",
    "revisions recorded": "SELECT count(DISTINCT revision) FROM change",
}


def count(database_url: str, query: str) -> int:
    url = make_url(database_url).set(drivername="postgresql")
    with psycopg.connect(url.render_as_string(hide_password=False)) as connection:
        row = connection.execute(query).fetchone()
    assert row is not None
    return int(row[0])


def add_alias(server: Server, entity_id: str, text: str) -> None:
    url = f"{server.origin}/admin/entities/{entity_id}/aliases"
    status, body = http("POST", url, {"text": text}, ADMIN)
    assert status == 201, body


def test_replicas_started_together_load_the_shipped_table_once(deployment: Deployment) -> None:
    table = parse_alias_file(SHIPPED_ALIASES_FILE.read_bytes())
    aliases = sum(len(entry.aliases) for entry in table.entities)
    for ready in deployment.ready_at_start:
        # One load of the table is revision 1; a second would have made revision 2.
        assert ready["revision"] == 1, ready
        assert ready["entities"] == len(table.entities), ready
    assert deployment.stored_at_start == {
        "entities": len(table.entities),
        "aliases": aliases,
        "revision": 1,
        "revisions recorded": 1,
    }
    # One replica ran the migrations; the other found the schema up to date.
    migrated = [r for r in deployment.replicas if "Running upgrade" in r.access_log()]
    assert len(migrated) == 1, [r.access_log() for r in deployment.replicas]


def test_an_edit_through_the_proxy_reaches_both_replicas_within_a_second(
    deployment: Deployment,
) -> None:
    assert all(resolved_id(r, "Zorvath Front") is None for r in deployment.replicas)
    add_alias(deployment.proxy, "tlp", "Zorvath Front")
    returned = time.monotonic()
    for replica in deployment.replicas:
        seconds_until(replica, "Zorvath Front", "tlp", limit=1.0, since=returned)


def test_every_replica_names_the_configured_public_url_whatever_the_host(
    deployment: Deployment,
) -> None:
    spoofed = {"Host": "evil.example", "X-Forwarded-Proto": "http"}
    for origin in (deployment.proxy.origin, *(r.origin for r in deployment.replicas)):
        for headers in ({}, spoofed):
            status, body = http("GET", f"{origin}/reconcile", headers=headers)
            assert status == 200, body
            assert json.loads(body)["identifierSpace"] == f"{PUBLIC_URL}entities/"


def test_the_proxy_answers_while_a_replica_is_killed(deployment: Deployment) -> None:
    answers: list[tuple[float, int | str]] = []  # when each request was sent, and its status
    stop = threading.Event()

    def read() -> None:
        while not stop.is_set():
            sent = time.monotonic()
            try:
                answers.append((sent, http("GET", f"{deployment.proxy.origin}/resolve?q=TTP")[0]))
            except Exception as error:  # a broken connection is an answer that failed
                answers.append((sent, repr(error)))

    reader = threading.Thread(target=read)
    reader.start()
    time.sleep(0.3)
    killed, survivor = deployment.replicas
    killed.process.kill()
    killed.process.wait()
    killed_at = time.monotonic()
    time.sleep(1.0)
    stop.set()
    reader.join()
    after = [status for sent, status in answers if sent > killed_at]
    assert len(after) > 10 and set(after) == {200}, after
    # The one request in flight when the replica died may have lost its answer:
    # nginx cannot send it elsewhere once the replica's response has begun.
    failed = [status for _, status in answers if status != 200]
    assert len(failed) <= 1, failed
    # A write goes through too: a refused connection is never a sent request.
    add_alias(deployment.proxy, "ttp", "Qelmar Brigade")
    assert resolved_id(survivor, "Qelmar Brigade") == "ttp"
