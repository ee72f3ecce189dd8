"""How alike a mention and a surface form are: by spelling, then word by word.

A score is a calibrated similarity: the character-level similarity of the two
Latin spellings (``app.matching.keys.latin``), at its best over a few views
that forgive what does not change a name, each at a small cost: words split or
joined otherwise, words in another order ("Surname, Given names"), a slip of
one letter, and for Arabic and Hebrew script the consonants alone. Agreeing
keys (same sound, same folded spelling) add a little evidence, never enough
to lift a name that is spelt unlike the mention. Where both sides have
several words, the score can run at most WORD_SLACK ahead of the word-level
similarity below, and not at all when a telling word stands on one side only
(where the form has one word, when a word of the mention only is itself a
name in the table), so a name that differs by a word that tells entities apart
(Tehreek-e-*Labbaik* Pakistan, the *Afghan* Ministry of Foreign Affairs,
*IS*-Afghanistan) stays apart however many letters it shares.

Words are compared after transliteration (``app.matching.keys``). Each word
weighs by how well it tells entities apart, learnt from the table itself: a
word that many entities use (Tehreek, Islamic, State, Province, Ministry,
Pakistan) weighs little, a word of one entity (Taliban, Labbaik, Khorasan)
weighs much. The score is a weighted Dice coefficient: matched weight over
the weight of both sides, so a distinctive word present on one side only
counts against the match. Some one-sided words say the mention is about
another actor and cost more still, their ``penalty``: a word that is itself
the name of an entity (Afghanistan, Taliban), and in the mention, a word the
table has never seen or that only a few entities use (the Ministry of Foreign
Affairs *of Afghanistan*, the *Afghan* Ministry of Foreign Affairs).
"""

import math
import re
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Protocol

import jellyfish
import numpy as np
from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA, JaroWinkler

from app.matching.caches import LONGEST_REMEMBERED_WORD, REMEMBERED_SHORT_WORDS
from app.matching.keys import phonetic_word
from app.matching.normalize import normalize

if TYPE_CHECKING:
    from app.matching.index import AliasIndex, FormRef

SPLIT_COST = 0.02  # the same letters, words split or joined otherwise
ORDER_COST = 0.03  # the same words in another order
TYPO_COST = 0.03  # a letter changed or two swapped, counted as one
SHORT_NAME, SHORT_NAME_SCALE = 8, 0.2
CONSONANTS_COST = 0.08  # the consonants alike, for a writing without short vowels
SYLLABLE_SLACK = 0.1  # how far syllabic characters may trail their Latin spelling
_NO_VOWELS = str.maketrans("", "", "aeiou")
WORD_SLACK = 0.08

SAME_SOUND = 0.93  # words with one metaphone code: Mohammed, Muhammad
# ...spelt at least this alike: metaphone alone confuses short words (Nngbo, Neqab).
MIN_SOUND_SPELLING = 0.7
MIN_WORD_SPELLING = 0.8  # rapidfuzz's ratio of two words: one typo in a word of five letters
MIN_SPELLING_LENGTH = 4  # short words are acronyms: IS and ISI are not typos of each other
MIN_SOUND_LENGTH = 3  # ...but three letters may be one sound: Syed and Sayyid (sid, said)


def word_similarity(a: str, b: str) -> float:
    """1 for one transliterated word, less for one sound or a near spelling, else 0.

    The answers for short words are kept for the process (``caches``' notes).
    """
    if len(a) > LONGEST_REMEMBERED_WORD or len(b) > LONGEST_REMEMBERED_WORD:
        return _word_similarity(a, b)
    return _remembered_word_similarity(a, b)


def _word_similarity(a: str, b: str) -> float:
    if a == b:
        return 1.0
    if min(len(a), len(b)) < MIN_SOUND_LENGTH:
        return 0.0
    similarity = jellyfish.jaro_winkler_similarity(a, b)
    if similarity >= MIN_SOUND_SPELLING and phonetic_word(a) == phonetic_word(b):
        return SAME_SOUND
    if min(len(a), len(b)) < MIN_SPELLING_LENGTH:
        return 0.0
    if len(a) == len(b) and sorted(a) == sorted(b) and OSA.distance(a, b) == 1:
        spelling = 1 - 1 / (len(a) + len(b))  # two letters swapped: one slip, not two
    else:
        spelling = fuzz.ratio(a, b) / 100
    return spelling if spelling >= MIN_WORD_SPELLING else 0.0


_remembered_word_similarity = lru_cache(maxsize=REMEMBERED_SHORT_WORDS)(_word_similarity)


# No two words spelt less alike than this (rapidfuzz's ratio) are credited by
# their spelling: a near spelling needs MIN_WORD_SPELLING, and two letters
# swapped in the shortest word spelt alike score 1 - 1 / MIN_SPELLING_LENGTH.
_SPELT_ALIKE_FLOOR = 100 * min(MIN_WORD_SPELLING, 1 - 1 / MIN_SPELLING_LENGTH) - 1
# ...nor by their sound below this Jaro-Winkler similarity (rapidfuzz's, which
# agrees with jellyfish's to rounding; the margin makes the test safe).
_SOUND_ALIKE_FLOOR = MIN_SOUND_SPELLING - 0.01


