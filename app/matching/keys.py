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
from dataclasses import dataclass
from functools import lru_cache

import jellyfish
from anyascii import anyascii

# Medial particles of Persian izafat and the Arabic article, written as words
# once hyphens are spaces: Tehreek e Taliban, Jamaat ul Ahrar, Jabhat an Nusra.
# Dropped only between two words, never first or last.
CONNECTORS = frozenset(
    {"e", "i", "ul", "al", "el", "ud", "ur", "ut", "ush", "ash", "ad", "an", "az"}
)

# What transliteration leaves besides letters and digits (ʿ becomes `) goes.
_NOT_ALNUM = str.maketrans("", "", "".join(chr(c) for c in range(128) if not chr(c).isalnum()))
# Consonant digraphs and letters, in this order: "cq" becomes "ck", then "k".
_CONSONANTS = (("kh", "k"), ("gh", "g"), ("ph", "f"), ("th", "t"), ("dh", "d"), ("q", "k"))
_CONSONANTS_AFTER = (("ck", "k"), ("w", "v"))
# Vowels: e, y → i and o → u; pairs (ee, ei, ou ...) become doubles, then one.
_VOWELS = str.maketrans("eyo", "iiu")
_DOUBLED = re.compile(r"(.)\1+")
_NOT_LATIN = re.compile(r"[^a-z0-9]+")
# Words remembered by the functions below: enough for the words that recur
# (in a table and in queries), not every word of a large table, which the
# process would otherwise hold beside its index for as long as it serves.
REMEMBERED_WORDS = 1 << 16


@lru_cache(maxsize=REMEMBERED_WORDS)
def transliterate_word(word: str) -> str:
    """One word in ASCII with its romanisation variants folded."""
    folded = anyascii(word).lower().translate(_NOT_ALNUM)
    for pair, single in _CONSONANTS + _CONSONANTS_AFTER:
        folded = folded.replace(pair, single)
    folded = _DOUBLED.sub(r"\1", folded.translate(_VOWELS))
    return folded or word


@lru_cache(maxsize=REMEMBERED_WORDS)
def phonetic_word(word: str) -> str:
    """The metaphone code of a transliterated word (digits kept as they are)."""
    if word.isdigit():
        return word
    return jellyfish.metaphone(word) or word


def latin(normal: str) -> str:
    """A normal form in lower-case ASCII letters and digits, its words one space apart."""
    return " ".join(_NOT_LATIN.sub(" ", anyascii(normal).lower()).split())


def trigrams(latin_form: str) -> set[str]:
    """The letter trigrams of a Latin spelling, its words run together, with its
    start and end marked so that short names have trigrams too."""
    padded = f"^{latin_form.replace(' ', '')}$"
    return {padded[i : i + 3] for i in range(len(padded) - 2)}


def content_words(normal: str) -> list[str]:
    """The words of a normal form without medial connectors."""
    words = normal.split()
    if len(words) < 3:
        return words
    # The particles are known in Latin letters: "ан" in Cyrillic is one too.
    inner = [w for w in words[1:-1] if w not in CONNECTORS and anyascii(w) not in CONNECTORS]
    return [words[0], *inner, words[-1]]


@dataclass(frozen=True, slots=True)
class FormKeys:
    """The keys of one normal form, and its transliterated words for scoring."""

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


# A folded key of fewer letters is shared by chance (TSY and TSE, Tub and TOB
# fold together): neither the transliteration layer nor a composition looks
# one up.
MIN_FOLDED_KEY = 5

# Shorter codes lose too much with a letter gone: KRNT less one is shared by
# thousands of words.
MIN_CODE_FOR_DELETIONS = 5


def deletion_keys(code: str) -> set[str]:
    """The code and every code one letter shorter: a typo costs one letter."""
    keys = {code}
    if len(code) >= MIN_CODE_FOR_DELETIONS:
        keys.update(code[:i] + code[i + 1 :] for i in range(len(code)))
    return keys
