"""The spotting form of running text, the map of its offsets back, and its case mask.

Spotting reads whole articles, so its form must be cheap and must map back to
the article's code points. It is the normal form (``normalize``) with one
difference: apostrophes separate words instead of joining them, so that
"Pakistan’s" spots "Pakistan" and its offsets stop before the apostrophe. A
possessive's lone "s" is blanked and runs of spaces are made one.

``spot_form_plain`` says what the spotting form is, one character at a time.
``spot_form`` computes the same: nearly every character folds to exactly one
character, so offsets move only where runs of spaces are made one. English
news is ASCII but for a few marks (’ “ ” – •): such a text is folded by an
ASCII encoding whose error handler folds the few others, then a
``bytes.translate``. Other texts take ``str.translate``, and only those
holding one of the rare characters that do not fold one-to-one (combining
marks, ligatures, ß, zero-width characters) take the plain definition.
"""

import codecs
import re
from bisect import bisect_right
from collections.abc import Callable
from itertools import accumulate, count
from operator import add, sub

from app.matching.caches import short_words_remembered
from app.matching.normalize import APOSTROPHES, fold_char

_COMPLEX = "\uffff"  # marks a character that does not fold one-to-one


class _SpotFolds(dict[int, str]):
    """The spotting form of each code point, made on first sight: its normal form,
    but an apostrophe separates words."""

    def __missing__(self, codepoint: int) -> str:
        char = chr(codepoint)
        folded = " " if char in APOSTROPHES else fold_char(char)
        self[codepoint] = folded
        return folded


class _SpotTable(dict[int, str]):
    """A ``str.translate`` table of the characters that fold to exactly one character;
    the others translate to ``_COMPLEX``."""

    def __missing__(self, codepoint: int) -> str:
        folded = _SPOT_FOLDS[codepoint]
        self[codepoint] = folded if len(folded) == 1 else _COMPLEX
        return self[codepoint]


_SPOT_FOLDS = _SpotFolds()
_SPOT_TABLE = _SpotTable()
# Runs of two spaces or more, kept by split.
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


def spot_form_plain(text: str) -> tuple[str, OffsetMap]:
    """The spotting form of ``text`` and its offset map, by definition: each character
    folded, a possessive's lone "s" blanked, each run of spaces made one space (the
    run's first). What ``spot_form`` computes, and what it falls back on."""
    chars: list[str] = []
    offsets: list[int] = []
    for index, char in enumerate(text):
        for folded in _SPOT_FOLDS[ord(char)]:
            chars.append(folded)
            offsets.append(index)
    blanked = _POSSESSIVE_S.sub(" ", "".join(chars))
    spot: list[str] = []
    kept: list[int] = []
    for char, offset in zip(blanked, offsets, strict=True):
        if char == " " and spot and spot[-1] == " ":
            continue
        spot.append(char)
        kept.append(offset)
    return "".join(spot), OffsetMap.of_offsets(kept)


def spot_form(text: str) -> tuple[str, OffsetMap]:
    """The spotting form of ``text`` and the map of its offsets back to ``text``."""
    translated = _translate(text)
    if translated is None:
        return spot_form_plain(text)
    # Runs of spaces become one. Split keeps them: pieces and runs alternate.
    parts = _SPACE_RUNS.split(_blank_possessives(translated))
    pieces, runs = parts[0::2], parts[1::2]
    # After the k-th run's kept space (k from 1), k spaces and the first k
    # pieces stand in the spot form, and the first k runs have lost all but
    # one of their spaces.
    cuts = list(map(add, accumulate(map(len, pieces[:-1])), count(1)))
    shifts = [0, *map(sub, accumulate(map(len, runs)), count(1))]
    return " ".join(pieces), OffsetMap(cuts, shifts)


def spot_key(text: str) -> str:
    """The spotting form of an alias: what its mentions look like in spot forms."""
    translated = _translate(text)
    if translated is None:
        return " ".join(spot_form_plain(text)[0].split())
    return " ".join(_blank_possessives(translated).split())


def _blank_possessives(spot: str) -> str:
    """``_POSSESSIVE_S.sub(" ", spot)`` by replacements; a second pass for "x s s y",
    whose two matches share a space."""
    spot = spot.replace(" s ", "   ")
    if " s " in spot:
        spot = spot.replace(" s ", "   ")
    return spot[:-1] + " " if spot.endswith(" s") else spot


# Each ASCII character's one-character fold; non-ASCII bytes never occur.
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

    ``text.encode("ascii", name)`` then replaces the few non-ASCII characters
    of a text that is mostly ASCII. The handler is process-wide, so its name
    is the service's own.
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


# --- the case mask ------------------------------------------------------------------
#
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


def case_mask_plain(text: str, spot: str, offsets: OffsetMap) -> str:
    """The case mask of ``spot``, the spot form of ``text`` that ``offsets`` maps back,
    by definition: a space where the spot form has one, else the class of the
    character of ``text`` it came from. What ``case_mask`` computes."""
    return "".join(
        " " if char == " " else _case_class(text[offsets(index)]) for index, char in enumerate(spot)
    )


def case_mask(text: str, spot: str, offsets: OffsetMap) -> str:
    """The case mask of ``spot``, the spot form of ``text`` that ``offsets`` maps back.

    The text's own mask is made whole and cut where the offset map's shift
    changes: between two cuts, the spot form's characters come from
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
