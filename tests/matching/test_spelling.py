"""Approximate matching by spelling: the Latin spelling, trigram candidates and
calibrated scores (app.matching.keys, index, scoring)."""

import random
import string

import pytest
from rapidfuzz import fuzz

from app.matching.index import AliasIndex, EntityRecord
from app.matching.keys import latin, trigrams
from app.matching.normalize import normalize
from app.matching.resolve import Status, resolve, scored_entity_ids

PEOPLE_AND_PLACES = AliasIndex.build(
    [
        EntityRecord("kangaleu", "Kangaleu", "city"),
        EntityRecord("haiwumu", "海屋木", "city"),
        EntityRecord("korenovsk", "Korenovsk", "city", ("Кореновск",)),
        EntityRecord("ttp", "Tehreek-e-Taliban Pakistan", "organization", ("TTP",)),
        EntityRecord("ned-price", "Ned Price", "person"),
        EntityRecord("khawaja-asif", "Khawaja Muhammad Asif", "person", ("Khawaja Asif",)),
        EntityRecord("maria", "María Fernanda Peña Ortiz", "person"),
        EntityRecord("lei-feng", "雷峰", "person"),
        EntityRecord("kavar", "Kavar", "city"),
        EntityRecord("tatas", "Tatas", "city"),
        EntityRecord("tudes", "Tudes", "city"),
        EntityRecord("teodos", "Teodos", "city"),
    ]
)


def matched(query: str) -> str | None:
    result = resolve(PEOPLE_AND_PLACES, query)
    return result.entity.id if result.status is Status.MATCHED and result.entity else None


def test_the_latin_spelling_transliterates_every_script_and_keeps_words_apart() -> None:
    assert latin(normalize("Кореновск")) == "korenovsk"
    assert latin(normalize("海屋木")) == "haiwumu"
    assert latin(normalize("Kang-Aleu")) == "kang aleu"


def test_trigrams_run_words_together_and_mark_both_ends() -> None:
    assert trigrams("kang aleu") == trigrams("kangaleu")
    assert trigrams("ab") == {"^ab", "ab$"}


@pytest.mark.parametrize(
    ("query", "entity"),
    [
        ("Kang-Aleu", "kangaleu"),  # words split otherwise
        ("Kangalau", "kangaleu"),  # another vowel
        ("hai wu mu", "haiwumu"),  # syllables, for a name stored in Han characters
        ("Korenovsk", "korenovsk"),
        ("Pakistan, Tehreek-e-Taliban", "ttp"),  # another word order
        ("Price, Ned", "ned-price"),  # "Surname, Given names"
        ("Asif, Khawaja Muhammad", "khawaja-asif"),
        ("María Fernanda Peña Ortíc", "maria"),  # one slip in one word of a long name
        ("Tehreek-e-Taliban Pakistn", "ttp"),
        ("تحریک طالبان پاکستان", "ttp"),  # Urdu: no short vowels in its Latin spelling
    ],
)
def test_spellings_nobody_curated_are_reached_and_matched(query: str, entity: str) -> None:
    assert entity in scored_entity_ids(PEOPLE_AND_PLACES, query)
    assert matched(query) == entity


@pytest.mark.parametrize(
    "query",
    [
        "Ned Pricewell",  # a longer surname is another name
        "Khawaja Asifullah",
        "李峰",  # one syllable of two changed: another person
        "KVR",  # a consonant skeleton is no name (Kavar by sound)
        "Khwr",
    ],
)
def test_names_that_only_look_or_sound_alike_are_not_matched(query: str) -> None:
    assert matched(query) is None


def test_a_short_name_that_sounds_like_three_places_is_near_none() -> None:
    result = resolve(PEOPLE_AND_PLACES, "Totis")  # TTS, as Tatas, Tudes and Teodos
    assert result.status is Status.UNMATCHED
    assert all(c.score < 0.85 for c in result.candidates)


def test_one_changed_letter_costs_a_short_name_more_than_a_long_one() -> None:
    short = resolve(PEOPLE_AND_PLACES, "Kavor").score  # 1 letter in 5
    long = resolve(PEOPLE_AND_PLACES, "Korenovsc").score  # 1 letter in 9
    assert short < long


def test_candidates_reach_what_a_brute_force_scan_finds() -> None:
    """For random names and random slips in them, the entity of the form a
    scan over every Latin spelling ranks best (ratio >= 85) is always among
    the entities scored."""
    rng = random.Random(20261202)
    names = {
        "".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(4, 14)))
        for _ in range(3000)
    }
    entities = [EntityRecord(f"e{i}", name.title(), "x") for i, name in enumerate(sorted(names))]
    index = AliasIndex.build(entities)
    spellings = [(latin(normalize(e.name)), e.id) for e in entities]
    reached = compared = 0
    for entity in rng.sample(entities, 300):
        query = _slip(entity.name, rng)
        scores = [(fuzz.ratio(latin(normalize(query)), s), e) for s, e in spellings]
        best = max(score for score, _ in scores)
        if best < 85:
            continue
        compared += 1
        reached += bool({e for s, e in scores if s == best} & scored_entity_ids(index, query))
    assert compared > 100
    assert reached / compared >= 0.99


def _slip(name: str, rng: random.Random) -> str:
    i = rng.randrange(1, len(name) - 1)
    return rng.choice(
        (
            name[:i] + name[i + 1 :],
            name[:i] + rng.choice(string.ascii_lowercase) + name[i + 1 :],
            name[:i] + name[i] + name[i:],
            name[:i] + " " + name[i:],
        )
    )
