"""How uvicorn serves the app: its options, and the connection limits it lacks.

uvicorn bounds idle keep-alive connections (``timeout_keep_alive``) and the
connections and requests of a worker (``limit_concurrency``, answering 503
past it), but with httptools it has neither a timeout for a request still
arriving nor a cap on the size of its headers: a client could hold a
connection open forever by sending headers or a body a byte at a time, or
grow the server's memory with headers that never end. ``LimitedHttpTools``
adds both: headers must arrive within ``HEADER_TIMEOUT`` seconds (else 408
and the connection is closed), a body within ``BODY_TIMEOUT`` seconds after
them (else the connection is closed), and the request line and headers may
not pass ``MAX_HEADER_BYTES`` (else 431 and the connection is closed, having
buffered no more than that and one read).
"""

import asyncio
import functools
import json
import logging
from collections.abc import Callable
from typing import Any

from starlette.types import Receive, Scope, Send
from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol
from uvicorn.server import ServerState

from app.settings import Settings

log = logging.getLogger(__name__)


def connection_limits(settings: Settings) -> dict[str, Any]:
    """The keyword arguments of ``uvicorn.run`` that bound what a client can hold."""
    protocol = functools.partial(
        LimitedHttpTools,
        header_timeout=settings.header_timeout,
        body_timeout=settings.body_timeout,
        max_header_bytes=settings.max_header_bytes,
    )
    return {
        "http": protocol,
        # No route is a WebSocket: an upgrade is asked of an HTTP route, answered in JSON
        # (with a WebSocket library installed, uvicorn refused it itself: 403, no body).
        "ws": "none",
        "timeout_keep_alive": settings.keep_alive_timeout,
        "limit_concurrency": settings.limit_concurrency,
    }


class _HeadersTooLarge(Exception):
    """Raised from a parser callback to stop parsing a request whose headers are too large."""


class LimitedHttpTools(HttpToolsProtocol):
    """uvicorn's httptools protocol with a header timeout, a body timeout and a header cap."""

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
        *,
        header_timeout: float,
        body_timeout: float,
        max_header_bytes: int,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        # Checked here instead, so that the 503 is JSON like every other error.
        self.concurrency_limit, self.limit_concurrency = self.limit_concurrency, None
        self.header_timeout = header_timeout
        self.body_timeout = body_timeout
        self.max_header_bytes = max_header_bytes
        self._reading_headers = True
        self._header_bytes = 0  # received since the request began, while reading its headers
        self._timer: asyncio.TimerHandle | None = None
        self._refusal: tuple[int, str] | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._start_timer(self.header_timeout, self._headers_too_slow)

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_timer()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._reading_headers:
            self._header_bytes += len(data)
            if self._timer is None:  # the first bytes of another request on this connection
                self._start_timer(self.header_timeout, self._headers_too_slow)
        super().data_received(data)
        if (
            self._reading_headers
            and self._header_bytes > self.max_header_bytes
            and not self.transport.is_closing()
        ):
            self._refuse(*self._headers_too_large())

    def on_headers_complete(self) -> None:
        self._reading_headers = False
        self._stop_timer()
        size = len(self.url) + sum(len(name) + len(value) + 4 for name, value in self.headers)
        if size > self.max_header_bytes:
            self._refusal = self._headers_too_large()
            raise _HeadersTooLarge  # the parser stops; uvicorn answers through send_400_response
        application = self.app
        if self._over_concurrency_limit():
            log.warning("over the concurrency limit (%s): 503", self.concurrency_limit)
            self.app = _over_concurrency_limit
        try:
            super().on_headers_complete()
        finally:
            self.app = application
        self._start_timer(self.body_timeout, self._body_too_slow)

    def _unsupported_upgrade_warning(self) -> None:
        # uvicorn's would tell the operator to install a WebSocket library (``ws`` is "none").
        log.info("an upgrade of the protocol was asked; the request is answered as HTTP")

    def _headers_too_large(self) -> tuple[int, str]:
        return 431, f"the request headers are larger than {self.max_header_bytes} bytes"

    def _over_concurrency_limit(self) -> bool:
        # uvicorn's own test: connections (this one included) or running requests.
        limit = self.concurrency_limit
        return limit is not None and (len(self.connections) >= limit or len(self.tasks) >= limit)

    def on_message_complete(self) -> None:
        self._stop_timer()
        self._reading_headers, self._header_bytes = True, 0
        super().on_message_complete()

    def send_400_response(self, msg: str) -> None:
        # uvicorn's own answer to a request that is not HTTP is text/plain.
        self._refuse(*(self._refusal or (400, "the request is not valid HTTP")))

    def _headers_too_slow(self) -> None:
        self._timer = None
        self._refuse(408, f"the request headers did not arrive within {self.header_timeout:g} s")

    def _body_too_slow(self) -> None:
        self._timer = None
        log.warning(
            "a request body did not arrive within %g s: connection closed", self.body_timeout
        )
        self.transport.close()

    def _refuse(self, status: int, detail: str) -> None:
        log.warning("%s: connection closed", detail)
        if self.cycle is not None and not self.cycle.response_complete:
            self.transport.close()  # a request behind one still answering: no status of its own
            return
        body = json.dumps({"detail": detail}).encode()
        head = [STATUS_LINE[status]]
        head += [
            name + b": " + value + b"\r\n" for name, value in self.server_state.default_headers
        ]
        head += [
            b"content-type: application/json\r\n",
            b"content-length: " + str(len(body)).encode() + b"\r\n",
            b"connection: close\r\n\r\n",
        ]
        self.transport.write(b"".join(head) + body)
        self.transport.close()

    def _start_timer(self, seconds: float, callback: Callable[[], None]) -> None:
        self._stop_timer()
        self._timer = self.loop.call_later(seconds, callback)

    def _stop_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None


# The answer past LIMIT_CONCURRENCY, on any operation (the schema gives it for each).
CONCURRENCY_LIMIT_ANSWER = {"detail": "the server is at its concurrency limit; try again"}


async def _over_concurrency_limit(scope: Scope, receive: Receive, send: Send) -> None:
    """The answer past LIMIT_CONCURRENCY: uvicorn's, in JSON."""
    body = json.dumps(CONCURRENCY_LIMIT_ANSWER).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
    ]
    await send({"type": "http.response.start", "status": 503, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})
