"""The review queue: what live traffic leaves unresolved, counted, listed and decided.

The counts reach the database when a worker flushes them; the tests flush
at once (``flushed``) rather than wait for the background thread.
"""

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.models.fields import MAX_ALIASES
from app.settings import Settings
from tests.conftest import as_editor

PARAGRAPH = (
    "Officials in Quetta said on Monday that Zabihullah Mujahid, the Taliban spokesman, "
    "had denied the TTP any help."
)


def flushed(client: TestClient) -> None:
    client.app.state.review.flush(client.app.state.engine)  # type: ignore[attr-defined]


def queue(client: TestClient, admin: dict[str, str], **params: Any) -> dict[str, dict[str, Any]]:
    """The listed items by form."""
    response = client.get("/admin/review", params=params, headers=admin)
    assert response.status_code == 200, response.text
    return {item["form"]: item for item in response.json()["items"]}


def counts(client: TestClient, admin: dict[str, str], **params: Any) -> dict[str, int]:
    return {form: item["count"] for form, item in queue(client, admin, **params).items()}


def item_id(client: TestClient, admin: dict[str, str], form: str) -> int:
    flushed(client)
    found: int = queue(client, admin)[form]["id"]
    return found


def resolved_as(client: TestClient, q: str) -> tuple[str, str | None]:
    body = client.get("/resolve", params={"q": q}).json()
    return body["status"], body["entity"] and body["entity"]["id"]


# --- counting ---------------------------------------------------------------------


def test_unmatched_and_ambiguous_mentions_of_resolve_are_counted_by_normal_form(
    client: TestClient, admin: dict[str, str]
) -> None:
    client.get("/resolve", params={"q": "Quetta"})
    client.get("/resolve", params={"q": "QUETTA"})
    client.get("/resolve", params={"q": "Taliban"})
    client.get("/resolve", params={"q": "TTP"})  # matched: not counted
    client.post("/resolve", json={"mentions": ["quetta", "Taliban", "Islamabad"]})
    flushed(client)
    items = queue(client, admin)
    assert {form: item["count"] for form, item in items.items()} == {"quetta": 3, "taliban": 2}
    taliban = items["taliban"]
    assert taliban["example"] == "Taliban"
    assert taliban["status"] == "open"
    assert [c["id"] for c in taliban["candidates"]] == ["afghan-taliban", "ttp"]
    assert taliban["first_seen"] <= taliban["last_seen"]


def test_reconciliation_queries_that_find_no_match_are_counted(
    client: TestClient, admin: dict[str, str]
) -> None:
    batch = {"q0": {"query": "Khost"}, "q1": {"query": "Taliban"}, "q2": {"query": "TTP"}}
    client.post("/reconcile", data={"queries": json.dumps(batch)})
    client.get("/reconcile", params={"queries": json.dumps({"q0": {"query": "Khost"}})})
    flushed(client)
    assert counts(client, admin) == {"khost": 2, "taliban": 1}


def test_annotate_counts_its_ambiguous_mentions_and_the_names_it_found_no_entity_for(
    client: TestClient, admin: dict[str, str]
) -> None:
    answer = client.post("/annotate", json={"text": PARAGRAPH}).json()
    client.post("/annotate/batch", json={"documents": [{"text": PARAGRAPH}]})
    flushed(client)
    assert counts(client, admin) == {"quetta": 2, "zabihullah mujahid": 2, "taliban": 2}
    # The answer itself is as before: only what was found.
    assert [m["text"] for m in answer["mentions"]] == ["Taliban", "TTP"]


def test_counts_add_up_across_flushes_and_outlive_the_application(
    settings: Settings, admin: dict[str, str]
) -> None:
    with TestClient(create_app(settings)) as first:
        first.get("/resolve", params={"q": "Quetta"})
        flushed(first)
        first.get("/resolve", params={"q": "Quetta"})
        first.get("/resolve", params={"q": "Kunar"})
    # Leaving the first application flushed what it still held.
    with TestClient(create_app(settings)) as second:
        second.get("/resolve", params={"q": "quetta"})
        flushed(second)
        assert counts(second, admin) == {"quetta": 3, "kunar": 1}


