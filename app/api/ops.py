"""Health, readiness and metrics for operators."""

from fastapi import APIRouter, Request, Response, status
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlmodel import Field, SQLModel

from app import examples as example
from app import store
from app.api.deps import LiveIndexDep, SessionDep, SettingsDep
from app.models.api import ErrorDetail

router = APIRouter(tags=["operations"])
_PROMETHEUS_TEXT = {"schema": {"type": "string"}, "example": example.METRICS}


class Health(SQLModel):
    status: str


class Readiness(SQLModel):
    status: str
    database: bool
    writable: bool = Field(description="A write went through (checked every few seconds).")
    index_loaded: bool
    revision: int = Field(description="The table revision this process's index holds.")
    database_revision: int | None = Field(
        description="The database's newest revision (null when it does not answer)."
    )
    lagging: bool = Field(
        description="Nothing takes other processes' edits in any more; or refreshes of the "
        "index have failed for longer than the allowance (`READY_LAG_INTERVALS` × "
        "`REFRESH_INTERVAL`, at least `READY_LAG_FLOOR` seconds); or one refresh has run "
        "longer than `READY_REFRESH_LIMIT` seconds; or the index misses edits and its "
        "refresher has made no progress for longer than the allowance. A refresh under way, "
        "a rebuild of the whole table included, counts as progress."
    )
    index_lag_seconds: float | None = Field(
        description="Seconds since the index last held the database's newest revision, when "
        "it does not hold it now: 0 when it does."
    )
    lag_reason: str | None = Field(default=None, description="Why the index is lagging.")
    entities: int
    aliases: int


@router.get(
    "/healthz",
    operation_id="health",
    summary="Alive",
    response_model=Health,
    responses=example.answered(200, {"status": "ok"}),
)
async def healthz() -> Health:
    """Answers while the process runs."""
    # async: answered on the event loop, never waiting for a thread of the pool.
    return Health(status="ok")


@router.get(
    "/readyz",
    operation_id="readiness",
    summary="Ready to serve",
    response_model=Readiness,
    responses={
        **example.answered(200, example.READY),
        # Not ready says why; the concurrency limit, met by any operation, in its own words.
        503: {
            "model": Readiness | ErrorDetail,
            "description": "Not ready; or the server is at its concurrency limit"
            " (`LIMIT_CONCURRENCY`), said in `detail`.",
        },
    },
)
def readyz(
    request: Request, session: SessionDep, live: LiveIndexDep, settings: SettingsDep
) -> Response:
    """Ready when the index is loaded and keeps up with the database's edits,
    and the database answers and takes writes."""
    try:
        database_revision: int | None = store.current_revision(session=session)
    except Exception:
        database_revision = None
    database = database_revision is not None
    writable = database and request.app.state.write_check()
    lag = live.lag(
        database_revision=database_revision or 0,
        allowance=settings.lag_allowance(),
        stall_after=settings.ready_refresh_limit,
    )
    snapshot = live.snapshot
    ready = database and writable and live.loaded and not lag.lagging
    body = Readiness(
        status="ready" if ready else "not ready",
        database=database,
        writable=writable,
        index_loaded=live.loaded,
        revision=live.revision,
        database_revision=database_revision,
        lagging=lag.lagging,
        index_lag_seconds=lag.seconds,
        lag_reason=lag.reason,
        entities=snapshot.entity_count,
        aliases=snapshot.alias_count,
    )
    code = status.HTTP_200_OK if ready else status.HTTP_503_SERVICE_UNAVAILABLE
    return JSONResponse(body.model_dump(), status_code=code)


@router.get(
    "/metrics",
    operation_id="metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={
        200: {
            "content": {CONTENT_TYPE_LATEST: _PROMETHEUS_TEXT},
            "description": "Text format.",
        }
    },
)
def metrics(request: Request) -> Response:
    """Request counts and latencies by route, and the size and revision of the index."""
    return Response(
        generate_latest(request.app.state.metrics.registry), media_type=CONTENT_TYPE_LATEST
    )
