"""Edits that can't quietly hurt: If-Match, alias edits, ids never reused, shared forms,
imports that change only what differs."""

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.test_admin import status_of

# Each write to one entity's state, as (method, path, body); {alias} is TLP's alias id.
ENTITY_WRITES = [
    ("PATCH", "/admin/entities/tlp", {"description": "Barelvi party."}),
    ("DELETE", "/admin/entities/tlp", None),
    ("POST", "/admin/entities/tlp/aliases", {"text": "Labbaik"}),
    ("PATCH", "/admin/entities/tlp/aliases/{alias}", {"note": "acronym"}),
    ("DELETE", "/admin/entities/tlp/aliases/{alias}", None),
]


def tlp_alias(client: TestClient) -> int:
    alias_id: int = client.get("/entities/tlp").json()["aliases"][0]["id"]
    return alias_id


def send(
    client: TestClient, admin: dict[str, str], method: str, path: str, body: Any, **headers: str
) -> Any:
    url = path.format(alias=tlp_alias(client))
    return client.request(method, url, json=body, headers={**admin, **headers})


def yaml_headers(admin: dict[str, str]) -> dict[str, str]:
    return {**admin, "content-type": "application/yaml"}


# --- ETag and If-Match ------------------------------------------------------------------


def test_an_entity_answers_an_etag_that_an_alias_edit_changes(
    client: TestClient, admin: dict[str, str]
) -> None:
    first = client.get("/entities/tlp").headers["etag"]
    assert client.get("/entities/tlp").headers["etag"] == first
    client.post("/admin/entities/tlp/aliases", json={"text": "Labbaik"}, headers=admin)
    assert client.get("/entities/tlp").headers["etag"] != first


@pytest.mark.parametrize(("method", "path", "body"), ENTITY_WRITES)
def test_a_stale_if_match_is_412_naming_the_current_etag_and_changes_nothing(
    client: TestClient, admin: dict[str, str], method: str, path: str, body: Any
) -> None:
    stale = client.get("/entities/tlp").headers["etag"]
    client.patch("/admin/entities/tlp", json={"prominence": 3.0}, headers=admin)
    current = client.get("/entities/tlp")
    response = send(client, admin, method, path, body, **{"If-Match": stale})
    assert response.status_code == 412
    assert current.headers["etag"] in response.json()["detail"]
    assert response.headers["etag"] == current.headers["etag"]
    assert client.get("/entities/tlp").json() == current.json()


@pytest.mark.parametrize("current", [True, False])
@pytest.mark.parametrize(("method", "path", "body"), ENTITY_WRITES)
def test_a_current_if_match_or_a_star_lets_the_write_through(
    client: TestClient, admin: dict[str, str], method: str, path: str, body: Any, current: bool
) -> None:
    if_match = client.get("/entities/tlp").headers["etag"] if current else "*"
    response = send(client, admin, method, path, body, **{"If-Match": if_match})
    assert response.status_code in (200, 201, 204), response.text


@pytest.mark.parametrize(("method", "path", "body"), ENTITY_WRITES)
@pytest.mark.parametrize("if_match", ["abc", "W/abc", '"a" "b"', '"a",'])
def test_an_if_match_that_is_no_etag_is_400(
    client: TestClient, admin: dict[str, str], method: str, path: str, body: Any, if_match: str
) -> None:
    before = client.get("/entities/tlp").json()
    response = send(client, admin, method, path, body, **{"If-Match": if_match})
    assert response.status_code == 400
    assert "If-Match must be" in response.json()["detail"]
    assert client.get("/entities/tlp").json() == before


@pytest.mark.parametrize(
    ("lines", "answer"),
    [(["stale", "current"], 200), (["current", "garbage"], 400), (["stale", "stale"], 412)],
)
def test_if_match_sent_as_several_lines_is_read_as_one_list(
    client: TestClient, admin: dict[str, str], lines: list[str], answer: int
) -> None:
    """As RFC 9110 combines them: only the first line was read, so a current tag
    on the second was 412 and garbage after a current one went through."""
    stale = client.get("/entities/tlp").headers["etag"]
    client.patch("/admin/entities/tlp", json={"prominence": 3.0}, headers=admin)
    tags = {"stale": stale, "current": client.get("/entities/tlp").headers["etag"]}
    tags["garbage"] = "garbage"
    headers = [*admin.items(), *(("If-Match", tags[line]) for line in lines)]
    response = client.patch("/admin/entities/tlp", json={"prominence": 4.0}, headers=headers)
    assert response.status_code == answer, response.text
    assert client.get("/entities/tlp").json()["prominence"] == (4.0 if answer == 200 else 3.0)


