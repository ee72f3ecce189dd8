"""Find, resolve and locate every entity mention in a text.

Three passes over one text, a module each under ``annotation``:

1. **Dictionary** (``annotation.dictionary``): the curated names and aliases,
   as whole words in a case that fits them, but for the common words of the
   text's writer ("But" is not Buta). Method ``exact``.
2. **Variants** (``annotation.variants``): runs of capitalised words
   (``annotation.runs``) that the dictionary did not explain, resolved by the
   matching layers, with more evidence asked than ``/resolve`` asks, since a
   text offers thousands of runs where a query is one. A run matched to one
   entity replaces the dictionary mentions inside it that name others.
3. **Document** (``annotation.document``): the entities a text names in two
   words or more settle its one-word, ambiguous and surname-only mentions.
   Method ``document``. Without such evidence an ambiguous mention stays
   ambiguous.

The capitalised runs that no entity matched are kept, so that the names the
text holds and the table lacks can be told when asked
(``annotation.unresolved``).
"""

from collections.abc import Iterable
from typing import NamedTuple

from app.matching.annotation.dictionary import (
    dictionary_mentions,
    spotted_mentions,
    without_common_words,
)
from app.matching.annotation.document import in_document_context
from app.matching.annotation.mentions import Mention
from app.matching.annotation.unresolved import unresolved_names
from app.matching.annotation.variants import with_variants
from app.matching.budget import NO_DEADLINE, Deadline
from app.matching.index import AliasIndex
from app.matching.resolve import DEFAULT_THRESHOLDS, Thresholds, TypeFilter
from app.matching.spotting import Span, SpottedText, prepare

__all__ = ["Annotation", "Mention", "annotate", "annotation", "dictionary_mentions"]


class Annotation(NamedTuple):
    """The mentions found in a text, and what is needed to tell the names it left unknown."""

    mentions: list[Mention]
    spotted: SpottedText
    runs: list[Span]  # the capitalised runs that no entity matched as a whole

    def unresolved(self) -> list[str]:
        """The capitalised names of the text that no entity answers to, as written."""
        return unresolved_names(self.spotted, self.mentions, self.runs)


def annotate(
    index: AliasIndex,
    text: str,
    *,
    types: Iterable[str] | None = None,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
    deadline: Deadline = NO_DEADLINE,
) -> list[Mention]:
    """Every matched or ambiguous mention in ``text``, in order, none overlapping.

    Raises ``budget.WorkStopped`` when ``deadline`` says to stop.
    """
    return annotation(index, text, types=types, thresholds=thresholds, deadline=deadline).mentions


def annotation(
    index: AliasIndex,
    text: str,
    *,
    types: Iterable[str] | None = None,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
    deadline: Deadline = NO_DEADLINE,
) -> Annotation:
    """``annotate``, with the capitalised names it found no entity for."""
    spotted = prepare(text)
    type_filter = TypeFilter(index, types)
    spotted_names = spotted_mentions(index, spotted, type_filter, thresholds, deadline)
    dictionary = without_common_words(spotted, spotted_names)
    variants = with_variants(index, spotted, dictionary, type_filter, thresholds, deadline)
    mentions = in_document_context(
        index, spotted, variants.mentions, variants.unexplained, type_filter
    )
    return Annotation(mentions, spotted, variants.unmatched)
