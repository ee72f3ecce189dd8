import os
import threading
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from app import aliasfile, child_read, editing
from app.live_index import LiveIndex
from app.main import create_app
from app.settings import Settings
from tests.conftest import named_field

NEW_ENTITY = {
    "id": "iskp",
    "name": "Islamic State – Khorasan Province",
    "type": "organization",
    "aliases": ["IS-K", {"text": "Daesh-Khorasan", "note": "seed articles"}],
}


KABUL = "entities:\n  - {id: kabul, name: Kabul, type: location}\n"


def status_of(client: TestClient, q: str) -> tuple[str, str | None]:
    body = client.get("/resolve", params={"q": q}).json()
    return body["status"], body["entity"] and body["entity"]["id"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/admin/entities"),
        ("PATCH", "/admin/entities/ttp"),
        ("DELETE", "/admin/entities/ttp"),
        ("POST", "/admin/entities/ttp/aliases"),
        ("DELETE", "/admin/entities/ttp/aliases/1"),
        ("POST", "/admin/import"),
        ("GET", "/admin/export"),
    ],
)
def test_every_admin_endpoint_needs_the_token(client: TestClient, method: str, path: str) -> None:
    missing = client.request(method, path)
    assert missing.status_code == 401
    assert missing.headers["www-authenticate"] == "Bearer"
    wrong = client.request(method, path, headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 403
    assert "detail" in wrong.json()
    assert client.get("/entities/ttp").status_code == 200  # nothing was deleted


def test_without_a_configured_token_admin_stays_closed(settings: Settings) -> None:
    closed = settings.model_copy(update={"admin_token": None, "admin_tokens": {}})
    with TestClient(create_app(closed)) as client:
        assert client.get("/admin/export").status_code == 401
        for token in ("", "None", "null"):
            response = client.get("/admin/export", headers={"Authorization": f"Bearer {token}"})
            assert response.status_code in (401, 503)


def test_create_then_resolve_at_once(client: TestClient, admin: dict[str, str]) -> None:
    response = client.post("/admin/entities", json=NEW_ENTITY, headers=admin)
    assert response.status_code == 201
    assert [a["text"] for a in response.json()["aliases"]] == ["IS-K", "Daesh-Khorasan"]
    assert status_of(client, "Daesh Khorasan") == ("matched", "iskp")
    again = client.post("/admin/entities", json=NEW_ENTITY, headers=admin)
    assert again.status_code == 409


def test_add_and_delete_an_alias(client: TestClient, admin: dict[str, str]) -> None:
    response = client.post("/admin/entities/tlp/aliases", json={"text": "Labbaik"}, headers=admin)
    assert response.status_code == 201
    alias_id = response.json()["id"]
    assert status_of(client, "labbaik") == ("matched", "tlp")
    repeated = client.post("/admin/entities/tlp/aliases", json={"text": "LABBAIK"}, headers=admin)
    assert repeated.status_code == 409
    deleted = client.delete(f"/admin/entities/tlp/aliases/{alias_id}", headers=admin)
    assert deleted.status_code == 204
    assert status_of(client, "labbaik") == ("unmatched", None)
    assert (
        client.delete(f"/admin/entities/tlp/aliases/{alias_id}", headers=admin).status_code == 404
    )


def test_patch_and_delete_an_entity(client: TestClient, admin: dict[str, str]) -> None:
    response = client.patch("/admin/entities/tlp", json={"name": "TLP party"}, headers=admin)
    assert response.status_code == 200
    assert response.json()["name"] == "TLP party"
    assert status_of(client, "tlp party") == ("matched", "tlp")
    assert status_of(client, "Tehreek-e-Labbaik Pakistan") == ("unmatched", None)
    assert client.delete("/admin/entities/tlp", headers=admin).status_code == 204
    assert status_of(client, "TLP") == ("unmatched", None)
    assert client.get("/entities/tlp").status_code == 404
    assert client.delete("/admin/entities/tlp", headers=admin).status_code == 404
    assert client.patch("/admin/entities/tlp", json={}, headers=admin).status_code == 404


@pytest.mark.parametrize("field", ["name", "type"])
def test_a_patch_cannot_clear_an_entity_s_name_or_type(
    client: TestClient, admin: dict[str, str], field: str
) -> None:
    """It answered 200 and changed nothing: an acknowledged edit not made."""
    before = client.get("/entities/tlp").json()
    response = client.patch("/admin/entities/tlp", json={field: None}, headers=admin)
    assert named_field(response) == [["body"]]
    assert f"{field} cannot be null" in response.text
    assert client.get("/entities/tlp").json() == before


@pytest.mark.parametrize("body", [{}, {"name": "Tehreek-e-Labbaik Pakistan", "prominence": None}])
def test_a_patch_that_changes_nothing_records_nothing(
    client: TestClient, admin: dict[str, str], body: dict[str, Any]
) -> None:
    before = client.get("/entities/tlp")
    history = client.get("/admin/history", headers=admin).json()["changes"]
    response = client.patch("/admin/entities/tlp", json=body, headers=admin)
    assert response.status_code == 200, response.text
    assert response.json() == before.json()
    assert response.headers["etag"] == before.headers["etag"]
    assert client.get("/admin/history", headers=admin).json()["changes"] == history


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"id": "x y", "name": "X", "type": "thing"},
        {"id": "x", "name": "", "type": "thing"},
        {"id": "x", "name": "X", "type": "thing", "aliases": ["X"]},
        {"id": "x", "name": "X", "type": "thing", "colour": "red"},
        {"id": "x", "name": "X\u0000", "type": "thing"},
        {"id": "x", "name": "X" * 600, "type": "thing"},
        {"id": "x", "name": "X", "type": "thing", "aliases": [f"a{i}" for i in range(10_001)]},
    ],
)
def test_malformed_entities_are_422_and_change_nothing(
    client: TestClient, admin: dict[str, str], body: dict[str, object]
) -> None:
    before = client.get("/admin/export", headers=admin).text
    response = client.post("/admin/entities", json=body, headers=admin)
    assert response.status_code == 422
    assert "detail" in response.json()
    assert client.get("/admin/export", headers=admin).text == before


