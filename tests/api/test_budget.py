"""Past its time budget (REQUEST_TIME_BUDGET) a request answers 503 naming it, not a cut result."""

import json
import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.models.api import MAX_BATCH_SIZE, MAX_TEXT_LENGTH
from app.settings import Settings
from tests.conftest import SMALL_TABLE
from tests.matching.test_budget import SOON, made_up_names

BUDGET = 0.02
NAMES = made_up_names(MAX_TEXT_LENGTH)
MENTIONS = [NAMES[at : at + 60] for at in range(0, 60 * MAX_BATCH_SIZE, 60)]
QUERIES = json.dumps({f"q{i}": {"query": mention} for i, mention in enumerate(MENTIONS)})
SOME_QUERIES = json.dumps({f"q{i}": {"query": mention} for i, mention in enumerate(MENTIONS[:200])})
# Each is far more work than the budget allows; the first is annotated in place,
# the others in the threadpool (app.api.compute).
COSTLY = {
    "a short text": ("POST", "/annotate", {"json": {"text": NAMES[:20_000]}}),
    "a long text": ("POST", "/annotate", {"json": {"text": NAMES}}),
    "a batch of texts": ("POST", "/annotate/batch", {"json": {"documents": [{"text": NAMES}]}}),
    "a batch of mentions": ("POST", "/resolve", {"json": {"mentions": MENTIONS}}),
    "reconciliation queries": ("POST", "/reconcile", {"data": {"queries": QUERIES}}),
    "reconciliation by GET": ("GET", "/reconcile", {"params": {"queries": SOME_QUERIES}}),
}


@pytest.fixture(scope="module")
def tight(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """A service on SQLite whose requests may match for 20 ms."""
    database = tmp_path_factory.mktemp("budget") / "alias-service.db"
    settings = Settings(
        database_url=f"sqlite:///{database}",
        aliases_file=SMALL_TABLE,
        request_time_budget=BUDGET,
    )
    with TestClient(create_app(settings)) as client:
        yield client


@pytest.mark.parametrize("costly", COSTLY)
def test_work_past_the_budget_is_503_naming_it(tight: TestClient, costly: str) -> None:
    method, path, options = COSTLY[costly]
    started = time.perf_counter()
    response = tight.request(method, path, **options)  # type: ignore[arg-type]
    assert response.status_code == 503, response.text
    assert time.perf_counter() - started < SOON
    detail = response.json()["detail"]
    assert f"{BUDGET:g} s" in detail and "REQUEST_TIME_BUDGET" in detail


def test_work_within_the_budget_is_answered(tight: TestClient) -> None:
    assert tight.post("/annotate", json={"text": "The TTP met."}).status_code == 200
    assert tight.post("/resolve", json={"mentions": ["TTP"] * 50}).status_code == 200


def test_the_schema_names_the_503_of_each_computing_operation(tight: TestClient) -> None:
    paths = tight.get("/openapi.json").json()["paths"]
    for method, path, _ in COSTLY.values():
        assert "503" in paths[path][method.lower()]["responses"], (method, path)