def test_a_write_answers_the_etag_the_entity_now_has(
    client: TestClient, admin: dict[str, str]
) -> None:
    patched = client.patch("/admin/entities/tlp", json={"prominence": 1.0}, headers=admin)
    added = client.post("/admin/entities/tlp/aliases", json={"text": "Labbaik"}, headers=admin)
    assert added.headers["etag"] != patched.headers["etag"]
    edited = client.patch(
        f"/admin/entities/tlp/aliases/{added.json()['id']}",
        json={"note": "party slogan"},
        headers={**admin, "If-Match": added.headers["etag"]},
    )
    assert edited.status_code == 200
    deleted = client.delete(
        f"/admin/entities/tlp/aliases/{added.json()['id']}",
        headers={**admin, "If-Match": edited.headers["etag"]},
    )
    assert deleted.status_code == 204
    assert deleted.headers["etag"] == client.get("/entities/tlp").headers["etag"]
    created = client.post(
        "/admin/entities", json={"id": "kabul", "name": "Kabul", "type": "city"}, headers=admin
    )
    assert created.headers["etag"] == client.get("/entities/kabul").headers["etag"]


def test_if_match_star_is_404_for_an_entity_that_does_not_exist(
    client: TestClient, admin: dict[str, str]
) -> None:
    response = client.delete("/admin/entities/nope", headers={**admin, "If-Match": "*"})
    assert response.status_code == 404


# --- editing an alias ---------------------------------------------------------------------


def test_an_alias_patch_changes_its_text_note_and_case_rule_and_keeps_its_id(
    client: TestClient, admin: dict[str, str]
) -> None:
    alias_id = tlp_alias(client)
    body = {"text": "T.L.P. party", "note": "press usage", "case_sensitive": True}
    response = client.patch(f"/admin/entities/tlp/aliases/{alias_id}", json=body, headers=admin)
    assert response.status_code == 200
    assert response.json() == {"id": alias_id, **body}
    assert status_of(client, "TLP party") == ("matched", "tlp")
    assert status_of(client, "TLP") == ("unmatched", None)
    cleared = client.patch(
        f"/admin/entities/tlp/aliases/{alias_id}",
        json={"note": None, "case_sensitive": None},
        headers=admin,
    )
    assert cleared.json() == {
        "id": alias_id,
        "text": "T.L.P. party",
        "note": None,
        "case_sensitive": None,
    }


@pytest.mark.parametrize("text", ["Tehreek e Labbaik PAKISTAN", "Pakistani Taliban"])
def test_an_alias_patch_to_a_form_the_entity_has_is_409(
    client: TestClient, admin: dict[str, str], text: str
) -> None:
    alias_id = client.get("/entities/ttp").json()["aliases"][0]["id"]  # TTP
    if text.startswith("Tehreek"):
        alias_id, entity = tlp_alias(client), "tlp"
    else:
        entity = "ttp"
    response = client.patch(
        f"/admin/entities/{entity}/aliases/{alias_id}", json={"text": text}, headers=admin
    )
    assert response.status_code == 409
    assert "once normalised" in response.json()["detail"]


def test_an_alias_can_be_respelt_in_its_own_form(client: TestClient, admin: dict[str, str]) -> None:
    alias_id = tlp_alias(client)
    response = client.patch(
        f"/admin/entities/tlp/aliases/{alias_id}", json={"text": "T.L.P."}, headers=admin
    )
    assert (response.status_code, response.json()["text"]) == (200, "T.L.P.")


def test_an_alias_of_another_entity_is_404(client: TestClient, admin: dict[str, str]) -> None:
    response = client.patch(
        f"/admin/entities/ttp/aliases/{tlp_alias(client)}", json={"note": "x"}, headers=admin
    )
    assert response.status_code == 404
    assert client.get("/entities/tlp").json()["aliases"][0]["note"] is None


@pytest.mark.parametrize(
    "body", [{"text": None}, {"text": "---"}, {"text": ""}, {"colour": "red"}, {"note": "x" * 2001}]
)
def test_a_malformed_alias_patch_is_422(
    client: TestClient, admin: dict[str, str], body: dict[str, Any]
) -> None:
    response = client.patch(
        f"/admin/entities/tlp/aliases/{tlp_alias(client)}", json=body, headers=admin
    )
    assert response.status_code == 422
    assert client.get("/entities/tlp").json()["aliases"][0]["text"] == "TLP"


