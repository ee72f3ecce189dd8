"""Seeded random texts for the differential tests of the normal and spotting forms.

Each text strings together pieces that exercise every rule of the folds:
words of many scripts, capitals, digits, combining marks, possessives and
other apostrophes, ligatures and other characters that fold to several,
punctuation, runs of white space, control and zero-width characters, and now
and then a code point drawn from a wide range.
"""

import random

WORDS = [
    *("Tehreek", "e", "s", "S", "Pakistan", "ISKP", "al", "1990", "x"),
    *("Ürümqi", "Çelebi", "İstanbul", "ŞEHİR", "Straße", "Ωmega", "Тест", "тест", "Ελλάδα"),
    *("تحریک", "طالبان", "שלום", "हिन्दी", "東京", "ไทย", "한국", "ＴＴＰ"),
]
MARKS = ["\u0301", "\u0308", "\u0327", "\u064b", "\u05b7", "\u093c", "\u20dd"]
POSSESSIVES = ["’s", "'s", "'S", "`s", "ʼs", "’", "'", "s’", "′s"]
FOLD_TO_SEVERAL = ["ﬁ", "ﬂ", "ß", "Ĳ", "ǅ", "⒈", "⑴", "Ⓐ", "…", "㎏", "½", "ﷺ"]
SEPARATORS = [" ", " ", "  ", "   ", "-", "‑", "–", "—", ", ", ". ", "/", "(", ")", "“", "”"]
CONTROLS = ["\t", "\n", "\r", "\x00", "\x7f", "\x85", "\xa0", "\u00ad", "\u200b", "\u200d"]
RARE = ["\ufeff", "\u2028", "\ud800", "😀", "•", "▼"]
PIECES = [WORDS, WORDS, WORDS, MARKS, POSSESSIVES, FOLD_TO_SEVERAL, SEPARATORS, SEPARATORS]
PIECES += [CONTROLS, RARE]
RANGES = [(0x20, 0x7F), (0xA0, 0x250), (0x370, 0x530), (0x590, 0x700), (0x900, 0x980)]
RANGES += [(0x1E00, 0x2100), (0x2100, 0x2500), (0x3000, 0x3100), (0xFB00, 0xFB50), (0xFF00, 0xFFF0)]


def random_text(seed: int) -> str:
    """A text of up to 30 pieces; one text in four is plain ASCII, the common case."""
    rng = random.Random(seed)
    ascii_only = rng.random() < 0.25
    pieces = []
    for _ in range(rng.randrange(0, 30)):
        if rng.random() < 0.1:
            low, high = rng.choice(RANGES)
            pieces.append(chr(rng.randrange(low, high)))
        else:
            pieces.append(rng.choice(rng.choice(PIECES)))
    text = "".join(pieces)
    return text.encode("ascii", "ignore").decode("ascii") if ascii_only else text
