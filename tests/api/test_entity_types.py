"""GET /types, and declared types over HTTP: refused writes, refused filters."""

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.resources import SHIPPED_ALIASES_FILE
from app.settings import Settings

DECLARED = (
    "types:\n"
    "  - {id: location, description: A place.}\n"
    "  - {id: organization, description: A group or body.}\n"
)
JAISH = {"id": "jaish", "name": "Jaish-e-Mohammed", "type": "organisation"}
YAML = {"Content-Type": "application/yaml"}


@pytest.fixture
def declared(client: TestClient, admin: dict[str, str]) -> TestClient:
    response = client.post("/admin/import", content=DECLARED, headers=admin | YAML)
    assert response.status_code == 200, response.text
    return client


def test_without_declared_types_the_types_in_use_are_listed(client: TestClient) -> None:
    assert client.get("/types").json() == {
        "items": [
            {"id": "location", "description": None, "entities": 1},
            {"id": "organization", "description": None, "entities": 3},
        ]
    }


def test_the_declared_types_are_listed_with_their_descriptions(declared: TestClient) -> None:
    assert declared.get("/types").json() == {
        "items": [
            {"id": "location", "description": "A place.", "entities": 1},
            {"id": "organization", "description": "A group or body.", "entities": 3},
        ]
    }


def test_an_entity_of_an_undeclared_type_is_refused_with_a_suggestion(
    declared: TestClient, admin: dict[str, str]
) -> None:
    response = declared.post("/admin/entities", json=JAISH, headers=admin)
    assert response.status_code == 422
    assert response.json() == {
        "detail": "type 'organisation' is not declared; did you mean 'organization'?"
    }
    patch = declared.patch("/admin/entities/ttp", json={"type": "organisation"}, headers=admin)
    assert patch.status_code == 422
    assert "did you mean 'organization'?" in patch.json()["detail"]
    assert declared.get("/entities/jaish").status_code == 404
    assert declared.get("/entities/ttp").json()["type"] == "organization"


def test_without_declared_types_any_type_is_accepted(
    client: TestClient, admin: dict[str, str]
) -> None:
    assert client.post("/admin/entities", json=JAISH, headers=admin).status_code == 201


def test_an_import_of_an_undeclared_type_is_refused_and_changes_nothing(
    declared: TestClient, admin: dict[str, str]
) -> None:
    before = declared.get("/admin/export", headers=admin).text
    file = "entities:\n  - {id: jaish, name: Jaish-e-Mohammed, type: organisation}\n"
    merge = declared.post("/admin/import", content=file, headers=admin | YAML)
    assert merge.status_code == 422
    assert merge.json()["detail"] == (
        "entity 'jaish' has the type 'organisation', which is not declared; "
        "did you mean 'organization'?"
    )
    replace = declared.post(
        "/admin/import",
        params={"mode": "replace", "confirm": "true"},
        content=DECLARED + file,
        headers=admin | YAML,
    )
    assert replace.status_code == 422
    assert "did you mean 'organization'?" in replace.json()["detail"]
    assert declared.get("/admin/export", headers=admin).text == before


def test_the_export_lists_the_declared_types_first(
    declared: TestClient, admin: dict[str, str]
) -> None:
    exported = declared.get("/admin/export", headers=admin).text
    assert exported.startswith("types:\n- id: location\n  description: A place.\n")
    replaced = declared.post(
        "/admin/import",
        params={"mode": "replace", "confirm": "true"},
        content=exported,
        headers=admin | YAML,
    )
    assert replaced.status_code == 200
    assert declared.get("/admin/export", headers=admin).text == exported


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/entities?type=organisation", None),
        ("GET", "/entities?types=location&types=organisation", None),
        ("GET", "/resolve?q=TTP&type=organisation", None),
        ("GET", "/resolve?q=TTP&type=location&types=organisation", None),
        ("POST", "/resolve", {"mentions": ["TTP"], "type": "organisation"}),
        ("POST", "/resolve", {"mentions": ["TTP"], "types": ["location", "organisation"]}),
        ("POST", "/annotate", {"text": "The TTP said", "types": ["location", "organisation"]}),
        ("POST", "/annotate", {"text": "The TTP said", "type": "organisation"}),
        ("POST", "/annotate/batch", {"documents": [{"text": "TTP", "types": ["organisation"]}]}),
        ("POST", "/annotate/batch", {"documents": [{"text": "TTP", "type": "organisation"}]}),
    ],
)
def test_a_filter_by_a_type_neither_declared_nor_in_use_is_refused(
    client: TestClient, method: str, path: str, body: object
) -> None:
    response = client.request(method, path, json=body)
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert detail.endswith("(neither declared nor in use); did you mean 'organization'?")


