"""HEAD answered wherever GET is (RFC 9110): the GET's status and headers, no body.

Routes declare GET alone; a monitor's ``HEAD /healthz`` or a link checker's
``HEAD /entities/ttp`` would otherwise be 405. The request goes on as a GET,
and what its answer sends as body is dropped.
"""

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class HeadAsGet:
    """ASGI middleware: a HEAD request is served as the GET of its path, without the body."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def without_body(message: Message) -> None:
            if message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        # A copy: the server reads its own scope's method to send no body.
        as_get = {**scope, "method": "GET"}
        try:
            await self.app(as_get, receive, without_body)
        finally:
            # What routing left in the scope (the route answering), for the metrics.
            scope.update({key: value for key, value in as_get.items() if key != "method"})
