"""The application's error answers: every failure is JSON with a documented status."""

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app import store
from app.main import create_app
from app.settings import Settings
from tests.conftest import SMALL_TABLE, TOKEN


@pytest.fixture
def sqlite_settings(tmp_path: Path) -> Settings:
    return Settings(
        database_url=f"sqlite:///{tmp_path / 'alias-service.db'}",
        admin_token=TOKEN,
        aliases_file=SMALL_TABLE,
    )


@pytest.fixture
def lenient_client(sqlite_settings: Settings) -> Iterator[TestClient]:
    """A client that gets the 500 answers instead of the server's exception."""
    with TestClient(create_app(sqlite_settings), raise_server_exceptions=False) as client:
        yield client


def documented_statuses(client: TestClient, method: str, path: str) -> set[int]:
    operation = client.get("/openapi.json").json()["paths"][path][method]
    return {int(status) for status in operation["responses"]}


def test_an_unexpected_error_is_json_500_with_the_logged_error_id(
    lenient_client: TestClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(**_kwargs: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(store, "list_entities", broken)
    with caplog.at_level(logging.ERROR, logger="app.main"):
        response = lenient_client.get("/entities")
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/json"
    error_id = response.json()["error_id"]
    assert response.json()["detail"] == "an unexpected error; it was logged"
    (record,) = [r for r in caplog.records if error_id in r.getMessage()]
    assert "GET /entities" in record.getMessage()
    assert record.exc_info is not None
    assert record.exc_info[1] is not None
    assert str(record.exc_info[1]) == "a bug"
    assert 500 in documented_statuses(lenient_client, "get", "/entities")


def test_a_corrupt_database_file_is_503_naming_the_cause(
    lenient_client: TestClient, sqlite_settings: Settings
) -> None:
    assert lenient_client.get("/entities/ttp").status_code == 200
    lenient_client.app.state.engine.dispose()  # type: ignore[attr-defined]
    path = Path(sqlite_settings.database_url.removeprefix("sqlite:///"))
    path.write_bytes(b"this is not a database" * 1000)
    response = lenient_client.get("/entities/ttp")
    assert response.status_code == 503
    assert response.json() == {"detail": "the database cannot be used: file is not a database"}
    assert 503 in documented_statuses(lenient_client, "get", "/entities/{entity_id}")


def test_a_chunked_json_body_over_the_limit_is_413(sqlite_settings: Settings) -> None:
    small = sqlite_settings.model_copy(update={"max_body_bytes": 1000})

    def chunks() -> Iterator[bytes]:  # no Content-Length: read until the limit
        yield b'{"mentions": ['
        for _ in range(100):
            yield b'"TTP", ' * 10
        yield b'"TTP"]}'

    with TestClient(create_app(small)) as client:
        response = client.post("/resolve", content=chunks())
    assert response.status_code == 413
    assert response.json() == {"detail": "the request body is larger than 1000 bytes"}


def test_a_json_body_that_is_not_utf8_is_a_documented_400(lenient_client: TestClient) -> None:
    response = lenient_client.post(
        "/resolve", content=b'{"mentions": ["\xff"]}', headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert "detail" in response.json()
    assert 400 in documented_statuses(lenient_client, "post", "/resolve")


@pytest.mark.parametrize("token", [None, "", "  "])
def test_no_admin_token_is_warned_about_at_start(
    sqlite_settings: Settings, caplog: pytest.LogCaptureFixture, token: str | None
) -> None:
    settings = Settings(
        database_url=sqlite_settings.database_url,
        aliases_file=SMALL_TABLE,
        admin_token=token,  # type: ignore[arg-type]
    )
    with caplog.at_level(logging.WARNING), TestClient(create_app(settings)) as client:
        closed = client.get("/admin/export", headers={"Authorization": "Bearer x"})
    assert closed.status_code == 503
    assert "neither ADMIN_TOKEN nor ADMIN_TOKENS is set" in caplog.text
