"""The keys under which a normal form is looked up, one per matching layer.

Each key forgets a little more of the spelling, so each finds more variants
and proves less:

``exact``
    the normal form itself (``app.matching.normalize``).
``compact``
    the normal form without spaces: dotted and spaced acronyms
    (``I.S.K.P.``, ``IS KP``) and run-together words meet their alias.
``transliteration``
    every word transliterated to ASCII (anyascii: Arabic, Urdu, Cyrillic ...),
    the connectors of izafat and Arabic article dropped between words
    (Tehreek-**e**-Taliban, Jamaat-**ul**-Ahrar), and the letter variants of
    romanised Urdu, Arabic and Pashto folded: kh/k, q/k, ph/f, th/t, dh/d,
    gh/g, ee/i, oo/u, o/u, e/i, y/i, doubled letters.
``phonetic``
    the metaphone code of each transliterated word (jellyfish): vowels past
    the first letter and silent letters are gone, so Tahreek, Tehrik and
    تحریک share ``TRK``.

Besides its keys, a form has a *Latin* spelling, what character-level
similarity is measured on: the normal form transliterated by anyascii, in
lower-case ASCII letters and digits, its words apart (``Кореновск`` →
``korenovsk``, ``海屋木`` → ``haiwumu``). Its letter trigrams, the words run
together, propose the candidates of approximate matching
(``app.matching.index``), so word splits and joins, other vowels and
syllable-spaced writings (``hai wu mu``) all reach their form.
"""

import re
from collections.abc import Iterable
from functools import partial
from typing import NamedTuple

import jellyfish
from anyascii import anyascii
from xxhash import xxh3_64_intdigest

from app.matching.caches import short_words_remembered

# Medial particles of Persian izafat and the Arabic article, written as words
# once hyphens are spaces: Tehreek e Taliban, Jamaat ul Ahrar, Jabhat an Nusra.
# Dropped only between two words, never first or last.
CONNECTORS = frozenset(
    {"e", "i", "ul", "al", "el", "ud", "ur", "ut", "ush", "ash", "ad", "an", "az"}
)

# What transliteration leaves besides letters and digits (ʿ becomes `) goes.
_NOT_ALNUM = bytes(c for c in range(128) if not chr(c).isalnum())
# Consonant digraphs and letters, in this order: "cq" becomes "ck", then "k".
_CONSONANTS = (
    ("kh", "k"),
    ("gh", "g"),
    ("ph", "f"),
    ("th", "t"),
    ("dh", "d"),
    ("q", "k"),
    ("ck", "k"),
    ("w", "v"),
)
# Vowels: e, y → i and o → u; pairs (ee, ei, ou ...) become doubles, then one.
# Folded before the consonants, which neither make nor hold these vowels.
_VOWELS = bytes.maketrans(b"eyo", b"iiu")
_DOUBLED = re.compile(r"(.)\1+")
_NOT_LATIN = re.compile(r"[^a-z0-9]+")
# Words remembered by a ``FormKeyMaker``: enough for the words that recur in a
# table, not every word of a large table.
REMEMBERED_WORDS = 1 << 16


def _first_of_run(doubled: re.Match[str]) -> str:
    # A function, not the template r"\1", which Python 3.11 expands in Python code.
    return doubled.group(1)


def _folded(ascii_word: str) -> str:
    """A word transliterated to lower-case ASCII, its letters and digits with
    the romanisation variants folded."""
    folded = ascii_word.encode("ascii").translate(_VOWELS, _NOT_ALNUM).decode("ascii")
    for pair, single in _CONSONANTS:
        folded = folded.replace(pair, single)
    return _DOUBLED.sub(_first_of_run, folded)


def _latin(ascii_text: str) -> str:
    """Lower-case ASCII text's letters and digits, its words one space apart."""
    return " ".join(_NOT_LATIN.sub(" ", ascii_text).split())


@short_words_remembered
def transliterate_word(word: str) -> str:
    """One word in ASCII with its romanisation variants folded."""
    return _folded(anyascii(word).lower()) or word


def phonetic_code(word: str) -> str:
    """The metaphone code of a transliterated word (digits kept as they are),
    worked out each time (``phonetic_word`` remembers the latest)."""
    if word.isdigit():
        return word
    return jellyfish.metaphone(word) or word


@short_words_remembered
def phonetic_word(word: str) -> str:
    """The metaphone code of a transliterated word (digits kept as they are)."""
    return phonetic_code(word)


def latin(normal: str) -> str:
    """A normal form in lower-case ASCII letters and digits, its words one space apart."""
    return _latin(anyascii(normal).lower())


def trigrams(latin_form: str) -> set[str]:
    """The letter trigrams of a Latin spelling, its words run together, with its
    start and end marked so that short names have trigrams too."""
    padded = f"^{latin_form.replace(' ', '')}$"
    return {padded[i : i + 3] for i in range(len(padded) - 2)}


def is_connector(word: str) -> bool:
    """Whether a word is a medial particle. They are known in Latin letters:
    "ан" in Cyrillic is one too."""
    return word in CONNECTORS or anyascii(word) in CONNECTORS


def content_words(normal: str) -> list[str]:
    """The words of a normal form without medial connectors."""
    words = normal.split()
    if len(words) < 3:
        return words
    return [words[0], *[w for w in words[1:-1] if not is_connector(w)], words[-1]]


class FormKeys(NamedTuple):
    """The keys of one normal form, and its transliterated words for scoring.

    A tuple: an index build makes a million, and a tuple is made in C."""

    exact: str
    compact: str
    transliteration: str
    phonetic: str
    words: tuple[str, ...]  # transliterated content words
    latin: str  # the Latin spelling, for character-level similarity


