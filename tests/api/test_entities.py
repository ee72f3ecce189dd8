import pytest
from fastapi.testclient import TestClient

from tests.conftest import named_field


def test_list_is_paged_with_a_total(client: TestClient) -> None:
    body = client.get("/entities", params={"limit": 2}).json()
    assert body["total"] == 4
    assert [e["id"] for e in body["items"]] == ["afghan-taliban", "islamabad"]


def test_list_filters(client: TestClient) -> None:
    body = client.get("/entities", params={"type": "location"}).json()
    assert [e["id"] for e in body["items"]] == ["islamabad"]
    body = client.get("/entities", params={"q": "Labbaik"}).json()
    assert [e["id"] for e in body["items"]] == ["tlp"]


@pytest.mark.parametrize(
    ("q", "found"),
    [
        ("ZÜRICH", ["zurich"]),  # SQLite's LIKE folds ASCII letters only
        ("élite", ["zurich"]),
        ("Zurich Elite", ["zurich"]),
        ("ZÜRİCH", ["zurich"]),
        ("zurich", ["zurich"]),  # the ID, exactly
        ("Tehreek-e-Labbaik", ["tlp"]),
        ("tehreek e", ["tlp", "ttp"]),
        ("-", []),  # punctuation alone: no normal form, only an ID of it
    ],
)
def test_q_finds_a_name_in_any_script_and_case_on_either_database(
    client: TestClient, admin: dict[str, str], q: str, found: list[str]
) -> None:
    zurich = {"id": "zurich", "name": "Zürich Élite Groupe", "type": "organization"}
    assert client.post("/admin/entities", json=zurich, headers=admin).status_code == 201
    body = client.get("/entities", params={"q": q}).json()
    assert [e["id"] for e in body["items"]] == found
    assert body["total"] == len(found)


def test_one_entity_lists_its_aliases_with_ids(client: TestClient) -> None:
    body = client.get("/entities/ttp").json()
    assert body["name"] == "Tehreek-e-Taliban Pakistan"
    assert [a["text"] for a in body["aliases"]] == ["TTP", "Pakistani Taliban", "Taliban"]
    assert all(isinstance(a["id"], int) for a in body["aliases"])


def test_an_unknown_id_is_404_json(client: TestClient) -> None:
    response = client.get("/entities/nope")
    assert response.status_code == 404
    assert response.json() == {"detail": "no entity with id 'nope'"}


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/entities/ttp/"), ("GET", "/entities/"), ("POST", "/annotate/")],
)
def test_a_path_with_a_slash_too_many_is_404_json_not_a_redirect(
    client: TestClient, method: str, path: str
) -> None:
    """The redirect (307) was in no operation's schema, and its Location came
    from the Host header the client sent."""
    response = client.request(method, path, headers={"Host": "elsewhere.example"})
    assert response.status_code == 404
    assert response.json() == {"detail": "Not Found"}
    assert "location" not in response.headers


def test_bad_paging_is_422(client: TestClient) -> None:
    assert client.get("/entities", params={"limit": 0}).status_code == 422
    assert client.get("/entities", params={"offset": -1}).status_code == 422


def test_an_offset_no_database_stores_is_422(client: TestClient) -> None:
    for offset in (2**31, 2**63):
        response = client.get("/entities", params={"offset": offset})
        assert named_field(response) == [["query", "offset"]]
    assert client.get("/entities", params={"offset": 2**31 - 1}).json()["items"] == []


@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("/entities/%00", ["path", "entity_id"]),
        ("/entities/a%01b", ["path", "entity_id"]),
        ("/entities?q=%00", ["query", "q"]),
        ("/entities?q=a%1Fb", ["query", "q"]),
        ("/entities?type=%00", ["query", "type"]),
        ("/entities?type=org%7F", ["query", "type"]),
    ],
)
def test_control_characters_are_422_naming_the_field(
    client: TestClient, url: str, field: list[str]
) -> None:
    assert named_field(client.get(url)) == [field]
