import random

import pytest

from app.matching.index import (
    LENGTH_BAND,
    MAX_PROPOSED_WORDS,
    AliasIndex,
    EntityRecord,
)
from app.matching.keys import deletion_keys, phonetic_word, trigrams
from app.matching.normalize import normalize
from app.matching.scoring import word_similarity

TTP = EntityRecord(
    "ttp", "Tehreek-e-Taliban Pakistan", "organization", ("TTP", "Pakistani Taliban")
)
TLP = EntityRecord("tlp", "Tehreek-e-Labbaik Pakistan", "organization", ("TLP",))


def ids(index: AliasIndex, text: str) -> list[str]:
    return [p.entity_id for p in index.lookup("exact", normalize(text))]


def test_name_and_aliases_are_indexed_under_their_normal_form() -> None:
    index = AliasIndex.build([TTP, TLP])
    assert ids(index, "tehreek e taliban pakistan") == ["ttp"]
    assert ids(index, "Pakistani-Taliban") == ["ttp"]
    assert ids(index, "TLP") == ["tlp"]
    assert ids(index, "Taliban") == []
    assert (index.entity_count, index.alias_count) == (2, 3)


def test_changes_make_a_new_snapshot_and_leave_the_old_one_alone() -> None:
    old = AliasIndex.build([TTP, TLP])
    renamed = EntityRecord("ttp", "TTP group", "organization", ("Tehrik-i-Taliban",))
    new = old.with_changes([renamed], removed=["tlp"])
    assert ids(new, "Tehrik-i-Taliban") == ["ttp"]
    assert ids(new, "Pakistani Taliban") == []
    assert ids(new, "TLP") == []
    assert new.entity("tlp") is None
    assert new.entity("ttp") == renamed
    assert (new.entity_count, new.alias_count) == (1, 1)
    # The old snapshot is untouched.
    assert ids(old, "Pakistani Taliban") == ["ttp"]
    assert ids(old, "TLP") == ["tlp"]


def test_successive_changes_accumulate_in_the_overlay() -> None:
    index = AliasIndex.build([TTP])
    index = index.with_changes([TLP])
    index = index.with_changes([EntityRecord("x", "Xyz", "thing")])
    assert sorted(e.id for e in index.entities()) == ["tlp", "ttp", "x"]
    index = index.with_changes([], removed=["tlp"])
    assert sorted(e.id for e in index.entities()) == ["ttp", "x"]
    assert index.overlay_size == 1


def test_alike_words_are_those_word_similarity_credits() -> None:
    rng = random.Random(3)
    # Words of few letters and sounds, so that many share a metaphone code.
    words = {
        "".join(rng.choice("aeioubdkmnst") for _ in range(rng.randrange(3, 9))) for _ in range(3000)
    }
    places = [EntityRecord(f"p{i}", word.title(), "city") for i, word in enumerate(sorted(words))]
    segment = AliasIndex.build(places).base
    checked = 0
    for word in segment.words[::10]:  # as the table spells them: transliterated
        code = phonetic_word(word)
        proposed = {w for key in deletion_keys(code) for w in segment.block(key)}
        if len(proposed) > MAX_PROPOSED_WORDS:
            proposed = set(segment.block(code))
        credited = {w for w in proposed if word_similarity(word, segment.words[w]) not in (0, 1)}
        assert set(segment.similar_words(word)) == credited | {segment.vocabulary[word]}
        checked += len(credited)
    assert checked > 100  # the words were alike enough to test something


def test_trigram_postings_are_each_spellings_trigrams_in_its_length_band() -> None:
    spaced = EntityRecord("hw", "Hai Wu Mu", "place", ("海屋木", "A", "Ab", "Aaaa aaaa", "!!"))
    segment = AliasIndex.build([TTP, TLP, spaced]).base
    expected: dict[tuple[str, int], list[int]] = {}
    for form_id in range(segment.form_count):
        spelling = segment.spelling(form_id)
        band = len(spelling.replace(" ", "")) // LENGTH_BAND
        for gram in sorted(trigrams(spelling)):
            expected.setdefault((gram, band), []).append(form_id)
    filed = {}
    for number, code in enumerate(segment.trigram_codes.tolist()):
        gram = "".join(chr(code >> shift & 0xFF) for shift in (16, 8, 0))
        start, end = segment.trigram_starts[number : number + 2].tolist()
        filed[gram, code >> 24] = segment.trigram_form_ids[start:end].tolist()
    assert filed == {key: sorted(forms) for key, forms in expected.items()}
    assert ("^a$", 0) in filed and ("hai", 2) in filed


def test_has_key_finds_keys_of_the_base_and_of_the_overlay() -> None:
    base = AliasIndex.build([TTP])
    index = base.with_changes([TLP], removed=["ttp"])
    # A hidden entity's keys still count (the docstring's promise), as do the overlay's.
    assert index.has_key("exact", normalize("Pakistani Taliban"))
    assert index.has_key("exact", normalize("TLP"))
    assert not base.has_key("exact", normalize("TLP"))
    assert not index.has_key("exact", normalize("Lashkar"))


def test_two_keys_sharing_a_digest_make_no_exact_or_compact_match(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from app.matching import index as index_module
    from app.matching import keys as keys_module

    real = keys_module.digest
    shared = {"lahore", "karachi"}  # one digest for both, in every layer they key

    def colliding(key: str) -> int:
        return 42 if key in shared else real(key)

    monkeypatch.setattr(index_module, "digest", colliding)
    built = AliasIndex.build([EntityRecord("lhr", "Lahore", "city")])
    assert [p.entity_id for p in built.lookup("exact", "lahore")] == ["lhr"]
    assert built.lookup("exact", "karachi") == []
    assert built.lookup("compact", "karachi") == []
    # The other layers find it: their hits are scored, not taken as matches.
    assert built.base.keys["exact"].forms("karachi") == built.base.keys["exact"].forms("lahore")
