"""The application factory: routers, error handlers, limits and lifespan."""

import logging
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from fastapi import FastAPI, HTTPException, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi_offline import FastAPIOffline
from sqlalchemy.exc import DatabaseError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app import __doc__ as summary
from app.api import admin, annotate, entities, entity_types, ops, reconcile, resolve, review
from app.api.answers import SafeJSONResponse
from app.api.methods import allowed_methods
from app.api.openapi import keep_example_nulls
from app.api.responses import documented
from app.bootstrap import prepare_database
from app.cors import CORSOnPaths
from app.errors import DomainError, validation_details
from app.head_requests import HeadAsGet
from app.health import WriteCheck, first_line
from app.live_index import LiveIndex
from app.metrics import Metrics
from app.outcomes import Outcomes
from app.review import ReviewCollector
from app.settings import Settings

log = logging.getLogger(__name__)

DESCRIPTION = """
Turns free-text mentions of entities into canonical entity IDs, from a curated
table of entities and their aliases.

* **resolve**: one mention (`GET /resolve`) or a batch (`POST /resolve`).
* **annotate**: every mention in a text (`POST /annotate`), or in many.
* **reconcile**: the W3C Reconciliation Service API 0.2, for OpenRefine.
* **entities**: browse the table.
* **admin**: edit the table, see its history and undo. Press **Authorize** and give
  your token (ADMIN_TOKEN, or your own from ADMIN_TOKENS): every change is recorded
  under its name. `dry_run=true` on an edit answers what it would change.
  `/admin/review` lists the mentions live traffic leaves unresolved, to accept or dismiss.
"""


def create_app(
    settings: Settings | None = None,
    *,
    database_prepared: bool = False,
    live_index: LiveIndex | None = None,
) -> FastAPI:
    """The application; ``database_prepared`` when the caller (``serve``) has
    already migrated the database and loaded the shipped table, waiting for
    it; ``live_index`` when it has made the index (and begun to load it) too."""
    settings = settings or Settings()
    app = FastAPIOffline(
        default_response_class=SafeJSONResponse,
        title="alias-service",
        summary=summary,
        description=DESCRIPTION,
        version="0.1.0",
        lifespan=_lifespan,
        # Any request may be too large, send a body in a content coding the
        # service does not decode, meet an unexpected error, or come when the
        # server is at its concurrency limit (an operation may name more causes).
        responses=documented(
            413,
            415,
            500,
            503,
            s503="The server is at its concurrency limit (`LIMIT_CONCURRENCY`): try again.",
        ),
        redoc_url=None,
        # A path with a slash too many or too few is 404, not a 307 that the
        # schema does not name, whose Location is built from the Host header.
        redirect_slashes=False,
        swagger_ui_parameters={"persistAuthorization": True, "tryItOutEnabled": True},
    )
    _attach_services(
        app, settings, database_prepared, live_index or LiveIndex.for_settings(settings)
    )
    for module in (resolve, annotate, entities, entity_types, admin, review, reconcile, ops):
        app.include_router(module.router)
    _add_error_handlers(app)
    app.openapi = keep_example_nulls(app)  # type: ignore[method-assign]
    _add_middleware(app, settings)
    return app