def test_two_workers_on_one_database_add_their_counts(
    settings: Settings, admin: dict[str, str]
) -> None:
    with TestClient(create_app(settings)) as one, TestClient(create_app(settings)) as other:
        for client in (one, other, one):
            client.get("/resolve", params={"q": "Quetta"})
        flushed(other)
        flushed(one)
        assert counts(one, admin) == {"quetta": 3}


# --- listing ---------------------------------------------------------------------


def test_the_queue_lists_the_most_frequent_first_up_to_the_limit(
    client: TestClient, admin: dict[str, str]
) -> None:
    for mention, times in (("Kunar", 1), ("Quetta", 3), ("Khost", 2)):
        for _ in range(times):
            client.get("/resolve", params={"q": mention})
    flushed(client)
    assert list(queue(client, admin)) == ["quetta", "khost", "kunar"]
    assert list(queue(client, admin, limit=2)) == ["quetta", "khost"]


def test_a_form_the_table_matches_now_leaves_the_queue_and_comes_back_if_unmatched_again(
    client: TestClient, admin: dict[str, str]
) -> None:
    client.get("/resolve", params={"q": "Quetta"})
    flushed(client)
    added = client.post(
        "/admin/entities/islamabad/aliases", json={"text": "Quetta"}, headers=admin
    ).json()
    assert counts(client, admin) == {}
    assert counts(client, admin, status="resolved") == {"quetta": 1}
    client.delete(f"/admin/entities/islamabad/aliases/{added['id']}", headers=admin)
    client.get("/resolve", params={"q": "Quetta"})
    flushed(client)
    assert counts(client, admin) == {"quetta": 2}


def test_a_listing_fills_its_limit_past_the_forms_the_table_matches_now(
    client: TestClient, admin: dict[str, str]
) -> None:
    client.post("/resolve", json={"mentions": ["Quetta", "Quetta", "Kunar"]})
    flushed(client)
    client.post("/admin/entities/islamabad/aliases", json={"text": "Quetta"}, headers=admin)
    assert list(queue(client, admin, limit=1)) == ["kunar"]


# --- deciding ---------------------------------------------------------------------


def test_accepting_a_form_for_an_entity_adds_it_as_an_alias_that_resolves_at_once(
    client: TestClient, admin: dict[str, str]
) -> None:
    client.get("/resolve", params={"q": "Tehrik-e-Taliban"})
    number = item_id(client, admin, "tehrik e taliban")
    accept = f"/admin/review/{number}/accept"
    answer = client.post(accept, json={"entity_id": "ttp"}, headers=as_editor("alice"))
    assert answer.status_code == 200, answer.text
    assert (answer.json()["status"], answer.json()["entity_id"]) == ("accepted", "ttp")
    assert answer.json()["decided_by"] == "alice"
    newest = client.get("/admin/history", params={"limit": 1}, headers=admin).json()["changes"][0]
    assert (newest["editor"], newest["action"], newest["entity_id"]) == (
        "alice",
        "add_alias",
        "ttp",
    )
    assert resolved_as(client, "Tehrik-e-Taliban") == ("matched", "ttp")
    aliases = client.get("/entities/ttp").json()["aliases"]
    assert "Tehrik-e-Taliban" in [a["text"] for a in aliases]
    assert counts(client, admin) == {}
    accepted = queue(client, admin, status="accepted")["tehrik e taliban"]
    assert (accepted["count"], accepted["entity_id"]) == (1, "ttp")


