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

import codecs
import re
import unicodedata
from bisect import bisect_right
from collections.abc import Callable
from functools import lru_cache
from itertools import accumulate, count
from operator import add, sub

from app.matching.caches import short_words_remembered

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


def form_key(text: str) -> str:
    """The key under which two forms of one entity are one form: the normal
    form, or the acronym that a form of initials alone spells, so that
    ``TTP``, ``T-T-P`` and ``T.T.P.`` (``ttp``, ``t t p``) are one alias.

    Initials within a longer name stay apart (``Washington, D.C.`` and
    ``Washington DC`` are two forms): the exact layer finds each as written."""
    normal = normalize(text)
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


# --- spotting in running text -------------------------------------------------------
#
# Spotting reads whole articles, so its normal form must be cheap and must map
# back to the article's code points. It is the normal form above with one
# difference: apostrophes separate words instead of joining them, so that
# "Pakistan’s" spots "Pakistan" and its offsets stop before the apostrophe.
# Nearly every character folds to exactly one character. English news is ASCII
# but for a few marks (’ “ ” – •): such a text is folded in two C passes, an
# ASCII encoding whose error handler folds the few others and a
# ``bytes.translate``, with offsets unchanged. Other texts take
# ``str.translate``, and only those holding one of the rare characters that do
# not fold one-to-one (combining marks, ligatures, ß, zero-width characters)
# take the per-character path.

_COMPLEX = "\uffff"  # marks a character that does not fold one-to-one


class _SpotTable(dict[int, str]):
    def __missing__(self, codepoint: int) -> str:
        char = chr(codepoint)
        folded = " " if char in APOSTROPHES else fold_char(char)
        self[codepoint] = folded if len(folded) == 1 else _COMPLEX
        return self[codepoint]


_SPOT_TABLE = _SpotTable()
# Two spaces or more, kept by split. Written with a literal prefix, which the
# regex engine finds fast.
_SPACE_RUNS = re.compile("(   *)")
# A lone "s" is what an apostrophe leaves of a possessive (Pakistan’s military):
# blanked, one character for one, so that "pakistan military" is spotted.
_POSSESSIVE_S = re.compile(r"(?<= )s(?= |$)")


class OffsetMap:
    """Maps an index of a spot form back to the code point of the text it came from.

    The map is a shift that changes at a few places, the ``cuts``: index ``i``
    comes from ``i + shifts[bisect_right(cuts, i)]``, so ``shifts[0]`` is the
    shift before the first cut. Spotting reads both lists directly in its loop.
    """

    __slots__ = ("cuts", "shifts")

    def __init__(self, cuts: list[int], shifts: list[int]) -> None:
        self.cuts = cuts
        self.shifts = shifts

    def __call__(self, index: int) -> int:
        return index + self.shifts[bisect_right(self.cuts, index)]

    @classmethod
    def of_offsets(cls, offsets: list[int]) -> "OffsetMap":
        """The map that sends each index ``i`` to ``offsets[i]``."""
        cuts, shifts = [], [0]
        for index, offset in enumerate(offsets):
            if offset - index != shifts[-1]:
                cuts.append(index)
                shifts.append(offset - index)
        return cls(cuts, shifts)


def spot_form(text: str) -> tuple[str, OffsetMap]:
    """The spotting normal form of ``text`` and the map of its offsets back to ``text``."""
    translated = _translate(text)
    if translated is None:
        return _spot_form_per_character(text)
    # Runs of spaces become one. Split keeps them: pieces and runs alternate.
    parts = _SPACE_RUNS.split(_blank_possessives(translated))
    pieces, runs = parts[0::2], parts[1::2]
    # After the k-th run's kept space (k from 1), k spaces and the first k
    # pieces stand in the spot form, and the first k runs have lost all but
    # one of their spaces: computed in C, run by run.
    cuts = list(map(add, accumulate(map(len, pieces[:-1])), count(1)))
    shifts = [0, *map(sub, accumulate(map(len, runs)), count(1))]
    return " ".join(pieces), OffsetMap(cuts, shifts)


