"""The OpenAPI document, with the nulls of its examples that FastAPI drops put back.

FastAPI removes every null from the document it generates, examples
included (fastapi/fastapi#5559): an ambiguous result's example would lose
its required ``"entity": null``, and no longer fit its own schema. Each
model's examples are therefore put back as the model declares them.
"""

from collections.abc import Callable, Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.encoders import jsonable_encoder
from pydantic import BaseModel

Document = dict[str, Any]


def keep_example_nulls(app: FastAPI) -> Callable[[], Document]:
    """A replacement for ``app.openapi`` that generates the document once, examples whole."""
    generate = app.openapi

    def openapi() -> Document:
        if app.openapi_schema is not None:
            return app.openapi_schema
        document = generate()  # kept by FastAPI as app.openapi_schema
        declared = dict(_declared_examples())
        for name, schema in document.get("components", {}).get("schemas", {}).items():
            if name in declared:
                schema["examples"] = jsonable_encoder(declared[name])
        return document

    return openapi


def _declared_examples() -> Iterator[tuple[str, list[Any]]]:
    """(schema name, examples) of every model of this service that declares examples."""
    pending: list[type[BaseModel]] = [BaseModel]
    while pending:
        model = pending.pop()
        pending.extend(model.__subclasses__())
        extra = model.model_config.get("json_schema_extra")
        if model.__module__.startswith("app.") and isinstance(extra, dict) and "examples" in extra:
            yield model.__name__, list(extra["examples"])  # type: ignore[arg-type]
