"""The service's decision rule, MATCH_THRESHOLD and MATCH_MARGIN, holds for
every route that resolves: each takes it from ``ThresholdsDep``."""

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings

# Matched by transliteration, a little below 1 (see tests/api/test_resolve.py).
VARIANT = "Tehrik-i-Taliban Pakistan"


@pytest.fixture
def strict_client(settings: Settings) -> Iterator[TestClient]:
    """A service configured to match only what scores 0.99 or more."""
    strict = settings.model_copy(update={"match_threshold": 0.99})
    with TestClient(create_app(strict)) as client:
        yield client


def answers(client: TestClient) -> dict[str, Any]:
    """What each resolving route says of the variant."""
    annotated = client.post("/annotate", json={"text": f"The {VARIANT} said so."}).json()
    reconciled = client.post("/reconcile", json={"q0": {"query": VARIANT}}).json()
    (batched,) = client.post("/resolve", json={"mentions": [VARIANT]}).json()["results"]
    return {
        "GET /resolve": client.get("/resolve", params={"q": VARIANT}).json()["status"],
        "POST /resolve": batched["status"],
        "POST /annotate": [(m["text"], m["status"]) for m in annotated["mentions"]],
        "POST /reconcile": reconciled["q0"]["result"][0]["match"],
    }


def test_the_default_threshold_matches_the_variant(client: TestClient) -> None:
    assert answers(client) == {
        "GET /resolve": "matched",
        "POST /resolve": "matched",
        "POST /annotate": [(VARIANT, "matched")],
        "POST /reconcile": True,
    }


def test_a_configured_threshold_holds_for_every_route_that_resolves(
    strict_client: TestClient,
) -> None:
    assert answers(strict_client) == {
        "GET /resolve": "unmatched",
        "POST /resolve": "unmatched",
        "POST /annotate": [("Taliban", "ambiguous")],
        "POST /reconcile": False,
    }


def test_a_request_s_own_threshold_still_overrides_the_configured_one(
    strict_client: TestClient,
) -> None:
    found = strict_client.get("/resolve", params={"q": VARIANT, "threshold": 0.85}).json()
    assert found["status"] == "matched"
