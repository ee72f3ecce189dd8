"""Merging an entity into another (POST /admin/entities/{id}/merge), its redirect and its undo."""

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.test_admin import status_of
from tests.api.test_history import YAML, changes, entity, last_id, revert, revision

EMIRATE_FILE = "entities:\n  - {id: afghan-taliban, name: Islamic Emirate, type: organization}\n"
QUETTA_SHURA = {"text": "Quetta Shura", "note": "the leadership council"}


def merge(client: TestClient, admin: dict[str, str], entity_id: str, into: str) -> Any:
    return client.post(f"/admin/entities/{entity_id}/merge", json={"into": into}, headers=admin)


@pytest.fixture
def shura_id(client: TestClient, admin: dict[str, str]) -> int:
    """The afghan Taliban get an alias of their own, besides the Taliban that ttp has too."""
    added = client.post("/admin/entities/afghan-taliban/aliases", json=QUETTA_SHURA, headers=admin)
    assert added.status_code == 201, added.text
    alias_id: int = added.json()["id"]
    return alias_id


def forms(state: dict[str, Any]) -> list[str]:
    return [alias["text"] for alias in state["aliases"]]


# --- merging ---------------------------------------------------------------------


def test_a_merge_moves_the_aliases_with_their_ids_and_the_name_to_the_survivor(
    client: TestClient, admin: dict[str, str], shura_id: int
) -> None:
    ttp = entity(client, "ttp")
    response = merge(client, admin, "afghan-taliban", "ttp")
    assert response.status_code == 200, response.text
    survivor = response.json()
    assert survivor == entity(client, "ttp")
    assert survivor["aliases"][: len(ttp["aliases"])] == ttp["aliases"]
    moved, named = survivor["aliases"][len(ttp["aliases"]) :]
    assert moved == {"id": shura_id, "case_sensitive": None, **QUETTA_SHURA}
    assert named["text"] == "Afghan Taliban"
    assert named["note"] == "name of an entity merged into this one"
    # The survivor keeps its own fields.
    assert {k: survivor[k] for k in ("name", "type", "description")} == {
        k: ttp[k] for k in ("name", "type", "description")
    }


def test_a_form_the_survivor_has_already_is_dropped_once(
    client: TestClient, admin: dict[str, str]
) -> None:
    merge(client, admin, "afghan-taliban", "ttp")
    assert forms(entity(client, "ttp")).count("Taliban") == 1


def test_the_merged_name_is_no_new_alias_when_the_survivor_has_its_form(
    client: TestClient, admin: dict[str, str]
) -> None:
    shared = client.post(
        "/admin/entities/ttp/aliases?allow_shared=true",
        json={"text": "Afghan-Taliban"},
        headers=admin,
    )
    assert shared.status_code == 201, shared.text
    merge(client, admin, "afghan-taliban", "ttp")
    assert [f for f in forms(entity(client, "ttp")) if "fghan" in f] == ["Afghan-Taliban"]


def test_the_survivor_takes_a_description_it_lacks_from_the_merged_entity(
    client: TestClient, admin: dict[str, str]
) -> None:
    ttp = entity(client, "ttp")
    client.patch("/admin/entities/ttp", json={"prominence": 5.0}, headers=admin)
    survivor = merge(client, admin, "ttp", "afghan-taliban").json()
    assert (survivor["name"], survivor["description"]) == ("Afghan Taliban", ttp["description"])
    assert survivor["prominence"] == 5.0


def test_the_merged_id_answers_308_to_the_survivor_keeping_the_query_string(
    client: TestClient, admin: dict[str, str]
) -> None:
    merge(client, admin, "afghan-taliban", "ttp")
    response = client.get("/entities/afghan-taliban?x=1&y=2", follow_redirects=False)
    assert response.status_code == 308
    assert response.headers["location"] == "/entities/ttp?x=1&y=2"
    assert client.get("/entities/afghan-taliban").json()["id"] == "ttp"


