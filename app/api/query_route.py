"""A route whose parameters all come from the query string, checked by one model.

FastAPI solves a request's parameters one field at a time, each through its
general machinery (aliases, defaults, a validator per field): for ``GET
/resolve`` that was a third of the request's time, more than resolving the
mention. A ``QueryRoute`` keeps FastAPI's declaration of the parameters, and
so their OpenAPI schema, and checks a query with one pydantic model made from
those same declarations. A query the model refuses goes to FastAPI's own
handler, so every 422 is FastAPI's, word for word.
"""

import inspect
from collections.abc import Callable, Coroutine
from types import UnionType
from typing import Any, Union, get_args, get_origin

from fastapi import Request, Response
from fastapi.routing import APIRoute
from pydantic import BaseModel, ValidationError, create_model
from starlette.datastructures import QueryParams

Handler = Callable[[Request], Coroutine[Any, Any, Response]]


class QueryRoute(APIRoute):
    """For an async endpoint that takes the request and query parameters
    only, and answers a ``Response``: no dependencies, path, header, cookie or
    body parameters. Checked when the route is made, so a route that breaks
    this fails as its router is built, not at its first request."""

    def get_route_handler(self) -> Handler:
        _check_query_only(self)
        generic = super().get_route_handler()
        endpoint = self.dependant.call
        fields = [
            (field.alias, _takes_many(field.field_info.annotation))
            for field in self.dependant.query_params
        ]
        model = _query_model(self)
        request_name = self.dependant.request_param_name

        async def handle(request: Request) -> Response:
            try:
                query = model.model_validate(_received(request.query_params, fields))
            except ValidationError:
                return await generic(request)
            values = dict(query)
            if request_name is not None:
                values[request_name] = request
            response: Response = await endpoint(**values)  # type: ignore[misc]
            return response

        return handle


def _check_query_only(route: APIRoute) -> None:
    dependant = route.dependant
    others = (
        dependant.dependencies,
        dependant.path_params,
        dependant.header_params,
        dependant.cookie_params,
        dependant.body_params,
    )
    endpoint = dependant.call
    if any(others) or not inspect.iscoroutinefunction(endpoint):
        raise TypeError(
            f"{route.path}: a QueryRoute's endpoint is async and takes query parameters only"
        )
    returns = inspect.signature(endpoint).return_annotation
    if not (inspect.isclass(returns) and issubclass(returns, Response)):
        raise TypeError(f"{route.path}: a QueryRoute's endpoint answers a Response")
    for field in dependant.query_params:
        if field.field_info.validation_alias is not None:
            raise TypeError(f"{route.path}: a QueryRoute takes no validation aliases")


def _query_model(route: APIRoute) -> type[BaseModel]:
    """One model of every query parameter, each declared as the route declares it."""
    fields: dict[str, Any] = {
        field.name: (field.field_info.annotation, field.field_info)
        for field in route.dependant.query_params
    }
    return create_model(f"{route.name}_query", **fields)


def _takes_many(annotation: Any) -> bool:
    """Whether a parameter is a list, repeated in the query (``types=a&types=b``)."""
    members = (
        get_args(annotation) if get_origin(annotation) in (Union, UnionType) else (annotation,)
    )
    return any(get_origin(member) is list for member in members)


def _received(params: QueryParams, fields: list[tuple[str, bool]]) -> dict[str, Any]:
    """The values sent, as FastAPI reads them: a list parameter's values, or
    none when there are none; any other parameter's last value."""
    received: dict[str, Any] = {}
    for alias, many in fields:
        if many:
            values = params.getlist(alias)
            if values:
                received[alias] = values
        elif (value := params.get(alias)) is not None:
            received[alias] = value
    return received