@pytest.mark.parametrize(
    ("one", "many", "found"),
    [
        (None, ["location"], {"islamabad"}),
        (None, ["organization", "location"], {"islamabad", "ttp"}),
        ("organization", ["location"], {"islamabad", "ttp"}),
        ("location", ["location"], {"islamabad"}),
        ("organization", None, {"ttp"}),
    ],
)
def test_types_are_repeatable_with_type_as_a_synonym_on_every_filter(
    client: TestClient, one: str | None, many: list[str] | None, found: set[str]
) -> None:
    """``type`` and ``types`` together ask for entities of any of the types named."""
    query = {"type": one, "types": many}
    body = {key: value for key, value in query.items() if value is not None}
    entities = client.get("/entities", params=body).json()["items"]
    assert {e["id"] for e in entities} & {"islamabad", "ttp"} == found
    resolved = client.post("/resolve", json={"mentions": ["Islamabad", "TTP"], **body}).json()
    assert {r["entity"]["id"] for r in resolved["results"] if r["entity"]} == found
    one_by_one = [
        client.get("/resolve", params={"q": q, **body}).json() for q in ("Islamabad", "TTP")
    ]
    assert {r["entity"]["id"] for r in one_by_one if r["entity"]} == found
    text = {"text": "ISLAMABAD: the TTP said", **body}
    annotated = client.post("/annotate", json=text).json()["mentions"]
    assert {m["entity"]["id"] for m in annotated} == found
    batch = client.post("/annotate/batch", json={"documents": [text]}).json()["results"]
    assert {m["entity"]["id"] for m in batch[0]["mentions"]} == found


def test_a_filter_far_from_every_type_has_no_suggestion(client: TestClient) -> None:
    response = client.get("/resolve", params={"q": "TTP", "type": "weapon"})
    assert response.status_code == 422
    assert response.json() == {"detail": "no entity type is 'weapon' (neither declared nor in use)"}


def test_filters_ignore_case(client: TestClient) -> None:
    assert client.get("/entities", params={"type": "LOCATION"}).json()["total"] == 1
    found = client.get("/resolve", params={"q": "Islamabad", "type": "Location"}).json()
    assert found["entity"]["id"] == "islamabad"


def test_a_declared_type_that_no_entity_has_yet_is_a_valid_filter(
    declared: TestClient, admin: dict[str, str]
) -> None:
    file = "types:\n  - {id: person, description: Someone.}\n"
    assert declared.post("/admin/import", content=file, headers=admin | YAML).status_code == 200
    assert declared.get("/entities", params={"type": "person"}).json()["total"] == 0
    assert declared.get("/resolve", params={"q": "TTP", "type": "person"}).status_code == 200


def test_a_type_stops_being_a_filter_when_its_last_entity_goes(
    client: TestClient, admin: dict[str, str]
) -> None:
    assert client.delete("/admin/entities/islamabad", headers=admin).status_code == 204
    assert client.get("/resolve", params={"q": "Islamabad", "type": "location"}).status_code == 422
    assert client.get("/entities", params={"type": "location"}).status_code == 422


def test_the_reconciliation_manifest_offers_the_declared_types(
    declared: TestClient, admin: dict[str, str]
) -> None:
    file = "types:\n  - {id: person, description: Someone.}\n"
    assert declared.post("/admin/import", content=file, headers=admin | YAML).status_code == 200
    manifest = declared.get("/reconcile").json()
    assert [t["id"] for t in manifest["defaultTypes"]] == ["location", "organization", "person"]


def test_the_shipped_table_starts_with_its_declared_types(settings: Settings) -> None:
    shipped = settings.model_copy(update={"aliases_file": SHIPPED_ALIASES_FILE})
    with TestClient(create_app(shipped)) as client:
        items = client.get("/types").json()["items"]
        total = client.get("/entities", params={"limit": 1}).json()["total"]
    assert [item["id"] for item in items] == [
        "agreement",
        "city",
        "country",
        "event",
        "government-body",
        "media",
        "organization",
        "person",
        "province",
    ]
    assert all(item["description"] for item in items)
    assert sum(item["entities"] for item in items) == total