def test_accepting_a_form_as_a_new_entity_creates_it_with_the_form_among_its_aliases(
    client: TestClient, admin: dict[str, str]
) -> None:
    client.get("/resolve", params={"q": "Shawal"})
    number = item_id(client, admin, "shawal")
    new_entity = {"id": "shawal-valley", "name": "Shawal Valley", "type": "location"}
    answer = client.post(
        f"/admin/review/{number}/accept", json={"new_entity": new_entity}, headers=admin
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["entity_id"] == "shawal-valley"
    entity = client.get("/entities/shawal-valley").json()
    assert [a["text"] for a in entity["aliases"]] == ["Shawal"]
    assert resolved_as(client, "Shawal") == ("matched", "shawal-valley")
    assert counts(client, admin) == {}


def test_a_new_entity_named_as_the_form_gets_no_alias_repeating_its_name(
    client: TestClient, admin: dict[str, str]
) -> None:
    client.get("/resolve", params={"q": "Quetta"})
    number = item_id(client, admin, "quetta")
    new_entity = {"id": "quetta", "name": "Quetta", "type": "location"}
    answer = client.post(
        f"/admin/review/{number}/accept", json={"new_entity": new_entity}, headers=admin
    )
    assert answer.status_code == 200, answer.text
    assert client.get("/entities/quetta").json()["aliases"] == []
    assert resolved_as(client, "Quetta") == ("matched", "quetta")


def test_a_dismissed_form_leaves_the_open_list_and_goes_on_being_counted(
    client: TestClient, admin: dict[str, str]
) -> None:
    client.get("/resolve", params={"q": "Kunar"})
    number = item_id(client, admin, "kunar")
    answer = client.post(f"/admin/review/{number}/dismiss", headers=admin)
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "dismissed"
    client.get("/resolve", params={"q": "Kunar"})
    flushed(client)
    assert counts(client, admin) == {}
    assert counts(client, admin, status="dismissed") == {"kunar": 2}
    again = client.post(f"/admin/review/{number}/dismiss", headers=admin)
    assert again.status_code == 200


def test_a_dismissal_is_in_the_history_and_its_revert_opens_the_form_again(
    client: TestClient, admin: dict[str, str]
) -> None:
    client.get("/resolve", params={"q": "Kunar"})
    number = item_id(client, admin, "kunar")
    revision = client.get("/readyz").json()["revision"]
    client.post(f"/admin/review/{number}/dismiss", headers=as_editor("bob"))
    newest = client.get("/admin/history", params={"limit": 1}, headers=admin).json()["changes"][0]
    assert (newest["editor"], newest["action"], newest["entity_id"]) == (
        "bob",
        "review_dismiss",
        None,
    )
    dismissed = {"review_item": number, "form": "kunar", "status": "open"}
    assert newest["detail"] == dismissed
    assert client.get("/readyz").json()["revision"] == revision + 1
    preview = client.post(
        f"/admin/history/{newest['id']}/revert", params={"dry_run": "true"}, headers=admin
    )
    assert preview.json()["table_changes"] == [{"action": "revert", "detail": dismissed}]
    assert "kunar" not in counts(client, admin)
    reverted = client.post(f"/admin/history/{newest['id']}/revert", headers=admin)
    assert reverted.status_code == 200, reverted.text
    (undone,) = reverted.json()["changes"]
    assert (undone["reverts"], undone["detail"]) == (newest["id"], dismissed)
    assert "kunar" in counts(client, admin)
    again = client.post(f"/admin/history/{newest['id']}/revert", headers=admin)
    assert again.status_code == 409
    assert "already reverted" in again.json()["detail"]
    # The revert is a change too: reverted, the form is dismissed again.
    redone = client.post(f"/admin/history/{undone['id']}/revert", headers=as_editor("alice"))
    assert redone.status_code == 200, redone.text
    assert "kunar" not in counts(client, admin)
    assert counts(client, admin, status="dismissed") == {"kunar": 1}


def test_a_dismissal_decided_otherwise_since_is_not_reverted(
    client: TestClient, admin: dict[str, str]
) -> None:
    client.get("/resolve", params={"q": "Kunar"})
    number = item_id(client, admin, "kunar")
    client.post(f"/admin/review/{number}/dismiss", headers=admin)
    dismissal = client.get("/admin/history", params={"limit": 1}, headers=admin).json()
    reverted = client.post(f"/admin/history/{dismissal['changes'][0]['id']}/revert", headers=admin)
    assert reverted.status_code == 200
    client.post(f"/admin/review/{number}/accept", json={"entity_id": "islamabad"}, headers=admin)
    refused = client.post(
        f"/admin/history/{reverted.json()['changes'][0]['id']}/revert", headers=admin
    )
    assert refused.status_code == 409, refused.text
    assert f"review item {number} is accepted already" in refused.json()["detail"]


def test_an_accepted_form_left_unresolved_again_after_a_revert_opens_again(
    client: TestClient, admin: dict[str, str]
) -> None:
    client.get("/resolve", params={"q": "Kunar"})
    number = item_id(client, admin, "kunar")
    client.post(f"/admin/review/{number}/accept", json={"entity_id": "islamabad"}, headers=admin)
    accepted = client.get("/admin/history", params={"limit": 1}, headers=admin).json()
    client.post(f"/admin/history/{accepted['changes'][0]['id']}/revert", headers=admin)
    assert resolved_as(client, "Kunar") == ("unmatched", None)
    flushed(client)
    assert "kunar" in counts(client, admin)
    again = client.post(f"/admin/review/{number}/accept", json={"entity_id": "ttp"}, headers=admin)
    assert again.status_code == 200, again.text


@pytest.mark.parametrize("decision", ["accept", "dismiss"])
def test_a_decided_form_cannot_be_accepted_again(
    client: TestClient, admin: dict[str, str], decision: str
) -> None:
    client.get("/resolve", params={"q": "Kunar"})
    number = item_id(client, admin, "kunar")
    body = {"entity_id": "islamabad"} if decision == "accept" else None
    assert client.post(f"/admin/review/{number}/{decision}", json=body, headers=admin).is_success
    answer = client.post(f"/admin/review/{number}/accept", json={"entity_id": "ttp"}, headers=admin)
    assert answer.status_code == 409
    assert "already" in answer.json()["detail"]
    assert "Kunar" not in [a["text"] for a in client.get("/entities/ttp").json()["aliases"]]


def test_an_accepted_form_cannot_be_dismissed(client: TestClient, admin: dict[str, str]) -> None:
    client.get("/resolve", params={"q": "Kunar"})
    number = item_id(client, admin, "kunar")
    client.post(f"/admin/review/{number}/accept", json={"entity_id": "islamabad"}, headers=admin)
    answer = client.post(f"/admin/review/{number}/dismiss", headers=admin)
    assert answer.status_code == 409
    assert counts(client, admin, status="accepted") == {"kunar": 1}


# --- bad input ----------------------------------------------------------------------


@pytest.mark.parametrize("action", ["accept", "dismiss"])
def test_an_unknown_item_is_404(client: TestClient, admin: dict[str, str], action: str) -> None:
    answer = client.post(f"/admin/review/999/{action}", json={"entity_id": "ttp"}, headers=admin)
    assert answer.status_code == 404
    assert answer.json() == {"detail": "no review item with id 999"}


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"entity_id": "ttp", "new_entity": {"id": "x", "name": "X", "type": "location"}},
        {"entity_id": "not an id"},
        {"entity_id": "ttp", "note": "unknown field"},
    ],
)
def test_an_accept_that_names_no_one_target_is_422_and_changes_nothing(
    client: TestClient, admin: dict[str, str], body: dict[str, Any]
) -> None:
    client.get("/resolve", params={"q": "Kunar"})
    number = item_id(client, admin, "kunar")
    answer = client.post(f"/admin/review/{number}/accept", json=body, headers=admin)
    assert answer.status_code == 422
    assert "detail" in answer.json()
    assert counts(client, admin) == {"kunar": 1}


