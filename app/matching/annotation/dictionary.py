"""The dictionary pass: the curated names and aliases as written in a text.

Each form is found as a whole word in a case that fits it (``spotting``),
and resolved among the entities that hold it, method ``exact``. A capitalised
word that begins a sentence and that the text writes in lower case elsewhere
is a common word to its writer and is dropped ("But" is not Buta).
"""

from collections.abc import Iterable
from dataclasses import astuple
from functools import partial
from typing import Any

from app.matching.annotation.common_words import written_in_lower_case
from app.matching.annotation.mentions import EXACT, Mention, decided
from app.matching.budget import NO_DEADLINE, Deadline
from app.matching.caches import TypesFilter
from app.matching.index import AliasIndex, Segment
from app.matching.resolve import DEFAULT_THRESHOLDS, Method, Resolution, Thresholds, TypeFilter
from app.matching.spotting import (
    Span,
    SpottedText,
    dictionary_hits,
    prepare,
    sentence_initial,
)
from app.matching.spotting_keys import FormIds

# What a text was annotated for: the types filter and the thresholds' numbers.
Asked = tuple[TypesFilter, tuple[Any, ...]]
# The key of a spotted name's resolution: what was asked, the segment, the
# form ids, the text as written.
HitKey = tuple[Asked, Segment, FormIds, str]

# The dictionary pass checks its deadline once per this many hits: a hit costs
# microseconds, a run of the variant pass (checked each time) up to milliseconds.
HITS_BETWEEN_CHECKS = 1024


def dictionary_mentions(
    index: AliasIndex,
    text: str,
    *,
    types: Iterable[str] | None = None,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
) -> list[Mention]:
    """The first pass alone: the curated forms as written in ``text``."""
    return spotted_mentions(index, prepare(text), TypeFilter(index, types), thresholds, NO_DEADLINE)


def spotted_mentions(
    index: AliasIndex,
    spotted: SpottedText,
    type_filter: TypeFilter,
    thresholds: Thresholds,
    deadline: Deadline,
) -> list[Mention]:
    """The curated forms found in the text that name entities of the types asked for."""
    # The same names come back, written the same way, in text after text:
    # their resolutions are kept with the snapshot (``SnapshotCaches``), for
    # each types filter and thresholds asked for. The key holds the numbers of
    # the thresholds rather than the dataclass, whose hash is worked out in
    # Python on every hit.
    asked: Asked = (type_filter.types, astuple(thresholds))
    resolutions = index.caches.dictionary_hits
    resolved = partial(_resolution_of, type_filter, thresholds)
    mentions = []
    for number, hit in enumerate(dictionary_hits(index, spotted)):
        if not number % HITS_BETWEEN_CHECKS:
            deadline.check()
        resolution = resolutions.remembered((asked, hit.segment, hit.forms, hit.text), resolved)
        if resolution is not None:
            mentions.append(Mention(Span(hit.start, hit.end), hit.text, resolution, EXACT))
    return mentions


def _resolution_of(
    type_filter: TypeFilter, thresholds: Thresholds, key: HitKey
) -> Resolution | None:
    """The resolution of the forms spotted in ``key`` among the entities of the
    types asked for."""
    _, segment, forms, written = key
    candidates = type_filter.best_per_entity(segment.postings_of(forms), 1.0, Method.EXACT)
    return decided(written, candidates, thresholds) if candidates else None


def without_common_words(spotted: SpottedText, mentions: list[Mention]) -> list[Mention]:
    """The mentions but the words that begin a sentence and that the text also
    writes in lower case: its writer holds them common words ("But" is not
    Buta when the text says "but" too)."""
    doubtful = {
        mention.span.start: mention.words[0]
        for mention in mentions
        if mention.text[:1].isupper()
        and mention.text[1:].islower()  # "But", not "US" or "ISLAMABAD"
        and len(mention.words) == 1
        and sentence_initial(spotted.text, mention.span.start)
    }
    if not doubtful:
        return mentions
    common = written_in_lower_case(spotted, set(doubtful.values()))
    return [m for m in mentions if doubtful.get(m.span.start) not in common]
