"""The history of changes (GET /admin/history) and undoing an edit (POST .../revert)."""

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlmodel import Session

from app import history
from app.models.tables import Change, utcnow
from tests.api.test_admin import NEW_ENTITY, status_of
from tests.conftest import as_editor, named_field

YAML = {"content-type": "application/yaml"}


def changes(client: TestClient, admin: dict[str, str], **params: Any) -> list[dict[str, Any]]:
    response = client.get("/admin/history", params=params, headers=admin)
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["changes"]
    return found


def last_id(client: TestClient, admin: dict[str, str]) -> int:
    change_id: int = changes(client, admin, limit=1)[0]["id"]
    return change_id


def revert(client: TestClient, admin: dict[str, str], change_id: int) -> Any:
    return client.post(f"/admin/history/{change_id}/revert", headers=admin)


def revision(client: TestClient) -> int:
    with Session(client.app.state.engine) as session:  # type: ignore[attr-defined]
        return int(session.execute(text("SELECT revision FROM table_state")).scalar_one())


def entity(client: TestClient, entity_id: str) -> Any:
    return client.get(f"/entities/{entity_id}").json()


# --- listing ---------------------------------------------------------------------


def test_a_change_keeps_the_entity_before_and_after(
    client: TestClient, admin: dict[str, str]
) -> None:
    before = entity(client, "ttp")
    pakistani_taliban = before["aliases"][1]
    client.delete(f"/admin/entities/ttp/aliases/{pakistani_taliban['id']}", headers=admin)
    (change,) = changes(client, admin, limit=1)
    assert (change["action"], change["entity_id"], change["editor"]) == (
        "delete_alias",
        "ttp",
        "admin",
    )
    assert change["before"] == before
    assert change["after"] == entity(client, "ttp")
    assert pakistani_taliban not in change["after"]["aliases"]
    assert change["revision"] == revision(client)
    assert datetime.fromisoformat(change["at"]) > utcnow() - timedelta(minutes=1)


def test_the_history_is_newest_first_and_filtered_by_entity_and_editor(
    client: TestClient, admin: dict[str, str]
) -> None:
    client.post("/admin/entities/ttp/aliases", json={"text": "Tehrik"}, headers=as_editor("alice"))
    client.patch("/admin/entities/tlp", json={"description": "d"}, headers=as_editor("bob"))
    client.delete("/admin/entities/islamabad", headers=as_editor("alice"))
    newest = changes(client, admin, limit=3)
    assert [(c["action"], c["entity_id"]) for c in newest] == [
        ("delete", "islamabad"),
        ("update", "tlp"),
        ("add_alias", "ttp"),
    ]
    by_alice = changes(client, admin, editor="alice")
    assert [c["entity_id"] for c in by_alice] == ["islamabad", "ttp"]
    of_tlp = changes(client, admin, entity_id="tlp")
    assert [c["action"] for c in of_tlp] == ["update", "import"]  # the seed, then bob
    assert changes(client, admin, editor="carol") == []


def test_since_keeps_the_changes_at_or_after_a_time(
    client: TestClient, admin: dict[str, str]
) -> None:
    seeded = changes(client, admin, limit=1)[0]["at"]
    client.post("/admin/entities/ttp/aliases", json={"text": "Tehrik"}, headers=admin)
    later = changes(client, admin, since=seeded)
    assert later[0]["action"] == "add_alias"
    assert len(later) == 1 + 4  # the seed's four entities share its time
    future = (datetime.now(UTC) + timedelta(hours=1)).replace(tzinfo=None).isoformat()
    assert changes(client, admin, since=future) == []  # no zone: UTC
    assert len(changes(client, admin, since="0001-01-01T00:00:00+05:00")) == 5
    assert changes(client, admin, since="9999-12-31T23:59:59-05:00") == []
    assert named_field(client.get("/admin/history?since=yesterday", headers=admin)) == [
        ["query", "since"]
    ]