def test_export_import_round_trip(client: TestClient, admin: dict[str, str]) -> None:
    exported = client.get("/admin/export", headers=admin)
    assert exported.headers["content-type"].startswith("application/yaml")
    response = client.post(
        "/admin/import?mode=replace&confirm=true",
        content=exported.content,
        headers={**admin, "content-type": "application/yaml"},
    )
    assert response.status_code == 200
    assert response.json()["mode"] == "replace"
    assert client.get("/admin/export", headers=admin).text == exported.text


def test_replace_import_takes_effect_at_once(client: TestClient, admin: dict[str, str]) -> None:
    body = {"entities": [NEW_ENTITY]}
    response = client.post("/admin/import?mode=replace&confirm=true", json=body, headers=admin)
    assert response.status_code == 200
    assert (response.json()["created"], response.json()["deleted"]) == (1, 4)
    assert status_of(client, "TTP") == ("unmatched", None)
    assert status_of(client, "IS-K") == ("matched", "iskp")


def test_a_replace_needs_confirm(client: TestClient, admin: dict[str, str]) -> None:
    body = {"entities": [NEW_ENTITY]}
    response = client.post("/admin/import?mode=replace", json=body, headers=admin)
    assert response.status_code == 400
    assert "confirm=true" in response.json()["detail"]
    assert status_of(client, "TTP") == ("matched", "ttp")


@pytest.mark.parametrize(
    ("content", "media_type"),
    [("", "application/yaml"), ("entities: []", "application/yaml"), ("{}", "application/json")],
)
def test_a_replace_with_no_entities_is_refused_unless_allowed(
    client: TestClient, admin: dict[str, str], content: str, media_type: str
) -> None:
    headers = {**admin, "content-type": media_type}
    url = "/admin/import?mode=replace&confirm=true"
    refused = client.post(url, content=content, headers=headers)
    assert refused.status_code == 409
    assert "allow_empty=true" in refused.json()["detail"]
    assert status_of(client, "TTP") == ("matched", "ttp")
    assert client.get("/entities").json()["total"] == 4
    allowed = client.post(f"{url}&allow_empty=true", content=content, headers=headers)
    assert allowed.status_code == 200
    assert allowed.json()["deleted"] == 4
    assert status_of(client, "TTP") == ("unmatched", None)


