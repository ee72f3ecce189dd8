"""Find, resolve and locate every entity mention in a text.

Three passes over one text:

1. **Dictionary**: the curated names and aliases, as whole words in a case
   that fits them (``spotting``), but for a capitalised word that begins a
   sentence and that the text writes in lower case elsewhere: a common word
   to its writer ("But" is not Buta). Method ``exact``.
2. **Variants**: runs of capitalised words (with the connectors of names
   between them: Tehreek-*i*-Taliban, Ministry *of* Foreign Affairs) that the
   dictionary did not explain are resolved by the matching layers
   (``resolve``); a run the resolver matches to one entity becomes a mention,
   replacing dictionary mentions inside it that name other entities (the
   "Taliban" and "Pakistan" inside "Tahreek-e-Taliban Pakistan"). Only
   capitalised runs are tried, so common words are never near-missed, and a
   text offers thousands of runs where a query is one, so a run needs more
   evidence than ``/resolve`` asks: a single word only the layers that keep
   its spelling (structural, transliteration) and spelt like the form, and
   none when it begins a sentence ("According", "These"); several words, by
   sound or fuzzily, ``MIN_SOUND_ALIKE_SCORE_IN_TEXT``. A run with a word
   longer than any name (``MAX_NAME_WORD_CHARS``) is not tried, so the work
   stays linear. A run that two dictionary mentions or more explain is taken
   whole only when it composes another entity's name (IS-Pakistan:
   ``composition``).
3. **Document**: a text establishes the entities it names in two words or
   more. A one-word mention takes an established entity of its own type that
   its word belongs to when its own reading is not established (a bare
   "Daesh" after "Daesh-Khorasan"; acronyms, being specific, keep theirs);
   an ambiguous mention with one established candidate takes it; a surname
   alone takes the established person whose name it ends ("Mr Asif" after
   "Khawaja Asif"). Method ``document``. Without such evidence an ambiguous
   mention stays ambiguous.
"""

import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator
from dataclasses import replace
from functools import lru_cache
from itertools import compress
from typing import NamedTuple

import jellyfish

from app.matching.budget import NO_DEADLINE, Deadline
from app.matching.casing import CALENDAR_WORDS, MONTHS, CaseRule, case_rule
from app.matching.index import AliasIndex, EntityRecord
from app.matching.keys import CONNECTORS
from app.matching.normalize import normalize
from app.matching.resolve import (
    DEFAULT_THRESHOLDS,
    Candidate,
    Method,
    Resolution,
    Status,
    Thresholds,
    TypeFilter,
    decide,
    layered_candidates,
)
from app.matching.spot_form import case_mask
from app.matching.spotting import Span, SpottedText, dictionary_hits, prepare, sentence_initial
from app.matching.structure import without_titles

# Lower-case words that may stand inside a name between capitalised words.
NAME_CONNECTORS = CONNECTORS | {"of", "the", "and", "for", "de", "bin", "ibn", "i", "e"}
MAX_RUN_WORDS = 8
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
MAX_REMEMBERED_RUNS = 100_000
# Up to this many distinct words that begin sentences are looked for one by one
# in the rest of the text; more, among all its lower-case words.
MAX_WORDS_LOOKED_FOR = 16
MAX_REMEMBERED_OPTIONS = 64  # types filters and thresholds, each with its memo
# The dictionary pass checks its deadline once per this many hits: a hit costs
# microseconds, a run of the variant pass (checked each time) up to milliseconds.
HITS_BETWEEN_CHECKS = 1024
EXACT = Method.EXACT.value
COMPOSITIONAL = Method.COMPOSITIONAL.value
DOCUMENT = "document"
PERSON_TYPE = "person"  # the type whose entities are met by their surname alone
# Month names as dates abbreviate them.
DATE_WORDS = CALENDAR_WORDS | {month[:3] for month in MONTHS} | {"sept"}
_WORD = re.compile(r"\S+")
_SENTENCE_END = re.compile(r"[.!?]\s+")
_FIRST_WORD = re.compile(r"\S+\s+")
# In " " + a case mask: a word that begins with a capital or a digit, at the
# index of its first character in the mask. A literal first is found fast.
_NAME_WORD_START = re.compile(" [A0]")
_LAST_WORD = re.compile(r"[^\W_]+$")
_BREAK = re.compile(r"[^\w\s\-‐‑‒–—.'’ʼ]|\n")
_AND = re.compile(r"\s+and\s+")


class Mention(NamedTuple):
    span: Span
    text: str
    resolution: Resolution
    method: str  # the layer that found it, or "document"

    @property
    def words(self) -> tuple[str, ...]:
        """The words of its normal form."""
        return _normal_words(self.text)


