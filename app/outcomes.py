"""Where the service tells what it answered.

Every resolution that ``/resolve`` and ``/reconcile`` give, and every
annotation of ``/annotate``, is told here once: the review queue counts what
was left unresolved (``app.review``) and the metrics count the outcomes
(``app.metrics``). One hook, so that no route feeds one and forgets the other.
"""

from app.matching.annotate import Annotation
from app.matching.resolve import Resolution
from app.metrics import Endpoint, Metrics
from app.review import ReviewCollector


class Outcomes:
    def __init__(self, review: ReviewCollector, metrics: Metrics) -> None:
        self._review = review
        self._metrics = metrics

    def resolved(self, resolution: Resolution, endpoint: Endpoint) -> None:
        self._review.note_resolution(resolution)
        self._metrics.count_resolution(resolution, endpoint)

    def annotated(self, annotation: Annotation) -> None:
        self._review.note_annotation(annotation)
        self._metrics.count_annotation(annotation)
