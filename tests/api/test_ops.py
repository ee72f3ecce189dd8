import json
import re
import sqlite3
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.engine import make_url
from sqlmodel import Session

from app import review_queue, store
from app.db import make_engine
from app.live_index import LiveIndex
from app.main import create_app
from app.metrics import NO_ROUTE
from app.models.api import AliasCreate
from app.review_queue import Tally
from app.settings import Settings
from tests.conftest import _libpq_url
from tests.test_live_index import SlowBuilds, replace_table

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scraped(client: TestClient) -> Samples:
    """Every sample of /metrics, read by Prometheus's own parser."""
    response = client.get("/metrics")
    assert response.status_code == 200
    families = text_string_to_metric_families(response.text)
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in families
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    """A sample's value; 0 for a series not yet created."""
    return samples.get((name, frozenset(labels.items())), 0.0)


def label_values(samples: Samples, name: str, label: str) -> set[str]:
    return {dict(labels)[label] for (sample, labels), _ in samples.items() if sample == name}


def test_healthz(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}


def test_readyz_reports_the_index(client: TestClient) -> None:
    body = client.get("/readyz").json()
    assert body["status"] == "ready"
    assert (body["entities"], body["aliases"], body["database"]) == (4, 5, True)


def test_metrics_count_requests_by_route(client: TestClient) -> None:
    client.get("/resolve", params={"q": "TTP"})
    client.get("/entities/ttp")
    text = client.get("/metrics").text
    assert re.search(
        r'alias_http_requests_total\{method="GET",route="/resolve",status="200"\} 1', text
    )
    assert 'route="/entities/{entity_id}"' in text
    assert "alias_index_aliases 5.0" in text


def test_docs_are_served_without_a_cdn(client: TestClient) -> None:
    page = client.get("/docs").text
    assets = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert assets, page
    for asset in assets:
        assert asset.startswith("/"), f"{asset} is not served by the service"
        assert client.get(asset).status_code == 200


