"""The words a text's writer holds common: those it writes in lower case somewhere.

A capitalised word that begins a sentence may be capitalised only by the
sentence; when the same text also writes it in lower case ("But" and "but"),
its writer holds it a common word, not a name.
"""

from itertools import compress

from app.matching.spot_form import case_mask
from app.matching.spotting import SpottedText

# Up to this many distinct words that begin sentences are looked for one by one
# in the rest of the text; more, among all its lower-case words.
MAX_WORDS_LOOKED_FOR = 16


def written_in_lower_case(spotted: SpottedText, words: set[str]) -> set[str]:
    """Those of ``words`` (normal forms) that the text writes in lower case somewhere.

    A few words are looked for one by one; more, among all the text's
    lower-case words: either way the work is linear in the text.
    """
    if len(words) > MAX_WORDS_LOOKED_FOR:
        mask = case_mask(spotted.text, spotted.spot, spotted.offsets)
        lower = compress(spotted.spot.split(" "), [w[:1] == "a" for w in mask.split(" ")])
        return words.intersection(lower)
    return {word for word in words if lower_case_occurrence(spotted, word)}


def lower_case_occurrence(spotted: SpottedText, word: str) -> bool:
    """Whether the text writes ``word`` (a normal form) in lower case at least once."""
    padded, key = spotted.padded + " ", f" {word} "
    at = padded.find(key)
    while at >= 0:
        # The word is spot[at:]: the text's character there tells its case.
        if spotted.text[spotted.offsets(at)].islower():
            return True
        at = padded.find(key, at + len(word))
    return False