def transliterated_words(normal: str) -> tuple[str, ...]:
    """The content words of a normal form, each transliterated; joined by
    spaces, they are its ``transliteration`` key."""
    return tuple(transliterate_word(w) for w in content_words(normal))


def form_keys(normal: str) -> FormKeys:
    words = transliterated_words(normal)
    return FormKeys(
        exact=normal,
        compact=normal.replace(" ", ""),
        transliteration=" ".join(words),
        phonetic=" ".join(phonetic_word(w) for w in words),
        words=words,
        latin=latin(normal),
    )


# What the keys of a form take from one of its words: its transliteration,
# the phonetic code of that, whether it is a connector (dropped between two
# other words) and its Latin spelling ("" for a word of no letter or digit).
# A plain tuple, which the garbage collector stops tracking.
WordPieces = tuple[str, str, bool, str]


class _AsciiTable(dict[int, str]):
    """A ``str.translate`` table that gives each code point what anyascii gives it,
    learnt on first sight: anyascii transliterates one code point at a time."""

    def __missing__(self, codepoint: int) -> str:
        ascii_text = self[codepoint] = anyascii(chr(codepoint))
        return ascii_text


class FormKeyMaker:
    """Makes the keys of many normal forms, each equal to ``form_keys`` of it:
    what an index build uses, one maker for the build, dropped with it.

    Each word is worked on once for all its pieces: one transliteration by
    anyascii (from a table of the code points met) serves its transliteration
    key, the connector test and its Latin spelling. The pieces are remembered
    until the maker holds REMEMBERED_WORDS words, then
    forgotten all at once, so that it holds no more however large the build
    (remembering every word of a million aliases measured no faster).

    A form's Latin spelling is its words' joined, the empty ones left out: it is
    the same as ``latin`` of the whole form, because anyascii transliterates one
    code point at a time (a space stays a space) and the Latin spelling splits
    wherever anything other than an ASCII letter or digit stands.
    """

    def __init__(self) -> None:
        self._words: dict[str, WordPieces] = {}
        self._ascii = _AsciiTable()

    def keys(self, normal: str) -> FormKeys:
        words = normal.split()
        if len(words) == 1 and words[0] == normal:  # most forms are one word
            transliteration, code, _, spelling = self._words.get(normal) or self._learn(normal)
            return _new_keys((normal, normal, transliteration, code, (transliteration,), spelling))
        if " ".join(words) != normal:  # not a normal form: other white space than single spaces
            return form_keys(normal)
        known = self._words
        pieces = [known.get(word) or self._learn(word) for word in words]
        transliterated, codes, connectors, spellings = (
            zip(*pieces, strict=True) if pieces else ((),) * 4
        )
        if len(pieces) >= 3 and True in connectors[1:-1]:
            content = [pieces[0], *[p for p in pieces[1:-1] if not p[2]], pieces[-1]]
            transliterated, codes, _, _ = zip(*content, strict=True)
        return _new_keys(
            (
                normal,
                normal.replace(" ", ""),
                " ".join(transliterated),
                " ".join(codes),
                transliterated,
                " ".join(filter(None, spellings)),
            )
        )

    def _learn(self, word: str) -> WordPieces:
        """The pieces of a word not met before, its transliteration by anyascii made once for all.

        ``is_connector`` asks of the word and of its transliteration; a connector
        is ASCII, which anyascii keeps as it is, so asking of the transliteration
        alone is the same. The Latin spelling of a word of ASCII letters and
        digits alone is the word in lower case.
        """
        if len(self._words) >= REMEMBERED_WORDS:
            self._words.clear()
        ascii_word = word if word.isascii() else word.translate(self._ascii)
        lower = ascii_word.lower()
        transliteration = _folded(lower) or word
        pieces = self._words[word] = (
            transliteration,
            phonetic_code(transliteration),
            ascii_word in CONNECTORS,
            lower if lower.isalnum() else _latin(lower),
        )
        return pieces


# FormKeys from a tuple of its fields, in C: what ``FormKeys._make`` does.
_new_keys = partial(tuple.__new__, FormKeys)


def digest(key: str) -> int:
    """A key's 64-bit digest, the same in every process (``hash`` is not)."""
    return xxh3_64_intdigest(key.encode())


def digests(keys: Iterable[str]) -> list[int]:
    """The ``digest`` of each key, without a call of Python's each: what a build
    makes millions of."""
    return list(map(xxh3_64_intdigest, map(str.encode, keys)))


# A folded key of fewer letters is shared by chance (TSY and TSE, Tub and TOB
# fold together): neither the transliteration layer nor a composition looks
# one up.
MIN_FOLDED_KEY = 5

# Shorter codes lose too much with a letter gone: KRNT less one is shared by
# thousands of words.
MIN_CODE_FOR_DELETIONS = 5


def block_digests(code: str) -> list[int]:
    """The digests of the phonetic blocks a word of this code is filed under:
    the code and the codes one letter shorter (``deletion_keys``)."""
    if len(code) < MIN_CODE_FOR_DELETIONS:  # the code alone: most words
        return [xxh3_64_intdigest(code.encode())]
    return digests(deletion_keys(code))


def deletion_keys(code: str) -> set[str]:
    """The code and every code one letter shorter: a typo costs one letter."""
    keys = {code}
    if len(code) >= MIN_CODE_FOR_DELETIONS:
        keys.update(code[:i] + code[i + 1 :] for i in range(len(code)))
    return keys
