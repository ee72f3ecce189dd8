"""The spotting loop against a plain reading of its definition.

``_segment_hits`` maps offsets inline and decides the case of most keys
without asking their forms; ``plain_segment_hits`` maps each hit through the
offset map and asks every form's case rule. Random texts of the shipped
table's names, in varied case, among noise words and sentence starts, and the
seed articles, must give both the same hits, in a base segment with hidden
entities and in the overlay alike.
"""

import random
from pathlib import Path

import pytest

from app.matching import spotting
from app.matching.index import AliasIndex, EntityRecord
from app.matching.spotting import (
    Hit,
    SpottedText,
    _segment_hits,
    dictionary_hits,
    plain_segment_hits,
    prepare,
    sentence_initial,
)
from app.matching.spotting_keys import form_ids
from benchmarks.annotate import shipped_entities

SEEDS = sorted((Path(__file__).parent.parent / "data" / "seeds").glob("*.txt"))
# What the shipped table lacks: forms in lower case (a gazetteer's "as"), an
# editor's case rules, forms never found in text, other scripts.
MORE = [
    EntityRecord("asse", "Asse", "town", ("as",)),
    EntityRecord("hue", "Huế", "city", ("we", "Hue")),
    EntityRecord("dawn", "Dawn", "media", ("DAWN", "dawn news"), (("DAWN", True), ("Dawn", False))),
    EntityRecord("d10", "10", "district", ("District 10", "۱۰")),
    EntityRecord("march", "March", "town", ("march",)),
    EntityRecord("kor", "Кореновск", "city", ("Korenovsk",)),
]
# Edited after the base was built: their base forms are hidden, the overlay has them.
EDITED = [
    EntityRecord("ttp", "Tehreek-e-Taliban Pakistan", "organization", ("TTP", "ttp", "Tehrik")),
    EntityRecord("asse", "Asse", "town", ("as", "Asse town")),
]
NOISE = [
    *("as", "As", "AS", "we", "We", "the", "The", "us", "US", "Us", "of", "e", "and", "said"),
    *("march", "March", "dawn", "Dawn", "10", "۱۰", "Ünder", "тест", "İstanbul", "ﬁne", "Da'ish"),
]
SEPARATORS = [" ", " ", " ", ". ", "\n", ", ", " (", ") ", "-", "  ", "’s ", ": ", "\xa0"]
SEPARATORS += ['"', "? ", "• ", "", "'s "]
WORD_SPACES = [" ", " ", "  ", "\xa0 ", " \t"]
CASES = [str, str, str.lower, str.upper, str.title, str.swapcase]


def index_with_edits() -> AliasIndex:
    built = AliasIndex.build([*shipped_entities(), *MORE])
    return built.with_changes(EDITED, removed=["islamic-state"])


INDEX = index_with_edits()
NAMES = [form for entity in INDEX.entities() for form in (entity.name, *entity.aliases)]


def random_text(seed: int) -> str:
    rng = random.Random(seed)
    pieces = []
    for _ in range(rng.randrange(1, 30)):
        word = rng.choice(NAMES) if rng.random() < 0.5 else rng.choice(NOISE)
        word = word.replace(" ", rng.choice(WORD_SPACES))
        pieces.append(rng.choice(CASES)(word) + rng.choice(SEPARATORS))
    return "".join(pieces)


def comparable(hits: list[Hit]) -> list[tuple[int, int, str, int, tuple[int, ...]]]:
    """The hits with their forms as a tuple, however many they are."""
    return [(h.start, h.end, h.text, id(h.segment), form_ids(h.forms)) for h in hits]


def assert_same_hits(text: SpottedText) -> None:
    for segment, hidden in INDEX.spotting_segments():
        served = _segment_hits(segment, hidden, text)
        assert comparable(served) == comparable(plain_segment_hits(segment, hidden, text))


def test_the_index_has_a_base_with_hidden_entities_and_an_overlay() -> None:
    segments = dict((id(segment), hidden) for segment, hidden in INDEX.spotting_segments())
    assert len(segments) == 2 and {"ttp", "asse", "islamic-state"} in map(set, segments.values())


@pytest.mark.parametrize("seed", range(500))
def test_the_hits_of_random_texts(seed: int) -> None:
    assert_same_hits(prepare(random_text(seed)))


@pytest.mark.parametrize("path", SEEDS, ids=lambda path: path.stem)
def test_the_hits_of_the_seed_articles(path: Path) -> None:
    text = prepare(path.read_text(encoding="utf-8"))
    assert dictionary_hits(INDEX, text)
    assert_same_hits(text)


def test_the_random_texts_meet_each_way_a_hit_is_kept_or_dropped(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Hits in the overlay; in the base, hits of entities hidden there; keys of
    forms in lower case at a sentence's start and elsewhere; keys in which the
    spot form cut spaces."""
    (base, hidden), (overlay, _) = INDEX.spotting_segments()
    texts = [prepare(random_text(seed)) for seed in range(500)]
    assert any(_segment_hits(overlay, frozenset(), text) for text in texts)
    assert any(
        len(_segment_hits(base, frozenset(), text)) > len(_segment_hits(base, hidden, text))
        for text in texts
    )
    asked = []

    def recorded(text: str, start: int) -> bool:
        asked.append(sentence_initial(text, start))
        return asked[-1]

    monkeypatch.setattr(spotting, "sentence_initial", recorded)
    served = [hit for text in texts for hit in dictionary_hits(INDEX, text)]
    assert True in asked and False in asked
    assert any("  " in hit.text or "\xa0" in hit.text for hit in served)
