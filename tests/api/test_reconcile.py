"""The reconciliation endpoints answer as the W3C Reconciliation API 0.2 schemas say."""

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from jsonschema import Draft7Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

SCHEMAS = Path(__file__).parent.parent / "data" / "reconciliation-0.2"


def validator(name: str) -> Draft7Validator:
    resources = []
    for path in SCHEMAS.glob("*.json"):
        schema = json.loads(path.read_text(encoding="utf-8"))
        resource = Resource.from_contents(schema, default_specification=DRAFT7)
        resources += [(schema["$id"], resource), (path.name, resource)]
    registry = Registry().with_resources(resources)
    return Draft7Validator(json.loads((SCHEMAS / name).read_text()), registry=registry)


def assert_valid(name: str, document: Any) -> None:
    errors = list(validator(name).iter_errors(document))
    assert errors == [], [e.message for e in errors]


QUERIES = {
    "q0": {"query": "Tahreek-i-Taliban Pakistan"},
    "q1": {"query": "Taliban", "limit": 1},
    "q2": {"query": "Islamabad", "type": ["organization"]},
    "q3": {"query": "nothing like it", "type": "organization", "properties": []},
}


def test_the_manifest(client: TestClient) -> None:
    manifest = client.get("/reconcile").json()
    assert_valid("manifest.json", manifest)
    assert manifest["versions"] == ["0.2"]
    assert {t["id"] for t in manifest["defaultTypes"]} == {"organization", "location"}
    assert manifest["view"]["url"].endswith("/entities/{{id}}")


def check_results(results: dict[str, Any]) -> None:
    assert_valid("reconciliation-result-batch.json", results)
    assert set(results) == set(QUERIES)
    (ttp,) = results["q0"]["result"]
    assert (ttp["id"], ttp["match"], ttp["type"]) == (
        "ttp",
        True,
        [{"id": "organization", "name": "organization"}],
    )
    assert 85 <= ttp["score"] <= 100
    (taliban,) = results["q1"]["result"]  # ambiguous: a candidate, never a match
    assert taliban["match"] is False
    assert results["q2"]["result"] == []
    assert results["q3"]["result"] == []


def test_a_form_encoded_batch_as_openrefine_sends_it(client: TestClient) -> None:
    response = client.post("/reconcile", data={"queries": json.dumps(QUERIES)})
    assert response.status_code == 200
    check_results(response.json())


def test_a_json_batch_and_a_get_batch(client: TestClient) -> None:
    check_results(client.post("/reconcile", json=QUERIES).json())
    check_results(client.get("/reconcile", params={"queries": json.dumps(QUERIES)}).json())


def test_the_query_schema_accepts_what_the_tests_send() -> None:
    assert_valid("reconciliation-query-batch.json", QUERIES)


@pytest.mark.parametrize(
    "queries",
    ['{"q0": {"limit": 3}}', '{"q0": "TTP"}', "[1]", "{", '{"q0": {"query": "x", "limit": 0}}'],
)
def test_malformed_queries_are_422(client: TestClient, queries: str) -> None:
    response = client.post("/reconcile", data={"queries": queries})
    assert response.status_code == 422
    assert "invalid reconciliation queries" in response.json()["detail"]