@lru_cache(maxsize=65536)
def _normal_words(text: str) -> tuple[str, ...]:
    return tuple(normalize(text).split())


@lru_cache(maxsize=65536)
def _name_words(text: str) -> tuple[str, ...]:
    """Its normal words after leading articles and titles: "Mr Asif" has one."""
    normal = normalize(text)
    return tuple((without_titles(normal) or [normal])[-1].split())


class Annotation(NamedTuple):
    """The mentions found in a text, and what is needed to tell the names it left unknown."""

    mentions: list[Mention]
    spotted: SpottedText
    runs: list[Span]  # the capitalised runs that no entity matched as a whole

    def unresolved(self) -> list[str]:
        """The capitalised names of the text that no entity answers to, as written.

        Worked out only when asked, so that annotating costs nothing more. A
        run is cut where a sentence ends inside it; a part with a mention in
        it is left out, and so are dates. A word that begins a sentence may
        be capitalised only by it: alone it is left out ("According"), and
        before a name it is cut off when the text also writes it in lower
        case ("Then Zabihullah Mujahid").
        """
        text, starts = self.spotted.text, [m.span.start for m in self.mentions]
        names = []
        for run in self.runs:
            for number, part in enumerate(_sentences(text, run)):
                initial = number > 0 or sentence_initial(text, part.start)
                if not self._mentioned(starts, part) and (name := _name_in(text, part, initial)):
                    names.append(name)
        # Looked for all at once: the work stays linear in the text.
        common = _written_in_lower_case(self.spotted, {first for _, first in names if first})
        return [
            text[_after_first_word(text, part) if first in common else part.start : part.end]
            for part, first in names
        ]

    def _mentioned(self, starts: list[int], part: Span) -> bool:
        """Whether a mention lies within the part (runs and mentions do not cross)."""
        first = bisect_left(starts, part.start)
        return first < len(starts) and self.mentions[first].span.end <= part.end


def _sentences(text: str, run: Span) -> list[Span]:
    """A run cut where a sentence ends inside it ("Monday. Zabihullah Mujahid"),
    without the stops that end sentences ("Kunar."), but those of initials
    ("U.S. Army")."""
    parts, start, end = [], run.start, run.end
    for stop in _SENTENCE_END.finditer(text, run.start, run.end):
        if _ends_sentence(text, stop.start()):
            parts.append(Span(start, stop.start()))
            start = stop.end()
    if text[end - 1] in ".!?" and _ends_sentence(text, end - 1):
        end -= 1
    return [*parts, Span(start, end)] if start < end else parts


def _name_in(text: str, part: Span, initial: bool) -> tuple[Span, str | None] | None:
    """The part of a run as a name, with the normal form of its first word if
    only the sentence may have capitalised it; None for a date or a lone word
    that begins a sentence ("According")."""
    words = _normal_words(text[part.start : part.end])
    if all(map(_in_dates, words[1:] if initial else words)):
        return None
    first = _normal_words(text[part.start : _after_first_word(text, part)])
    return part, first[0] if initial and len(first) == 1 else None


def _after_first_word(text: str, part: Span) -> int:
    first = _FIRST_WORD.match(text, part.start, part.end)
    return part.start if first is None else first.end()


def _ends_sentence(text: str, stop: int) -> bool:
    before = text[stop - 1 : stop]
    return before.islower() or before.isdigit()


def _in_dates(word: str) -> bool:
    """Whether a word is one of a date's ("March", "Feb", "8th", "2023")."""
    return word in DATE_WORDS or any(map(str.isdigit, word))


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
    pick = TypeFilter(index, types)
    mentions = _without_common_words(
        spotted, _dictionary_mentions(index, spotted, pick, thresholds, deadline)
    )
    mentions, unmatched, unexplained = _with_variants(
        index, spotted, mentions, pick, thresholds, deadline
    )
    listed = _in_document_context(index, spotted, mentions, unexplained, pick)
    return Annotation(listed, spotted, unmatched)


def _without_common_words(spotted: SpottedText, mentions: list[Mention]) -> list[Mention]:
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
    common = _written_in_lower_case(spotted, set(doubtful.values()))
    return [m for m in mentions if doubtful.get(m.span.start) not in common]