def test_no_answer_names_the_merged_entity_again(
    client: TestClient, admin: dict[str, str], shura_id: int
) -> None:
    assert status_of(client, "Afghan Taliban") == ("matched", "afghan-taliban")
    merge(client, admin, "afghan-taliban", "ttp")
    assert status_of(client, "Afghan Taliban") == ("matched", "ttp")
    assert status_of(client, "Quetta Shura") == ("matched", "ttp")
    assert status_of(client, "Taliban") == ("matched", "ttp")  # was ambiguous between the two
    text = "The Afghan Taliban and the Quetta Shura met the Taliban."
    answers = [
        client.get("/resolve", params={"q": "Afghan Taliban", "limit": 50}).text,
        client.post("/annotate", json={"text": text}).text,
        client.post("/reconcile", data={"queries": '{"q0": {"query": "Afghan Taliban"}}'}).text,
        client.get("/entities", params={"q": "Taliban"}).text,
    ]
    assert all("ttp" in answer for answer in answers)
    assert not any("afghan-taliban" in answer for answer in answers)


def test_a_merge_is_one_revision_with_a_row_for_each_entity(
    client: TestClient, admin: dict[str, str]
) -> None:
    before = {"afghan-taliban": entity(client, "afghan-taliban"), "ttp": entity(client, "ttp")}
    merge(client, admin, "afghan-taliban", "ttp")
    rows = changes(client, admin, limit=2)
    assert {row["revision"] for row in rows} == {revision(client)}
    by_entity = {row["entity_id"]: row for row in rows}
    assert {row["action"] for row in rows} == {"merge"}
    assert by_entity["afghan-taliban"]["before"] == before["afghan-taliban"]
    assert by_entity["afghan-taliban"]["after"] == {"id": "afghan-taliban", "merged_into": "ttp"}
    assert by_entity["ttp"]["before"] == before["ttp"]
    assert by_entity["ttp"]["after"] == entity(client, "ttp")


def test_a_chain_of_merges_redirects_in_one_hop_to_the_last_survivor(
    client: TestClient, admin: dict[str, str]
) -> None:
    merge(client, admin, "tlp", "afghan-taliban")
    merge(client, admin, "afghan-taliban", "ttp")
    for old in ("tlp", "afghan-taliban"):
        response = client.get(f"/entities/{old}", follow_redirects=False)
        assert (response.status_code, response.headers["location"]) == (308, "/entities/ttp")
    assert {"Tehreek-e-Labbaik Pakistan", "TLP", "Afghan Taliban"} <= set(
        forms(entity(client, "ttp"))
    )
    # The merge that repointed tlp's redirect says so in tlp's history.
    (repointed, *_) = changes(client, admin, entity_id="tlp")
    assert (repointed["before"], repointed["after"]) == (
        {"id": "tlp", "merged_into": "afghan-taliban"},
        {"id": "tlp", "merged_into": "ttp"},
    )


# --- undoing ---------------------------------------------------------------------


@pytest.mark.parametrize("row_of", ["afghan-taliban", "ttp"])
def test_a_revert_of_either_row_brings_both_back_with_their_alias_ids(
    client: TestClient, admin: dict[str, str], shura_id: int, row_of: str
) -> None:
    before = {"afghan-taliban": entity(client, "afghan-taliban"), "ttp": entity(client, "ttp")}
    merge(client, admin, "afghan-taliban", "ttp")
    (row,) = changes(client, admin, entity_id=row_of, limit=1)
    response = revert(client, admin, row["id"])
    assert response.status_code == 200, response.text
    assert entity(client, "ttp") == before["ttp"]
    assert entity(client, "afghan-taliban") == before["afghan-taliban"]
    assert client.get("/entities/afghan-taliban", follow_redirects=False).status_code == 200
    assert status_of(client, "Quetta Shura") == ("matched", "afghan-taliban")
    assert status_of(client, "Taliban")[0] == "ambiguous"


def test_a_revert_of_the_revert_merges_again(client: TestClient, admin: dict[str, str]) -> None:
    merge(client, admin, "afghan-taliban", "ttp")
    merged = entity(client, "ttp")
    revert(client, admin, last_id(client, admin))
    assert revert(client, admin, last_id(client, admin)).status_code == 200
    assert entity(client, "ttp") == merged
    assert client.get("/entities/afghan-taliban", follow_redirects=False).status_code == 308


