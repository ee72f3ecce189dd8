"""Dependencies shared by the routers."""

import secrets
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Header, HTTPException, Path, Query, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel import Session

from app.etags import IfMatch, parse_if_match
from app.live_index import LiveIndex
from app.matching.index import AliasIndex
from app.models import ENTITY_ID_PATTERN, MAX_ACTOR_LENGTH
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
    # HTTP headers arrive decoded as latin-1: encoding back gives the bytes the
    # client sent, which are the UTF-8 of a token with non-ASCII characters.
    sent = credentials.credentials.encode("latin-1")  # see _from_utf8
    expected = settings.admin_token.get_secret_value().encode()
    if not secrets.compare_digest(sent, expected):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "the bearer token is not the admin token")


_ACTOR_PREFIX = "admin:"
# Refused beyond what the audit trail stores rather than cut: a name cut short
# could be another editor's, and an editor sees the limit in the answer. The
# limit counts the bytes sent, so the name decoded from UTF-8 fits as well.
MAX_EDITOR_LENGTH = MAX_ACTOR_LENGTH - len(_ACTOR_PREFIX)
# No C0 control characters or DEL (the bytes 0x80-0x9F are UTF-8 continuations).
_HEADER_TEXT = r"^[^\x00-\x1f\x7f]*$"


async def get_actor(
    x_editor: Annotated[
        str | None,
        Header(
            max_length=MAX_EDITOR_LENGTH,
            pattern=_HEADER_TEXT,
            description="Who makes the change, for the audit trail "
            f"(at most {MAX_EDITOR_LENGTH} bytes of UTF-8).",
        ),
    ] = None,
) -> str:
    name = _from_utf8(x_editor or "").strip()
    return f"{_ACTOR_PREFIX}{name}" if name else "admin"


def _from_utf8(header: str) -> str:
    """A header value as the client wrote it: HTTP hands it over read as latin-1."""
    return header.encode("latin-1").decode("utf-8", errors="replace")


async def get_if_match(
    if_match: Annotated[
        str | None,
        Header(
            description="Make the edit only if the entity is still this version: the `ETag` "
            "that `GET /entities/{entity_id}` or the last edit answered (`*`: any version). "
            "A stale one answers 412, a value that is no ETag 400.",
        ),
    ] = None,
) -> IfMatch | None:
    return None if if_match is None else parse_if_match(if_match)


SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionDep = Annotated[Session, Depends(get_session)]
LiveIndexDep = Annotated[LiveIndex, Depends(get_live_index)]
SnapshotDep = Annotated[AliasIndex, Depends(get_snapshot)]
ActorDep = Annotated[str, Depends(get_actor)]
IfMatchDep = Annotated[IfMatch | None, Depends(get_if_match)]
AllowSharedQuery = Annotated[
    bool,
    Query(
        description="Accept a form that another entity has already: its mentions then "
        "answer `ambiguous`. Without it, such a form is refused with 409 naming the owners."
    ),
]
EntityIdPath = Annotated[
    str,
    Path(pattern=ENTITY_ID_PATTERN, description="The entity's ID (1-128 of A-Z a-z 0-9 . _ : -)."),
]