def _written_in_lower_case(spotted: SpottedText, words: set[str]) -> set[str]:
    """Those of ``words`` (normal forms) that the text writes in lower case somewhere.

    A few words are looked for one by one; more, among all the text's
    lower-case words: either way the work is linear in the text.
    """
    if len(words) > MAX_WORDS_LOOKED_FOR:
        mask = case_mask(spotted.text, spotted.spot, spotted.offsets)
        lower = compress(spotted.spot.split(" "), [w[:1] == "a" for w in mask.split(" ")])
        return words.intersection(lower)
    return {word for word in words if _lower_case_occurrence(spotted, word)}


def _lower_case_occurrence(spotted: SpottedText, word: str) -> bool:
    padded, key = spotted.padded + " ", f" {word} "
    at = padded.find(key)
    while at >= 0:
        # The word is spot[at:]: the text's character there tells its case.
        if spotted.text[spotted.offsets(at)].islower():
            return True
        at = padded.find(key, at + len(word))
    return False


def dictionary_mentions(
    index: AliasIndex,
    text: str,
    *,
    types: Iterable[str] | None = None,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
) -> list[Mention]:
    """The first pass alone: the curated forms as written in ``text``."""
    return _dictionary_mentions(
        index, prepare(text), TypeFilter(index, types), thresholds, NO_DEADLINE
    )


def _dictionary_mentions(
    index: AliasIndex,
    spotted: SpottedText,
    pick: TypeFilter,
    thresholds: Thresholds,
    deadline: Deadline,
) -> list[Mention]:
    # The same names come back, written the same way, in text after text:
    # their resolutions are kept with the snapshot, up to a bound, for each
    # types filter and thresholds asked for.
    memos = index.memo(
        "annotate-hits", dict[tuple[object, ...], dict[tuple[object, ...], Resolution | None]]
    )
    if len(memos) >= MAX_REMEMBERED_OPTIONS:
        memos.clear()
    memo = memos.setdefault((pick.types, thresholds), {})
    mentions = []
    for number, hit in enumerate(dictionary_hits(index, spotted)):
        if not number % HITS_BETWEEN_CHECKS:
            deadline.check()
        key = (hit.segment, hit.forms, hit.text)
        try:
            resolution = memo[key]
        except KeyError:
            if len(memo) >= MAX_REMEMBERED_RUNS:
                memo.clear()
            candidates = pick.best_per_entity(hit.postings(), 1.0, Method.EXACT)
            resolution = _resolution(hit.text, candidates, thresholds) if candidates else None
            memo[key] = resolution
        if resolution is not None:
            mentions.append(Mention(Span(hit.start, hit.end), hit.text, resolution, EXACT))
    return mentions


def _resolution(written: str, candidates: list[Candidate], thresholds: Thresholds) -> Resolution:
    return Resolution(written, decide(candidates, thresholds), tuple(candidates))


def _mention(
    spotted: SpottedText,
    span: Span,
    candidates: list[Candidate],
    thresholds: Thresholds,
    method: str,
) -> Mention:
    written = spotted.text[span.start : span.end]
    return Mention(span, written, _resolution(written, candidates, thresholds), method)


# --- variants -------------------------------------------------------------------------


def _with_variants(
    index: AliasIndex,
    spotted: SpottedText,
    mentions: list[Mention],
    pick: TypeFilter,
    thresholds: Thresholds,
    deadline: Deadline,
) -> tuple[list[Mention], list[Span], list[Span]]:
    """The mentions with the variants added, the runs no entity matched as a
    whole, and those of them that nothing explained."""
    found = list(mentions)  # in text order, not overlapping: sorted by start and by end
    starts = [m.span.start for m in found]
    unmatched, unexplained = [], []
    for run in _split_coordinations(index, spotted, _capitalised_runs(spotted), pick, thresholds):
        deadline.check()
        first, last = bisect_left(starts, run.start), bisect_left(starts, run.end)
        inside = found[first:last]
        if (first and found[first - 1].span.end > run.start) or (
            inside and inside[-1].span.end > run.end
        ):
            continue  # a mention reaches across the run's edge
        explained = _explained(run, inside)
        if explained and len(inside) < 2:
            continue
        mention = _resolved_run(index, spotted, run, pick, thresholds)
        if explained and (mention is None or mention.method != COMPOSITIONAL):
            continue  # the dictionary's mentions explain it, unless they compose one name
        if mention is None or mention.resolution.status is not Status.MATCHED:
            unmatched.append(run)
            if not inside:
                unexplained.append(run)
            continue
        mention = _tightened(index, spotted, mention, pick, thresholds)
        entity = mention.resolution.candidates[0].entity.id
        if any(_entity_of(m) == entity for m in inside):
            continue  # the dictionary found it already, with a tighter span
        kept = [m for m in inside if m.span.end <= mention.span.start]  # before the name
        found[first:last] = [*kept, mention]
        starts[first:last] = [m.span.start for m in found[first : first + len(kept) + 1]]
    return found, unmatched, unexplained