_ASCII_TABLE = bytes(
    ord(_SPOT_TABLE[b]) if _SPOT_TABLE[b] != _COMPLEX else ord(" ") for b in range(128)
) + bytes(128)


class _NotOneToOne(Exception):
    """A character does not fold to one ASCII character."""


@short_words_remembered
def _ascii_fold(run: str) -> str:
    folded = "".join(_SPOT_TABLE[ord(char)] for char in run)
    if not folded.isascii() or len(folded) != len(run):
        raise _NotOneToOne
    return folded


def _ascii_errors(name: str, replace: Callable[[str], str]) -> str:
    """Registers as codec error handler ``name``: ``replace`` each run of non-ASCII characters.

    ``text.encode("ascii", name)`` then replaces, in one C pass, the few
    non-ASCII characters of a text that is mostly ASCII.
    """

    def handler(error: UnicodeError) -> tuple[str, int]:
        if not isinstance(error, UnicodeEncodeError):
            raise error
        return replace(error.object[error.start : error.end]), error.end

    codecs.register_error(name, handler)
    return name


_FOLD_ERRORS = _ascii_errors("alias-service-spot-fold", _ascii_fold)


def _translate(text: str) -> str | None:
    """``text.translate(_SPOT_TABLE)``, or None when a character does not fold one-to-one."""
    try:
        ascii_text = text.encode("ascii", _FOLD_ERRORS)
    except _NotOneToOne:
        translated = text.translate(_SPOT_TABLE)
        return None if _COMPLEX in translated else translated
    return ascii_text.translate(_ASCII_TABLE).decode("ascii")


# The case mask of a spot form: for each of its characters, what the character
# of the text it came from is: "A" a capital letter, "0" a digit, "a" any
# other letter or mark, " " a separator. Names are told by their capitals.


def _case_class(char: str) -> str:
    if _SPOT_TABLE[ord(char)] == " ":
        return " "
    if char.isupper():
        return "A"
    return "0" if char.isdigit() else "a"


@short_words_remembered
def _case_classes(run: str) -> str:
    return "".join(map(_case_class, run))


_CASE_TABLE = bytes(ord(_case_class(chr(b))) for b in range(128)) + bytes(128)
_CASE_ERRORS = _ascii_errors("alias-service-case-classes", _case_classes)


def case_mask(text: str, spot: str, offsets: OffsetMap) -> str:
    """The case mask of ``spot``, the spot form of ``text`` that ``offsets`` maps back.

    The text's own mask is made in C passes and cut where the offset map's
    shift changes: between two cuts, the spot form's characters come from
    consecutive characters of the text.
    """
    mask = text.encode("ascii", _CASE_ERRORS).translate(_CASE_TABLE).decode("ascii")
    bounds, shifts = [0, *offsets.cuts, len(spot)], offsets.shifts
    pieces = map(slice, map(add, bounds, shifts), map(add, bounds[1:], shifts))
    mask = "".join(map(mask.__getitem__, pieces))
    if mask.count(" ") != spot.count(" "):
        # A character folded to several, a space among them ("⒈" to "1 "): rare.
        mask = "".join(" " if char == " " else case for char, case in zip(spot, mask, strict=True))
    return mask


def _blank_possessives(spot: str) -> str:
    # _POSSESSIVE_S.sub(" ", spot), in C passes: again for "x s s y", which is rare.
    spot = spot.replace(" s ", "   ")
    if " s " in spot:
        spot = spot.replace(" s ", "   ")
    return spot[:-1] + " " if spot.endswith(" s") else spot


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
    spot = "".join(blanked[i] for i in kept)
    return spot, OffsetMap.of_offsets([offsets[i] for i in kept])


def spot_key(text: str) -> str:
    """The spotting form of an alias: what its mentions look like in spot forms."""
    translated = _translate(text)
    if translated is None:  # no offsets are needed, but the slow path has the folds
        return " ".join(spot_form(text)[0].split())
    return " ".join(_blank_possessives(translated).split())