def test_openapi_documents_every_route(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert spec["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            assert operation.get("summary"), f"{method} {path} has no summary"
            assert operation.get("tags"), f"{method} {path} has no tags"
            assert operation.get("description"), f"{method} {path} has no description"
    limits = spec["components"]["schemas"]["ResolveRequest"]["properties"]["mentions"]
    assert limits["maxItems"] == 1000


def test_readyz_checks_writes_at_most_once_per_interval(client: TestClient) -> None:
    for _ in range(3):
        assert client.get("/readyz").json()["writable"] is True
    assert client.app.state.write_check.tries == 1  # type: ignore[attr-defined]


def read_only(settings: Settings) -> Settings:
    """The same database, refusing writes. Tests may run as root, whom a read-only
    file mode does not stop: SQLite is opened read-only instead, and PostgreSQL
    makes every new transaction read-only."""
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite":
        ro = f"sqlite:///file:{url.database}?mode=ro&uri=true"
        return settings.model_copy(update={"database_url": ro, "write_check_interval": 0})
    with psycopg.connect(_libpq_url(settings.database_url), autocommit=True) as connection:
        connection.execute(
            f'ALTER DATABASE "{url.database}" SET default_transaction_read_only = on'
        )
    return settings.model_copy(update={"write_check_interval": 0})


def test_readyz_is_503_when_writes_fail(settings: Settings) -> None:
    with TestClient(create_app(settings)) as client:  # creates and loads the database
        assert client.get("/readyz").status_code == 200
    with TestClient(create_app(read_only(settings))) as client:
        response = client.get("/readyz")
        assert response.status_code == 503
        assert response.json()["writable"] is False
        assert response.json()["database"] is True
        resolved = client.get("/resolve", params={"q": "TTP"}).json()
        assert resolved["status"] == "matched"  # reading still works


def test_readyz_is_503_when_the_audit_trail_is_corrupt(tmp_path: Path) -> None:
    database = tmp_path / "alias-service.db"
    settings = Settings(database_url=f"sqlite:///{database}", write_check_interval=0)
    with TestClient(create_app(settings)) as client:
        assert client.get("/readyz").status_code == 200
    with sqlite3.connect(database) as connection:
        query = "SELECT rootpage FROM sqlite_master WHERE name = 'change'"
        (root,) = connection.execute(query).fetchone()
        (page_size,) = connection.execute("PRAGMA page_size").fetchone()
    with database.open("r+b") as file:  # the first page of the audit trail, overwritten
        file.seek((root - 1) * page_size)
        file.write(b"\xff" * page_size)
    with TestClient(create_app(settings)) as client:
        response = client.get("/readyz")
        assert (response.status_code, response.json()["writable"]) == (503, False)


def test_a_write_lock_held_elsewhere_counts_as_writable(tmp_path: Path) -> None:
    database = tmp_path / "alias-service.db"
    settings = Settings(database_url=f"sqlite:///{database}", write_check_interval=0)
    with TestClient(create_app(settings)) as client:
        other_writer = sqlite3.connect(database, isolation_level=None)
        other_writer.execute("BEGIN IMMEDIATE")  # as a long import holds it
        try:
            started = time.monotonic()
            response = client.get("/readyz")
            waited = time.monotonic() - started
        finally:
            other_writer.execute("ROLLBACK")
            other_writer.close()
        assert (response.status_code, response.json()["writable"]) == (200, True)
        assert waited < 10  # the check waits about a second for the lock, not 30


# --- what /metrics counts -------------------------------------------------------------


def test_resolutions_are_counted_by_status_and_by_the_method_of_the_best_candidate(
    client: TestClient,
) -> None:
    before = scraped(client)
    client.get("/resolve", params={"q": "TTP"})
    client.get("/resolve", params={"q": "Tehrik-e-Taliban Pakistan"})
    client.post("/resolve", json={"mentions": ["Taliban", "Kunar", "TTP"]})
    after = scraped(client)

    def added(status: str, method: str) -> float:
        labels = {"endpoint": "resolve", "status": status, "method": method}
        return value(after, "alias_resolutions_total", **labels) - value(
            before, "alias_resolutions_total", **labels
        )

    assert added("matched", "exact") == 2
    assert added("matched", "transliteration") == 1
    assert added("ambiguous", "exact") == 1
    assert added("unmatched", "none") == 1


def test_reconciliation_queries_are_counted_apart_from_resolve(client: TestClient) -> None:
    queries = {"q0": {"query": "TTP"}, "q1": {"query": "Taliban"}, "q2": {"query": "Kunar"}}
    client.post("/reconcile", data={"queries": json.dumps(queries)})
    client.get("/reconcile", params={"queries": json.dumps({"q0": {"query": "TLP"}})})
    samples = scraped(client)
    reconciled = {"endpoint": "reconcile"}
    assert (
        value(samples, "alias_resolutions_total", **reconciled, status="matched", method="exact")
        == 2
    )
    assert (
        value(samples, "alias_resolutions_total", **reconciled, status="ambiguous", method="exact")
        == 1
    )
    assert (
        value(samples, "alias_resolutions_total", **reconciled, status="unmatched", method="none")
        == 1
    )
    assert label_values(samples, "alias_resolutions_total", "endpoint") == {"reconcile"}


def test_annotated_texts_and_their_mentions_are_counted_by_status(client: TestClient) -> None:
    text = "The TTP and the Taliban met in Islamabad."
    client.post("/annotate", json={"text": text})
    client.post("/annotate/batch", json={"documents": [{"text": text}, {"text": "Nothing."}]})
    samples = scraped(client)
    assert value(samples, "alias_annotated_texts_total") == 3
    assert value(samples, "alias_annotated_mentions_total", status="matched") == 4
    assert value(samples, "alias_annotated_mentions_total", status="ambiguous") == 2


def test_the_index_gauges_follow_an_edit(client: TestClient, admin: dict[str, str]) -> None:
    before = scraped(client)
    response = client.post("/admin/entities/tlp/aliases", json={"text": "Labbaik"}, headers=admin)
    assert response.status_code == 201
    after = scraped(client)
    assert value(after, "alias_index_aliases") == value(before, "alias_index_aliases") + 1
    assert value(after, "alias_index_entities") == value(before, "alias_index_entities") == 4
    assert value(after, "alias_index_revision") == value(before, "alias_index_revision") + 1


def test_the_time_since_the_last_refresh_is_measured_when_scraped(client: TestClient) -> None:
    live: LiveIndex = client.app.state.live_index  # type: ignore[attr-defined]
    live.stop()  # nothing refreshes the index any more: its age can only grow
    first = value(scraped(client), "alias_index_refresh_age_seconds")
    time.sleep(0.05)
    second = scraped(client)
    assert 0 < first < value(second, "alias_index_refresh_age_seconds")
    assert value(second, "alias_index_refresh_running") == 0


def test_the_review_queue_size_is_read_from_the_database(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("app.metrics.OPEN_ITEMS_MAX_AGE", 0.0)  # read at every scrape
    with TestClient(create_app(settings)) as client:
        assert value(scraped(client), "alias_review_open_items") == 0
        elsewhere = make_engine(settings.database_url)  # another replica's flush
        try:
            with Session(elsewhere) as session:
                review_queue.record(session=session, tallies=[tally("quetta"), tally("kunar")])
        finally:
            elsewhere.dispose()
        assert value(scraped(client), "alias_review_open_items") == 2


def tally(form: str) -> Tally:
    seen = datetime.now(UTC)
    return Tally(form, form.title(), count=1, first_seen=seen, last_seen=seen, candidates=())


def test_the_process_and_the_garbage_collector_are_measured(client: TestClient) -> None:
    samples = scraped(client)
    assert value(samples, "process_resident_memory_bytes") > 1 << 20
    assert value(samples, "process_open_fds") > 0
    assert ("process_cpu_seconds_total", frozenset()) in samples
    assert label_values(samples, "python_gc_collections_total", "generation") == {"0", "1", "2"}
    assert label_values(samples, "python_info", "implementation")


# --- route labels ---------------------------------------------------------------------


def test_a_request_outside_every_route_has_a_label_no_route_or_status_has(
    client: TestClient,
) -> None:
    assert client.get("/no/such/page").status_code == 404
    samples = scraped(client)
    labels = {"method": "GET", "route": NO_ROUTE, "status": "404"}
    assert value(samples, "alias_http_requests_total", **labels) == 1
    routes = label_values(samples, "alias_http_requests_total", "route")
    assert "unmatched" not in routes
    assert all(route.startswith("/") or route == NO_ROUTE for route in routes), routes


def test_routed_requests_are_labelled_by_their_template(client: TestClient) -> None:
    client.get("/entities/ttp")
    client.get("/entities/no-such-entity")
    assert client.delete("/resolve").status_code == 405
    client.get("/openapi.json")
    for asset in re.findall(r'(?:src|href)="([^"]+)"', client.get("/docs").text):
        assert client.get(asset).status_code == 200
    samples = scraped(client)
    requests = "alias_http_requests_total"
    assert value(samples, requests, method="GET", route="/entities/{entity_id}", status="200") == 1
    assert value(samples, requests, method="GET", route="/entities/{entity_id}", status="404") == 1
    assert value(samples, requests, method="DELETE", route="/resolve", status="405") == 1
    assert value(samples, requests, method="GET", route="/docs", status="200") == 1
    assert value(samples, requests, method="GET", route="/openapi.json", status="200") == 1
    docs_assets = {"method": "GET", "route": "/static-offline-docs/{path}", "status": "200"}
    assert value(samples, requests, **docs_assets) >= 2
    assert not any("ttp" in route for route in label_values(samples, requests, "route"))


def test_made_up_methods_share_one_label_and_add_no_series(client: TestClient) -> None:
    for method in ("FOO", "BAR123", "FOO"):
        client.request(method, "/resolve")
    client.request("PATCH", "/resolve")
    samples = scraped(client)
    requests = "alias_http_requests_total"
    assert label_values(samples, requests, "method") >= {"other", "PATCH"}
    assert not label_values(samples, requests, "method") & {"FOO", "BAR123"}
    assert value(samples, requests, method="other", route="/resolve", status="405") == 3
    assert value(samples, "alias_http_request_seconds_count", method="other", route="/resolve") == 3


def test_a_body_refused_before_routing_is_counted(settings: Settings) -> None:
    small = settings.model_copy(update={"max_body_bytes": 100})
    with TestClient(create_app(small)) as client:
        response = client.post("/resolve", json={"mentions": ["x" * 200]})
        assert response.status_code == 413
        samples = scraped(client)
    labels = {"method": "POST", "route": NO_ROUTE, "status": "413"}
    assert value(samples, "alias_http_requests_total", **labels) == 1


# --- readiness and the index's lag ----------------------------------------------------


@pytest.fixture
def quick(settings: Settings) -> Iterator[TestClient]:
    """A client whose index refreshes every 50 ms and may lag 0.3 s."""
    fast = settings.model_copy(
        update={"refresh_interval": 0.05, "ready_lag_intervals": 2, "ready_lag_floor": 0.3}
    )
    with TestClient(create_app(fast)) as client:
        yield client


def add_alias_elsewhere(database_url: str, text: str, entity_id: str = "tlp") -> None:
    """An edit by another process: this one learns of it only by refreshing."""
    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            store.add_alias(
                session=session, actor="t", entity_id=entity_id, data=AliasCreate(text=text)
            )
    finally:
        engine.dispose()


def readiness_until(client: TestClient, wanted: int) -> dict[str, Any]:
    """The /readyz body once it answers ``wanted`` (at most 10 s of asking)."""
    deadline = time.monotonic() + 10
    while True:
        response = client.get("/readyz")
        if response.status_code == wanted or time.monotonic() > deadline:
            assert response.status_code == wanted, response.text
            body: dict[str, Any] = response.json()
            return body
        time.sleep(0.02)


def test_readyz_says_the_index_holds_the_newest_revision(client: TestClient) -> None:
    body = client.get("/readyz").json()
    assert body["revision"] == body["database_revision"] > 0
    assert (body["lagging"], body["index_lag_seconds"], body["lag_reason"]) == (False, 0, None)


def test_readyz_fails_while_refreshes_fail_and_comes_back_when_they_work(
    quick: TestClient, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    live: LiveIndex = quick.app.state.live_index  # type: ignore[attr-defined]
    assert quick.get("/readyz").status_code == 200

    def unreachable(*_args: object) -> None:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(live, "_caught_up", unreachable)
    add_alias_elsewhere(settings.database_url, "Labbaik")
    body = readiness_until(quick, 503)
    assert body["lagging"] is True
    assert body["database_revision"] == body["revision"] + 1
    assert body["index_lag_seconds"] > 0.3
    assert "failed" in body["lag_reason"]
    assert (body["database"], body["writable"]) == (True, True)

    monkeypatch.undo()
    body = readiness_until(quick, 200)
    assert body["revision"] == body["database_revision"]
    assert (body["lagging"], body["lag_reason"]) == (False, None)
    assert quick.get("/resolve", params={"q": "Labbaik"}).json()["entity"]["id"] == "tlp"


def replace_table_elsewhere(database_url: str, monkeypatch: pytest.MonkeyPatch) -> int:
    """A replace import by another process, which this one takes in by
    rebuilding its index whole; the database's revision after it."""
    engine = make_engine(database_url)
    try:
        replace_table(engine, monkeypatch)
        with Session(engine) as session:
            return store.current_revision(session=session)
    finally:
        engine.dispose()


def test_readyz_stays_ready_while_a_slow_rebuild_runs_and_edits_arrive(
    quick: TestClient, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    builds = SlowBuilds(monkeypatch)
    try:
        replaced = replace_table_elsewhere(settings.database_url, monkeypatch)
        assert builds.started.wait(timeout=10)
        answers = []
        for n in range(4):  # 1.2 s in all, four times the allowance
            answers.append(quick.get("/readyz"))
            add_alias_elsewhere(settings.database_url, f"Kabul {n}", entity_id="kabul")
            time.sleep(0.3)
        assert {answer.status_code for answer in answers} == {200}, answers[-1].text
        last = quick.get("/readyz").json()
        assert (last["status"], last["lagging"], last["lag_reason"]) == ("ready", False, None)
        assert last["database_revision"] > replaced > last["revision"]
        assert last["index_lag_seconds"] > 1.0
    finally:
        builds.released.set()
    deadline = time.monotonic() + 10
    while (body := readiness_until(quick, 200))["revision"] != body["database_revision"]:
        assert time.monotonic() < deadline, body
    assert quick.get("/resolve", params={"q": "Kabul 3"}).json()["entity"]["id"] == "kabul"


def test_readyz_fails_once_one_refresh_runs_past_the_refresh_limit(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    limited = settings.model_copy(
        update={"refresh_interval": 0.05, "ready_lag_floor": 0.3, "ready_refresh_limit": 0.5}
    )
    with TestClient(create_app(limited)) as client:
        builds = SlowBuilds(monkeypatch)  # the refresh's build, not the first load's
        try:
            replace_table_elsewhere(settings.database_url, monkeypatch)
            body = readiness_until(client, 503)
            assert body["lagging"] is True
            assert "without finishing" in body["lag_reason"]
        finally:
            builds.released.set()
        assert readiness_until(client, 200)["lagging"] is False


def test_readyz_fails_when_nothing_takes_in_other_processes_edits(quick: TestClient) -> None:
    live: LiveIndex = quick.app.state.live_index  # type: ignore[attr-defined]
    live.stop()
    body = readiness_until(quick, 503)
    assert body["lagging"] is True
    assert "not running" in body["lag_reason"]
    live.start(0.05)
    assert readiness_until(quick, 200)["lagging"] is False