def _resolved_run(
    index: AliasIndex, spotted: SpottedText, run: Span, pick: TypeFilter, thresholds: Thresholds
) -> Mention | None:
    written = spotted.text[run.start : run.end]
    if max(map(len, written.split()), default=0) > MAX_NAME_WORD_CHARS:
        return None
    one_word = len(_name_words(written)) == 1
    if one_word and sentence_initial(spotted.text, run.start):
        return None  # capitalised perhaps only by its sentence: "According", "These"
    candidates = [c for c in _run_candidates(index, written, pick) if c.score >= thresholds.floor]
    if not candidates or not _credible(written, candidates[0], one_word, thresholds):
        return None
    return _mention(spotted, run, candidates, thresholds, candidates[0].method.value)


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
    similarity = jellyfish.jaro_winkler_similarity(normalize(written), normalize(alias))
    return similarity >= MIN_ONE_WORD_SPELLING


def _run_candidates(index: AliasIndex, written: str, pick: TypeFilter) -> list[Candidate]:
    # The same runs come back in text after text ("The", "Pakistan", "Mr"):
    # their resolutions are kept with the snapshot, up to a bound.
    memo = index.memo("annotate-runs", dict[tuple[str, frozenset[str] | None], list[Candidate]])
    key = (written, pick.types)
    found = memo.get(key)
    if found is None:
        if len(memo) >= MAX_REMEMBERED_RUNS:
            memo.clear()
        found = memo[key] = layered_candidates(index, written, pick)
    return found


def _tightened(
    index: AliasIndex,
    spotted: SpottedText,
    mention: Mention,
    pick: TypeFilter,
    thresholds: Thresholds,
) -> Mention:
    """The mention without leading words it does not need: "Ambassador", "The"."""
    entity, run = mention.resolution.entity, mention.span
    for word in list(_WORD.finditer(mention.text))[1:]:
        shorter = _resolved_run(
            index, spotted, Span(run.start + word.start(), run.end), pick, thresholds
        )
        if shorter is None or shorter.resolution.entity != entity:
            break
        mention = shorter
    return mention


def _split_coordinations(
    index: AliasIndex,
    spotted: SpottedText,
    runs: Iterable[Span],
    pick: TypeFilter,
    thresholds: Thresholds,
) -> Iterator[Span]:
    """Each run, or its parts around "and" when the whole is no name."""
    for run in runs:
        parts = list(_AND.finditer(spotted.text, run.start, run.end))
        whole = _resolved_run(index, spotted, run, pick, thresholds) if parts else None
        if not parts or (whole is not None and whole.resolution.status is Status.MATCHED):
            yield run
            continue
        start = run.start
        for part in parts:
            yield Span(start, part.start())
            start = part.end()
        yield Span(start, run.end)


def _capitalised_runs(spotted: SpottedText) -> Iterator[Span]:
    """Runs of capitalised words, connectors allowed inside: candidate names.

    Punctuation other than the marks inside names (hyphens, dashes, dots,
    apostrophes) ends a run, as does the end of a line. Only the words that
    begin with a capital or a digit are visited, found in the case mask; what
    lies between two of them either joins them (a space, or one connector) or
    ends the run.
    """
    text, spot = spotted.text, spotted.spot
    mask = case_mask(text, spot, spotted.offsets)
    cuts, shifts = spotted.offsets.cuts, spotted.offsets.shifts
    first = last = -1  # the run's first and last word, as offsets into the text
    words = 0  # in the run, its connectors included
    spot_end = 0  # where the run's last word ends in the spot form
    for match in _NAME_WORD_START.finditer(" " + mask):
        start = match.start()
        capital = mask[start] == "A"
        if not words and not capital:
            continue  # a digit starts no run
        end = spot.find(" ", start)
        end = len(spot) if end < 0 else end
        # OffsetMap, inline: the word is text[word_start:word_end].
        word_start = start + shifts[bisect_right(cuts, start)]
        word_end = end + shifts[bisect_right(cuts, end - 1)]
        if words:
            between = spot[spot_end + 1 : start - 1]  # the words in between, if any
            if (between and between not in NAME_CONNECTORS) or _BREAK.search(
                text, last, word_start
            ):
                yield Span(first, last)
                words = 0
                if not capital:
                    continue
            elif between:  # one connector, kept inside the run
                words += 1
        if not words:
            first = word_start
        last, spot_end = word_end, end
        words += 1
        if words >= MAX_RUN_WORDS:
            yield Span(first, last)
            first, words = word_start, 1
    if words:
        yield Span(first, last)


