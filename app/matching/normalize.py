"""One normalisation for every comparison the service makes.

A mention and an alias are compared by their *normal form*: Unicode NFKC,
case folded, diacritics removed, every hyphen, dash, slash and other
punctuation turned into a space, apostrophes and quote marks dropped inside
words, a possessive ``'s`` dropped, and white space collapsed. So
``Tehreek-e-Taliban Pakistan``, ``TEHREEK E TALIBAN PAKISTAN`` and
``Tehreek‑e‑Taliban  Pakistan`` (non-breaking hyphens) share one key, and
``Pakistan’s`` reads as ``pakistan``.

The fold is done one code point at a time from a cache; the spotting form
(below) keeps, besides, a map from each of its characters back to the code
point of the original text it came from.
"""

import re
import unicodedata
from bisect import bisect_right
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
        folded = _fold_dropping_possessives(text)
    else:
        folded = text.translate(_FOLD_TABLE)
    return " ".join(folded.split())


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


# --- spotting in running text -------------------------------------------------------
#
# Spotting reads whole articles, so its normal form must be cheap and must map
# back to the article's code points. It is the normal form above with one
# difference: apostrophes separate words instead of joining them, so that
# "Pakistan’s" spots "Pakistan" and its offsets stop before the apostrophe.
# Nearly every character folds to exactly one character, which str.translate
# does in C with offsets unchanged; only texts holding one of the rare others
# (combining marks, ligatures, ß, zero-width characters) take the per-character
# path.

_COMPLEX = "\uffff"  # marks a character that does not fold one-to-one


class _SpotTable(dict[int, str]):
    def __missing__(self, codepoint: int) -> str:
        char = chr(codepoint)
        folded = " " if char in APOSTROPHES else fold_char(char)
        self[codepoint] = folded if len(folded) == 1 else _COMPLEX
        return self[codepoint]


_SPOT_TABLE = _SpotTable()
_SPACE_RUNS = re.compile(" {2,}")
# A lone "s" is what an apostrophe leaves of a possessive (Pakistan’s military):
# blanked, one character for one, so that "pakistan military" is spotted.
_POSSESSIVE_S = re.compile(r"(?<= )s(?= |$)")


class OffsetMap:
    """Maps an index of a spot form back to the code point of the text it came from."""

    def __init__(self, cuts: list[int], shifts: list[int], exact: list[int] | None) -> None:
        self._cuts = cuts  # spot-form indices after which characters were removed
        self._shifts = shifts  # how many were removed up to each cut
        self._exact = exact  # per-character offsets, on the slow path

    def __call__(self, index: int) -> int:
        if self._exact is not None:
            return self._exact[index]
        cut = bisect_right(self._cuts, index)
        return index + (self._shifts[cut - 1] if cut else 0)


def spot_form(text: str) -> tuple[str, OffsetMap]:
    """The spotting normal form of ``text`` and the map of its offsets back to ``text``."""
    translated = _blank_possessives(_translate(text))
    if _COMPLEX in translated:
        return _spot_form_per_character(text)
    cuts: list[int] = []
    shifts: list[int] = []
    removed = 0
    for run in _SPACE_RUNS.finditer(translated):
        start, end = run.span()
        cuts.append(start - removed)  # the run's kept space, in the spot form
        removed += end - start - 1
        shifts.append(removed)
    return _SPACE_RUNS.sub(" ", translated), OffsetMap(cuts, shifts, None)


_ASCII_TABLE = bytes(
    ord(_SPOT_TABLE[b]) if _SPOT_TABLE[b] != _COMPLEX else ord(" ") for b in range(128)
) + bytes(128)
# Past this many distinct non-ASCII characters, one pass of str.translate wins.
_MAX_REPLACED = 24


def _blank_possessives(spot: str) -> str:
    # _POSSESSIVE_S.sub(" ", spot), in C passes: twice for "x s s y".
    spot = spot.replace(" s ", "   ").replace(" s ", "   ")
    return spot[:-1] + " " if spot.endswith(" s") else spot


def _translate(text: str) -> str:
    """``text.translate(_SPOT_TABLE)``, through bytes where that gives the same.

    English news is ASCII but for a few marks (’ “ ” – •): each is replaced by
    its one-character fold in one C pass, and the rest is folded a byte at a
    time with ``bytes.translate``.
    """
    if not text.isascii():
        others = {c for c in set(text) if c > "\x7f"}
        if len(others) > _MAX_REPLACED:
            return text.translate(_SPOT_TABLE)
        for char in others:
            folded = _SPOT_TABLE[ord(char)]
            if folded == _COMPLEX or folded > "\x7f":
                return text.translate(_SPOT_TABLE)
            text = text.replace(char, folded)
    return text.encode("ascii").translate(_ASCII_TABLE).decode("ascii")


def _spot_form_per_character(text: str) -> tuple[str, OffsetMap]:
    chars: list[str] = []
    offsets: list[int] = []
    for index, char in enumerate(text):
        folded = " " if char in APOSTROPHES else _FOLD_TABLE[ord(char)]
        for out in folded:
            chars.append(out)
            offsets.append(index)
    blanked = _POSSESSIVE_S.sub(" ", "".join(chars))
    kept = [i for i, c in enumerate(blanked) if c != " " or (i and blanked[i - 1] != " ")]
    return "".join(blanked[i] for i in kept), OffsetMap([], [], [offsets[i] for i in kept])


def spot_key(text: str) -> str:
    """The spotting form of an alias: what its mentions look like in spot forms."""
    translated = _blank_possessives(_translate(text))
    if _COMPLEX in translated:  # no offsets are needed, but the slow path has the folds
        translated = spot_form(text)[0]
    return " ".join(translated.split())
