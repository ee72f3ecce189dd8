"""What annotating a text asks, wherever it is asked: by ``POST /annotate`` and
``/resolve`` or by the archive command. The routes and the command both use
these rules, so the command imports no router."""

from dataclasses import replace

from app.errors import PayloadTooLarge
from app.matching.resolve import Thresholds
from app.models.api import MAX_TEXT_LENGTH


def with_own_threshold(service: Thresholds, threshold: float | None) -> Thresholds:
    """The service's decision rule, with a request's own ``threshold`` for a match."""
    return service if threshold is None else replace(service, match=threshold)


def check_text_length(text: str) -> None:
    """Refuse a text longer than a request may annotate (the archive command's records too)."""
    if len(text) > MAX_TEXT_LENGTH:
        raise PayloadTooLarge(
            f"the text has {len(text):,} characters; at most {MAX_TEXT_LENGTH:,} are annotated"
        )