def test_a_merge_of_no_entities_changes_nothing(client: TestClient, admin: dict[str, str]) -> None:
    response = client.post("/admin/import", content="", headers=admin)
    assert response.status_code == 200
    assert client.get("/entities").json()["total"] == 4


def test_an_import_with_a_misspelt_field_is_422_naming_the_field_it_likely_meant(
    client: TestClient, admin: dict[str, str]
) -> None:
    yaml_body = (
        "entities:\n  - id: kabul\n    name: Kabul\n    type: location\n    aliasses: [KBL]\n"
    )
    response = client.post(
        "/admin/import", content=yaml_body, headers={**admin, "content-type": "application/yaml"}
    )
    assert response.status_code == 422
    assert response.json()["detail"] == (
        "entity #1 (id 'kabul') at line 2: aliasses: unknown field; did you mean 'aliases'? "
        "(at line 5, column 5)"
    )
    assert client.get("/entities/kabul").status_code == 404


def test_an_import_s_media_type_is_read_whatever_its_case(
    client: TestClient, admin: dict[str, str]
) -> None:
    headers = {**admin, "content-type": "Application/JSON; charset=UTF-8"}
    response = client.post("/admin/import", content='{"entities": [}', headers=headers)
    assert response.status_code == 422
    assert "not valid JSON" in response.json()["detail"]  # not read as YAML


def test_merge_import_keeps_what_the_file_lacks(client: TestClient, admin: dict[str, str]) -> None:
    yaml_body = "entities:\n  - {id: kabul, name: Kabul, type: location}\n"
    response = client.post(
        "/admin/import", content=yaml_body, headers={**admin, "content-type": "application/yaml"}
    )
    assert response.status_code == 200
    assert status_of(client, "Kabul") == ("matched", "kabul")
    assert status_of(client, "TTP") == ("matched", "ttp")


@pytest.mark.parametrize(
    "body",
    [
        "entities: [",
        KABUL + "  - {id: kabul, name: K, type: x}\n",
        KABUL + "  - {id: y, name: '', type: x}\n",
    ],
)
def test_a_bad_file_is_422_and_loads_nothing(
    client: TestClient, admin: dict[str, str], body: str
) -> None:
    for mode in ("merge", "replace"):
        response = client.post(
            f"/admin/import?mode={mode}&confirm=true",
            content=body,
            headers={**admin, "content-type": "application/yaml"},
        )
        assert response.status_code == 422
        assert isinstance(response.json()["detail"], str)
        assert status_of(client, "Kabul") == ("unmatched", None)
        assert status_of(client, "TTP") == ("matched", "ttp")


def test_an_unknown_import_mode_is_422(client: TestClient, admin: dict[str, str]) -> None:
    response = client.post("/admin/import?mode=wipe", content="entities: []", headers=admin)
    assert response.status_code == 422


def test_oversized_bodies_are_413(settings: Settings, admin: dict[str, str]) -> None:
    small = settings.model_copy(update={"max_body_bytes": 1000, "max_import_bytes": 2000})
    with TestClient(create_app(small)) as client:
        big = {"mentions": ["TTP"] * 400}
        assert client.post("/resolve", json=big).status_code == 413
        huge_file = "entities: []\n" + "#" * 3000
        response = client.post("/admin/import", content=huge_file, headers=admin)
        assert response.status_code == 413
        assert "larger than 2000 bytes" in response.json()["detail"]

        def chunks() -> object:  # no Content-Length: the limit still holds
            for _ in range(10):
                yield b"#" * 500

        streamed = client.post("/admin/import", content=chunks(), headers=admin)  # type: ignore[arg-type]
        assert streamed.status_code == 413


def test_an_alias_can_be_marked_case_sensitive(client: TestClient, admin: dict[str, str]) -> None:
    body = {"text": "Labbaik", "case_sensitive": True}
    response = client.post("/admin/entities/tlp/aliases", json=body, headers=admin)
    assert response.status_code == 201
    assert response.json()["case_sensitive"] is True
    exported = client.get("/admin/export", headers=admin).text
    assert "{text: Labbaik, case_sensitive: true}" in exported or "case_sensitive: true" in exported


