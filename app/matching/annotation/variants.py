"""The variant pass: capitalised runs resolved by the matching layers.

Runs of capitalised words (``runs``) that the dictionary did not explain are
resolved by the matching layers (``resolve``); a run the resolver matches to
one entity becomes a mention, replacing dictionary mentions inside it that
name other entities (the "Taliban" and "Pakistan" inside "Tahreek-e-Taliban
Pakistan"). Only capitalised runs are tried, so common words are never
near-missed, and a text offers thousands of runs where a query is one, so a
run needs more evidence than ``/resolve`` asks: a single word only the layers
that keep its spelling (structural, transliteration) and spelt like the form,
and none when it begins a sentence ("According", "These"); several words, by
sound or fuzzily, ``MIN_SOUND_ALIKE_SCORE_IN_TEXT``. A run with a word longer
than any name (``MAX_NAME_WORD_CHARS``) is not tried, so the work stays
linear. A run that two dictionary mentions or more explain is taken whole
only when it composes another entity's name (IS-Pakistan: ``composition``).
"""

import re
from bisect import bisect_left
from functools import partial
from typing import NamedTuple, TypeGuard

import jellyfish

from app.matching.annotation.mentions import (
    COMPOSITIONAL,
    Mention,
    decided_mention,
    entity_of,
    name_words,
)
from app.matching.annotation.runs import capitalised_runs, split_coordinations
from app.matching.budget import Deadline
from app.matching.index import AliasIndex
from app.matching.normalize import normalize
from app.matching.resolve import (
    Candidate,
    Method,
    Status,
    Thresholds,
    TypeFilter,
    layered_candidates,
)
from app.matching.spotting import Span, SpottedText, sentence_initial

# A word longer than any name: its run does not go through the variant layers,
# whose keys of a word cost the square of its length.
MAX_NAME_WORD_CHARS = 64
# What a find by sound or fuzzy matching needs in running text, above
# /resolve's threshold (0.85): a text offers thousands of runs, a query one.
MIN_SOUND_ALIKE_SCORE_IN_TEXT = 0.9
SOUND_ALIKE = frozenset({Method.PHONETIC, Method.FUZZY})
# The layers that keep a word's spelling: the only ones a single word may be found
# by, and only spelt this alike (Jaro-Winkler; Balochistaan is 0.98 alike).
SPELLING_LAYERS = frozenset({Method.STRUCTURAL, Method.TRANSLITERATION})
MIN_ONE_WORD_SPELLING = 0.85
_WORD = re.compile(r"\S+")


class WithVariants(NamedTuple):
    """The mentions with the variants added, and the runs the pass left over."""

    mentions: list[Mention]
    unmatched: list[Span]  # the runs that no entity matched as a whole
    unexplained: list[Span]  # those of them with no mention inside either


def with_variants(
    index: AliasIndex,
    spotted: SpottedText,
    mentions: list[Mention],
    type_filter: TypeFilter,
    thresholds: Thresholds,
    deadline: Deadline,
) -> WithVariants:
    """The dictionary's mentions with the variants the capitalised runs name."""
    found = list(mentions)  # in text order, not overlapping: sorted by start and by end
    starts = [m.span.start for m in found]
    unmatched, unexplained = [], []
    is_name = partial(
        _matched_whole, index, spotted, type_filter=type_filter, thresholds=thresholds
    )
    for run in split_coordinations(spotted, capitalised_runs(spotted), is_name):
        deadline.check()
        first, last = bisect_left(starts, run.start), bisect_left(starts, run.end)
        inside = found[first:last]
        if (first and found[first - 1].span.end > run.start) or (
            inside and inside[-1].span.end > run.end
        ):
            continue  # a mention reaches across the run's edge
        explained = _covered_by(run, inside)
        if explained and len(inside) < 2:
            continue
        mention = resolved_run(index, spotted, run, type_filter, thresholds)
        if explained and (mention is None or mention.method != COMPOSITIONAL):
            continue  # the dictionary's mentions explain it, unless they compose one name
        if not _is_match(mention):
            unmatched.append(run)
            if not inside:
                unexplained.append(run)
            continue
        mention = _tightened(index, spotted, mention, type_filter, thresholds)
        entity = mention.resolution.candidates[0].entity.id
        if any(entity_of(m) == entity for m in inside):
            continue  # the dictionary found it already, with a tighter span
        kept = [m for m in inside if m.span.end <= mention.span.start]  # before the name
        found[first:last] = [*kept, mention]
        starts[first:last] = [m.span.start for m in found[first : first + len(kept) + 1]]
    return WithVariants(found, unmatched, unexplained)


