"""The capitalised names of a text that no entity answers to, as written.

Worked out only when asked, so that annotating costs nothing more. A run the
variant pass left unmatched is cut where a sentence ends inside it; a part
with a mention in it is left out, and so are dates. A word that begins a
sentence may be capitalised only by it: alone it is left out ("According"),
and before a name it is cut off when the text also writes it in lower case
("Then Zabihullah Mujahid").
"""

import re
from bisect import bisect_left

from app.matching.annotation.common_words import written_in_lower_case
from app.matching.annotation.mentions import Mention, normal_words
from app.matching.casing import CALENDAR_WORDS, MONTHS
from app.matching.spotting import Span, SpottedText, sentence_initial

# Month names as dates abbreviate them.
DATE_WORDS = CALENDAR_WORDS | {month[:3] for month in MONTHS} | {"sept"}
_SENTENCE_END = re.compile(r"[.!?]\s+")
_FIRST_WORD = re.compile(r"\S+\s+")


def unresolved_names(spotted: SpottedText, mentions: list[Mention], runs: list[Span]) -> list[str]:
    """The names in ``runs`` (unmatched capitalised runs) that no mention explains."""
    text, starts = spotted.text, [m.span.start for m in mentions]
    names = []
    for run in runs:
        for number, part in enumerate(_sentences(text, run)):
            initial = number > 0 or sentence_initial(text, part.start)
            if not _mentioned(mentions, starts, part) and (name := _name_in(text, part, initial)):
                names.append(name)
    # Looked for all at once: the work stays linear in the text.
    common = written_in_lower_case(spotted, {first for _, first in names if first})
    return [
        text[_after_first_word(text, part) if first in common else part.start : part.end]
        for part, first in names
    ]


def _mentioned(mentions: list[Mention], starts: list[int], part: Span) -> bool:
    """Whether a mention lies within the part (runs and mentions do not cross)."""
    first = bisect_left(starts, part.start)
    return first < len(starts) and mentions[first].span.end <= part.end


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
    words = normal_words(text[part.start : part.end])
    if all(map(_in_dates, words[1:] if initial else words)):
        return None
    first = normal_words(text[part.start : _after_first_word(text, part)])
    return part, first[0] if initial and len(first) == 1 else None


def _after_first_word(text: str, part: Span) -> int:
    """Where the part's second word begins; its start when it is one word."""
    first = _FIRST_WORD.match(text, part.start, part.end)
    return part.start if first is None else first.end()


def _ends_sentence(text: str, stop: int) -> bool:
    """Whether the stop at ``stop`` ends a sentence, not an initial ("U.S.")."""
    before = text[stop - 1 : stop]
    return before.islower() or before.isdigit()


def _in_dates(word: str) -> bool:
    """Whether a word is one of a date's ("March", "Feb", "8th", "2023")."""
    return word in DATE_WORDS or any(map(str.isdigit, word))
