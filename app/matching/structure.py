"""Structural variants of a mention: the same name written inside more words.

* a name with its acronym in parentheses: ``Tehreek-e-Taliban Pakistan (TTP)``
  is tried as both parts, which must agree on the entity; a parenthesised
  qualifier, ``Ministry of Foreign Affairs (Pakistan)``, joined to its head;
* leading articles, honorifics and office titles: ``the Pakistani Taliban``,
  ``Ambassador Syed Haider Shah``, ``Additional Foreign Secretary Syed Haider
  Shah``, ``Defence Minister Khawaja Asif``.

Possessives (``Pakistan’s``) are already gone in the normal form, and dotted
or spaced acronyms (``I.S.K.P.``, ``IS KP``) meet through the compact key.
"""

import re

from app.matching.normalize import normalize

_PARENTHESES = re.compile(r"^(?P<outer>[^()\[\]]+?)\s*[(\[](?P<inner>[^()\[\]]+)[)\]]\s*$")

# Words that may stand before a name without being part of it. A variant
# without them is only used when it is itself a known name.
TITLE_WORDS = frozenset(
    [
        "the",
        "a",
        "an",
        "mr",
        "mrs",
        "ms",
        "miss",
        "dr",
        "prof",
        "professor",
        "sir",
        "dame",
        "lord",
        "lady",
        "ambassador",
        "minister",
        "secretary",
        "president",
        "vice",
        "prime",
        "premier",
        "chancellor",
        "general",
        "gen",
        "lt",
        "lieutenant",
        "col",
        "colonel",
        "maj",
        "major",
        "brig",
        "brigadier",
        "capt",
        "captain",
        "admiral",
        "marshal",
        "field",
        "chief",
        "commander",
        "spokesman",
        "spokesperson",
        "coordinator",
        "envoy",
        "special",
        "representative",
        "additional",
        "deputy",
        "assistant",
        "acting",
        "former",
        "late",
        "foreign",
        "defence",
        "defense",
        "interior",
        "federal",
        "state",
        "senator",
        "sen",
        "governor",
        "mayor",
        "judge",
        "justice",
        "king",
        "queen",
        "prince",
        "princess",
        "sheikh",
        "shaikh",
        "mullah",
        "mulla",
        "maulana",
        "mawlana",
        "hafiz",
        "imam",
        "emir",
        "amir",
        "commissioner",
        "director",
        "senior",
    ]
)


def parenthesised_parts(text: str) -> tuple[str, str] | None:
    """The normal forms outside and inside a final parenthesis, if any."""
    match = _PARENTHESES.match(text.strip())
    if match is None:
        return None
    outer, inner = normalize(match["outer"]), normalize(match["inner"])
    return (outer, inner) if outer and inner else None


def joined_parts(outer: str, inner: str) -> tuple[str, str]:
    """A qualifier in parentheses read as part of the name, before or after it."""
    return f"{inner} {outer}", f"{outer} {inner}"


# No name has more titles before it ("the former deputy chief minister"): a
# bound on the variants, so that "Mr Mr Mr ..." costs no more than a name.
MAX_TITLES = 6


def without_titles(normal: str) -> list[str]:
    """The normal form without one, two, ... (at most MAX_TITLES) leading
    articles and titles.

    Shortest strip first: "the state department" gives "state department"
    before "department".
    """
    words = normal.split()
    variants = []
    start = 0
    limit = min(len(words) - 1, MAX_TITLES)
    while start < limit and words[start] in TITLE_WORDS:
        start += 1
        variants.append(" ".join(words[start:]))
    return variants
