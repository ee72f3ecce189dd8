"""The OpenAPI schema is one a generated client can use: explicit camelCase
operation ids, a schema and an example for every answer, and a client
generated from it calls the service."""

import importlib
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import jsonschema
import pytest
import yaml
from fastapi.testclient import TestClient

from app.http_limits import CONCURRENCY_LIMIT_ANSWER
from app.main import create_app
from app.settings import Settings

OPERATION_ID = re.compile(r"^[a-z][A-Za-z0-9]*$")
MODEL_NAME = re.compile(r"^[A-Z][A-Za-z0-9]*$")
GENERATED_PACKAGE = "alias_service_client"


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


def test_every_schema_is_named_after_its_model_alone(openapi: dict[str, Any]) -> None:
    # Two models of one name, or one whose input and output schemas differ, are
    # published as "Name-Input" or under their module's path, which renames the
    # classes of every generated client.
    names = openapi["components"]["schemas"]
    assert [name for name in names if not MODEL_NAME.match(name)] == []
    assert {"ResolveRequest", "ResolveResult", "MentionPublic", "EntityPublic"} <= set(names)


def resolved(openapi: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    return openapi["components"]["schemas"][ref.rsplit("/", 1)[1]] if ref else schema


def examples_of(openapi: dict[str, Any], media: dict[str, Any]) -> list[Any]:
    """The examples a reader sees for an answer: the media type's own, else the
    schema's; of a schema that is one of several, those of each (all needed)."""
    if "example" in media:
        return [media["example"]]
    if media.get("examples"):
        return [example["value"] for example in media["examples"].values()]
    schema = resolved(openapi, media.get("schema", {}))
    branches = [b for b in schema.get("anyOf", [schema]) if b != {"type": "null"}]
    found = [resolved(openapi, branch).get("examples", []) for branch in branches]
    return [example for examples in found for example in examples] if all(found) else []


def answers(openapi: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(operation, media type, media) of every success that has a body."""
    for method, path, operation in operations(openapi):
        for status, response in operation["responses"].items():
            if status.startswith("2") and status != "204":
                assert response.get("content"), f"{method} {path} {status} has no content"
                for media_type, media in response["content"].items():
                    yield f"{method} {path} {status}", media_type, media


def test_every_success_has_a_schema_and_an_example_that_fits_it(openapi: dict[str, Any]) -> None:
    checked = set()
    for operation, media_type, media in answers(openapi):
        assert media.get("schema"), f"{operation} ({media_type}) has no schema"
        examples = examples_of(openapi, media)
        assert examples, f"{operation} ({media_type}) has no example"
        # The schema's references resolve against the document it is in.
        schema = {"components": openapi["components"], **media["schema"]}
        for example in examples:
            answer = yaml.safe_load(example) if "yaml" in media_type else example
            jsonschema.validate(answer, schema, cls=jsonschema.Draft202012Validator)
        checked.add(operation)
    assert {
        "get /resolve 200",
        "post /annotate 200",
        "get /metrics 200",
        "post /reconcile 200",
        "get /reconcile/suggest/entity 200",
    } <= checked


def test_every_error_answer_has_the_error_schema(openapi: dict[str, Any]) -> None:
    for method, path, operation in operations(openapi):
        for status, response in operation["responses"].items():
            if status[0] in "45" and (path, status) != ("/readyz", "503"):  # readiness says why
                schema = resolved(openapi, response["content"]["application/json"]["schema"])
                assert "detail" in schema["properties"], f"{method} {path} {status}"


def test_the_concurrency_limits_answer_fits_every_operations_503(openapi: dict[str, Any]) -> None:
    for method, path, operation in operations(openapi):
        media = operation["responses"]["503"]["content"]["application/json"]
        schema = {"components": openapi["components"], **media["schema"]}
        try:
            jsonschema.validate(
                CONCURRENCY_LIMIT_ANSWER, schema, cls=jsonschema.Draft202012Validator
            )
        except jsonschema.ValidationError as error:
            raise AssertionError(f"{method} {path} 503: {error.message}") from error


@pytest.fixture
def generated_client(
    client: TestClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[ModuleType]:
    """The package openapi-python-client generates from this service's
    /openapi.json (offline, in a temporary folder), imported."""
    schema = tmp_path / "openapi.json"
    schema.write_text(json.dumps(client.get("/openapi.json").json()))
    config = tmp_path / "config.yaml"
    config.write_text("post_hooks: []\n")  # the generated code is not reformatted
    generator = [sys.executable, "-m", "openapi_python_client", "generate", "--meta", "none"]
    package = tmp_path / GENERATED_PACKAGE
    subprocess.run(
        [*generator, "--path", schema, "--config", config, "--output-path", package],
        check=True,
        capture_output=True,
        timeout=120,
    )
    monkeypatch.syspath_prepend(tmp_path)
    yield importlib.import_module(GENERATED_PACKAGE)
    for name in [name for name in sys.modules if name.startswith(GENERATED_PACKAGE)]:
        del sys.modules[name]


def test_a_generated_client_resolves_and_annotates_by_the_operations_names(
    client: TestClient, generated_client: ModuleType
) -> None:
    # Named after the operation ids: an ugly id gives an ugly module, not found here.
    resolve = importlib.import_module(f"{GENERATED_PACKAGE}.api.resolve.resolve")
    annotate = importlib.import_module(f"{GENERATED_PACKAGE}.api.annotate.annotate")
    models = importlib.import_module(f"{GENERATED_PACKAGE}.models")
    service = generated_client.Client(base_url=str(client.base_url))
    service.set_httpx_client(client)  # the TestClient is an httpx client of the app

    resolved = resolve.sync(client=service, q="Pakistani Taliban", types=["organization"])
    direct = client.get("/resolve", params={"q": "Pakistani Taliban", "types": "organization"})
    assert resolved.to_dict() == direct.json()
    assert resolved.entity.id == "ttp"

    text = "ISLAMABAD: the TTP said"
    body = models.AnnotateRequest(text=text, types=["location"])
    annotated = annotate.sync(client=service, body=body)
    assert annotated.to_dict() == client.post("/annotate", json=body.to_dict()).json()
    assert [(m.text, m.entity.id) for m in annotated.mentions] == [("ISLAMABAD", "islamabad")]
