"""Browsers on other origins may call the read-only endpoints, never /admin."""

import pytest
from fastapi.testclient import TestClient

ORIGIN = "http://refine.example:3333"


def preflight(client: TestClient, path: str, method: str = "GET") -> tuple[int, dict[str, str]]:
    """The status and headers (by lower-case name) of a browser's preflight."""
    response = client.options(
        path,
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert response.status_code < 500, response.text
    return response.status_code, {k.lower(): v for k, v in response.headers.items()}


@pytest.mark.parametrize(
    ("path", "method"),
    [
        ("/reconcile", "POST"),
        ("/reconcile/suggest/entity", "GET"),
        ("/reconcile/preview", "GET"),
        ("/resolve", "GET"),
        ("/resolve", "POST"),
        ("/annotate", "POST"),
        ("/annotate/batch", "POST"),
        ("/entities/ttp", "GET"),
        ("/types", "GET"),
    ],
)
def test_a_preflight_to_a_read_only_endpoint_is_answered(
    client: TestClient, path: str, method: str
) -> None:
    status, headers = preflight(client, path, method)
    assert status == 200
    assert headers["access-control-allow-origin"] == "*"
    assert method in headers["access-control-allow-methods"]
    assert "content-type" in headers["access-control-allow-headers"].lower()
    assert "access-control-allow-credentials" not in headers


def test_a_cross_origin_answer_of_a_read_only_endpoint_is_marked(client: TestClient) -> None:
    response = client.get(
        "/reconcile/suggest/entity", params={"prefix": "tal"}, headers={"Origin": ORIGIN}
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "*"
    refused = client.get("/resolve", params={"q": "x" * 2000}, headers={"Origin": ORIGIN})
    assert refused.status_code == 422
    assert refused.headers["access-control-allow-origin"] == "*"


@pytest.mark.parametrize(
    ("path", "method"),
    [
        ("/admin/entities", "POST"),
        ("/admin/entities/ttp/aliases", "POST"),
        ("/admin/export", "GET"),
        ("/metrics", "GET"),
    ],
)
def test_a_preflight_to_admin_or_operations_gets_no_cors_headers(
    client: TestClient, path: str, method: str
) -> None:
    status, headers = preflight(client, path, method)
    assert status == 405  # no OPTIONS route: the request is the application's to answer
    assert not [h for h in headers if h.startswith("access-control-")]


def test_an_admin_answer_is_not_marked_for_other_origins(
    client: TestClient, admin: dict[str, str]
) -> None:
    response = client.get("/admin/export", headers={**admin, "Origin": ORIGIN})
    assert response.status_code == 200
    assert "access-control-allow-origin" not in response.headers


def test_a_path_that_only_begins_like_a_read_only_one_is_not_opened(client: TestClient) -> None:
    _, headers = preflight(client, "/typesetting")
    assert "access-control-allow-origin" not in headers
