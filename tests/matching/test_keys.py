"""The keys of a form (app.matching.keys): the build's FormKeyMaker and form_keys agree."""

import gc
import random
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.aliasfile import parse_alias_file
from app.matching import keys
from app.matching.index import AliasIndex, EntityRecord
from app.matching.keys import (
    CONNECTORS,
    FormKeyMaker,
    block_digests,
    deletion_keys,
    digest,
    digests,
    form_keys,
    phonetic_code,
    phonetic_word,
)
from app.matching.normalize import normalize
from app.resources import SHIPPED_ALIASES_FILE

SEEDS = sorted((Path(__file__).parent.parent / "data" / "seeds").glob("*.txt"))

# Pieces of names in the scripts and shapes a table holds.
LATIN = ["Tehreek", "Taliban", "Khawaja", "Muhammad", "São", "Łódź", "Ørsted", "Straße", "McAllen"]
ARABIC = ["تحریک", "طالبان", "الدولة", "الإسلامية", "جبهة", "النصرة", "پاکستان"]
CYRILLIC = ["Кореновск", "Санкт", "Петербург", "ан", "Ал", "Ёлкино", "Щёлково"]
CJK = ["海屋木", "雷峰", "東京", "서울", "とうきょう", "北京市"]
OTHER = ["मुंबई", "Αθήνα", "ירושלים", "ᏣᎳᎩ", "ﷺ", "Ⅻ", "⒈", "ﬁ", "𝔄𝔅"]
# Letters that anyascii writes as marks: a word with no Latin spelling, or with two.
NO_LATIN = ["ʔ", "ʕ", "ʭʭ", "Saʕdah", "ɂaɂ"]
MARKS = ["'s", "’", "ʿ", "-", "‑", ".", ",", "/", " ", "  ", "\u200b", "&", "(", ")"]
DIGITS = ["10", "2nd", "٣", "１２", "0"]


def made_up_word(rng: random.Random) -> str:
    letters = rng.choice(["abcdefghijklmnopqrstuvwxyz", "khghphthdhqckw", "eeyyoouu", "ạčđėğıœšž"])
    word = "".join(rng.choice(letters) for _ in range(rng.randint(1, 9)))
    return word.capitalize() if rng.random() < 0.5 else word.upper()


def name(rng: random.Random) -> str:
    """A name of one to six words, any mixture of the above, with marks between or inside."""
    sources = [LATIN, ARABIC, CYRILLIC, CJK, OTHER, NO_LATIN, DIGITS, sorted(CONNECTORS)]
    words = []
    for _ in range(rng.randint(1, 6)):
        word = made_up_word(rng) if rng.random() < 0.3 else rng.choice(rng.choice(sources))
        if rng.random() < 0.2:
            word = rng.choice(MARKS).join([word, rng.choice(rng.choice(sources))])
        words.append(word)
    return "".join(w + rng.choice([" ", " ", " ", "-", " ' ", ", "]) for w in words).strip()


def shipped_and_seed_texts() -> list[str]:
    """The shipped table's names and aliases, and the seed articles' lines and
    runs of one to four words, each as written, punctuation included."""
    table = parse_alias_file(SHIPPED_ALIASES_FILE.read_bytes())
    texts = [text for e in table.entities for text in (e.name, *(a.text for a in e.aliases))]
    for path in SEEDS:
        for line in path.read_text(encoding="utf-8").splitlines():
            words = line.split()
            texts.append(line)
            texts += [" ".join(words[i : i + n]) for n in range(1, 5) for i in range(len(words))]
    return texts


def disagreements(texts: list[str], maker: FormKeyMaker) -> list[tuple[str, object, object]]:
    return [
        (text, made, form_keys(text))
        for text in texts
        if (made := maker.keys(text)) != form_keys(text)
    ]


@pytest.mark.parametrize("seed", range(3))
def test_the_maker_keys_every_kind_of_name_as_form_keys_does(seed: int) -> None:
    rng = random.Random(seed)
    names = [name(rng) for _ in range(3000)]
    normals = [normalize(n) for n in names]
    assert len({n for n in normals if len(n.split()) >= 3}) > 1000
    maker = FormKeyMaker()  # one maker: its words learnt from one form serve the next
    assert disagreements(normals, maker) == []


def test_the_maker_agrees_on_the_shipped_table_and_the_seed_articles() -> None:
    texts = shipped_and_seed_texts()
    assert len(texts) > 8000
    assert disagreements([normalize(t) for t in texts], FormKeyMaker()) == []


def test_the_maker_agrees_once_it_has_forgotten_words(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(keys, "REMEMBERED_WORDS", 7)
    rng = random.Random(4)
    assert disagreements([normalize(name(rng)) for _ in range(500)], FormKeyMaker()) == []


def test_the_maker_drops_connectors_only_between_words() -> None:
    made = FormKeyMaker().keys(normalize("Tehreek-e-Taliban Pakistan"))
    assert made.words == ("tihrik", "taliban", "pakistan")
    assert made.phonetic == "TRK TLBN PKSTN"
    assert made.latin == "tehreek e taliban pakistan"
    assert FormKeyMaker().keys("ul").words == ("ul",)


@settings(max_examples=1000, derandomize=True)
@given(st.text(max_size=40))
def test_the_maker_agrees_on_any_text(text: str) -> None:
    # Normal forms, and any other string too: those take form_keys' own way.
    maker = FormKeyMaker()
    assert maker.keys(normalize(text)) == form_keys(normalize(text))
    assert maker.keys(text) == form_keys(text)


def test_a_build_keeps_no_maker() -> None:
    index = AliasIndex.build([EntityRecord("ttp", "Tehreek-e-Taliban Pakistan", "organization")])
    gc.collect()
    assert index.lookup("exact", "tehreek e taliban pakistan")
    assert not [o for o in gc.get_objects() if isinstance(o, FormKeyMaker)]


@pytest.mark.parametrize(
    "word", ["", "t", "trk", "tihrik", "talibaan", "karachi", "12", "khurasan"]
)
def test_a_words_blocks_are_the_digests_of_its_code_and_of_those_one_letter_shorter(
    word: str,
) -> None:
    code = phonetic_code(word)
    assert code == phonetic_word(word)
    assert sorted(block_digests(code)) == sorted(digest(key) for key in deletion_keys(code))
    assert digests([word, code]) == [digest(word), digest(code)]
