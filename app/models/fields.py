"""The validated field types and limits that the tables and the API's shapes share.

A name, an alias, a note and a type are checked by the same rules wherever
they arrive: a request body, the alias file or a stored row's model.
"""

import re
from typing import Annotated

from annotated_types import Ge
from pydantic import AfterValidator, AllowInfNan, Strict, StringConstraints

from app.normal_forms import normalize

ENTITY_ID_PATTERN = r"^[A-Za-z0-9._:-]{1,128}$"
MAX_NAME_LENGTH = 512
MAX_NORMAL_FORM_LENGTH = 4 * MAX_NAME_LENGTH  # the stored column Alias.normalized
MAX_NOTE_LENGTH = 2000
MAX_TYPE_LENGTH = 64
MAX_ACTOR_LENGTH = 128  # the audit trail's Change.actor
# An entity's aliases, at most: far more than any name has (a country's names
# in every language are a few hundred), and a bound on what one entry of an
# import may hold (the file's readers stop at it).
MAX_ALIASES = 10_000
# The types a table declares, at most: as many as a file may list (its readers
# stop past MAX_ALIASES items of any list), so that its export can be imported.
MAX_DECLARED_TYPES = MAX_ALIASES
# The largest number both databases store in an integer column (PostgreSQL's
# INTEGER): alias IDs and paging offsets beyond it can name nothing.
MAX_STORED_INT = 2**31 - 1
# Text that a query, a path or a type may hold: no control characters (C0,
# DEL, C1), which no name contains and PostgreSQL refuses (NUL) in text.
CONTROL_CHARACTERS = r"\x00-\x1f\x7f-\x9f"  # Unicode's category Cc, for a [] class
PRINTABLE_PATTERN = rf"^[^{CONTROL_CHARACTERS}]*$"


# Unicode's categories Cc (control) and Cs (surrogate), for one search in C.
_UNPRINTABLE = re.compile(rf"[{CONTROL_CHARACTERS}\ud800-\udfff]")


def _printable(text: str) -> str:
    """Refuse control characters and lone surrogates, which no name contains."""
    found = _UNPRINTABLE.search(text)
    if found is not None:
        raise ValueError(f"contains the control or surrogate character U+{ord(found[0]):04X}")
    return text


def _has_letters(text: str) -> str:
    key = normalize(text)
    if not key:
        raise ValueError("has no letter or digit to match on")
    if len(key) > MAX_NORMAL_FORM_LENGTH:
        # NFKC expands some characters many times over (U+FDFA is 18 letters).
        raise ValueError(
            f"its normal form has {len(key):,} characters; at most "
            f"{MAX_NORMAL_FORM_LENGTH:,} are stored"
        )
    return text


EntityId = Annotated[str, StringConstraints(pattern=ENTITY_ID_PATTERN)]
Text = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_NAME_LENGTH),
    AfterValidator(_printable),
]
MatchableText = Annotated[Text, AfterValidator(_has_letters)]
Note = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=MAX_NOTE_LENGTH),
    AfterValidator(_printable),
]
TypeName = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True,
        min_length=1,
        max_length=MAX_TYPE_LENGTH,
        pattern=rf"^[^\s{CONTROL_CHARACTERS}]+$",
    ),
]
TypeDescription = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_NOTE_LENGTH),
    AfterValidator(_printable),
]
# A finite number >= 0; strict, so that neither true nor "12" passes for one.
Prominence = Annotated[float, Strict(), AllowInfNan(False), Ge(0)]
PROMINENCE_DESCRIPTION = (
    "Optional number >= 0 (e.g. a place's population) that orders namesakes: among "
    "candidates of equal score the more prominent comes first, and a request with "
    "tie_break=prominence may be matched to it."
)
