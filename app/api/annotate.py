"""Find and resolve every entity mention in a text."""

from fastapi import APIRouter, Request, Response

from app.annotating import check_text_length, with_own_threshold
from app.api.answers import JsonObject, annotation_public, json_response
from app.api.compute import INLINE_CHARACTERS, OVER_BUDGET, within_budget
from app.api.deps import SnapshotDep, ThresholdsDep, outcomes
from app.api.responses import documented
from app.declared_types import check_filters
from app.errors import PayloadTooLarge
from app.matching.annotate import Annotation, annotation
from app.matching.budget import Deadline
from app.matching.index import AliasIndex
from app.matching.resolve import Thresholds
from app.models.api import (
    AnnotateBatchRequest,
    AnnotateBatchResponse,
    AnnotateRequest,
    AnnotateResponse,
)
from app.outcomes import Outcomes

router = APIRouter(
    prefix="/annotate",
    tags=["annotate"],
    responses=documented(
        400,
        413,
        422,
        s413="The body, a text in it, or the answer would be larger than the limit it names.",
    )
    | OVER_BUDGET,
)

# Mentions and the candidates shown with them that one answer holds at most,
# counted together: a name repeated all through a text (a batch of such texts)
# would answer gigabytes of JSON. About 15 MB of JSON.
MAX_ANSWER_ENTRIES = 100_000


@router.post(
    "",
    operation_id="annotate",
    summary="Find every mention in a text",
    response_model=AnnotateResponse,
)
async def annotate_text(
    request: Request, index: SnapshotDep, service_rule: ThresholdsDep, body: AnnotateRequest
) -> Response:
    """Every matched or ambiguous entity mention, with its offsets in code points
    (`text[start:end]` in Python is the mention), how it was found, and its
    candidates. Curated names and aliases are found as whole words in a case
    that fits them (US, IS and UN only as acronyms), spelling variants of them
    through the matching layers, and short or ambiguous names are settled by
    what the rest of the text names."""
    _check_request(index, body)

    told = outcomes(request)

    def result(deadline: Deadline) -> JsonObject:
        return _annotated(index, service_rule, body, deadline, told, _AnswerSize())

    in_place = len(body.text) <= INLINE_CHARACTERS
    return json_response(await within_budget(request, result, in_place=in_place))


@router.post(
    "/batch",
    operation_id="annotateBatch",
    summary="Find every mention in many texts",
    response_model=AnnotateBatchResponse,
)
async def annotate_batch(
    request: Request, index: SnapshotDep, service_rule: ThresholdsDep, body: AnnotateBatchRequest
) -> Response:
    """`POST /annotate` for up to 100 texts at once; results in the order of the texts."""
    for document in body.documents:
        _check_request(index, document)

    told = outcomes(request)

    def results(deadline: Deadline) -> list[JsonObject]:
        size = _AnswerSize()
        return [
            _annotated(index, service_rule, document, deadline, told, size)
            for document in body.documents
        ]

    in_place = sum(len(document.text) for document in body.documents) <= INLINE_CHARACTERS
    return json_response({"results": await within_budget(request, results, in_place=in_place)})


def _check_request(index: AliasIndex, body: AnnotateRequest) -> None:
    check_filters(index.known_types(), body.type_filter())
    check_text_length(body.text)


def _annotated(
    index: AliasIndex,
    service_rule: Thresholds,
    body: AnnotateRequest,
    deadline: Deadline,
    told: Outcomes,
    size: "_AnswerSize",
) -> JsonObject:
    """An ``AnnotateResponse``, told to the review queue and the metrics, counted in ``size``."""
    rule = with_own_threshold(service_rule, body.threshold)
    found = annotation(
        index, body.text, types=body.type_filter(), thresholds=rule, deadline=deadline
    )
    told.annotated(found)
    size.add(found, body.limit)
    return annotation_public(found, body.limit, index.caches)


class _AnswerSize:
    """The entries of an answer so far: 413 before it passes MAX_ANSWER_ENTRIES."""

    def __init__(self) -> None:
        self.entries = 0

    def add(self, found: Annotation, limit: int) -> None:
        self.entries += sum(1 + min(limit, len(m.resolution.candidates)) for m in found.mentions)
        if self.entries > MAX_ANSWER_ENTRIES:
            raise PayloadTooLarge(
                f"the answer would hold more than {MAX_ANSWER_ENTRIES:,} mentions and candidates "
                "(each mention counts one, and one for each candidate shown): send fewer or "
                "shorter texts, or a lower limit"
            )