def test_a_chain_is_undone_merge_by_merge_newest_first(
    client: TestClient, admin: dict[str, str]
) -> None:
    tlp = entity(client, "tlp")
    merge(client, admin, "tlp", "afghan-taliban")
    first = last_id(client, admin)
    merge(client, admin, "afghan-taliban", "ttp")
    second = last_id(client, admin)
    now = revision(client)
    refused = revert(client, admin, first)
    assert refused.status_code == 409
    assert "'tlp'" in refused.json()["detail"]
    assert revision(client) == now
    assert revert(client, admin, second).status_code == 200
    response = client.get("/entities/tlp", follow_redirects=False)
    assert response.headers["location"] == "/entities/afghan-taliban"
    assert revert(client, admin, first).status_code == 200
    assert entity(client, "tlp") == tlp


def test_a_revert_is_refused_when_the_survivor_changed_since(
    client: TestClient, admin: dict[str, str]
) -> None:
    merge(client, admin, "afghan-taliban", "ttp")
    merged = last_id(client, admin)
    client.patch("/admin/entities/ttp", json={"description": "later"}, headers=admin)
    ttp, now = entity(client, "ttp"), revision(client)
    response = revert(client, admin, merged)
    assert response.status_code == 409
    assert "(update of 'ttp' by admin)" in response.json()["detail"]
    assert (entity(client, "ttp"), revision(client)) == (ttp, now)
    assert client.get("/entities/afghan-taliban", follow_redirects=False).status_code == 308


# --- refusals --------------------------------------------------------------------


def test_a_dry_run_answers_what_would_change_and_writes_nothing(
    client: TestClient, admin: dict[str, str]
) -> None:
    export, now = client.get("/admin/export", headers=admin).text, revision(client)
    response = client.post(
        "/admin/entities/afghan-taliban/merge?dry_run=true", json={"into": "ttp"}, headers=admin
    )
    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["dry_run"], report["deleted"], report["updated"]) == (
        True,
        ["afghan-taliban"],
        ["ttp"],
    )
    marker = {"id": "afghan-taliban", "merged_into": "ttp"}
    assert marker in [change["after"] for change in report["changes"]]
    assert (client.get("/admin/export", headers=admin).text, revision(client)) == (export, now)
    assert client.get("/entities/afghan-taliban", follow_redirects=False).status_code == 200


@pytest.mark.parametrize(
    ("entity_id", "body", "status", "detail"),
    [
        ("ttp", {"into": "ttp"}, 422, "cannot be merged into itself"),
        ("ttp", {"into": "nowhere"}, 404, "no entity with id 'nowhere'"),
        ("nowhere", {"into": "ttp"}, 404, "no entity with id 'nowhere'"),
        ("tlp", {"into": "afghan-taliban"}, 409, "merged into 'ttp' already"),
        ("afghan-taliban", {"into": "tlp"}, 404, "'afghan-taliban' was merged into 'ttp'"),
    ],
)
def test_a_merge_that_cannot_be_is_refused_naming_why_and_writes_nothing(
    client: TestClient,
    admin: dict[str, str],
    entity_id: str,
    body: dict[str, str],
    status: int,
    detail: str,
) -> None:
    merge(client, admin, "afghan-taliban", "ttp")
    export, now = client.get("/admin/export", headers=admin).text, revision(client)
    response = client.post(f"/admin/entities/{entity_id}/merge", json=body, headers=admin)
    assert response.status_code == status, response.text
    assert detail in response.json()["detail"]
    assert (client.get("/admin/export", headers=admin).text, revision(client)) == (export, now)


@pytest.mark.parametrize("body", [{}, {"into": ""}, {"into": "a b"}, {"into": "ttp", "x": 1}])
def test_a_malformed_body_is_422(client: TestClient, admin: dict[str, str], body: Any) -> None:
    response = client.post("/admin/entities/tlp/merge", json=body, headers=admin)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][0] == "body"


