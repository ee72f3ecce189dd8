"""The order of the application's middleware, outermost first: metrics, then
CORS, then the body size limit. Metrics count every answer, a preflight and a
refused body included, and a body refused for its size is marked for the
browser that sent it."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.metrics import NO_ROUTE
from app.settings import Settings
from tests.api.test_ops import scraped, value
from tests.conftest import SMALL_TABLE, TOKEN
from tests.test_cors import ORIGIN, preflight

BODY_LIMIT = 100
REQUESTS = "alias_http_requests_total"


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'alias-service.db'}",
        admin_token=TOKEN,
        aliases_file=SMALL_TABLE,
        max_body_bytes=BODY_LIMIT,
    )
    with TestClient(create_app(settings)) as client:
        yield client


def too_large(client: TestClient) -> dict[str, str]:
    """The headers (by lower-case name) of a cross-origin POST /resolve over the limit."""
    response = client.post(
        "/resolve", json={"mentions": ["x" * BODY_LIMIT]}, headers={"Origin": ORIGIN}
    )
    assert response.status_code == 413, response.text
    return {name.lower(): given for name, given in response.headers.items()}


def test_a_body_refused_for_its_size_on_a_cors_path_is_marked_for_the_browser(
    client: TestClient,
) -> None:
    assert too_large(client)["access-control-allow-origin"] == "*"


def test_a_body_refused_for_its_size_is_counted(client: TestClient) -> None:
    too_large(client)
    samples = scraped(client)
    assert value(samples, REQUESTS, method="POST", route=NO_ROUTE, status="413") == 1


def test_a_preflight_answered_by_cors_is_counted(client: TestClient) -> None:
    status, headers = preflight(client, "/resolve", "POST")
    assert (status, headers["access-control-allow-origin"]) == (200, "*")
    samples = scraped(client)
    assert value(samples, REQUESTS, method="OPTIONS", route=NO_ROUTE, status="200") == 1
