"""Named editors: each token is an editor, and history records the name, never the token."""

from fastapi.testclient import TestClient

from tests.conftest import EDITOR_TOKENS, TOKEN, as_editor


def last_change(client: TestClient, headers: dict[str, str]) -> dict[str, object]:
    change: dict[str, object] = client.get("/admin/history", headers=headers).json()["changes"][0]
    return change


def test_each_editor_is_recorded_by_the_name_of_their_token(
    client: TestClient, admin: dict[str, str]
) -> None:
    for name, text in (("alice", "Tehrik"), ("bob", "TTP-Pakistan")):
        response = client.post(
            "/admin/entities/ttp/aliases", json={"text": text}, headers=as_editor(name)
        )
        assert response.status_code == 201
        assert last_change(client, admin)["editor"] == name
    client.delete("/admin/entities/islamabad", headers=admin)
    assert last_change(client, admin)["editor"] == "admin"


def test_an_x_editor_header_is_accepted_but_the_token_names_the_editor(
    client: TestClient,
) -> None:
    headers = {**as_editor("alice"), "X-Editor": "mallory"}
    response = client.post("/admin/entities/ttp/aliases", json={"text": "Tehrik"}, headers=headers)
    assert response.status_code == 201
    assert last_change(client, headers)["editor"] == "alice"


def test_a_token_no_editor_has_is_403_and_changes_nothing(client: TestClient) -> None:
    for wrong in ("alice-secret-toke", "alice-secret-token2", "alice", "test-admin-tokens"):
        response = client.post(
            "/admin/entities/ttp/aliases",
            json={"text": "Tehrik"},
            headers={"Authorization": f"Bearer {wrong}"},
        )
        assert response.status_code == 403
        assert response.json()["detail"] == "the bearer token is no editor's token"
    assert "Tehrik" not in [a["text"] for a in client.get("/entities/ttp").json()["aliases"]]


def test_no_token_is_ever_written_into_the_history(
    client: TestClient, admin: dict[str, str]
) -> None:
    client.post("/admin/entities/ttp/aliases", json={"text": "Tehrik"}, headers=admin)
    client.patch("/admin/entities/tlp", json={"description": "d"}, headers=as_editor("alice"))
    client.delete("/admin/entities/islamabad", headers=as_editor("bob"))
    history = client.get("/admin/history", params={"limit": 500}, headers=admin).text
    assert '"editor":"alice"' in history
    for token in (TOKEN, *EDITOR_TOKENS.values()):
        assert token not in history


def test_the_authorize_dialog_speaks_of_named_tokens(client: TestClient) -> None:
    schemes = client.get("/openapi.json").json()["components"]["securitySchemes"]
    assert "ADMIN_TOKENS" in schemes["HTTPBearer"]["description"]