def _attach_services(
    app: FastAPI, settings: Settings, database_prepared: bool, live_index: LiveIndex
) -> None:
    """The database engine, the live index and what observes them, on ``app.state``."""
    engine = live_index.engine
    review_counts = ReviewCollector(max_forms=settings.review_max_forms)
    app.state.settings = settings
    app.state.database_prepared = database_prepared
    app.state.engine = engine
    app.state.live_index = live_index
    app.state.review = review_counts
    app.state.metrics = Metrics(live_index, review_counts, engine)
    app.state.outcomes = Outcomes(review_counts, app.state.metrics)
    app.state.write_check = WriteCheck(engine, interval=settings.write_check_interval)


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Load the index (or catch up with the edits since ``preload``), keep it
    fresh and flush the review counts while serving; release all on the way out."""
    settings: Settings = app.state.settings
    engine = app.state.engine
    live_index: LiveIndex = app.state.live_index
    review_counts: ReviewCollector = app.state.review
    if not settings.editor_tokens():
        log.warning("neither ADMIN_TOKEN nor ADMIN_TOKENS is set: /admin is closed")
    if live_index.loaded:  # by ``preload``, in the process this worker was forked from
        # The pool's connections belong to that process: leave them to it.
        engine.dispose(close=False)
        live_index.refresh()
    else:
        if not app.state.database_prepared:
            prepare_database(engine=engine, aliases_file=settings.aliases_file)
        live_index.load()
    live_index.start(settings.refresh_interval)
    review_counts.start(engine, settings.review_flush_interval)
    try:
        yield
    finally:
        live_index.stop()
        review_counts.stop(engine)
        engine.dispose()


def _add_middleware(app: FastAPI, settings: Settings) -> None:
    # Innermost: a HEAD is a GET to everything the routes do.
    app.add_middleware(HeadAsGet)
    app.add_middleware(
        BodySizeLimit,
        limit=settings.max_body_bytes,
        larger_limits={
            "/admin/import": settings.max_import_bytes,
            "/annotate/batch": settings.max_batch_bytes,
        },
    )
    # CORS outside the size limit: an answer refused for its size is marked for
    # the browser too. Metrics added last, so outermost: they count every answer.
    app.add_middleware(CORSOnPaths)
    app.add_middleware(app.state.metrics.middleware)


def preload(app: FastAPI) -> None:
    """Prepare the database and load the index before worker processes are forked.

    The workers then share the index's memory; their lifespan only catches up
    with the edits made since. No connection is left open to be inherited.
    """
    settings: Settings = app.state.settings
    if not app.state.database_prepared:
        prepare_database(engine=app.state.engine, aliases_file=settings.aliases_file)
    app.state.live_index.load()
    app.state.engine.dispose()


def _add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def domain_error(_request: Request, error: DomainError) -> JSONResponse:
        return SafeJSONResponse(
            {"detail": error.detail}, status_code=error.status_code, headers=error.headers
        )

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_request: Request, error: RequestValidationError) -> JSONResponse:
        return SafeJSONResponse({"detail": validation_details(error.errors())}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> Response:
        if error.status_code == 405:  # every method the path answers, not one route's
            methods = allowed_methods(request.app, request.scope["path"])
            if methods:
                error.headers = {**(error.headers or {}), "Allow": ", ".join(methods)}
        return await http_exception_handler(request, error)

    @app.exception_handler(OperationalError)
    async def database_down(_request: Request, error: OperationalError) -> JSONResponse:
        log.error("database error: %s", error)
        return SafeJSONResponse({"detail": "the database is not reachable"}, status_code=503)

    @app.exception_handler(DatabaseError)
    async def database_unusable(_request: Request, error: DatabaseError) -> JSONResponse:
        # e.g. SQLite's "file is not a database": a corrupt or foreign file.
        log.error("database error: %s", error)
        return SafeJSONResponse(
            {"detail": f"the database cannot be used: {first_line(error)}"}, status_code=503
        )

    @app.exception_handler(Exception)
    async def unexpected(request: Request, error: Exception) -> JSONResponse:
        error_id = uuid.uuid4().hex
        log.error("error %s in %s %s", error_id, request.method, request.url.path, exc_info=error)
        return SafeJSONResponse(
            {"detail": "an unexpected error; it was logged", "error_id": error_id},
            status_code=500,
        )


class BodySizeLimit:
    """Refuse request bodies larger than the limit with 413, streamed or not,
    and bodies in a content coding (gzip, say) with 415: read as they came,
    they would be refused for their bytes (400, 422) or stored as such."""

    def __init__(self, app: ASGIApp, *, limit: int, larger_limits: dict[str, int]) -> None:
        self.app = app
        self.limit = limit
        self.larger_limits = larger_limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        coding = _content_coding(scope["headers"])
        if coding is not None:
            detail = f"the body's Content-Encoding {coding!r} is not supported: send it unencoded"
            await SafeJSONResponse(
                {"detail": detail}, status_code=415, headers={"Accept-Encoding": "identity"}
            )(scope, receive, send)
            return
        limit = self.larger_limits.get(scope["path"], self.limit)
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            response = SafeJSONResponse(_too_large(limit), status_code=413)
            await response(scope, receive, send)
            return
        received = 0
        response_started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > limit:
                raise _BodyTooLarge(limit)
            return message

        async def noting_send(message: Message) -> None:
            nonlocal response_started
            response_started = response_started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, noting_send)
        except _BodyTooLarge:
            if response_started:
                raise
            await SafeJSONResponse(_too_large(limit), status_code=413)(scope, receive, send)


class _BodyTooLarge(HTTPException):
    """Raised by the body reader past the limit; answered with 413 by the app's
    HTTPException handler when it meets it while parsing a body (FastAPI turns
    any other error there into 400), else by BodySizeLimit."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, _too_large(limit)["detail"])


# The most of a refused Content-Encoding that its answer repeats.
_CODING_SHOWN = 100


def _content_coding(headers: Sequence[tuple[bytes, bytes]]) -> str | None:
    """The Content-Encoding of the request's body when it names a coding other
    than identity (RFC 9110, 8.4), the only one the service reads; else None,
    and None for a request without a body. Header names come in lower case
    (ASGI); most requests have no Content-Encoding and cost one pass."""
    given = [value for name, value in headers if name == b"content-encoding"]
    if not given or not any(
        name == b"transfer-encoding" or (name == b"content-length" and value.strip(b"0 "))
        for name, value in headers
    ):
        return None
    for value in given:
        codings = [c.strip() for c in value.decode("latin-1").split(",")]
        if any(c and c.lower() != "identity" for c in codings):
            return value.decode("latin-1")[:_CODING_SHOWN]
    return None


def _too_large(limit: int) -> dict[str, str]:
    return {"detail": f"the request body is larger than {limit} bytes"}