def _matched_whole(
    index: AliasIndex,
    spotted: SpottedText,
    run: Span,
    type_filter: TypeFilter,
    thresholds: Thresholds,
) -> bool:
    """Whether the run, as a whole, names one entity: then it is not cut at "and"."""
    return _is_match(resolved_run(index, spotted, run, type_filter, thresholds))


def _is_match(mention: Mention | None) -> TypeGuard[Mention]:
    """Whether a run was resolved, and to one entity."""
    return mention is not None and mention.resolution.status is Status.MATCHED


def resolved_run(
    index: AliasIndex,
    spotted: SpottedText,
    run: Span,
    type_filter: TypeFilter,
    thresholds: Thresholds,
) -> Mention | None:
    """The run as a mention, when the layers find it with evidence enough for running text."""
    written = spotted.text[run.start : run.end]
    if max(map(len, written.split()), default=0) > MAX_NAME_WORD_CHARS:
        return None
    one_word = len(name_words(written)) == 1
    if one_word and sentence_initial(spotted.text, run.start):
        return None  # capitalised perhaps only by its sentence: "According", "These"
    candidates = [
        c for c in _run_candidates(index, written, type_filter) if c.score >= thresholds.floor
    ]
    if not candidates or not _credible(written, candidates[0], one_word, thresholds):
        return None
    return decided_mention(spotted, run, candidates, thresholds, candidates[0].method.value)


def _credible(written: str, best: Candidate, one_word: bool, thresholds: Thresholds) -> bool:
    """Whether the best find of a run is evidence enough in running text."""
    if best.method is Method.EXACT:
        # Exact forms were the dictionary's to find, case rule included: a
        # sentence-initial "Let" is not LeT.
        return False
    if one_word:
        # "Threats" is not Tartus by sound, nor the "Asif" of "Mr Asif" the
        # town of Safi fuzzily: one word is found only as it is spelt, and
        # not through another script ("Start" is not स्टुआर्ट, Stuart).
        return best.method in SPELLING_LAYERS and _spelt_alike(written, best.matched_alias)
    if best.method in SOUND_ALIKE:
        return best.score >= max(thresholds.match, MIN_SOUND_ALIKE_SCORE_IN_TEXT)
    return True


def _spelt_alike(written: str, alias: str) -> bool:
    """Whether a one-word run is spelt close enough to the alias it was found by."""
    similarity = jellyfish.jaro_winkler_similarity(normalize(written), normalize(alias))
    return similarity >= MIN_ONE_WORD_SPELLING


def _run_candidates(index: AliasIndex, written: str, type_filter: TypeFilter) -> list[Candidate]:
    """What every matching layer finds for the run as written, of the types asked for."""
    # The same runs come back in text after text ("The", "Pakistan", "Mr"):
    # their candidates are kept with the snapshot (``SnapshotCaches``).
    return index.caches.runs.remembered(
        (written, type_filter.types), lambda _: layered_candidates(index, written, type_filter)
    )


def _tightened(
    index: AliasIndex,
    spotted: SpottedText,
    mention: Mention,
    type_filter: TypeFilter,
    thresholds: Thresholds,
) -> Mention:
    """The mention without leading words it does not need: "Ambassador", "The"."""
    entity, run = mention.resolution.entity, mention.span
    for word in list(_WORD.finditer(mention.text))[1:]:
        shorter = resolved_run(
            index, spotted, Span(run.start + word.start(), run.end), type_filter, thresholds
        )
        if shorter is None or shorter.resolution.entity != entity:
            break
        mention = shorter
    return mention


def _covered_by(run: Span, inside: list[Mention]) -> bool:
    """Whether dictionary mentions cover every letter of the run."""
    covered = sum(m.span.end - m.span.start for m in inside)
    return covered > 0 and covered >= (run.end - run.start) - len(inside) * 2
