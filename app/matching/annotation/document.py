"""The document pass: each mention read in the light of the whole text.

A text establishes the entities it names in two words or more. A one-word
mention takes an established entity of its own type that its word belongs to
when its own reading is not established (a bare "Daesh" after
"Daesh-Khorasan"; acronyms, being specific, keep theirs); an ambiguous
mention with one established candidate takes it; a surname alone takes the
established person whose name it ends ("Mr Asif" after "Khawaja Asif").
Method ``document``. Without such evidence an ambiguous mention stays
ambiguous.
"""

import re
from dataclasses import replace

from app.matching.annotation.mentions import DOCUMENT, Mention, name_words
from app.matching.caches import LONGEST_REMEMBERED_NAME, short_texts_remembered
from app.matching.casing import CaseRule, case_rule
from app.matching.index import AliasIndex, EntityRecord
from app.matching.normalize import normalize
from app.matching.resolve import Candidate, Method, Resolution, Status, TypeFilter
from app.matching.spotting import Span, SpottedText

PERSON_TYPE = "person"  # the type whose entities are met by their surname alone
_LAST_WORD = re.compile(r"[^\W_]+$")


def in_document_context(
    index: AliasIndex,
    spotted: SpottedText,
    mentions: list[Mention],
    unexplained: list[Span],
    type_filter: TypeFilter,
) -> list[Mention]:
    """The mentions as the whole text reads them, with the lone surnames among
    ``unexplained`` runs, in text order; those that name nothing are left out."""
    established = {
        entity.id: entity
        for mention in mentions
        if len(mention.words) >= 2 and (entity := mention.resolution.entity) is not None
    }
    holders = _holders_by_word(index, established, type_filter)
    in_context = [_in_context(m, established, holders) for m in mentions]
    surnames = _surnames(spotted, unexplained, established)
    listed = [m for m in in_context + surnames if m.resolution.status is not Status.UNMATCHED]
    return sorted(listed, key=lambda m: m.span.start)


def _in_context(
    mention: Mention,
    established: dict[str, EntityRecord],
    holders: dict[str, list[EntityRecord]],
) -> Mention:
    """The mention, or the established entity the text means by it."""
    status = mention.resolution.status
    if status is Status.AMBIGUOUS:
        known = [c for c in mention.resolution.candidates if c.entity.id in established]
        return _matched_by_document(mention, known) if len(known) == 1 else mention
    own = mention.resolution.candidates[0]
    if len(mention.words) != 1 or own.entity.id in established or _is_acronym(own.matched_alias):
        return mention
    # A branch holds its parent's name (Daesh-Khorasan); a government holds its
    # country's (Islamic Emirate of Afghanistan) and is another kind of thing.
    held = [e for e in holders.get(mention.words[0], ()) if e.type == own.entity.type]
    if len(held) == 1:
        return _matched_by_document(mention, [replace(own, entity=held[0])])
    return mention


@short_texts_remembered(LONGEST_REMEMBERED_NAME)
def _is_acronym(alias: str) -> bool:
    # IS beside ISIS-K is the parent, named on purpose: acronyms are specific.
    return case_rule(alias) is CaseRule.EXACT


def _holders_by_word(
    index: AliasIndex, established: dict[str, EntityRecord], type_filter: TypeFilter
) -> dict[str, list[EntityRecord]]:
    """Each word of the established entities' forms, with the entities that have it.

    Made once per text, so that a one-word mention looks its holders up
    instead of reading every established entity's forms: linear work.
    """
    holders: dict[str, list[EntityRecord]] = {}
    for entity in established.values():
        if type_filter.entity(entity.id) is not None:
            for word in _form_words(index, entity):
                holders.setdefault(word, []).append(entity)
    return holders


def _form_words(index: AliasIndex, entity: EntityRecord) -> frozenset[str]:
    """The words of the entity's forms, in their normal form."""
    return index.caches.form_words.remembered(
        entity.id,
        lambda _: frozenset(
            word for form in entity.surface_forms() for word in normalize(form).split()
        ),
    )


def _matched_by_document(mention: Mention, candidates: list[Candidate]) -> Mention:
    """The mention matched to the first of ``candidates`` on the text's evidence."""
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
        words = name_words(written)
        named = people.get(words[-1], []) if len(words) == 1 else []
        if len(named) == 1 and (last := _LAST_WORD.search(written)) is not None:
            span = Span(run.start + last.start(), run.end)
            surname = spotted.text[span.start : span.end]
            candidate = Candidate(named[0], 1.0, named[0].name, Method.EXACT)
            resolution = Resolution(surname, Status.MATCHED, (candidate,))
            found.append(Mention(span, surname, resolution, DOCUMENT))
    return found
