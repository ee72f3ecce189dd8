"""Compositional aliases: a known form with one part written as another name of what it names.

Islamic State is also IS, ISIS and Daesh; the Khorasan branch is curated as
``Islamic State-Khorasan``. So ``IS-Khorasan`` and ``Daesh-Khorasan`` name the
branch too, and no editor should have to write every such combination down.

For a mention of two words or more, every proper word span (longest first)
that is a curated form of exactly one entity P, by its normal form or run
together (``I.S.``), is a *part*. The part is exchanged for each other form of
P that no other entity shares, and the mention so rewritten is looked up
whole: by its normal form, run together, or transliterated. A form of another
entity E found so is a compositional match of E, and says what was exchanged.

The precision comes from what is asked of both sides:

* the part and the form it is exchanged for are each a curated form of P
  alone: "Ministry of Foreign Affairs", shared by two ministries, exchanges
  nothing; the part is never the whole mention;
* a part that holds a shorter form of P is P qualified, and is not
  exchanged: read as "Taliban", the "Afghan Taliban" (or افغان طالبان) of a
  mention would find Tehreek-e-Taliban Pakistan, whose Taliban are not the
  Afghan ones;
* the form found is no acronym, whose letters are not names: the KP of
  IS-KP is Khorasan Province, not Khyber Pakhtunkhwa;
* the exchanged form stands in the form found as whole words, and the
  rewritten mention is a curated form as it is, with no further forgetting
  of spelling;
* a mention written in mixed case must write an acronym part as the acronym
  is written: "Is Khorasan", at the start of a question, holds the verb.

The work is bounded: mentions of at most MAX_WORDS words, MAX_FORMS_PER_PART
other forms per part, and at most MAX_EXCHANGES rewritten mentions in all.
A mention that would need more gets no compositional match at all, rather
than one decided on some of its exchanges only.
"""

import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from app.matching.casing import CaseRule, Written, case_rule, letters
from app.matching.index import AliasIndex, EntityRecord, Posting
from app.matching.keys import MIN_FOLDED_KEY, FormKeys, form_keys, transliterated_words
from app.matching.normalize import fold_char, normalize

if TYPE_CHECKING:
    from app.matching.resolve import Candidate

# Below exact (1.0) and structural (0.98): a curated form, reached through
# another curated name of what a part names. Approximate finds stand beside
# it, and one spelt closer than this to a curated form keeps that reading.
COMPOSITIONAL_SCORE = 0.93
MAX_WORDS = 12
MAX_FORMS_PER_PART = 16
MAX_EXCHANGES = 48


@dataclass(frozen=True, slots=True)
class Exchange:
    """One part of a mention read as another form of the entity it names."""

    part: str  # as written in the mention
    stood_for: str  # the curated form of the same entity that it was exchanged for
    entity_id: str  # the entity that both name


@dataclass(frozen=True, slots=True)
class ComposedPosting(Posting):
    """A form found once a part of the mention was exchanged."""

    exchange: Exchange


@dataclass(frozen=True, slots=True)
class ExchangeableForm:
    """A form that a part may be exchanged for."""

    text: str
    normal: str
    compact: str
    held: str  # its transliteration key between spaces: how it stands in a longer form


@dataclass(frozen=True, slots=True)
class _Part:
    start: int  # the span of words of the normal form
    end: int
    entity: EntityRecord


def composed(index: AliasIndex, query: str, keys: FormKeys) -> list[Posting]:
    """The forms of other entities that the mention is, with one part exchanged."""
    words = keys.exact.split()
    if not 2 <= len(words) <= MAX_WORDS:
        return []
    written = _WrittenWords(query, len(words))
    exchanges = [
        (part, form)
        for part in _parts(index, words, written)
        for form in _other_forms(index, part, "".join(words[part.start : part.end]))
    ]
    if len(exchanges) > MAX_EXCHANGES:
        return []
    found: list[Posting] = []
    for part, form in exchanges:
        rewritten = " ".join([*words[: part.start], form.normal, *words[part.end :]])
        exchange = Exchange(written.part(words, part.start, part.end), form.text, part.entity.id)
        found.extend(
            ComposedPosting(posting.entity_id, posting.text, exchange)
            for posting in _whole_form_finds(index, rewritten, form)
            # The letters of an acronym are no names: the KP of IS-KP is not Khyber Pakhtunkhwa.
            if posting.entity_id != part.entity.id and case_rule(posting.text) is not CaseRule.EXACT
        )
    return found


def with_exchanges(candidates: Iterable["Candidate"], found: list[Posting]) -> list["Candidate"]:
    """Each candidate of the compositional layer with the exchange that found its form."""
    exchanges = {
        (p.entity_id, p.text): p.exchange for p in reversed(found) if isinstance(p, ComposedPosting)
    }
    return [
        replace(c, exchanged=(exchange,))
        if (exchange := exchanges.get((c.entity.id, c.matched_alias)))
        else c
        for c in candidates
    ]