# --- alias ids -------------------------------------------------------------------------------


def test_a_retried_delete_never_removes_the_next_alias_added(
    client: TestClient, admin: dict[str, str]
) -> None:
    first = client.post("/admin/entities/tlp/aliases", json={"text": "Labbaik"}, headers=admin)
    url = f"/admin/entities/tlp/aliases/{first.json()['id']}"
    assert client.delete(url, headers=admin).status_code == 204
    second = client.post("/admin/entities/tlp/aliases", json={"text": "Barelvi"}, headers=admin)
    assert second.json()["id"] > first.json()["id"]
    assert client.delete(url, headers=admin).status_code == 404  # the retry
    assert status_of(client, "Barelvi") == ("matched", "tlp")


# --- shared forms ------------------------------------------------------------------------------


def test_an_alias_another_entity_has_is_409_naming_the_owners_unless_allowed(
    client: TestClient, admin: dict[str, str]
) -> None:
    url = "/admin/entities/afghan-taliban/aliases"
    refused = client.post(url, json={"text": "ttp"}, headers=admin)
    assert refused.status_code == 409
    assert "'ttp' (form 'ttp') is held by 'ttp'" in refused.json()["detail"]
    assert "allow_shared=true" in refused.json()["detail"]
    allowed = client.post(f"{url}?allow_shared=true", json={"text": "ttp"}, headers=admin)
    assert allowed.status_code == 201
    assert status_of(client, "TTP")[0] == "ambiguous"


def test_an_alias_patch_onto_another_entitys_form_is_409_unless_allowed(
    client: TestClient, admin: dict[str, str]
) -> None:
    url = f"/admin/entities/tlp/aliases/{tlp_alias(client)}"
    refused = client.patch(url, json={"text": "Islamabad"}, headers=admin)
    assert refused.status_code == 409
    assert "held by 'islamabad'" in refused.json()["detail"]
    allowed = client.patch(f"{url}?allow_shared=true", json={"text": "Islamabad"}, headers=admin)
    assert allowed.status_code == 200


def test_a_new_entity_with_a_name_or_alias_another_has_is_409_unless_allowed(
    client: TestClient, admin: dict[str, str]
) -> None:
    by_name = {"id": "tlp2", "name": "TLP", "type": "organization"}
    by_alias = {"id": "tlp2", "name": "Labbaik party", "type": "organization", "aliases": ["TLP"]}
    for body in (by_name, by_alias):
        refused = client.post("/admin/entities", json=body, headers=admin)
        assert refused.status_code == 409
        assert "held by 'tlp'" in refused.json()["detail"]
    assert client.get("/entities/tlp2").status_code == 404
    allowed = client.post("/admin/entities?allow_shared=true", json=by_alias, headers=admin)
    assert allowed.status_code == 201


def test_renaming_onto_another_entitys_form_is_409_unless_allowed(
    client: TestClient, admin: dict[str, str]
) -> None:
    refused = client.patch("/admin/entities/tlp", json={"name": "Islamabad"}, headers=admin)
    assert refused.status_code == 409
    assert client.get("/entities/tlp").json()["name"] == "Tehreek-e-Labbaik Pakistan"
    respelt = client.patch(
        "/admin/entities/tlp", json={"name": "TEHREEK E LABBAIK PAKISTAN"}, headers=admin
    )
    assert respelt.status_code == 200
    allowed = client.patch(
        "/admin/entities/tlp?allow_shared=true", json={"name": "Islamabad"}, headers=admin
    )
    assert allowed.status_code == 200


def test_an_import_that_would_share_a_form_is_409_and_stores_nothing(
    client: TestClient, admin: dict[str, str]
) -> None:
    body = (
        "entities:\n  - {id: kabul, name: Kabul, type: location}\n"
        "  - {id: tlp-youth, name: TLP youth wing, type: organization, aliases: [TLP]}\n"
    )
    # A replace keeps tlp only if the file has it; without it, TLP would be tlp-youth's alone.
    exported = client.get("/admin/export", headers=admin).text
    whole = exported + body.removeprefix("entities:\n").replace("  - ", "- ")
    for mode, file in (("merge", body), ("replace", whole)):
        refused = client.post(
            f"/admin/import?mode={mode}&confirm=true", content=file, headers=yaml_headers(admin)
        )
        assert refused.status_code == 409
        assert "'tlp' by 'tlp', 'tlp-youth'" in refused.json()["detail"]
        assert status_of(client, "Kabul") == ("unmatched", None)
    allowed = client.post(
        "/admin/import?allow_shared=true", content=body, headers=yaml_headers(admin)
    )
    assert allowed.status_code == 200
    assert status_of(client, "TLP")[0] == "ambiguous"


