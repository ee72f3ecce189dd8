import re
import sqlite3
import time
from pathlib import Path

import psycopg
from fastapi.testclient import TestClient
from sqlalchemy.engine import make_url

from app.main import create_app
from app.settings import Settings
from tests.conftest import _libpq_url


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
