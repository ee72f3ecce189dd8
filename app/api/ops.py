"""Health, readiness and metrics for operators."""

from fastapi import APIRouter, Request, Response, status
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from sqlmodel import Field, SQLModel

from app import examples as example
from app.api.deps import LiveIndexDep, SessionDep

router = APIRouter(tags=["operations"])
_PROMETHEUS_TEXT = {"schema": {"type": "string"}, "example": example.METRICS}


class Health(SQLModel):
    status: str


class Readiness(SQLModel):
    status: str
    database: bool
    writable: bool = Field(description="A write went through (checked every few seconds).")
    index_loaded: bool
    revision: int
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
        503: {"model": Readiness, "description": "Not ready."},
    },
)
def readyz(request: Request, session: SessionDep, live: LiveIndexDep) -> Response:
    """Ready when the index is loaded, the database answers and takes writes."""
    try:
        session.exec(text("SELECT 1"))  # type: ignore[call-overload]
        database = True
    except Exception:
        database = False
    writable = database and request.app.state.write_check()
    snapshot = live.snapshot
    ready = database and writable and live.loaded
    body = Readiness(
        status="ready" if ready else "not ready",
        database=database,
        writable=writable,
        index_loaded=live.loaded,
        revision=live.revision,
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
            "content": {
                CONTENT_TYPE_LATEST: {"schema": {"type": "string"}, "example": example.METRICS}
            },
            "description": "Text format.",
        }
    },
)
def metrics(request: Request) -> Response:
    """Request counts and latencies by route, and the size and revision of the index."""
    return Response(
        generate_latest(request.app.state.metrics.registry), media_type=CONTENT_TYPE_LATEST
    )
