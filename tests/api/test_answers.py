"""Every JSON answer is the shape its route declares.

The routes that answer many results (resolve, annotate, reconcile) send
plain dicts, built by ``app.api.answers`` and ``app.reconciliation``, past
their ``response_model``, which then only documents them. Here real requests
over the shipped table are held to those declarations: each answer must
validate strictly against the declared model (or one of them, when a route
declares several), and come back unchanged from a round trip through it, so
that a field renamed, added, dropped or of another type fails.
"""

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from types import UnionType
from typing import Any, get_args

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from httpx import Response
from pydantic import TypeAdapter, ValidationError

from app.api import admin, annotate, entities, entity_types, ops, reconcile, resolve, review
from app.main import create_app
from app.settings import Settings
from tests.conftest import TOKEN

ROUTERS = (admin, annotate, entities, entity_types, ops, reconcile, resolve, review)
DECLARED: dict[str, Any] = {
    route.operation_id: route.response_model
    for module in ROUTERS
    for route in module.router.routes
    if isinstance(route, APIRoute) and route.operation_id
}
ADMIN = {"Authorization": f"Bearer {TOKEN}"}
ARTICLE = (
    "PESHAWAR: The Tehreek-i-Taliban Pakistan (TTP) and Daesh Khurasan claimed attacks in "
    "Khyber Pakhtunkhwa on Monday, the Foreign Office in Islamabad said. Taliban "
    "spokesman Zabihullah Mujahid denied it; Washington and the UN condemned them."
)

Call = Callable[[TestClient], Response]
# The answers checked so far, by operation: what the requests covered.
CHECKED: dict[str, list[Any]] = {}


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """The service over the shipped table, shared by the requests below in their order."""
    folder: Path = tmp_path_factory.mktemp("answers")
    settings = Settings(database_url=f"sqlite:///{folder / 'answers.db'}", admin_token=TOKEN)
    with TestClient(create_app(settings)) as client:
        yield client


def newest_change(client: TestClient) -> int:
    change: int = client.get("/admin/history", headers=ADMIN).json()["changes"][0]["id"]
    return change


def review_address(client: TestClient, form: str, decision: str) -> str:
    """Where to decide ``form``'s open review item, its counts written first."""
    client.get("/resolve", params={"q": form})
    client.app.state.review.flush(client.app.state.engine)  # type: ignore[attr-defined]
    items = client.get("/admin/review", headers=ADMIN).json()["items"]
    item = next(item["id"] for item in items if item["example"] == form)
    return f"/admin/review/{item}/{decision}"


def alias_address(client: TestClient, text: str) -> str:
    """The address of the new entity's alias ``text``."""
    aliases = client.get(f"/entities/{NEW_ENTITY['id']}").json()["aliases"]
    alias = next(alias["id"] for alias in aliases if alias["text"] == text)
    return f"/admin/entities/{NEW_ENTITY['id']}/aliases/{alias}"


BATCH = {"q0": {"query": "TTP"}, "q1": {"query": "Taliban"}, "q2": {"query": "Qqxz Vvw"}}
EXTEND = {"ids": ["ttp", "nobody"], "properties": [{"id": "aliases"}, {"id": "type"}]}
NEW_ENTITY = {
    "id": "test-front",
    "name": "Test Liberation Front",
    "type": "organization",
    "prominence": 100,
}
NAMESAKE = {**NEW_ENTITY, "id": "test-front-2", "prominence": 1}
MERGE = {"into": "tlp"}
ACCEPT = {"entity_id": "tlp"}


def get(path: str, **params: Any) -> Call:
    return lambda client: client.get(path, params=params)


def post(path: str, body: Any = None) -> Call:
    return lambda client: client.post(path, json=body)


def edit(method: str, path: str | Callable[[TestClient], str], body: Any = None) -> Call:
    """An editor's request; ``path`` may be found from what the service holds by then."""

    def call(client: TestClient) -> Response:
        address = path if isinstance(path, str) else path(client)
        return client.request(method, address, json=body, headers=ADMIN)

    return call


