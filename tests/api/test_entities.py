from fastapi.testclient import TestClient


def test_list_is_paged_with_a_total(client: TestClient) -> None:
    body = client.get("/entities", params={"limit": 2}).json()
    assert body["total"] == 4
    assert [e["id"] for e in body["items"]] == ["afghan-taliban", "islamabad"]


def test_list_filters(client: TestClient) -> None:
    body = client.get("/entities", params={"type": "location"}).json()
    assert [e["id"] for e in body["items"]] == ["islamabad"]
    body = client.get("/entities", params={"q": "Labbaik"}).json()
    assert [e["id"] for e in body["items"]] == ["tlp"]


def test_one_entity_lists_its_aliases_with_ids(client: TestClient) -> None:
    body = client.get("/entities/ttp").json()
    assert body["name"] == "Tehreek-e-Taliban Pakistan"
    assert [a["text"] for a in body["aliases"]] == ["TTP", "Pakistani Taliban", "Taliban"]
    assert all(isinstance(a["id"], int) for a in body["aliases"])


def test_an_unknown_id_is_404_json(client: TestClient) -> None:
    response = client.get("/entities/nope")
    assert response.status_code == 404
    assert response.json() == {"detail": "no entity with id 'nope'"}


def test_bad_paging_is_422(client: TestClient) -> None:
    assert client.get("/entities", params={"limit": 0}).status_code == 422
    assert client.get("/entities", params={"offset": -1}).status_code == 422
