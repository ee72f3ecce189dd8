"""How alike a mention and a surface form are, word by word.

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

from collections.abc import Sequence
from functools import lru_cache
from typing import Protocol

import jellyfish

from app.matching.keys import phonetic_word

SAME_SOUND = 0.93  # words with one metaphone code: Mohammed, Muhammad
# ...spelt at least this alike: metaphone alone confuses short words (Nngbo, Neqab).
MIN_SOUND_SPELLING = 0.7
SPELLING_SCALE = 0.95  # a Jaro-Winkler match counts a little less than a sound match
MIN_SPELLING_SIMILARITY = 0.85
MIN_SPELLING_LENGTH = 4  # short words are acronyms: IS and ISI are not typos of each other


@lru_cache(maxsize=1 << 16)
def word_similarity(a: str, b: str) -> float:
    """1 for one transliterated word, less for one sound or a near spelling, else 0."""
    if a == b:
        return 1.0
    if min(len(a), len(b)) < MIN_SPELLING_LENGTH:
        return 0.0
    similarity = jellyfish.jaro_winkler_similarity(a, b)
    if similarity >= MIN_SOUND_SPELLING and phonetic_word(a) == phonetic_word(b):
        return SAME_SOUND
    return similarity * SPELLING_SCALE if similarity >= MIN_SPELLING_SIMILARITY else 0.0


class Weights(Protocol):
    def weight(self, word: str) -> float: ...
    def mention_penalty(self, word: str) -> float: ...
    def form_penalty(self, word: str) -> float: ...


def weighted_dice(
    mention: Sequence[str], mention_weights: Sequence[float], form: Sequence[str], weights: Weights
) -> float:
    """Weighted Dice similarity of two word lists, each word aligned at most once.

    ``weights.weight`` is what a word counts when both sides have it; the
    penalties are what it costs when only the mention, or only the form, has it.
    """
    form_weights = [weights.weight(w) for w in form]
    free = list(range(len(form)))
    matched = paired = unpaired = 0.0
    # The heaviest words of the mention choose their partners first.
    for i in sorted(range(len(mention)), key=mention_weights.__getitem__, reverse=True):
        best, similarity = -1, 0.0
        for j in free:
            s = word_similarity(mention[i], form[j])
            if s > similarity:
                best, similarity = j, s
        if best < 0:
            unpaired += weights.mention_penalty(mention[i])
            continue
        free.remove(best)
        pair = mention_weights[i] + form_weights[best]
        matched += similarity * pair
        paired += pair
    unpaired += sum(weights.form_penalty(form[j]) for j in free)
    total = paired + unpaired
    return matched / total if total else 0.0