# (operation, request), in the order they are sent: the edits build on each other.
REQUESTS: list[tuple[str, Call]] = [
    ("health", get("/healthz")),
    ("readiness", get("/readyz")),
    ("resolve", get("/resolve", q="TTP")),  # exact
    ("resolve", get("/resolve", q="T.T.P.")),  # structural
    ("resolve", get("/resolve", q="Jaish-e-Muhammed")),  # transliteration
    ("resolve", get("/resolve", q="Tahreek-i-Taliban Pakistan")),  # phonetic
    ("resolve", get("/resolve", q="Price, Ned")),  # fuzzy
    ("resolve", get("/resolve", q="IS-Pakistan")),  # compositional
    ("resolve", get("/resolve", q="Ministry of Foreign Affairs")),  # ambiguous
    ("resolve", get("/resolve", q="Kabool")),  # unmatched, with a candidate
    ("resolve", get("/resolve", q="Qqxz Vvw")),  # unmatched, without
    ("resolve", get("/resolve", q="TTP", types=["country", "city"])),
    (
        "resolveBatch",
        post("/resolve", {"mentions": ["TTP", "Taliban", "", "Pak Taliban"], "threshold": 0.9}),
    ),
    ("annotate", post("/annotate", {"text": ARTICLE})),
    ("annotate", post("/annotate", {"text": ARTICLE, "limit": 1})),
    ("annotate", post("/annotate", {"text": "The Ministry of Foreign Affairs said so."})),
    ("annotate", post("/annotate", {"text": ""})),
    ("annotateBatch", post("/annotate/batch", {"documents": [{"text": ARTICLE}, {"text": "."}]})),
    ("listEntities", get("/entities", q="taliban", limit=3)),
    ("listEntities", get("/entities", type="person")),
    ("getEntity", get("/entities/ttp")),
    ("listTypes", get("/types")),
    ("reconcileGet", get("/reconcile")),
    ("reconcileGet", get("/reconcile", queries=json.dumps(BATCH))),
    ("reconcile", post("/reconcile", BATCH)),
    ("reconcile", lambda c: c.post("/reconcile", data={"extend": json.dumps(EXTEND)})),
    ("extendData", post("/reconcile/extend", EXTEND)),
    ("proposeProperties", get("/reconcile/extend/propose")),
    ("suggestEntities", get("/reconcile/suggest/entity", prefix="tal")),
    ("suggestTypes", get("/reconcile/suggest/type", prefix="org")),
    ("suggestProperties", get("/reconcile/suggest/property", prefix="")),
    ("createEntity", edit("POST", "/admin/entities", NEW_ENTITY)),
    ("createEntity", edit("POST", "/admin/entities?allow_shared=true", NAMESAKE)),
    ("resolve", get("/resolve", q=NEW_ENTITY["name"], tie_break="prominence")),
    ("updateEntity", edit("PATCH", "/admin/entities/test-front", {"prominence": 300})),
    ("updateEntity", edit("PATCH", "/admin/entities/test-front?dry_run=true", {"name": "TLF"})),
    ("addAlias", edit("POST", "/admin/entities/test-front/aliases", {"text": "TLF", "note": "n"})),
    ("updateAlias", edit("PATCH", lambda c: alias_address(c, "TLF"), {"note": "seen in news"})),
    ("mergeEntity", edit("POST", "/admin/entities/test-front/merge?dry_run=true", MERGE)),
    ("mergeEntity", edit("POST", "/admin/entities/test-front/merge", MERGE)),
    ("listChanges", edit("GET", "/admin/history")),
    ("listChanges", edit("GET", "/admin/history?entity_id=tlp&limit=1")),
    ("revertChange", edit("POST", lambda c: f"/admin/history/{newest_change(c)}/revert")),
    ("importTable", edit("POST", "/admin/import?dry_run=true", {"entities": [NEW_ENTITY]})),
    ("importTable", edit("POST", "/admin/import", {"entities": []})),
    ("listReviewItems", edit("GET", "/admin/review")),
    (
        "acceptReviewItem",
        edit("POST", lambda c: review_address(c, "Qwertz Brigade", "accept"), ACCEPT),
    ),
    ("dismissReviewItem", edit("POST", lambda c: review_address(c, "Qqxz Vvw", "dismiss"))),
    ("listReviewItems", edit("GET", "/admin/review?status=accepted")),
]


def declared_models(operation: str) -> tuple[Any, ...]:
    declared = DECLARED[operation]
    return get_args(declared) if isinstance(declared, UnionType) else (declared,)


def misfits(operation: str, response: Response) -> list[str]:
    """Why the answer is none of the operation's declared models; empty when it is one."""
    sent = response.json()
    why = []
    for model in declared_models(operation):
        adapter: TypeAdapter[Any] = TypeAdapter(model)
        try:
            validated = adapter.validate_json(response.content, strict=True)
        except ValidationError as error:
            why.append(f"{model.__name__}: {error}")
            continue
        again = adapter.dump_python(validated, mode="json", by_alias=True, exclude_unset=True)
        if again == sent:
            return []
        why.append(f"{model.__name__} changes it in a round trip: {again} != {sent}")
    return why


@pytest.mark.parametrize(
    ("operation", "call"), REQUESTS, ids=[f"{i}-{op}" for i, (op, _) in enumerate(REQUESTS)]
)
def test_the_answer_is_the_declared_shape(client: TestClient, operation: str, call: Call) -> None:
    response = call(client)
    assert response.status_code in (200, 201), response.text
    assert misfits(operation, response) == []
    CHECKED.setdefault(operation, []).append(response.json())


def test_the_answers_checked_cover_every_status_method_and_tie_break() -> None:
    """Run after the requests above: their answers hold every variety of candidate."""
    results = CHECKED.get("resolve", []) + [
        result for batch in CHECKED.get("resolveBatch", []) for result in batch["results"]
    ]
    candidates = [candidate for result in results for candidate in result["candidates"]]
    assert {r["status"] for r in results} == {"matched", "ambiguous", "unmatched"}
    assert {c["method"] for c in candidates} == {
        "exact",
        "structural",
        "transliteration",
        "phonetic",
        "fuzzy",
        "compositional",
    }
    assert any(r["tie_break"] for r in results)
    assert any("prominence" in c for c in candidates)
    assert any("exchanged" in c for c in candidates)
    mentions = [mention for answer in CHECKED.get("annotate", []) for mention in answer["mentions"]]
    assert {m["status"] for m in mentions} == {"matched", "ambiguous"}


def test_a_drifted_answer_fails_the_check(client: TestClient) -> None:
    """The check is strict: a field of another type, or one the model lacks, does not pass."""
    answer = client.get("/resolve", params={"q": "TTP"}).json()
    for drifted in ({**answer, "score": "1.0"}, {**answer, "entity_id": "ttp"}):
        sent = Response(200, json=drifted)
        assert misfits("resolve", sent)


def test_every_operation_that_answers_a_declared_model_is_checked() -> None:
    declared = {operation for operation, model in DECLARED.items() if model is not None}
    assert declared == {operation for operation, _ in REQUESTS}


def test_every_operation_of_the_schema_is_in_the_routers_checked() -> None:
    schema = create_app(Settings()).openapi()
    operations = {
        o["operationId"] for methods in schema["paths"].values() for o in methods.values()
    }
    assert operations <= set(DECLARED)
