"""The application's error answers: every failure is JSON with a documented status."""

import gzip
import logging
from collections.abc import Iterator
from pathlib import Path

import jsonschema
import pytest
from fastapi.openapi.utils import validation_error_definition
from fastapi.testclient import TestClient

from app import store
from app.errors import MAX_ERRORS_LISTED
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


@pytest.mark.parametrize("coding", ["gzip", "GZIP", "identity, gzip", "br"])
def test_a_body_in_a_content_coding_is_a_documented_415(
    lenient_client: TestClient, coding: str
) -> None:
    """A gzipped body was read as it came: 400 for JSON, an import refused for its bytes."""
    body = gzip.compress(b"entities:\n- id: zipped\n  name: Zipped\n  type: thing\n")
    response = lenient_client.post(
        "/admin/import",
        content=body,
        headers={
            "content-type": "application/yaml",
            "content-encoding": coding,
            "authorization": f"Bearer {TOKEN}",
        },
    )
    assert response.status_code == 415
    assert response.headers["accept-encoding"] == "identity"
    assert response.json() == {
        "detail": f"the body's Content-Encoding {coding!r} is not supported: send it unencoded"
    }
    assert 415 in documented_statuses(lenient_client, "post", "/admin/import")
    assert lenient_client.get("/entities/zipped").status_code == 404


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [("GET", "/entities/ttp", 200), ("DELETE", "/admin/entities/ttp", 401)],
)
def test_a_content_coding_without_a_body_is_no_matter(
    lenient_client: TestClient, method: str, path: str, status: int
) -> None:
    response = lenient_client.request(method, path, headers={"content-encoding": "gzip"})
    assert response.status_code == status


@pytest.mark.parametrize("coding", ["identity", "Identity", ""])
def test_a_body_in_the_identity_coding_is_read(lenient_client: TestClient, coding: str) -> None:
    response = lenient_client.post(
        "/resolve", json={"mentions": ["TTP"]}, headers={"content-encoding": coding}
    )
    assert response.status_code == 200
    assert response.json()["results"][0]["status"] == "matched"


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


def fits_fastapi_validation_errors(detail: object) -> None:
    """Raises unless ``detail`` is a list of FastAPI's documented ``ValidationError``."""
    jsonschema.validate(detail, {"type": "array", "items": validation_error_definition})


def test_a_422_names_the_problem_without_echoing_a_long_mention(
    lenient_client: TestClient,
) -> None:
    response = lenient_client.get("/resolve", params={"q": "x" * 1001})
    assert response.status_code == 422
    (error,) = response.json()["detail"]
    fits_fastapi_validation_errors([error])
    assert error["loc"] == ["query", "q"]
    assert error["type"] == "string_too_long"
    assert "1000 characters" in error["msg"]
    assert error["input"].startswith("xxx") and error["input"].endswith("…")
    assert len(error["input"]) <= 40
    assert len(response.content) < 300


def test_a_422_clips_an_unknown_field_and_omits_the_object_around_a_missing_one(
    lenient_client: TestClient,
) -> None:
    response = lenient_client.post("/annotate", json={"y" * 5000: "z" * 5000})
    assert response.status_code == 422
    detail = response.json()["detail"]
    fits_fastapi_validation_errors(detail)
    unknown, missing = sorted(detail, key=lambda error: error["type"])
    assert (missing["loc"], missing["type"]) == (["body", "text"], "missing")
    assert "input" not in missing  # pydantic's input is the whole body
    assert unknown["type"] == "extra_forbidden"
    assert len(unknown["loc"][1]) <= 40 and unknown["loc"][1].startswith("yyy")
    assert len(response.content) < 500


def test_a_422_lists_a_few_errors_of_many_and_counts_the_rest(
    lenient_client: TestClient,
) -> None:
    response = lenient_client.post("/resolve", json={"mentions": ["x" * 1001] * 1000})
    assert response.status_code == 422
    detail = response.json()["detail"]
    fits_fastapi_validation_errors(detail)
    assert len(detail) == MAX_ERRORS_LISTED + 1
    assert detail[0]["loc"] == ["body", "mentions", 0]
    assert detail[-1]["msg"] == f"and {1000 - MAX_ERRORS_LISTED:,} more errors"
    assert len(response.content) < 5000
