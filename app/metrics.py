"""Prometheus metrics, one registry per application instance."""

import time
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.live_index import LiveIndex
from app.review import ReviewCollector


class Metrics:
    def __init__(self, live_index: LiveIndex, review: ReviewCollector) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "alias_http_requests_total",
            "HTTP requests answered, by route and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "alias_http_request_seconds",
            "Time to answer an HTTP request, by route.",
            ["method", "route"],
            buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5),
            registry=self.registry,
        )
        self.registry.register(_IndexCollector(live_index))
        self.registry.register(_ReviewCollector(review))

    def middleware(self, app: ASGIApp) -> ASGIApp:
        """ASGI middleware that counts and times every HTTP request by route."""

        async def measured(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                await app(scope, receive, send)
                return
            started = time.perf_counter()
            status = 500

            async def send_and_note_status(message: Message) -> None:
                nonlocal status
                if message["type"] == "http.response.start":
                    status = message["status"]
                await send(message)

            try:
                await app(scope, receive, send_and_note_status)
            finally:
                self._observe(scope, status, time.perf_counter() - started)

        return measured

    def _observe(self, scope: Scope, status: int, seconds: float) -> None:
        # Label by template (/entities/{entity_id}), never by raw path: bounded cardinality.
        route = getattr(scope.get("route"), "path", "unmatched")
        self.latency.labels(scope["method"], route).observe(seconds)
        self.requests.labels(scope["method"], route, str(status)).inc()


class _IndexCollector(Collector):
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


class _ReviewCollector(Collector):
    def __init__(self, review: ReviewCollector) -> None:
        self._review = review

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        if self._review.open_items is not None:  # known once this worker has flushed
            yield GaugeMetricFamily(
                "alias_review_open_items",
                "Open forms in the review queue, as of this worker's last flush.",
                self._review.open_items,
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