def test_an_accept_for_an_unknown_entity_is_404_and_leaves_the_form_open(
    client: TestClient, admin: dict[str, str]
) -> None:
    client.get("/resolve", params={"q": "Kunar"})
    number = item_id(client, admin, "kunar")
    answer = client.post(
        f"/admin/review/{number}/accept", json={"entity_id": "kunar-province"}, headers=admin
    )
    assert answer.status_code == 404
    assert "kunar-province" in answer.json()["detail"]
    assert queue(client, admin)["kunar"]["status"] == "open"


def test_an_accept_of_an_alias_the_entity_has_is_409_and_leaves_the_form_open(
    client: TestClient, admin: dict[str, str]
) -> None:
    client.get("/resolve", params={"q": "Taliban"})
    number = item_id(client, admin, "taliban")
    answer = client.post(f"/admin/review/{number}/accept", json={"entity_id": "ttp"}, headers=admin)
    assert answer.status_code == 409
    assert "Taliban" in answer.json()["detail"]
    assert queue(client, admin)["taliban"]["status"] == "open"


def test_an_accept_of_a_new_entity_whose_id_exists_is_409(
    client: TestClient, admin: dict[str, str]
) -> None:
    client.get("/resolve", params={"q": "Kunar"})
    number = item_id(client, admin, "kunar")
    taken = {"new_entity": {"id": "ttp", "name": "Kunar", "type": "location"}}
    answer = client.post(f"/admin/review/{number}/accept", json=taken, headers=admin)
    assert answer.status_code == 409
    assert queue(client, admin)["kunar"]["status"] == "open"


