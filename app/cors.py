"""Cross-origin requests from browsers, allowed on the read-only endpoints only.

OpenRefine's suggest and preview, and any page that resolves mentions, call
the service from a browser on another origin. Starlette's ``CORSMiddleware``
answers their preflights and marks their answers; ``CORSOnPaths`` puts it in
front of the paths under the given prefixes only, so ``/admin`` (and anything
not listed) never tells a browser that another origin may call it.
"""

from collections.abc import Iterable

from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

# The read-only endpoints: reading the table and matching against it.
READ_ONLY_PREFIXES = ("/reconcile", "/resolve", "/annotate", "/entities", "/types")
# How long a browser may keep a preflight's answer.
PREFLIGHT_MAX_AGE = 600


class CORSOnPaths:
    """Open CORS (any origin, no credentials) on the paths under ``prefixes``."""

    def __init__(self, app: ASGIApp, *, prefixes: Iterable[str] = READ_ONLY_PREFIXES) -> None:
        self.app = app
        self.prefixes = tuple(prefixes)
        self.cors = CORSMiddleware(
            app,
            allow_origins=["*"],
            allow_methods=["*"],
            allow_headers=["*"],
            allow_credentials=False,
            max_age=PREFLIGHT_MAX_AGE,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self._covers(scope["path"]):
            await self.cors(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    def _covers(self, path: str) -> bool:
        return any(path == p or path.startswith(p + "/") for p in self.prefixes)