def _parts(index: AliasIndex, words: Sequence[str], written: "_WrittenWords") -> Iterator[_Part]:
    """The proper spans of the words that are a form of exactly one entity, longest first."""
    for length in range(len(words) - 1, 0, -1):
        for start in range(len(words) - length + 1):
            span = " ".join(words[start : start + length])
            postings = index.lookup("exact", span) or index.lookup("compact", span.replace(" ", ""))
            named = {p.entity_id for p in postings}
            if len(named) != 1:
                continue
            entity = index.entity(next(iter(named)))
            if entity is None:
                continue
            if length > 1 and _qualifies_another_form(index, words[start : start + length], entity):
                continue
            part = written.part(words, start, start + length)
            if written.case_matters and not _written_as_some(part, postings, entity):
                continue
            yield _Part(start, start + length, entity)


def _qualifies_another_form(index: AliasIndex, words: Sequence[str], entity: EntityRecord) -> bool:
    """Whether the words hold a shorter form of the same entity (the Taliban of Afghan Taliban)."""
    for length in range(len(words) - 1, 0, -1):
        for start in range(len(words) - length + 1):
            span = " ".join(words[start : start + length])
            if any(p.entity_id == entity.id for p in index.lookup("exact", span)):
                return True
    return False


def _written_as_some(part: str, postings: list[Posting], entity: EntityRecord) -> bool:
    """Whether ``part`` is written in a case that one of the forms it matched allows."""
    explicit = dict(entity.case_rules)
    text = Written(unicodedata.normalize("NFKC", part))  # ＩＳ is IS
    for posting in postings:
        rule = case_rule(posting.text, explicit.get(posting.text))
        # Only acronyms are held to their case: a name's capital is the text's to give.
        if rule is not CaseRule.EXACT or text.allows(rule, letters(posting.text)):
            return True
    return False


def _other_forms(index: AliasIndex, part: _Part, compact: str) -> list[ExchangeableForm]:
    """The part's entity's forms other than the part (``compact``, run together)."""
    forms = [f for f in _exchangeable(index, part.entity) if f.compact != compact]
    return forms[:MAX_FORMS_PER_PART]


def _exchangeable(index: AliasIndex, entity: EntityRecord) -> tuple[ExchangeableForm, ...]:
    """The entity's first forms that no other entity has, kept with the snapshot."""
    return index.caches.exchangeable_forms.remembered(
        entity.id, lambda _: _unshared_forms(index, entity)
    )


def _unshared_forms(index: AliasIndex, entity: EntityRecord) -> tuple[ExchangeableForm, ...]:
    forms: dict[str, ExchangeableForm] = {}
    for text in entity.surface_forms():
        normal = normalize(text)
        if not normal or normal in forms:
            continue
        if any(p.entity_id != entity.id for p in index.lookup("exact", normal)):
            continue  # shared: it names another entity as well
        held = f" {form_keys(normal).transliteration} "
        forms[normal] = ExchangeableForm(text, normal, normal.replace(" ", ""), held)
        if len(forms) > MAX_FORMS_PER_PART:  # one may be the part itself
            break
    return tuple(forms.values())


def _whole_form_finds(
    index: AliasIndex, rewritten: str, stood_for: ExchangeableForm
) -> list[Posting]:
    """The forms that are ``rewritten`` as it is, and hold ``stood_for`` as whole words."""
    found = index.lookup("exact", rewritten)
    if found:
        return found
    compact = rewritten.replace(" ", "")
    if len(compact) < MIN_FOLDED_KEY:
        return []
    # Run together or transliterated, word boundaries may move: the form must
    # still hold the exchanged form as whole words.
    transliteration = " ".join(transliterated_words(rewritten))
    found = index.lookup("compact", compact) or index.lookup("transliteration", transliteration)
    return [
        p for p in found if stood_for.held in f" {form_keys(normalize(p.text)).transliteration} "
    ]


class _WrittenWords:
    """The words of a mention's normal form as they are written in the mention.

    Normalisation folds one character at a time: a character folds to nothing
    (an apostrophe, a mark), to a separator, or to letters, so the n-th run of
    letters here is the n-th word of the normal form. When the count differs
    (a case the fold does not foresee), parts are given in their normal form.
    """

    def __init__(self, query: str, count: int) -> None:
        self._query = query
        self._count = count
        self._spans: list[tuple[int, int]] | None = None  # found when first asked for
        self.case_matters = not (query.islower() or query.isupper())

    def part(self, words: Sequence[str], start: int, end: int) -> str:
        if self._spans is None:
            self._spans = self._word_spans()
        if len(self._spans) != self._count:
            return " ".join(words[start:end])
        return self._query[self._spans[start][0] : self._spans[end - 1][1]]

    def _word_spans(self) -> list[tuple[int, int]]:
        spans: list[tuple[int, int]] = []
        start = end = -1
        for index, char in enumerate(self._query):
            for folded in fold_char(char):
                if folded != " ":
                    start, end = (index if start < 0 else start), index + 1
                elif start >= 0:
                    spans.append((start, end))
                    start = -1
        if start >= 0:
            spans.append((start, end))
        return spans