def test_an_accept_of_a_new_entity_full_of_aliases_is_409_and_leaves_the_form_open(
    client: TestClient, admin: dict[str, str]
) -> None:
    """The form would be its 10,001st alias: an entity that its export could not bring back."""
    client.get("/resolve", params={"q": "Kunar"})
    number = item_id(client, admin, "kunar")
    aliases = [f"k{i}" for i in range(MAX_ALIASES)]
    full = {"new_entity": {"id": "kunar", "name": "K", "type": "location", "aliases": aliases}}
    answer = client.post(f"/admin/review/{number}/accept", json=full, headers=admin)
    assert answer.status_code == 409, answer.text
    assert "'kunar' would have 10,001 aliases" in answer.json()["detail"]
    assert queue(client, admin)["kunar"]["status"] == "open"
    assert client.get("/entities/kunar").status_code == 404


@pytest.mark.parametrize("params", [{"status": "closed"}, {"limit": 0}, {"limit": 501}])
def test_a_listing_with_a_bad_parameter_is_422(
    client: TestClient, admin: dict[str, str], params: dict[str, Any]
) -> None:
    assert client.get("/admin/review", params=params, headers=admin).status_code == 422


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/admin/review"),
        ("POST", "/admin/review/1/accept"),
        ("POST", "/admin/review/1/dismiss"),
    ],
)
def test_the_review_endpoints_need_the_admin_token(
    client: TestClient, method: str, path: str
) -> None:
    assert client.request(method, path).status_code == 401
    assert client.request(method, path, headers={"Authorization": "Bearer no"}).status_code == 403


def test_every_status_a_review_operation_answers_is_documented(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    accept = paths["/admin/review/{item_id}/accept"]["post"]["responses"]
    dismiss = paths["/admin/review/{item_id}/dismiss"]["post"]["responses"]
    listing = paths["/admin/review"]["get"]["responses"]
    assert {"200", "401", "403", "404", "409", "422"} <= set(accept)
    assert {"200", "401", "403", "404", "409", "422"} <= set(dismiss)
    assert {"200", "401", "403", "422"} <= set(listing)


def test_the_metrics_show_the_open_queue_and_what_waits_to_be_written(
    client: TestClient,
) -> None:
    client.get("/resolve", params={"q": "Kunar"})
    assert "alias_review_pending_forms 1.0" in client.get("/metrics").text
    flushed(client)
    text = client.get("/metrics").text
    assert "alias_review_open_items 1.0" in text
    assert "alias_review_pending_forms 0.0" in text