def _explained(run: Span, inside: list[Mention]) -> bool:
    """Whether dictionary mentions cover every letter of the run."""
    covered = sum(m.span.end - m.span.start for m in inside)
    return covered > 0 and covered >= (run.end - run.start) - len(inside) * 2


# --- the document ---------------------------------------------------------------------


def _entity_of(mention: Mention) -> str | None:
    entity = mention.resolution.entity
    return entity.id if entity else None


def _in_document_context(
    index: AliasIndex,
    spotted: SpottedText,
    mentions: list[Mention],
    unexplained: list[Span],
    pick: TypeFilter,
) -> list[Mention]:
    established = {
        entity.id: entity
        for mention in mentions
        if len(mention.words) >= 2 and (entity := mention.resolution.entity) is not None
    }
    holders = _holders_by_word(index, established, pick)
    in_context = [_in_context(m, established, holders) for m in mentions]
    surnames = _surnames(spotted, unexplained, established)
    listed = [m for m in in_context + surnames if m.resolution.status is not Status.UNMATCHED]
    return sorted(listed, key=lambda m: m.span.start)


def _in_context(
    mention: Mention,
    established: dict[str, EntityRecord],
    holders: dict[str, list[EntityRecord]],
) -> Mention:
    status = mention.resolution.status
    if status is Status.AMBIGUOUS:
        known = [c for c in mention.resolution.candidates if c.entity.id in established]
        return _retold(mention, known) if len(known) == 1 else mention
    own = mention.resolution.candidates[0]
    if len(mention.words) != 1 or own.entity.id in established or _is_acronym(own.matched_alias):
        return mention
    # A branch holds its parent's name (Daesh-Khorasan); a government holds its
    # country's (Islamic Emirate of Afghanistan) and is another kind of thing.
    held = [e for e in holders.get(mention.words[0], ()) if e.type == own.entity.type]
    if len(held) == 1:
        return _retold(mention, [replace(own, entity=held[0])])
    return mention


@lru_cache(maxsize=65536)
def _is_acronym(alias: str) -> bool:
    # IS beside ISIS-K is the parent, named on purpose: acronyms are specific.
    return case_rule(alias) is CaseRule.EXACT


def _holders_by_word(
    index: AliasIndex, established: dict[str, EntityRecord], pick: TypeFilter
) -> dict[str, list[EntityRecord]]:
    """Each word of the established entities' forms, with the entities that have it.

    Made once per text, so that a one-word mention looks its holders up
    instead of reading every established entity's forms: linear work.
    """
    holders: dict[str, list[EntityRecord]] = {}
    for entity in established.values():
        if pick.entity(entity.id) is not None:
            for word in _form_words(index, entity):
                holders.setdefault(word, []).append(entity)
    return holders


def _form_words(index: AliasIndex, entity: EntityRecord) -> frozenset[str]:
    """The words of the entity's forms, in their normal form."""
    memo = index.memo("form-words", dict[str, frozenset[str]])
    words = memo.get(entity.id)
    if words is None:
        if len(memo) >= MAX_REMEMBERED_RUNS:
            memo.clear()
        words = memo[entity.id] = frozenset(
            word for form in entity.surface_forms() for word in normalize(form).split()
        )
    return words


def _retold(mention: Mention, candidates: list[Candidate]) -> Mention:
    resolution = Resolution(mention.resolution.query, Status.MATCHED, tuple(candidates))
    return Mention(mention.span, mention.text, resolution, DOCUMENT)


def _surnames(
    spotted: SpottedText, runs: list[Span], established: dict[str, EntityRecord]
) -> list[Mention]:
    """Lone surnames of people the text named in full: "Mr Asif" after "Khawaja Asif"."""
    people: dict[str, list[EntityRecord]] = {}
    for entity in established.values():
        if entity.type.casefold() == PERSON_TYPE:
            people.setdefault(normalize(entity.name).split()[-1], []).append(entity)
    found = []
    for run in runs:
        written = spotted.text[run.start : run.end]
        words = _name_words(written)
        named = people.get(words[-1], []) if len(words) == 1 else []
        if len(named) == 1 and (last := _LAST_WORD.search(written)) is not None:
            span = Span(run.start + last.start(), run.end)
            surname = spotted.text[span.start : span.end]
            candidate = Candidate(named[0], 1.0, named[0].name, Method.EXACT)
            resolution = Resolution(surname, Status.MATCHED, (candidate,))
            found.append(Mention(span, surname, resolution, DOCUMENT))
    return found
