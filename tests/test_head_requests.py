"""HEAD is answered wherever GET is: the GET's status and headers, without a body."""

import pytest
from fastapi.testclient import TestClient

from tests.api.test_ops import scraped, value


@pytest.mark.parametrize(
    "path",
    [
        "/healthz",
        "/readyz",
        "/entities/ttp",
        "/entities/nope",
        "/resolve?q=TTP",
        "/resolve",
        "/docs",
    ],
)
def test_head_answers_what_get_answers_without_the_body(client: TestClient, path: str) -> None:
    got, head = client.get(path), client.head(path)
    assert head.status_code == got.status_code
    assert head.content == b""
    for header in ("content-type", "content-length", "etag"):
        assert head.headers.get(header) == got.headers.get(header)


def test_head_of_a_path_that_has_no_get_is_405_naming_its_methods(client: TestClient) -> None:
    response = client.head("/annotate")
    assert (response.status_code, response.headers["allow"]) == (405, "POST")


def test_a_head_is_counted_as_head_under_its_route(client: TestClient) -> None:
    client.head("/entities/ttp")
    samples = scraped(client)
    labels = {"method": "HEAD", "route": "/entities/{entity_id}", "status": "200"}
    assert value(samples, "alias_http_requests_total", **labels) == 1