def test_prominence_through_the_admin_api(client: TestClient, admin: dict[str, str]) -> None:
    body = {**NEW_ENTITY, "prominence": 1200000}
    assert client.post("/admin/entities", json=body, headers=admin).status_code == 201
    assert client.get("/entities/iskp").json()["prominence"] == 1200000
    assert client.get("/entities/ttp").json()["prominence"] is None
    patched = client.patch("/admin/entities/iskp", json={"prominence": 7.5}, headers=admin)
    assert (patched.status_code, patched.json()["prominence"]) == (200, 7.5)
    exported = client.get("/admin/export", headers=admin).text
    assert "  prominence: 7.5\n" in exported
    assert exported.count("prominence") == 1
    replaced = client.post(
        "/admin/import?mode=replace&confirm=true",
        content=exported,
        headers={**admin, "content-type": "application/yaml"},
    )
    assert replaced.status_code == 200
    assert client.get("/admin/export", headers=admin).text == exported
    cleared = client.patch("/admin/entities/iskp", json={"prominence": None}, headers=admin)
    assert cleared.json()["prominence"] is None
    assert "prominence" not in client.get("/admin/export", headers=admin).text


@pytest.mark.parametrize("value", [-1, "12", True, "NaN", [3]])
def test_a_prominence_that_is_no_finite_number_is_422(
    client: TestClient, admin: dict[str, str], value: object
) -> None:
    patched = client.patch("/admin/entities/ttp", json={"prominence": value}, headers=admin)
    assert patched.status_code == 422
    body = {**NEW_ENTITY, "prominence": value}
    created = client.post("/admin/entities", json=body, headers=admin)
    assert created.status_code == 422
    assert client.get("/entities/iskp").status_code == 404
    assert client.get("/entities/ttp").json()["prominence"] is None


def test_a_json_nan_prominence_is_422(client: TestClient, admin: dict[str, str]) -> None:
    json_headers = {**admin, "content-type": "application/json"}
    for literal in ("NaN", "Infinity"):
        body = f'{{"prominence": {literal}}}'
        response = client.patch("/admin/entities/ttp", content=body, headers=json_headers)
        assert response.status_code == 422


@pytest.mark.parametrize("alias_id", [0, 2**31, 2**63])
def test_an_alias_id_no_database_stores_is_422(
    client: TestClient, admin: dict[str, str], alias_id: int
) -> None:
    response = client.delete(f"/admin/entities/ttp/aliases/{alias_id}", headers=admin)
    assert named_field(response) == [["path", "alias_id"]]


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/admin/entities", {**NEW_ENTITY, "type": "org\x00"}, ["body", "type"]),
        ("/admin/entities", {**NEW_ENTITY, "type": "or\x85g"}, ["body", "type"]),
        ("/admin/entities", {**NEW_ENTITY, "name": "IS\x00K"}, ["body", "name"]),
        ("/admin/entities/ttp/aliases", {"text": "\ufdfa" * 512}, ["body", "text"]),
        ("/admin/entities/%00/aliases", {"text": "TTP2"}, ["path", "entity_id"]),
    ],
)
def test_what_the_database_cannot_store_is_422_naming_the_field(
    client: TestClient, admin: dict[str, str], path: str, body: dict[str, object], field: list[str]
) -> None:
    assert named_field(client.post(path, json=body, headers=admin)) == [field]


def test_a_normal_form_longer_than_its_column_names_the_limit(
    client: TestClient, admin: dict[str, str]
) -> None:
    response = client.post(
        "/admin/entities/ttp/aliases", json={"text": "\ufdfa" * 512}, headers=admin
    )
    assert "at most 2,048 are stored" in response.json()["detail"][0]["msg"]


