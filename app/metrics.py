"""Prometheus metrics, one registry per application instance.

Requests are counted and timed by route template (``/entities/{entity_id}``,
never the raw path, so the number of series stays bounded); a request that
matched no route is labelled ``NO_ROUTE``, which no template and no resolve
status can be; and by method, any but the standard ones labelled ``other``.
Resolutions and annotations are counted as the answers are
made (``app.outcomes``); the index, its freshness and the review queue are
read when a scrape asks; the process and the garbage collector are
prometheus_client's own collectors, registered in this registry.
"""

import collections
import logging
import time
from collections.abc import Iterator
from typing import Literal

from prometheus_client import (
    CollectorRegistry,
    Counter,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.health import first_line
from app.live_index import LiveIndex
from app.matching.annotate import Annotation
from app.matching.resolve import Resolution
from app.review import ReviewCollector

log = logging.getLogger(__name__)

# The route label of a request that no route answered (a 404, a redirect that
# adds or drops a slash, a body refused before routing): no path, no resolve status.
NO_ROUTE = "(no route)"
# The method label of a resolution without any candidate.
NO_METHOD = "none"
# The HTTP methods that label requests as themselves (RFC 9110 and PATCH); any
# other is labelled OTHER_METHOD, so that made-up methods add no series.
HTTP_METHODS = frozenset(
    {"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"}
)
OTHER_METHOD = "other"
# Seconds a scrape reuses the review queue's size read from the database.
OPEN_ITEMS_MAX_AGE = 5.0

Endpoint = Literal["resolve", "reconcile"]


class Metrics:
    def __init__(self, live_index: LiveIndex, review: ReviewCollector, engine: Engine) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "alias_http_requests_total",
            "HTTP requests answered, by route template and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "alias_http_request_seconds",
            "Time to answer an HTTP request, by route template.",
            ["method", "route"],
            buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5),
            registry=self.registry,
        )
        self.resolutions = Counter(
            "alias_resolutions_total",
            "Mentions resolved by /resolve and /reconcile queries, by status and by the "
            f"method of the best candidate ('{NO_METHOD}' when there is none).",
            ["endpoint", "status", "method"],
            registry=self.registry,
        )
        self.annotated_mentions = Counter(
            "alias_annotated_mentions_total",
            "Mentions found in annotated texts, by status.",
            ["status"],
            registry=self.registry,
        )
        self.annotated_texts = Counter(
            "alias_annotated_texts_total", "Texts annotated.", registry=self.registry
        )
        # labels() validates and locks on every call: the hot path looks its series up here.
        self._resolution_series: dict[tuple[str, str, str], Counter] = {}
        self.registry.register(_IndexMetrics(live_index))
        self.registry.register(_ReviewQueueMetrics(review, engine))
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        GCCollector(registry=self.registry)

    def count_resolution(self, resolution: Resolution, endpoint: Endpoint) -> None:
        best = resolution.candidates[0].method if resolution.candidates else NO_METHOD
        labels = (endpoint, resolution.status, best)
        series = self._resolution_series.get(labels)
        if series is None:
            series = self._resolution_series[labels] = self.resolutions.labels(*labels)
        series.inc()

    def count_annotation(self, annotation: Annotation) -> None:
        self.annotated_texts.inc()
        by_status = collections.Counter(
            mention.resolution.status for mention in annotation.mentions
        )
        for status, count in by_status.items():
            self.annotated_mentions.labels(status).inc(count)

    def middleware(self, app: ASGIApp) -> ASGIApp:
        """ASGI middleware that counts and times every HTTP request by route."""

        async def measured(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                await app(scope, receive, send)
                return
            started = time.perf_counter()
            as_received = dict(scope)  # before routing adds to it
            status = 500

            async def send_and_note_status(message: Message) -> None:
                nonlocal status
                if message["type"] == "http.response.start":
                    status = message["status"]
                await send(message)

            try:
                await app(scope, receive, send_and_note_status)
            finally:
                method, route = method_label(scope["method"]), route_label(scope, as_received)
                self.latency.labels(method, route).observe(time.perf_counter() - started)
                self.requests.labels(method, route, str(status)).inc()

        return measured


def method_label(method: str) -> str:
    """A standard HTTP method as it is, any other as ``OTHER_METHOD``."""
    return method if method in HTTP_METHODS else OTHER_METHOD


def route_label(scope: Scope, as_received: Scope) -> str:
    """The template of the route that answered, or ``NO_ROUTE``.

    FastAPI's own routes leave themselves in the scope. The others (the
    OpenAPI document, and the mount that serves the docs' assets, labelled
    ``/static-offline-docs/{path}``) do not: the request as received is
    matched against the router's routes again, which only such requests and
    those that no route matched cost. A request answered before routing (a
    body over the limit) has no route.
    """
    route = scope.get("route") or _route_for(as_received, scope.get("router"))
    template: str = getattr(route, "path_format", NO_ROUTE)
    return template


def _route_for(scope: Scope, router: object) -> BaseRoute | None:
    for route in getattr(router, "routes", ()):
        if hasattr(route, "path_format") and route.matches(scope)[0] is not Match.NONE:
            found: BaseRoute = route
            return found
    return None


class _IndexMetrics(Collector):
    """The index's size and revision, and how its refresher fares."""

    def __init__(self, live_index: LiveIndex) -> None:
        self._live = live_index

    def collect(self) -> Iterator[GaugeMetricFamily]:
        snapshot = self._live.snapshot
        yield GaugeMetricFamily(
            "alias_index_entities", "Entities in the index.", snapshot.entity_count
        )
        yield GaugeMetricFamily(
            "alias_index_aliases", "Aliases in the index.", snapshot.alias_count
        )
        yield GaugeMetricFamily(
            "alias_index_revision", "Table revision served.", self._live.revision
        )
        age = self._live.refresh_age
        if age is not None:
            yield GaugeMetricFamily(
                "alias_index_refresh_age_seconds",
                "Seconds since the index last held the database's newest revision "
                "(grows while refreshes fail or the refresh thread is stopped).",
                age,
            )
        yield GaugeMetricFamily(
            "alias_index_refresh_failures",
            "Refreshes of the index that failed in a row (0 once one succeeds).",
            self._live.failures,
        )
        yield GaugeMetricFamily(
            "alias_index_refresh_running",
            "1 while the thread that takes in other processes' edits runs.",
            int(self._live.watching),
        )


class _ReviewQueueMetrics(Collector):
    """The review queue's size and what this worker's counts hold or refused."""

    def __init__(self, review: ReviewCollector, engine: Engine) -> None:
        self._review = review
        self._engine = engine

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        open_items = self._open_items()
        if open_items is not None:
            yield GaugeMetricFamily(
                "alias_review_open_items",
                "Open forms in the review queue, in the database "
                f"(read at most every {OPEN_ITEMS_MAX_AGE:g} s, or by this worker's last flush).",
                open_items,
            )
        yield GaugeMetricFamily(
            "alias_review_pending_forms",
            "Unresolved mentions this worker counts that are not written yet.",
            self._review.pending,
        )
        yield CounterMetricFamily(
            "alias_review_refused",
            "Unresolved mentions not counted, this worker's review counts being full.",
            self._review.refused,
        )
        yield CounterMetricFamily(
            "alias_review_texts_refused",
            "Annotated texts whose names were not counted, too much text waiting for a flush.",
            self._review.refused_texts,
        )

    def _open_items(self) -> int | None:
        """The queue's size; None when the database cannot say (the scrape
        goes on: the other metrics matter most when the database is down)."""
        try:
            return self._review.open_count(self._engine, max_age=OPEN_ITEMS_MAX_AGE)
        except SQLAlchemyError as error:
            log.warning("the review queue's size could not be read: %s", first_line(error))
            return None
