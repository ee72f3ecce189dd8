"""dry_run=true on every write: the answer says what would change, and nothing does."""

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.matching.normalize import normalize
from tests.api.test_admin import NEW_ENTITY
from tests.api.test_history import YAML, changes, revision
from tests.api.test_review import item_id, queue

Write = Callable[[TestClient, dict[str, str]], Any]

KABUL = "entities:\n  - {id: kabul, name: Kabul, type: location}\n"


def _delete_pakistani_taliban(client: TestClient, admin: dict[str, str]) -> Any:
    alias_id = client.get("/entities/ttp").json()["aliases"][1]["id"]
    return client.delete(f"/admin/entities/ttp/aliases/{alias_id}?dry_run=true", headers=admin)


def _accept_shawal(decision: dict[str, Any]) -> Write:
    def accept(client: TestClient, admin: dict[str, str]) -> Any:
        client.get("/resolve", params={"q": "Shawal"})
        number = item_id(client, admin, "shawal")
        return client.post(
            f"/admin/review/{number}/accept?dry_run=true", json=decision, headers=admin
        )

    return accept


NEW_PLACE = {"new_entity": {"id": "shawal-valley", "name": "Shawal Valley", "type": "location"}}

WRITES: dict[str, tuple[Write, dict[str, list[str]]]] = {
    "create": (
        lambda c, h: c.post("/admin/entities?dry_run=true", json=NEW_ENTITY, headers=h),
        {"created": ["iskp"]},
    ),
    "update": (
        lambda c, h: c.patch("/admin/entities/ttp?dry_run=true", json={"name": "X"}, headers=h),
        {"updated": ["ttp"]},
    ),
    "delete": (
        lambda c, h: c.delete("/admin/entities/ttp?dry_run=true", headers=h),
        {"deleted": ["ttp"]},
    ),
    "add_alias": (
        lambda c, h: c.post(
            "/admin/entities/ttp/aliases?dry_run=true", json={"text": "Tehrik"}, headers=h
        ),
        {"updated": ["ttp"]},
    ),
    "delete_alias": (_delete_pakistani_taliban, {"updated": ["ttp"]}),
    "merge import": (
        lambda c, h: c.post("/admin/import?dry_run=true", content=KABUL, headers={**h, **YAML}),
        {"created": ["kabul"]},
    ),
    "replace import": (
        lambda c, h: c.post(
            "/admin/import?mode=replace&confirm=true&dry_run=true",
            content=KABUL,
            headers={**h, **YAML},
        ),
        {"created": ["kabul"], "deleted": ["afghan-taliban", "islamabad", "tlp", "ttp"]},
    ),
    "revert": (
        # The first change is the shipped table's import: its revert deletes it all.
        lambda c, h: c.post("/admin/history/1/revert?dry_run=true", headers=h),
        {"deleted": ["afghan-taliban", "islamabad", "tlp", "ttp"]},
    ),
    "review accept as an alias": (_accept_shawal({"entity_id": "ttp"}), {"updated": ["ttp"]}),
    "review accept as an entity": (_accept_shawal(NEW_PLACE), {"created": ["shawal-valley"]}),
}


def observed(client: TestClient, admin: dict[str, str]) -> tuple[Any, ...]:
    """Everything a write could change: the table, its revision, history, resolving."""
    resolved = client.post(
        "/resolve", json={"mentions": ["TTP", "Pakistani Taliban", "Daesh Khorasan", "Kabul", "X"]}
    ).json()
    return (
        client.get("/admin/export", headers=admin).text,
        revision(client),
        changes(client, admin, limit=500),
        resolved,
    )


@pytest.mark.parametrize("write", list(WRITES))
def test_a_dry_run_answers_what_would_change_and_changes_nothing(
    client: TestClient, admin: dict[str, str], write: str
) -> None:
    send, expected = WRITES[write]
    before = observed(client, admin)
    response = send(client, admin)
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["dry_run"] is True
    assert report["revision"] == before[1]
    listed = {kind: sorted(report[kind]) for kind in ("created", "updated", "deleted")}
    assert listed == {"created": [], "updated": [], "deleted": []} | expected
    assert report["counts"] == {kind: len(ids) for kind, ids in listed.items()}
    assert {c["entity_id"] for c in report["changes"]} == {
        i for ids in listed.values() for i in ids
    }
    assert observed(client, admin) == before


@pytest.mark.parametrize("decision", [{"entity_id": "ttp"}, NEW_PLACE], ids=["alias", "entity"])
def test_a_dry_run_accept_leaves_the_form_open_to_be_accepted(
    client: TestClient, admin: dict[str, str], decision: dict[str, Any]
) -> None:
    assert _accept_shawal(decision)(client, admin).status_code == 200
    assert queue(client, admin)["shawal"]["status"] == "open"
    number = item_id(client, admin, "shawal")
    accepted = client.post(f"/admin/review/{number}/accept", json=decision, headers=admin)
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["status"] == "accepted"


def test_a_dry_run_shows_each_entity_before_and_after(
    client: TestClient, admin: dict[str, str]
) -> None:
    ttp = client.get("/entities/ttp").json()
    response = client.patch(
        "/admin/entities/ttp?dry_run=true", json={"description": None}, headers=admin
    )
    (change,) = response.json()["changes"]
    assert (change["action"], change["before"]) == ("update", ttp)
    assert change["after"] == {**ttp, "description": None}


def test_a_dry_run_names_the_forms_that_would_become_shared(
    client: TestClient, admin: dict[str, str]
) -> None:
    refused = client.post(
        "/admin/entities/tlp/aliases?dry_run=true",
        json={"text": "pakistani-taliban"},
        headers=admin,
    )
    assert refused.status_code == 409  # as the write itself would be
    response = client.post(
        "/admin/entities/tlp/aliases?dry_run=true&allow_shared=true",
        json={"text": "pakistani-taliban"},
        headers=admin,
    )
    assert response.json()["shared_forms"] == [
        {"form": normalize("Pakistani Taliban"), "entity_ids": ["tlp", "ttp"]}
    ]
    alone = client.post(
        "/admin/entities/tlp/aliases?dry_run=true", json={"text": "Labbaik"}, headers=admin
    )
    assert alone.json()["shared_forms"] == []


def test_a_dry_run_of_a_refused_write_is_refused_the_same(
    client: TestClient, admin: dict[str, str]
) -> None:
    again = client.post(
        "/admin/entities?dry_run=true", json={**NEW_ENTITY, "id": "ttp"}, headers=admin
    )
    assert again.status_code == 409
    missing = client.delete("/admin/entities/nope?dry_run=true", headers=admin)
    assert missing.status_code == 404
    unconfirmed = client.post(
        "/admin/import?mode=replace&dry_run=true", content=KABUL, headers={**admin, **YAML}
    )
    assert unconfirmed.status_code == 400


def test_without_dry_run_the_writes_answer_as_before(
    client: TestClient, admin: dict[str, str]
) -> None:
    assert client.post("/admin/entities", json=NEW_ENTITY, headers=admin).status_code == 201
    assert client.delete("/admin/entities/iskp", headers=admin).status_code == 204
    assert client.delete("/admin/entities/iskp?dry_run=false", headers=admin).status_code == 404
