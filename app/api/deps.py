"""Dependencies shared by the routers."""

import hashlib
import secrets
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Header, HTTPException, Path, Query, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import SecretStr, StringConstraints
from sqlmodel import Session

from app.api.responses import documented
from app.etags import IfMatch, parse_if_match
from app.live_index import LiveIndex
from app.matching.index import AliasIndex
from app.matching.resolve import Thresholds
from app.models.api import MAX_TYPES, TYPE_DESCRIPTION, TYPES_DESCRIPTION
from app.models.fields import ENTITY_ID_PATTERN, MAX_TYPE_LENGTH, PRINTABLE_PATTERN
from app.outcomes import Outcomes
from app.settings import Settings

_bearer = HTTPBearer(
    auto_error=False,
    description="An editor's token: ADMIN_TOKEN (the editor 'admin') or one of the named "
    "tokens of ADMIN_TOKENS ('alice:<token>,bob:<token>'). Every change is recorded under "
    "the name of the token that made it.",
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


def snapshot(request: Request) -> AliasIndex:
    """The index as it is now, for this request to read from start to end."""
    live: LiveIndex = request.app.state.live_index
    return live.snapshot


def service_thresholds(request: Request) -> Thresholds:
    """The service's decision rule, from its settings: every route that
    resolves takes it from here."""
    settings: Settings = request.app.state.settings
    return settings.thresholds()


async def get_snapshot(request: Request) -> AliasIndex:
    return snapshot(request)


async def get_thresholds(request: Request) -> Thresholds:
    return service_thresholds(request)


def outcomes(request: Request) -> Outcomes:
    """Where this worker tells what it answered: the review queue's counts
    and the metrics. Not a dependency: a read of the app's state costs
    /resolve less than one."""
    told: Outcomes = request.app.state.outcomes
    return told


async def require_admin(
    settings: Annotated[Settings, Depends(get_settings)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> str:
    """The editor whose token was sent: 401 without one, 403 with a wrong one.

    Closed (503) when no token is configured. An ``X-Editor`` header that
    older clients send is ignored: the token says who edits.
    """
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "admin endpoints need 'Authorization: Bearer <token>' (ADMIN_TOKEN or ADMIN_TOKENS)",
            headers={"WWW-Authenticate": "Bearer"},
        )
    tokens = settings.editor_tokens()
    if not tokens:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            "admin endpoints are closed: the service was started without ADMIN_TOKEN "
            "or ADMIN_TOKENS",
        )
    # HTTP headers arrive decoded as latin-1: encoding back gives the bytes the
    # client sent, which are the UTF-8 of a token with non-ASCII characters.
    editor = _editor_of(credentials.credentials.encode("latin-1"), tokens)
    if editor is None:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "the bearer token is no editor's token")
    return editor


def _editor_of(sent: bytes, tokens: dict[str, SecretStr]) -> str | None:
    """Whose token ``sent`` is, in a time that tells nothing of any token.

    Digests are compared, all of them: their lengths are equal whatever the
    tokens' lengths, and the loop does not stop at a match.
    """
    sent_digest = hashlib.sha256(sent).digest()
    editor = None
    for name, token in tokens.items():
        expected = hashlib.sha256(token.get_secret_value().encode()).digest()
        if secrets.compare_digest(sent_digest, expected):
            editor = name
    return editor


async def get_if_match(
    request: Request,
    if_match: Annotated[
        str | None,
        Header(
            description="Make the edit only if the entity is still this version: the `ETag` "
            "that `GET /entities/{entity_id}` or the last edit answered (`*`: any version). "
            "A stale one answers 412, a value that is no ETag 400.",
        ),
    ] = None,
) -> IfMatch | None:
    if if_match is None:
        return None
    # Sent as several lines, the header is their values joined by commas (RFC 9110).
    return parse_if_match(", ".join(request.headers.getlist("if-match")))


SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionDep = Annotated[Session, Depends(get_session)]
LiveIndexDep = Annotated[LiveIndex, Depends(get_live_index)]
SnapshotDep = Annotated[AliasIndex, Depends(get_snapshot)]
ThresholdsDep = Annotated[Thresholds, Depends(get_thresholds)]
EditorDep = Annotated[str, Depends(require_admin)]
IfMatchDep = Annotated[IfMatch | None, Depends(get_if_match)]
AllowSharedQuery = Annotated[
    bool,
    Query(
        description="Accept a form that another entity has already: its mentions then "
        "answer `ambiguous`. Without it, such a form is refused with 409 naming the owners."
    ),
]
DryRunQuery = Annotated[
    bool,
    Query(
        description="Run the edit and roll it back: nothing is written, and the answer (200) "
        "is what it would change."
    ),
]
TypeQuery = Annotated[
    str | None,
    Query(max_length=MAX_TYPE_LENGTH, pattern=PRINTABLE_PATTERN, description=TYPE_DESCRIPTION),
]
TypesQuery = Annotated[
    list[Annotated[str, StringConstraints(max_length=MAX_TYPE_LENGTH, pattern=PRINTABLE_PATTERN)]]
    | None,
    Query(
        max_length=MAX_TYPES,
        description=f"{TYPES_DESCRIPTION} Repeated for several: `types=a&types=b`.",
    ),
]
EntityIdPath = Annotated[
    str,
    Path(pattern=ENTITY_ID_PATTERN, description="The entity's ID (1-128 of A-Z a-z 0-9 . _ : -)."),
]


# What every admin operation may answer besides its own statuses.
ADMIN_RESPONSES = documented(
    401,
    403,
    422,
    503,
    s503="The service has no editor's token configured, or its database is not usable.",
)
