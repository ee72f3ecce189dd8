"""Entity type names: which known one a name that is not known most likely meant."""

from collections.abc import Iterable

from rapidfuzz import fuzz, process

# How alike (rapidfuzz's ratio, 0 to 100, ignoring case) a name must be to a
# known one for that one to be offered: 'organisation' is 92 from
# 'organization' and 'citi' 75 from 'city', but 'org' only 40 from it and
# 'location' 60: a guess that far off would mislead more than it helps.
SUGGESTION_CUTOFF = 75


def closest(name: str, known: Iterable[str]) -> str | None:
    """The known name most like ``name``, or None when none is alike enough."""
    found = process.extractOne(
        name,
        list(known),
        scorer=fuzz.ratio,
        processor=str.casefold,
        score_cutoff=SUGGESTION_CUTOFF,
    )
    return None if found is None else found[0]


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """'; did you mean 'organization'?' for a close known name, else ''."""
    suggestion = closest(name, known)
    return "" if suggestion is None else f"; did you mean {suggestion!r}?"


def requested_types(one: str | None, many: Iterable[str] | None) -> list[str] | None:
    """The types a request filters by: ``type`` and ``types`` together (each is
    a synonym of the other, and both may be given), each once, in the order
    given; None when neither names one, which is no filter."""
    named = [] if one is None else [one]
    return list(dict.fromkeys([*named, *(many or ())])) or None