def test_a_replace_that_moves_a_form_to_another_entity_is_no_sharing(
    client: TestClient, admin: dict[str, str]
) -> None:
    body = "entities:\n  - {id: tlp-new, name: Labbaik party, type: organization, aliases: [TLP]}\n"
    response = client.post(
        "/admin/import?mode=replace&confirm=true", content=body, headers=yaml_headers(admin)
    )
    assert response.status_code == 200, response.text
    assert status_of(client, "TLP") == ("matched", "tlp-new")


def test_an_import_keeps_a_form_that_was_shared_already(
    client: TestClient, admin: dict[str, str]
) -> None:
    exported = client.get("/admin/export", headers=admin).content  # Taliban is two groups'
    for mode in ("merge", "replace"):
        response = client.post(
            f"/admin/import?mode={mode}&confirm=true", content=exported, headers=yaml_headers(admin)
        )
        assert response.status_code == 200, response.text


# --- imports change only what differs --------------------------------------------------------


def test_an_import_of_an_unchanged_table_changes_nothing_and_commits_no_revision(
    client: TestClient, admin: dict[str, str]
) -> None:
    exported = client.get("/admin/export", headers=admin).content
    before = client.get("/entities").json()
    revision = client.post("/admin/import", content=b"", headers=admin).json()["revision"]
    for mode in ("replace", "merge"):
        report = client.post(
            f"/admin/import?mode={mode}&confirm=true", content=exported, headers=yaml_headers(admin)
        ).json()
        counts = [report[k] for k in ("created", "updated", "deleted", "aliases_added")]
        assert (counts, report["aliases_deleted"], report["revision"]) == ([0] * 4, 0, revision)
    assert client.get("/entities").json() == before  # alias ids too


def test_a_replace_changes_only_what_differs_and_keeps_the_ids_of_aliases_that_stay(
    client: TestClient, admin: dict[str, str]
) -> None:
    ttp = client.get("/entities/ttp").json()
    ids = {alias["text"]: alias["id"] for alias in ttp["aliases"]}
    exported = client.get("/admin/export", headers=admin).text
    changed = (
        exported.replace("  - text: Taliban\n    note: loose usage\n", "  - TTP group\n")
        .replace("note: usual English name in news reports", "note: the usual English name")
        .replace("- TLP\n", "- T.L.P.\n")
    )
    assert changed.count("TTP group") == 1 and "T.L.P." in changed
    report = client.post(
        "/admin/import?mode=replace&confirm=true", content=changed, headers=yaml_headers(admin)
    ).json()
    assert [report[k] for k in ("created", "updated", "deleted")] == [0, 2, 0]
    assert (report["aliases_added"], report["aliases_deleted"]) == (1, 1)
    after = {a["text"]: a for a in client.get("/entities/ttp").json()["aliases"]}
    assert after["TTP"]["id"] == ids["TTP"]
    assert after["Pakistani Taliban"]["id"] == ids["Pakistani Taliban"]
    assert after["Pakistani Taliban"]["note"] == "the usual English name"
    assert after["TTP group"]["id"] > max(ids.values())
    assert "Taliban" not in after
    assert status_of(client, "Taliban") == ("matched", "afghan-taliban")
    respelt = client.get("/entities/tlp").json()["aliases"]
    assert [(a["text"], a["id"]) for a in respelt] == [("T.L.P.", tlp_alias(client))]


def test_a_merge_keeps_the_fields_its_file_omits(client: TestClient, admin: dict[str, str]) -> None:
    body = "entities:\n  - {id: ttp, name: Tehreek-e-Taliban Pakistan, type: organization}\n"
    report = client.post("/admin/import", content=body, headers=yaml_headers(admin)).json()
    assert report["updated"] == 0
    assert client.get("/entities/ttp").json()["description"].startswith("Umbrella")
