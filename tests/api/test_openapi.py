"""The OpenAPI schema is one a generated client can use: explicit camelCase
operation ids, a schema and an example for every answer."""

import re
from collections.abc import Iterator
from typing import Any

import pytest

from app.main import create_app
from app.settings import Settings

OPERATION_ID = re.compile(r"^[a-z][A-Za-z0-9]*$")


@pytest.fixture(scope="module")
def openapi() -> dict[str, Any]:
    """The schema does not depend on the database: read from an app never started."""
    return create_app(Settings()).openapi()


def operations(openapi: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, methods in openapi["paths"].items():
        for method, operation in methods.items():
            yield method, path, operation


def test_every_operation_has_a_unique_camel_case_id(openapi: dict[str, Any]) -> None:
    ids = [operation.get("operationId", "") for _, _, operation in operations(openapi)]
    ugly = [i for i in ids if not OPERATION_ID.match(i)]
    assert not ugly, f"operation ids a generated client would name badly: {ugly}"
    assert len(set(ids)) == len(ids), sorted(i for i in ids if ids.count(i) > 1)
    assert {"resolve", "resolveBatch", "annotate", "addAlias", "health"} <= set(ids)
