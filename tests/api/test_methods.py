"""A 405 names every method its path answers in ``Allow``."""

import pytest
from fastapi.testclient import TestClient


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("PUT", "/resolve", "GET, HEAD, POST"),  # was: GET
        ("PUT", "/admin/entities/ttp", "DELETE, PATCH"),  # was: PATCH
        ("POST", "/admin/entities/ttp/aliases/1", "DELETE, PATCH"),
        ("DELETE", "/healthz", "GET, HEAD"),
        ("GET", "/annotate", "POST"),
    ],
)
def test_a_method_a_path_does_not_answer_is_405_naming_those_it_does(
    client: TestClient, method: str, path: str, allowed: str
) -> None:
    response = client.request(method, path)
    assert response.status_code == 405
    assert response.headers["allow"] == allowed
    assert response.json() == {"detail": "Method Not Allowed"}