@pytest.mark.parametrize(
    ("body", "media_type", "expected"),
    [
        ("entities: !!python/object/apply:os.system ['true']", "application/yaml", "line 1"),
        ("entities:\n  - {id: a, id: b}\n", "application/yaml", "given twice"),
        ('{"entities": ' + "[" * 100_000 + "]" * 100_000 + "}", "application/json", "nested"),
        (
            "entities:\n" + "".join("  " * i + "- \n" for i in range(400)),
            "application/yaml",
            "nested",
        ),
        (
            '{"entities": [{"id": "a", "id": "b", "name": "B", "type": "t"}]}',
            "application/json",
            "twice",
        ),
    ],
)
def test_an_import_beyond_plain_data_is_422(
    client: TestClient, admin: dict[str, str], body: str, media_type: str, expected: str
) -> None:
    response = client.post(
        "/admin/import", content=body, headers={**admin, "content-type": media_type}
    )
    assert response.status_code == 422
    assert expected in response.json()["detail"]


def test_a_non_ascii_admin_token_can_be_presented(settings: Settings) -> None:
    token = "clé-secrète-ключ"
    configured = settings.model_copy(update={"admin_token": SecretStr(token)})
    with TestClient(create_app(configured)) as client:
        sent = {"Authorization": f"Bearer {token}".encode()}
        assert client.get("/admin/export", headers=sent).status_code == 200  # type: ignore[arg-type]
        wrong = {"Authorization": "Bearer clé-secrète".encode()}
        assert client.get("/admin/export", headers=wrong).status_code == 403  # type: ignore[arg-type]


@pytest.mark.parametrize("form", ["T-T-P", "T.T.P.", "t t p"])
def test_spelled_out_initials_are_the_alias_the_entity_has(
    client: TestClient, admin: dict[str, str], form: str
) -> None:
    response = client.post("/admin/entities/ttp/aliases", json={"text": form}, headers=admin)
    assert response.status_code == 409
    assert f"alias {form!r} repeats alias 'TTP'" in response.json()["detail"]
    merged = client.post(
        "/admin/import",
        content=f"entities:\n  - {{id: ttp, name: Tehreek-e-Taliban Pakistan, "
        f"type: organization, aliases: ['{form}']}}\n",
        headers={**admin, "content-type": "application/yaml"},
    )
    assert merged.json()["aliases_added"] == 0
    texts = [a["text"] for a in client.get("/entities/ttp").json()["aliases"]]
    assert form not in texts


def test_an_import_gives_back_free_memory_before_the_index_takes_it_in(
    client: TestClient, admin: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    steps: list[str] = []
    given_back = editing.give_back_free_memory
    refresh = LiveIndex.refresh

    def giving_back() -> None:
        steps.append("give back")
        given_back()

    def refreshing(live: LiveIndex) -> bool:
        if threading.current_thread().name != "index-refresh":  # the edit's own, not the watch's
            steps.append("refresh")
        return refresh(live)

    monkeypatch.setattr(editing, "give_back_free_memory", giving_back)
    monkeypatch.setattr(LiveIndex, "refresh", refreshing)
    response = client.post("/admin/import", content=KABUL, headers=admin)
    assert response.status_code == 200
    assert steps == ["give back", "refresh"]
    assert status_of(client, "Kabul") == ("matched", "kabul")
    steps.clear()
    assert client.post("/admin/entities", json=NEW_ENTITY, headers=admin).status_code == 201
    assert steps == ["refresh"]  # a small edit: the trim's cost is not paid


def test_an_import_read_by_a_child_process_is_stored_or_refused_whole(
    client: TestClient, admin: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(aliasfile, "READ_APART_FROM", 0)
    monkeypatch.setattr(child_read, "SENT_AT_ONCE", 2)
    forks = []
    fork = os.fork

    def forking() -> int:
        forks.append(1)
        return fork()

    monkeypatch.setattr(os, "fork", forking)
    entries = [{"id": f"t{n}", "name": f"Town {n}", "type": "location"} for n in range(7)]
    faulty = {"entities": [*entries, {"id": "bad", "name": "", "type": "location"}]}
    refused = client.post("/admin/import", json=faulty, headers=admin)
    assert refused.status_code == 422
    assert "entity #8 (id 'bad')" in refused.json()["detail"]
    assert client.get("/entities/t0").status_code == 404
    stored = client.post("/admin/import", json={"entities": entries}, headers=admin)
    assert stored.json()["created"] == 7
    assert status_of(client, "Town 6") == ("matched", "t6")
    assert len(forks) == 2