def may_be_similar(word: str, others: Sequence[str], same_sound: Sequence[bool]) -> list[bool]:
    """For each of ``others``, whether ``word_similarity`` may credit it: spelt
    nearly alike, or of ``same_sound`` (the same metaphone code, or it may be)
    and alike enough. All are tested in two calls, so that ``word_similarity``
    need only decide between the few that pass."""
    if not others:
        return []
    near = process.cdist([word], others, scorer=fuzz.ratio, score_cutoff=_SPELT_ALIKE_FLOOR)
    sounding = process.cdist(
        [word], others, scorer=JaroWinkler.normalized_similarity, score_cutoff=_SOUND_ALIKE_FLOOR
    )
    return ((near[0] > 0) | ((sounding[0] > 0) & np.asarray(same_sound, dtype=bool))).tolist()


class Weights(Protocol):
    def weight(self, word: str) -> float: ...
    def mention_penalty(self, word: str) -> float: ...
    def form_penalty(self, word: str) -> float: ...
    def names_an_entity(self, word: str) -> bool: ...


# Words of one or two letters (initials, particles, syllables: d, da, ni) that
# the table does not know are no evidence that another actor is meant.
MIN_TELLING_LENGTH = 3
# ...nor is a short word that names something but is used by many (an, da, sul).
MIN_NAME_WORD = 4


class WordPenalties:
    """The ``Weights`` of a snapshot's words: each computed once, and kept in
    the snapshot's caches while it serves."""

    def __init__(self, index: "AliasIndex") -> None:
        # The snapshot keeps this object in its caches: a strong reference back
        # to either would make a cycle that only the garbage collector's rounds
        # free, and an old snapshot would outlive its swap.
        self._index = weakref.proxy(index)
        caches = index.caches
        self._weights, self._names = caches.weights, caches.names
        self._mention_penalties, self._form_penalties = (
            caches.mention_penalties,
            caches.form_penalties,
        )
        one_entity = index.word_weight("")  # the weight of a word no other entity uses
        self._naming = 2 * one_entity
        # Used by at most about sqrt(N) entities: distinctive, not a function word.
        self._distinctive = index.weight_of_share(math.sqrt(max(index.entity_count, 1)))

    @classmethod
    def of(cls, index: "AliasIndex") -> "WordPenalties":
        """The snapshot's own, made when first asked for."""
        caches = index.caches
        if caches.word_penalties is None:
            caches.word_penalties = cls(index)
        return caches.word_penalties

    def weight(self, word: str) -> float:
        return self._weights.remembered(word, self._index.word_weight)

    def names_an_entity(self, word: str) -> bool:
        """Whether ``word`` is itself a name in the table, and a word, not a
        syllable: in a gazetteer nearly every syllable names some place."""
        return self._names.remembered(word, self._names_an_entity)

    def _names_an_entity(self, word: str) -> bool:
        if len(word) < MIN_NAME_WORD and self.weight(word) < self._distinctive:
            return False
        return self._index.has_key("transliteration", word)

    def mention_penalty(self, word: str) -> float:
        return self._mention_penalties.remembered(word, self._mention_penalty)

    def _mention_penalty(self, word: str) -> float:
        weight = self.weight(word)
        distinctive = weight >= self._distinctive and len(word) >= MIN_TELLING_LENGTH
        telling = distinctive or self.names_an_entity(word)
        return max(weight, self._naming) if telling else weight

    def form_penalty(self, word: str) -> float:
        return self._form_penalties.remembered(word, self._form_penalty)

    def _form_penalty(self, word: str) -> float:
        weight = self.weight(word)
        return max(weight, self._naming) if self.names_an_entity(word) else weight


@dataclass(frozen=True, slots=True)
class WordAgreement:
    dice: float  # the weighted Dice similarity
    telling_word_unpaired: bool  # a word on one side only says another actor is meant
    naming_word_unpaired: bool  # a word of the mention only is itself a name in the table


def weighted_dice(
    mention: Sequence[str], mention_weights: Sequence[float], form: Sequence[str], weights: Weights
) -> WordAgreement:
    """Weighted Dice similarity of two word lists, each word aligned at most once.

    ``weights.weight`` is what a word counts when both sides have it; the
    penalties are what it costs when only the mention, or only the form, has
    it; a penalty above the weight marks a telling word.
    """
    form_weights = [weights.weight(w) for w in form]
    free = list(range(len(form)))
    matched = paired = unpaired = 0.0
    telling = naming = False
    # The heaviest words of the mention choose their partners first.
    for i in sorted(range(len(mention)), key=mention_weights.__getitem__, reverse=True):
        best, similarity = -1, 0.0
        for j in free:
            s = word_similarity(mention[i], form[j])
            if s > similarity:
                best, similarity = j, s
        if best < 0:
            penalty = weights.mention_penalty(mention[i])
            telling = telling or penalty > mention_weights[i]
            naming = naming or weights.names_an_entity(mention[i])
            unpaired += penalty
            continue
        free.remove(best)
        pair = mention_weights[i] + form_weights[best]
        matched += similarity * pair
        paired += pair
    for j in free:
        penalty = weights.form_penalty(form[j])
        telling = telling or penalty > form_weights[j]
        unpaired += penalty
    total = paired + unpaired
    return WordAgreement(matched / total if total else 0.0, telling, naming)


