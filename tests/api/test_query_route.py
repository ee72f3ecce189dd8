"""GET /resolve's QueryRoute answers exactly as FastAPI's own route would.

The same endpoint is served twice: at ``/resolve`` as the service serves it
(a ``QueryRoute``) and at ``/generic/resolve`` by FastAPI's ``APIRoute``. Any
query, valid or not, repeated parameters and unknown ones included, must get
the same status and body from both.
"""

import urllib.parse
from collections.abc import Iterator
from typing import Annotated, Any

import fastapi.routing
import pytest
from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.api.query_route import QueryRoute
from app.api.resolve import resolve_one
from app.main import create_app
from app.models.api import ResolveResult
from app.settings import Settings
from tests.conftest import SMALL_TABLE

NAMES = ["q", "type", "types", "limit", "threshold", "tie_break", "unknown"]
VALUES = [
    "",
    "TTP",
    "taliban",
    "Tehreek-i-Taliban Pakistan",
    "organization",
    "location",
    "no-such-type",
    "0",
    "1",
    "5",
    "50",
    "51",
    "-1",
    "2.5",
    "0.85",
    "1e-3",
    "nan",
    "inf",
    "true",
    "prominence",
    "x" * 600,
    "\x00",
    "\u200b",
    "ＴＴＰ",
]


@pytest.fixture(scope="module")
def twins(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    database = tmp_path_factory.mktemp("query-route") / "alias-service.db"
    app = create_app(Settings(database_url=f"sqlite:///{database}", aliases_file=SMALL_TABLE))
    app.router.add_api_route(
        "/generic/resolve", resolve_one, methods=["GET"], response_model=ResolveResult
    )
    with TestClient(app) as client:
        yield client


@settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    st.lists(
        st.tuples(st.sampled_from(NAMES), st.sampled_from(VALUES) | st.text(max_size=8)),
        max_size=6,
    )
)
def test_any_query_is_answered_as_fastapi_answers_it(
    twins: TestClient, pairs: list[tuple[str, str]]
) -> None:
    query = urllib.parse.urlencode(pairs)
    fast = twins.get(f"/resolve?{query}")
    generic = twins.get(f"/generic/resolve?{query}")
    assert (fast.status_code, fast.headers["content-type"]) == (
        generic.status_code,
        generic.headers["content-type"],
    )
    assert fast.json() == generic.json()


def test_a_valid_query_skips_fastapis_solving_and_an_invalid_one_takes_it(
    twins: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    solved: list[str] = []
    solve = fastapi.routing.solve_dependencies

    async def counted(**kwargs: Any) -> Any:
        solved.append(kwargs["request"].url.path)
        return await solve(**kwargs)

    monkeypatch.setattr(fastapi.routing, "solve_dependencies", counted)
    valid = {"q": "TTP", "types": ["organization", "location"], "limit": 2}
    assert twins.get("/resolve", params=valid).status_code == 200
    assert solved == []
    assert twins.get("/resolve", params={"q": "TTP", "limit": 0}).status_code == 422
    assert solved == ["/resolve"]


async def _takes_a_dependency(value: Annotated[str, Depends(lambda: "x")]) -> Response:
    return Response(value)


async def _takes_a_body(body: dict[str, str]) -> Response:
    return Response(str(body))


def _answers_a_dict(q: str) -> dict[str, str]:
    return {"q": q}


async def _answers_a_dict_async(q: str) -> dict[str, str]:
    return {"q": q}


async def _takes_a_validation_alias(
    request: Request, q: Annotated[str, Query(validation_alias="query")]
) -> Response:
    return Response(q)


@pytest.mark.parametrize(
    ("endpoint", "methods"),
    [
        (_takes_a_dependency, ["GET"]),
        (_takes_a_body, ["POST"]),
        (_answers_a_dict, ["GET"]),
        (_answers_a_dict_async, ["GET"]),
        (_takes_a_validation_alias, ["GET"]),
    ],
)
def test_an_endpoint_it_cannot_serve_is_refused_when_the_route_is_made(
    endpoint: Any, methods: list[str]
) -> None:
    router = APIRouter(route_class=QueryRoute)
    with pytest.raises(TypeError, match="QueryRoute"):
        router.add_api_route("/x", endpoint, methods=methods)
