"""The methods a path answers, for the ``Allow`` of a 405.

Starlette names the methods of the first route whose path matches, and the
service has paths with a route per method (``GET`` and ``POST /resolve``,
``PATCH`` and ``DELETE`` of an entity): ``PUT /resolve`` was told ``Allow:
GET``. The OpenAPI document lists every operation of every path.
"""

import re

from fastapi import FastAPI

_PARAMETER = re.compile(r"\\\{[^/]+?\\\}")


def allowed_methods(app: FastAPI, path: str) -> list[str]:
    """The methods of the operations at ``path`` (HEAD beside GET), sorted."""
    methods: set[str] = set()
    for pattern, operations in _paths(app):
        if pattern.fullmatch(path):
            methods |= operations
    if "GET" in methods:
        methods.add("HEAD")  # app.head_requests
    return sorted(methods)


def _paths(app: FastAPI) -> list[tuple[re.Pattern[str], set[str]]]:
    known: list[tuple[re.Pattern[str], set[str]]] | None = getattr(app.state, "path_methods", None)
    if known is None:
        known = [
            (re.compile(_PARAMETER.sub("[^/]+", re.escape(template))), {m.upper() for m in item})
            for template, item in app.openapi()["paths"].items()
        ]
        app.state.path_methods = known
    return known
