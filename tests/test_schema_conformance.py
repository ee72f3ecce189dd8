"""Every operation, fuzzed from the OpenAPI schema, answers as the schema says.

schemathesis generates requests from the schema (valid ones and ones that
break it) for every operation, admin ones with the token, and sends them to
a service on SQLite and on PostgreSQL (the ``client`` fixture); no answer may
be a 5xx, have a status the operation does not document, or a body that does
not fit the documented schema. The examples are few and derived from the
test's name (derandomized), so the run is short and the same in every CI run.
"""

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    response_schema_conformance,
    status_code_conformance,
)

from app.main import create_app
from app.settings import Settings
from tests.conftest import SMALL_TABLE, TOKEN, new_postgres_database

# The schema does not depend on the database: read from an app never started.
schema = schemathesis.openapi.from_dict(create_app(Settings()).openapi())
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def service(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TestClient]:
    """One service per database for all operations: a new database per
    operation would cost more than the fuzzing."""
    if request.param == "sqlite":
        database = tmp_path_factory.mktemp("conformance") / "alias-service.db"
        with _client(f"sqlite:///{database}") as client:
            yield client
        return
    with (
        new_postgres_database(request.getfixturevalue("postgres_server")) as url,
        _client(url) as client,
    ):
        yield client


def _client(database_url: str) -> TestClient:
    settings = Settings(database_url=database_url, admin_token=TOKEN, aliases_file=SMALL_TABLE)
    return TestClient(create_app(settings))


@schema.parametrize()
@settings(
    max_examples=20,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_every_answer_is_in_the_schema(case: schemathesis.Case, service: TestClient) -> None:
    request = case.as_transport_kwargs(headers={"Authorization": f"Bearer {TOKEN}"})
    response = service.request(**_for_test_client(request, service))
    case.validate_response(response, checks=CHECKS, transport_kwargs=request)


def _for_test_client(request: dict[str, Any], client: TestClient) -> dict[str, Any]:
    """The request in the TestClient's terms: raw bodies as content, cookies
    on the client, header values as the bytes a client sends (UTF-8)."""
    sent = dict(request)
    client.cookies = sent.pop("cookies", None) or {}
    if isinstance(sent.get("data"), str | bytes):
        sent["content"] = sent.pop("data")
    sent["headers"] = {name: value.encode() for name, value in sent["headers"].items()}
    return sent