def test_pages_follow_each_other_by_cursor_to_the_end(
    client: TestClient, admin: dict[str, str]
) -> None:
    for n in range(5):
        client.post("/admin/entities/ttp/aliases", json={"text": f"TTP-{n}"}, headers=admin)
    everything = [c["id"] for c in changes(client, admin, limit=500)]
    seen: list[int] = []
    page = client.get("/admin/history", params={"limit": 4}, headers=admin).json()
    while True:
        seen.extend(c["id"] for c in page["changes"])
        if page["next"] is None:
            break
        params = {"limit": 4, "cursor": page["next"]}
        page = client.get("/admin/history", params=params, headers=admin).json()
    assert seen == everything == sorted(everything, reverse=True)
    assert len(seen) == 9


def test_a_page_ends_early_once_its_states_pass_the_byte_bound(
    client: TestClient, admin: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each change holds its entity whole: an entity of 10,000 long aliases made
    a page of three changes 128 MB."""
    for n in range(25):
        client.post("/admin/entities/ttp/aliases", json={"text": f"TTP-{n}"}, headers=admin)
    everything = [c["id"] for c in changes(client, admin, limit=500)]

    def states(change: dict[str, Any]) -> int:
        return len(orjson.dumps([change["before"], change["after"], change["detail"]]))

    bound = states(changes(client, admin, limit=1)[0]) * 3
    monkeypatch.setattr(history, "PAGE_BYTES", bound)
    pages, params = [], {"limit": 500}
    while True:
        page = client.get("/admin/history", params=params, headers=admin).json()
        pages.append(page["changes"])
        if page["next"] is None:
            break
        params["cursor"] = page["next"]
    assert [c["id"] for page_changes in pages for c in page_changes] == everything
    assert len(pages) > 3
    assert all(sum(map(states, page_changes)) <= bound for page_changes in pages)
    monkeypatch.setattr(history, "PAGE_BYTES", 1)  # a change larger than a page: one a page
    assert len(changes(client, admin, limit=500)) == 1


@pytest.mark.parametrize("cursor", ["nope", "", "YzA", "Yy0x", "Yzk5OTk5OTk5OTk5", "é"])
def test_a_cursor_no_page_gave_is_422(
    client: TestClient, admin: dict[str, str], cursor: str
) -> None:
    response = client.get("/admin/history", params={"cursor": cursor}, headers=admin)
    assert named_field(response) == [["query", "cursor"]]


@pytest.mark.parametrize("limit", [0, 501])
def test_a_page_of_more_than_500_changes_is_422(
    client: TestClient, admin: dict[str, str], limit: int
) -> None:
    response = client.get("/admin/history", params={"limit": limit}, headers=admin)
    assert named_field(response) == [["query", "limit"]]


# --- reverting -------------------------------------------------------------------


def test_a_revert_of_a_created_entity_deletes_it(client: TestClient, admin: dict[str, str]) -> None:
    client.post("/admin/entities", json=NEW_ENTITY, headers=admin)
    response = revert(client, admin, last_id(client, admin))
    assert response.status_code == 200, response.text
    assert client.get("/entities/iskp").status_code == 404
    assert status_of(client, "Daesh Khorasan")[0] == "unmatched"


def test_a_revert_of_an_update_rolls_it_back(client: TestClient, admin: dict[str, str]) -> None:
    before = entity(client, "ttp")
    client.patch(
        "/admin/entities/ttp", json={"name": "TTP group", "description": None}, headers=admin
    )
    assert revert(client, admin, last_id(client, admin)).status_code == 200
    assert entity(client, "ttp") == before


@pytest.mark.parametrize("media_type", ["application/yaml", "application/json"])
def test_a_merge_import_sets_the_note_and_case_rule_it_gives_an_alias_and_is_undone(
    client: TestClient, admin: dict[str, str], media_type: str
) -> None:
    """The merge answered 200 with nothing updated and kept the alias as it was."""
    before = entity(client, "ttp")
    [stored] = [a for a in before["aliases"] if a["text"] == "Pakistani Taliban"]
    given = {"text": "Pakistani Taliban", "note": "the press's name", "case_sensitive": True}
    table = {"entities": [{"id": "ttp", "name": before["name"], "type": "organization"}]}
    table["entities"][0]["aliases"] = [given, "TTP"]  # TTP as a plain text: left as it is
    body = json.dumps(table)  # JSON is YAML too
    response = client.post(
        "/admin/import?mode=merge", content=body, headers={**admin, "content-type": media_type}
    )
    assert response.status_code == 200, response.text
    assert (response.json()["updated"], response.json()["aliases_added"]) == (1, 0)
    after = entity(client, "ttp")
    assert {**stored, **given} in after["aliases"]  # the same id
    assert [a for a in after["aliases"] if a["text"] != "Pakistani Taliban"] == [
        a for a in before["aliases"] if a["text"] != "Pakistani Taliban"
    ]
    assert revert(client, admin, last_id(client, admin)).status_code == 200
    assert entity(client, "ttp") == before


def test_a_revert_of_a_deleted_entity_brings_it_back_with_its_alias_ids(
    client: TestClient, admin: dict[str, str]
) -> None:
    before = entity(client, "ttp")
    client.delete("/admin/entities/ttp", headers=admin)
    assert revert(client, admin, last_id(client, admin)).status_code == 200
    assert entity(client, "ttp") == before
    assert status_of(client, "Pakistani Taliban") == ("matched", "ttp")


def test_a_revert_of_an_added_alias_removes_it(client: TestClient, admin: dict[str, str]) -> None:
    client.post("/admin/entities/tlp/aliases", json={"text": "Labbaik"}, headers=admin)
    assert status_of(client, "Labbaik") == ("matched", "tlp")
    assert revert(client, admin, last_id(client, admin)).status_code == 200
    assert "Labbaik" not in [a["text"] for a in entity(client, "tlp")["aliases"]]
    assert status_of(client, "Labbaik")[0] != "matched"


def test_a_revert_of_a_deleted_alias_brings_it_back_with_its_id(
    client: TestClient, admin: dict[str, str]
) -> None:
    alias = entity(client, "ttp")["aliases"][1]
    client.delete(f"/admin/entities/ttp/aliases/{alias['id']}", headers=admin)
    assert status_of(client, "Pakistani Taliban")[0] != "matched"
    assert revert(client, admin, last_id(client, admin)).status_code == 200
    assert alias in entity(client, "ttp")["aliases"]
    assert status_of(client, "Pakistani Taliban") == ("matched", "ttp")


def test_a_revert_of_a_merge_import_undoes_every_entity_it_touched(
    client: TestClient, admin: dict[str, str]
) -> None:
    ttp = entity(client, "ttp")
    body = (
        "entities:\n"
        "  - {id: kabul, name: Kabul, type: location}\n"
        "  - {id: ttp, name: TTP group, type: organization, aliases: [TTP, TeTP]}\n"
    )
    client.post("/admin/import", content=body, headers={**admin, **YAML})
    imported = changes(client, admin, limit=2)
    assert {(c["action"], c["entity_id"]) for c in imported} == {
        ("import", "kabul"),
        ("import", "ttp"),
    }
    assert imported[0]["revision"] == imported[1]["revision"]
    response = revert(client, admin, imported[1]["id"])
    assert response.status_code == 200, response.text
    assert response.json()["total"] == 2
    assert client.get("/entities/kabul").status_code == 404
    assert entity(client, "ttp") == ttp


def test_a_revert_of_a_replace_import_gives_the_table_back(
    client: TestClient, admin: dict[str, str]
) -> None:
    exported = client.get("/admin/export", headers=admin).text
    ttp = entity(client, "ttp")
    body = "entities:\n  - {id: kabul, name: Kabul, type: location}\n"
    client.post("/admin/import?mode=replace&confirm=true", content=body, headers={**admin, **YAML})
    assert client.get("/entities").json()["total"] == 1
    response = revert(client, admin, last_id(client, admin))  # the whole-table row
    assert response.status_code == 200, response.text
    assert response.json()["total"] == 5  # kabul created, four deleted
    assert client.get("/admin/export", headers=admin).text == exported
    assert entity(client, "ttp") == ttp
    assert status_of(client, "Pakistani Taliban") == ("matched", "ttp")


def test_a_revert_is_a_change_that_points_at_what_it_undid_and_can_be_reverted(
    client: TestClient, admin: dict[str, str]
) -> None:
    client.post("/admin/entities/tlp/aliases", json={"text": "Labbaik"}, headers=admin)
    added = changes(client, admin, limit=1)[0]
    reverted = revert(
        client,
        admin,
        added["id"],
    ).json()
    (undo,) = reverted["changes"]
    assert (undo["action"], undo["reverts"], undo["editor"]) == ("revert", added["id"], "admin")
    assert (undo["before"], undo["after"]) == (added["after"], added["before"])
    assert changes(client, admin, limit=1)[0] == undo
    again = revert(client, admin, undo["id"])
    assert again.status_code == 200
    assert entity(client, "tlp") == added["after"]


def test_an_edit_reverted_already_is_409_naming_the_revert(
    client: TestClient, admin: dict[str, str]
) -> None:
    client.delete("/admin/entities/islamabad", headers=admin)
    deleted = last_id(client, admin)
    undo = revert(client, admin, deleted).json()["changes"][0]["id"]
    now = revision(client)
    response = revert(client, admin, deleted)
    assert response.status_code == 409
    assert response.json()["detail"] == f"change {deleted} was already reverted by change {undo}"
    assert revision(client) == now


def test_a_revert_after_later_changes_is_409_naming_them_and_writes_nothing(
    client: TestClient, admin: dict[str, str]
) -> None:
    alias = entity(client, "ttp")["aliases"][1]
    client.delete(f"/admin/entities/ttp/aliases/{alias['id']}", headers=as_editor("alice"))
    deleted = last_id(client, admin)
    # The alias's text comes back as another alias of the entity.
    client.post(
        "/admin/entities/ttp/aliases", json={"text": "Pakistani-Taliban"}, headers=as_editor("bob")
    )
    added = last_id(client, admin)
    ttp, now = entity(client, "ttp"), revision(client)
    response = revert(client, admin, deleted)
    assert response.status_code == 409
    detail = response.json()["detail"]
    assert f"change {added} (add_alias of 'ttp' by bob)" in detail
    assert (entity(client, "ttp"), revision(client)) == (ttp, now)


def test_an_alias_id_another_entity_now_holds_is_409(
    client: TestClient, admin: dict[str, str]
) -> None:
    alias = entity(client, "ttp")["aliases"][1]
    client.delete(f"/admin/entities/ttp/aliases/{alias['id']}", headers=admin)
    deleted = last_id(client, admin)
    taken = client.post("/admin/entities/tlp/aliases", json={"text": "Labbaik"}, headers=admin)
    with Session(client.app.state.engine) as session:  # type: ignore[attr-defined]
        # A database that gives a deleted alias's id to the next alias does this.
        session.execute(
            text("UPDATE alias SET id = :old WHERE id = :new"),
            {"old": alias["id"], "new": taken.json()["id"]},
        )
        session.commit()
    tlp = entity(client, "tlp")
    response = revert(client, admin, deleted)
    assert response.status_code == 409
    assert response.json()["detail"] == (
        f"alias id {alias['id']} cannot come back: entity 'tlp' has it now"
    )
    assert entity(client, "tlp") == tlp
    assert alias not in entity(client, "ttp")["aliases"]


def test_an_unknown_change_is_404(client: TestClient, admin: dict[str, str]) -> None:
    response = revert(client, admin, 999_999)
    assert response.status_code == 404
    assert response.json()["detail"] == "no change with id 999999"


def test_a_change_recorded_without_states_cannot_be_reverted(
    client: TestClient, admin: dict[str, str]
) -> None:
    with Session(client.app.state.engine) as session:  # type: ignore[attr-defined]
        legacy = Change(
            revision=revision(client),
            actor="admin:jane",
            action="update",
            entity_id="ttp",
            detail={"description": "x"},
        )
        session.add(legacy)
        session.commit()
        legacy_id = legacy.id
    response = revert(client, admin, legacy_id or 0)
    assert response.status_code == 409
    assert "before history kept entities' states" in response.json()["detail"]


def test_revert_needs_a_token(client: TestClient) -> None:
    assert client.post("/admin/history/1/revert").status_code == 401
    assert client.get("/admin/history").status_code == 401


def test_a_revert_that_would_share_a_form_is_refused_unless_allowed(
    client: TestClient, admin: dict[str, str]
) -> None:
    client.post("/admin/entities/tlp/aliases", json={"text": "Labbaik"}, headers=admin)
    client.delete("/admin/entities/tlp", headers=admin)
    deleted = last_id(client, admin)
    client.post("/admin/entities/ttp/aliases", json={"text": "Labbaik"}, headers=admin)
    refused = revert(client, admin, deleted)
    assert refused.status_code == 409, refused.text
    assert "'labbaik'" in refused.json()["detail"] and "'ttp'" in refused.json()["detail"]
    assert client.get("/entities/tlp").status_code == 404  # nothing was written
    allowed = client.post(f"/admin/history/{deleted}/revert?allow_shared=true", headers=admin)
    assert allowed.status_code == 200, allowed.text
    assert status_of(client, "Labbaik") == ("ambiguous", None)


def test_a_revert_that_would_bring_back_a_type_no_longer_declared_is_refused(
    client: TestClient, admin: dict[str, str]
) -> None:
    def replace_with(types: str) -> None:
        entities = client.get("/admin/export", headers=admin).text.split("entities:", 1)[1]
        replaced = client.post(
            "/admin/import?mode=replace&confirm=true&allow_shared=true",
            content=f"types:\n{types}entities:{entities}",
            headers={**admin, **YAML},
        )
        assert replaced.status_code == 200, replaced.text

    organization = "  - {id: organization, description: A group.}\n"
    replace_with(organization + "  - {id: location, description: A place.}\n")
    client.patch("/admin/entities/islamabad", json={"type": "organization"}, headers=admin)
    patched = last_id(client, admin)
    replace_with(organization)  # location is declared no more
    refused = revert(client, admin, patched)
    assert refused.status_code == 422, refused.text
    assert "'location'" in refused.json()["detail"]
    assert entity(client, "islamabad")["type"] == "organization"


TWO_TYPES = (
    "types:\n  - {id: organization, description: A group.}\n"
    "  - {id: location, description: A place.}\n"
)


def declared(client: TestClient) -> dict[str, str | None]:
    return {t["id"]: t["description"] for t in client.get("/types").json()["items"]}


def import_yaml(client: TestClient, admin: dict[str, str], text: str, **params: str) -> Any:
    answer = client.post("/admin/import", params=params, content=text, headers={**admin, **YAML})
    assert answer.status_code == 200, answer.text
    return answer.json()


def declare(client: TestClient, admin: dict[str, str], kind: str, description: str) -> int:
    """Declare (or describe again) one type by a merge import; the ID of its change."""
    declaration = f"types:\n  - {{id: {kind}, description: {description}}}\nentities: []\n"
    import_yaml(client, admin, declaration)
    return last_id(client, admin)


def test_a_change_of_the_declared_types_alone_is_shown_and_reverted(
    client: TestClient, admin: dict[str, str]
) -> None:
    import_yaml(client, admin, TWO_TYPES + "entities: []\n")
    both = declared(client)
    declare(client, admin, "location", "WRONG")
    (change,) = changes(client, admin, limit=1)
    assert change["action"] == "declare_types"
    assert change["detail"] == {"before": both, "after": {**both, "location": "WRONG"}}
    reverted = revert(client, admin, change["id"])
    assert reverted.status_code == 200, reverted.text
    assert declared(client) == both
    (undone,) = reverted.json()["changes"]
    assert (undone["action"], undone["reverts"]) == ("revert", change["id"])
    assert undone["detail"] == {"before": change["detail"]["after"], "after": both}
    # The revert is a change too: reverted, the mistake is back.
    assert revert(client, admin, undone["id"]).status_code == 200
    assert declared(client)["location"] == "WRONG"


def test_a_revert_of_a_replace_import_brings_back_the_declared_types_it_dropped(
    client: TestClient, admin: dict[str, str]
) -> None:
    import_yaml(client, admin, TWO_TYPES + "entities: []\n")
    client.patch("/admin/entities/islamabad", json={"type": "location"}, headers=admin)
    types, table = declared(client), client.get("/admin/export", headers=admin).text
    wrong = "entities:\n  - {id: kabul, name: Kabul, type: citty}\n"
    import_yaml(client, admin, wrong, mode="replace", confirm="true")
    assert declared(client) == {"citty": None}
    reverted = revert(client, admin, last_id(client, admin))
    assert reverted.status_code == 200, reverted.text
    assert declared(client) == types
    assert client.get("/admin/export", headers=admin).text == table
    typo = client.patch("/admin/entities/islamabad", json={"type": "citty"}, headers=admin)
    assert typo.status_code == 422, typo.text


def test_a_change_of_the_declared_types_changed_since_is_409_until_the_later_is_reverted(
    client: TestClient, admin: dict[str, str]
) -> None:
    import_yaml(client, admin, TWO_TYPES + "entities: []\n")
    first = declare(client, admin, "location", "First.")
    declare(client, admin, "location", "Then.")
    refused = revert(client, admin, first)
    assert refused.status_code == 409, refused.text
    assert "declared types were changed since" in refused.json()["detail"]
    assert declared(client)["location"] == "Then."
    assert revert(client, admin, last_id(client, admin)).status_code == 200
    assert revert(client, admin, first).status_code == 200
    assert declared(client)["location"] == "A place."


def test_a_revert_of_declared_types_that_an_entity_uses_since_is_refused(
    client: TestClient, admin: dict[str, str]
) -> None:
    import_yaml(client, admin, TWO_TYPES + "entities: []\n")
    declaring = declare(client, admin, "event", "A happening.")
    client.patch("/admin/entities/islamabad", json={"type": "event"}, headers=admin)
    refused = revert(client, admin, declaring)
    assert refused.status_code == 422, refused.text
    assert "'event', which is not declared" in refused.json()["detail"]
    assert "event" in declared(client)


def test_a_dry_run_says_how_the_declared_types_would_change(
    client: TestClient, admin: dict[str, str]
) -> None:
    import_yaml(client, admin, TWO_TYPES + "entities: []\n")
    both, at = declared(client), revision(client)
    wrong = "types:\n  - {id: location, description: WRONG}\nentities: []\n"
    report = import_yaml(client, admin, wrong, dry_run="true")
    after = {**both, "location": "WRONG"}
    assert report["table_changes"] == [
        {"action": "declare_types", "detail": {"before": both, "after": after}}
    ]
    assert (declared(client), revision(client)) == (both, at)
    import_yaml(client, admin, wrong)
    preview = client.post(
        f"/admin/history/{last_id(client, admin)}/revert", params={"dry_run": "true"}, headers=admin
    )
    assert preview.status_code == 200, preview.text
    assert preview.json()["table_changes"] == [
        {"action": "revert", "detail": {"before": after, "after": both}}
    ]
    assert declared(client) == after
