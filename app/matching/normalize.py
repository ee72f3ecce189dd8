"""One normalisation for every comparison the service makes.

A mention and an alias are compared by their *normal form*: Unicode NFKC,
case folded, diacritics removed, every hyphen, dash, slash and other
punctuation turned into a space, apostrophes and quote marks dropped inside
words, a possessive ``'s`` dropped, and white space collapsed. So
``Tehreek-e-Taliban Pakistan``, ``TEHREEK E TALIBAN PAKISTAN`` and
``Tehreek‑e‑Taliban  Pakistan`` (non-breaking hyphens) share one key, and
``Pakistan’s`` reads as ``pakistan``.

``normalize_plain`` says what the normal form is, one step at a time;
``normalize`` computes the same through a translation table that folds each
code point once. Running text is spotted in a form of its own
(``app.matching.spot_form``).
"""

import re
import unicodedata
from functools import lru_cache

# Marks that join parts of one word (Da'ish, Mu'min): dropped, not spaced.
APOSTROPHES = frozenset("'`´ʹʻʼʽʾʿˈ‘’‛′")


@lru_cache(maxsize=65536)
def fold_char(char: str) -> str:
    """The normal form of one code point: '' (dropped), ' ' (a separator) or text."""
    if char in APOSTROPHES:
        return ""
    category = unicodedata.category(char)
    if category in ("Mn", "Me", "Cf"):  # combining marks, zero-width format characters
        return ""
    if category[0] in "PSZC":  # punctuation, symbols, separators, controls
        return " "
    folded = unicodedata.normalize("NFKC", char).casefold()
    decomposed = unicodedata.normalize("NFKD", folded)
    kept = "".join(c for c in decomposed if not unicodedata.combining(c))
    out = []
    for c in unicodedata.normalize("NFC", kept):
        # NFKC can expand a character into punctuation (e.g. "⒈" → "1.").
        out.append(c if unicodedata.category(c)[0] in "LN" else " ")
    return "".join(out)


class _FoldTable(dict[int, str]):
    """A ``str.translate`` table that folds each code point on first sight."""

    def __missing__(self, codepoint: int) -> str:
        folded = fold_char(chr(codepoint))
        self[codepoint] = folded
        return folded


_FOLD_TABLE = _FoldTable()


def _ends_word(text: str, index: int) -> bool:
    return index >= len(text) or not text[index].isalnum()


def normalize(text: str) -> str:
    """The normal form of ``text``: the key under which aliases are looked up."""
    if not APOSTROPHES.isdisjoint(text):
        folded = _fold_dropping_possessives(text)
    else:
        folded = text.translate(_FOLD_TABLE)
    return " ".join(folded.split())


# An apostrophe and "s" that end a word begun before the apostrophe. [^\W_] is
# a character that str.isalnum accepts.
_APOSTROPHE = "[" + re.escape("".join(sorted(APOSTROPHES))) + "]"
_POSSESSIVE = re.compile(rf"(?<=[^\W_]){_APOSTROPHE}[sS](?![^\W_])")


def normalize_plain(text: str) -> str:
    """The normal form of ``text`` by definition: possessives dropped, each code
    point folded, white space collapsed. What ``normalize`` computes."""
    folded = "".join(map(fold_char, _POSSESSIVE.sub("", text)))
    return " ".join(folded.split())


def form_key(text: str) -> str:
    """The key under which two forms of one entity are one form: the normal
    form, or the acronym that a form of initials alone spells, so that
    ``TTP``, ``T-T-P`` and ``T.T.P.`` (``ttp``, ``t t p``) are one alias.

    Initials within a longer name stay apart (``Washington, D.C.`` and
    ``Washington DC`` are two forms): the exact layer finds each as written."""
    return form_key_of_normal(normalize(text))


def form_key_of_normal(normal: str) -> str:
    """The ``form_key`` of a text whose normal form is ``normal``."""
    words = normal.split(" ")
    return "".join(words) if all(len(word) == 1 for word in words) else normal


def _fold_dropping_possessives(text: str) -> str:
    """The fold of ``text`` without the "'s" that ends a word (Pakistan's)."""
    out: list[str] = []
    skip_until = -1
    for index, char in enumerate(text):
        if index < skip_until:
            continue
        if (
            char in APOSTROPHES
            and index > 0
            and text[index - 1].isalnum()
            and text[index + 1 : index + 2] in ("s", "S")
            and _ends_word(text, index + 2)
        ):
            skip_until = index + 2
            continue
        out.append(_FOLD_TABLE[ord(char)])
    return "".join(out)