@dataclass(frozen=True, slots=True)
class MentionWords:
    """What scoring needs of a mention, computed once for all its candidates."""

    latin: str
    words: tuple[str, ...]  # transliterated content words
    weights: list[float]
    scorer: Weights
    abjad: bool  # written in a script without short vowels
    normal: str  # the normal form, in its own script
    syllabic: bool  # written in Han, Kana or Hangul: a character is a syllable


_ABJAD = re.compile(
    "[\u0590-\u05ff\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff\ufb1d-\ufdff\ufe70-\ufeff]"
)


_SYLLABIC = re.compile(
    "[\u1100-\u11ff\u3040-\u30ff\u3130-\u318f\u3400-\u4dbf\u4e00-\u9fff"
    "\uac00-\ud7af\uf900-\ufaff\U00020000-\U0003134f]"
)


def is_syllabic(text: str) -> bool:
    """Whether ``text`` has Han characters, Kana or Hangul, where one character is
    a syllable and one changed character makes another name (雷峰, 李峰)."""
    return _SYLLABIC.search(text) is not None


def is_abjad(text: str) -> bool:
    """Whether ``text`` has letters of Hebrew or Arabic script (Arabic, Urdu, Persian, Pashto)."""
    return _ABJAD.search(text) is not None


def spelling_similarity(latin: str, form_latin: str, *, abjad: bool = False) -> float:
    """Character-level similarity of two Latin spellings, 0 to 1, at its best
    over the views that forgive splits, word order and typos; with ``abjad``
    (one side was written in a script without short vowels: Arabic, Urdu,
    Hebrew), also over the consonants alone."""
    if not latin or not form_latin:
        return 0.0  # a writing that has no Latin spelling is compared by nothing here
    plain = fuzz.ratio(latin, form_latin)
    if plain == 100:
        return 1.0
    if abjad:
        plain = max(
            plain,
            fuzz.ratio(latin.translate(_NO_VOWELS), form_latin.translate(_NO_VOWELS))
            - 100 * CONSONANTS_COST,
        )
    best = max(plain, _typo_ratio(latin, form_latin) - 100 * TYPO_COST)
    if " " in latin or " " in form_latin:  # words to split, join or reorder
        best = max(
            best,
            fuzz.ratio(latin.replace(" ", ""), form_latin.replace(" ", "")) - 100 * SPLIT_COST,
            fuzz.token_sort_ratio(latin, form_latin) - 100 * ORDER_COST,
        )
    return best / 100


def _typo_ratio(a: str, b: str) -> float:
    """As ``fuzz.ratio``, but a changed letter or two letters swapped cost as much
    as one letter more or less (optimal string alignment distance)."""
    return 100 * (1 - OSA.distance(a, b) / (len(a) + len(b)))


def similarity(mention: MentionWords, form: "FormRef", evidence: float, ceiling: float) -> float:
    """The calibrated score of a surface form for a mention (see the module's text)."""
    abjad = mention.abjad or is_abjad(form.posting.text)
    spelling = spelling_similarity(mention.latin, form.latin, abjad=abjad)
    if spelling < 1 and mention.syllabic and is_syllabic(form.posting.text):
        # Both in syllables: their characters must be alike too, not only their sounds.
        written = fuzz.ratio(mention.normal, normalize(form.posting.text)) / 100
        spelling = min(spelling, written + SYLLABLE_SLACK)
    score = min(ceiling, spelling + evidence)
    if len(mention.words) > 1 or len(form.words) > 1:
        words = weighted_dice(mention.words, mention.weights, form.words, mention.scorer)
        if len(mention.words) > 1 and len(form.words) > 1:
            slack = 0.0 if words.telling_word_unpaired else WORD_SLACK
            score = min(score, words.dice + slack)
        elif words.naming_word_unpaired:
            # One word against several: only a word that names something else
            # ("IS-Afghanistan" for Afghanistan) makes it another name.
            score = min(score, words.dice)
    return _for_length(score, min(len(mention.latin), len(form.latin)))


def _for_length(score: float, length: int) -> float:
    """A score made to mean the same for short names: one letter in five is more
    of a name than one in twenty, so below SHORT_NAME letters each letter less
    makes the distance from a perfect score count SHORT_NAME_SCALE more."""
    stretch = 1 + SHORT_NAME_SCALE * max(0, SHORT_NAME - length)
    return max(0.0, 1 - (1 - score) * stretch)
