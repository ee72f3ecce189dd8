"""What the annotation passes share: a mention, and the words of a written name."""

from typing import NamedTuple

from app.matching.caches import LONGEST_REMEMBERED_NAME, short_texts_remembered
from app.matching.normalize import normalize
from app.matching.resolve import Candidate, Method, Resolution, Thresholds, decide
from app.matching.spotting import Span, SpottedText
from app.matching.structure import without_titles

EXACT = Method.EXACT.value
COMPOSITIONAL = Method.COMPOSITIONAL.value
DOCUMENT = "document"


class Mention(NamedTuple):
    """A name found at ``span`` of a text, as written there, and what it resolves to."""

    span: Span
    text: str
    resolution: Resolution
    method: str  # the layer that found it, or "document"

    @property
    def words(self) -> tuple[str, ...]:
        """The words of its normal form."""
        return normal_words(self.text)


@short_texts_remembered(LONGEST_REMEMBERED_NAME)
def normal_words(text: str) -> tuple[str, ...]:
    """The words of the normal form of ``text``: a name's words as the passes compare them."""
    return tuple(normalize(text).split())


@short_texts_remembered(LONGEST_REMEMBERED_NAME)
def name_words(text: str) -> tuple[str, ...]:
    """Its normal words after leading articles and titles: "Mr Asif" has one."""
    normal = normalize(text)
    return tuple((without_titles(normal) or [normal])[-1].split())


def entity_of(mention: Mention) -> str | None:
    """The id of the entity the mention names, or None unless it is matched."""
    entity = mention.resolution.entity
    return entity.id if entity else None


def decided(written: str, candidates: list[Candidate], thresholds: Thresholds) -> Resolution:
    """The resolution of a name written so, once its candidates are known."""
    return Resolution(written, decide(candidates, thresholds), tuple(candidates))


def decided_mention(
    spotted: SpottedText,
    span: Span,
    candidates: list[Candidate],
    thresholds: Thresholds,
    method: str,
) -> Mention:
    """The mention of what ``span`` of the text names, found by ``method``."""
    written = spotted.text[span.start : span.end]
    return Mention(span, written, decided(written, candidates, thresholds), method)