def test_a_merge_needs_a_token(client: TestClient) -> None:
    response = client.post("/admin/entities/tlp/merge", json={"into": "ttp"})
    assert response.status_code == 401
    assert client.get("/entities/tlp").status_code == 200


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("PATCH", "/admin/entities/afghan-taliban", {"description": "d"}),
        ("DELETE", "/admin/entities/afghan-taliban", None),
        ("POST", "/admin/entities/afghan-taliban/aliases", {"text": "Emirate"}),
        ("DELETE", "/admin/entities/afghan-taliban/aliases/{alias}", None),
    ],
)
def test_a_write_to_a_merged_entity_is_404_naming_the_survivor(
    client: TestClient,
    admin: dict[str, str],
    shura_id: int,
    method: str,
    path: str,
    body: Any,
) -> None:
    merge(client, admin, "afghan-taliban", "ttp")
    ttp, now = entity(client, "ttp"), revision(client)
    response = client.request(method, path.format(alias=shura_id), json=body, headers=admin)
    assert response.status_code == 404
    assert "'afghan-taliban' was merged into 'ttp'" in response.json()["detail"]
    assert (entity(client, "ttp"), revision(client)) == (ttp, now)


def test_an_entity_of_a_merged_id_is_409_naming_the_survivor(
    client: TestClient, admin: dict[str, str]
) -> None:
    merge(client, admin, "afghan-taliban", "ttp")
    again = {"id": "afghan-taliban", "name": "Islamic Emirate", "type": "organization"}
    response = client.post("/admin/entities", json=again, headers=admin)
    assert response.status_code == 409
    assert "merged into 'ttp'" in response.json()["detail"]
    for mode in ("merge", "replace"):
        imported = client.post(
            f"/admin/import?mode={mode}&confirm=true",
            content=EMIRATE_FILE,
            headers={**admin, **YAML},
        )
        assert imported.status_code == 409
        assert "merged into 'ttp'" in imported.json()["detail"]
    assert client.get("/entities/afghan-taliban", follow_redirects=False).status_code == 308


def test_a_merge_with_a_stale_etag_is_refused_and_merges_nothing(
    client: TestClient, admin: dict[str, str]
) -> None:
    stale = client.get("/entities/tlp").headers["etag"]
    client.patch("/admin/entities/tlp", json={"description": "changed"}, headers=admin)
    refused = client.post(
        "/admin/entities/tlp/merge", json={"into": "ttp"}, headers={**admin, "If-Match": stale}
    )
    assert refused.status_code == 412, refused.text
    assert client.get("/entities/tlp", follow_redirects=False).status_code == 200
    current = client.get("/entities/tlp").headers["etag"]
    merged = client.post(
        "/admin/entities/tlp/merge", json={"into": "ttp"}, headers={**admin, "If-Match": current}
    )
    assert merged.status_code == 200, merged.text
    assert merged.headers["etag"] == client.get("/entities/ttp").headers["etag"]


def test_an_entity_that_merged_ids_lead_to_is_not_deleted(
    client: TestClient, admin: dict[str, str]
) -> None:
    merge(client, admin, "tlp", "islamabad")
    refused = client.delete("/admin/entities/islamabad", headers=admin)
    assert refused.status_code == 409, refused.text
    assert "'tlp'" in refused.json()["detail"]
    operation = client.get("/openapi.json").json()["paths"]["/admin/entities/{entity_id}"]
    assert "409" in operation["delete"]["responses"]  # it was not listed
    assert client.get("/entities/islamabad").status_code == 200
    exported = client.get("/admin/export", headers=admin).text
    without = exported.replace("- id: islamabad", "- id: islamabad-gone")
    replaced = client.post(
        "/admin/import?mode=replace&confirm=true&allow_shared=true",
        content=without,
        headers={**admin, "content-type": "application/yaml"},
    )
    assert replaced.status_code == 409, replaced.text
    assert (
        client.get("/entities/tlp", follow_redirects=False)
        .headers["location"]
        .endswith("/entities/islamabad")
    )
