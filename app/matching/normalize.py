"""One normalisation for every comparison the service makes.

A mention and an alias are compared by their *normal form*: Unicode NFKC,
case folded, diacritics removed, every hyphen, dash, slash and other
punctuation turned into a space, apostrophes and quote marks dropped inside
words, a possessive ``'s`` dropped, and white space collapsed. So
``Tehreek-e-Taliban Pakistan``, ``TEHREEK E TALIBAN PAKISTAN`` and
``Tehreek‑e‑Taliban  Pakistan`` (non-breaking hyphens) share one key, and
``Pakistan’s`` reads as ``pakistan``.

The fold is done one code point at a time from a cache, so that
:func:`normalize_with_offsets` can map every character of the normal form
back to the code point of the original text it came from.
"""

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
    if any(c in APOSTROPHES for c in text):
        folded = "".join(_fold_with_offsets(text)[0])
    else:
        folded = text.translate(_FOLD_TABLE)
    return " ".join(folded.split())


def _fold_with_offsets(text: str) -> tuple[list[str], list[int]]:
    """Fold ``text`` character by character, dropping possessive suffixes.

    Returns the folded characters and, for each, the index in ``text`` of the
    code point it came from.
    """
    chars: list[str] = []
    offsets: list[int] = []
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
        for folded in _FOLD_TABLE[ord(char)]:
            chars.append(folded)
            offsets.append(index)
    return chars, offsets


def normalize_with_offsets(text: str) -> tuple[str, list[int]]:
    """The normal form of ``text`` and, per character of it, its source index.

    ``offsets[i]`` is the index in ``text`` of the code point that produced
    character ``i`` of the normal form, so a span ``[a, b)`` of the normal
    form covers ``text[offsets[a] : offsets[b - 1] + 1]``.
    """
    chars, offsets = _fold_with_offsets(text)
    out_chars: list[str] = []
    out_offsets: list[int] = []
    pending_space = False
    for char, offset in zip(chars, offsets, strict=True):
        if char == " ":
            pending_space = bool(out_chars)
            continue
        if pending_space:
            out_chars.append(" ")
            out_offsets.append(offset)
            pending_space = False
        out_chars.append(char)
        out_offsets.append(offset)
    return "".join(out_chars), out_offsets
