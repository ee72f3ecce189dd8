"""A gazetteer beside the curated table may not link common words to places.

The figures: python -m tests.gazetteer_noise [--places 5000]

The 5,000 most populous places of GeoNames' cities500 (93,140 aliases: the
lower-case alternates, district numbers and look-alikes of common words the
full table has too) keep the test to seconds. Measured: no junk link in the
2,262 words of the evaluation documents; the gate allows one.
"""

from tests.annotation_evaluation import load_documents
from tests.gazetteer_noise import combined_index, measure

PLACES = 5000
MAX_JUNK_PER_THOUSAND_WORDS = 0.5


def test_common_words_are_not_linked_to_places() -> None:
    noise = measure(combined_index(places=PLACES), load_documents())
    assert noise.words > 2000
    assert noise.per_thousand_words <= MAX_JUNK_PER_THOUSAND_WORDS, noise.junk


def test_gold_mentions_are_not_linked_to_places_of_the_gazetteer() -> None:
    # Namesakes may make a gold mention ambiguous (GeoNames' Islamabad beside
    # the curated one), never take it.
    noise = measure(combined_index(places=PLACES), load_documents())
    assert noise.misread_gold == []
