"""Prometheus metrics, one registry per application instance."""

import time
from collections.abc import Awaitable, Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match

from app.live_index import LiveIndex


class Metrics:
    def __init__(self, live_index: LiveIndex) -> None:
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

    async def middleware(
        self, request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        started = time.perf_counter()
        response = await call_next(request)
        route = _route_template(request)
        self.latency.labels(request.method, route).observe(time.perf_counter() - started)
        self.requests.labels(request.method, route, str(response.status_code)).inc()
        return response


def _route_template(request: Request) -> str:
    # Label by template (/entities/{entity_id}), never by raw path: bounded cardinality.
    for route in request.app.routes:
        match, _ = route.matches(request.scope)
        if match is Match.FULL:
            return str(getattr(route, "path", "other"))
    return "unmatched"


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
