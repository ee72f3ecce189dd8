"""Dependencies shared by the routers."""

import secrets
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Header, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel import Session

from app.live_index import LiveIndex
from app.matching.index import AliasIndex
from app.settings import Settings

_bearer = HTTPBearer(
    auto_error=False,
    description="The ADMIN_TOKEN the service was started with.",
)


# Dependencies that do no I/O are async: FastAPI runs sync ones in its
# threadpool, a hop per dependency per request.


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_session(request: Request) -> Iterator[Session]:
    with Session(request.app.state.engine, expire_on_commit=False) as session:
        yield session


async def get_live_index(request: Request) -> LiveIndex:
    live: LiveIndex = request.app.state.live_index
    return live


async def get_snapshot(request: Request) -> AliasIndex:
    # Not through get_live_index: every dependency costs each request a few
    # microseconds, and /resolve is the service's most frequent request.
    return (await get_live_index(request)).snapshot


async def require_admin(
    settings: Annotated[Settings, Depends(get_settings)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    """401 without a bearer token, 403 with a wrong one; closed when none is configured."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "admin endpoints need 'Authorization: Bearer <ADMIN_TOKEN>'",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if settings.admin_token is None:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            "admin endpoints are closed: the service was started without ADMIN_TOKEN",
        )
    expected = settings.admin_token.get_secret_value().encode()
    if not secrets.compare_digest(credentials.credentials.encode(), expected):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "the bearer token is not the admin token")


async def get_actor(
    x_editor: Annotated[
        str | None,
        Header(max_length=128, description="Who makes the change, for the audit trail."),
    ] = None,
) -> str:
    return f"admin:{x_editor.strip()}" if x_editor and x_editor.strip() else "admin"


SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionDep = Annotated[Session, Depends(get_session)]
LiveIndexDep = Annotated[LiveIndex, Depends(get_live_index)]
SnapshotDep = Annotated[AliasIndex, Depends(get_snapshot)]
ActorDep = Annotated[str, Depends(get_actor)]
