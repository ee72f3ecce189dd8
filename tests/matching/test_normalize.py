import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.matching import normalize as normalize_module
from app.matching.normalize import case_mask, fold_char, normalize, spot_form


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Tehreek-e-Taliban Pakistan", "tehreek e taliban pakistan"),
        ("TEHREEK‑E‑TALIBAN  PAKISTAN", "tehreek e taliban pakistan"),  # non-breaking hyphens
        ("Islamic State – Khorasan Province", "islamic state khorasan province"),  # en dash
        ("Islamic State—Khorasan", "islamic state khorasan"),  # em dash
        ("Daʼish-Khorasan", "daish khorasan"),  # modifier apostrophe inside a word
        ("Da'ish", "daish"),
        ("Pakistan’s", "pakistan"),  # possessive
        ("Pakistan's foreign ministry", "pakistan foreign ministry"),
        ("“Daesh”", "daesh"),
        ("I.S.K.P.", "i s k p"),
        ("Ürümqi Çelebi", "urumqi celebi"),
        ("Khyber Pakhtunkhwa\u00a0(KP)", "khyber pakhtunkhwa kp"),
        ("e\u0301", "e"),  # combining accent
        ("Straße", "strasse"),
        ("ﬁnance", "finance"),  # ligature, NFKC
        ("ＴＴＰ", "ttp"),  # full-width
        ("zero\u200bwidth", "zerowidth"),
        ("tab\tand\nnewline", "tab and newline"),
        ("", ""),
        ("   \t ", ""),
        ("---", ""),
        ("\ud800lone", "lone"),  # a lone surrogate is dropped, not an error
        ("تحریک طالبان پاکستان", "تحریک طالبان پاکستان"),
    ],
)
def test_normal_forms(text: str, expected: str) -> None:
    assert normalize(text) == expected


def test_variants_share_one_key() -> None:
    forms = ["Daesh-Khorasan", "Daesh Khorasan", "DAESH‐KHORASAN", "daesh – khorasan"]
    assert len({normalize(f) for f in forms}) == 1


def test_distinct_names_keep_distinct_keys() -> None:
    assert normalize("US") != normalize("U.S.")
    assert normalize("Tehreek-e-Taliban Pakistan") != normalize("Tehreek-e-Labbaik Pakistan")


@pytest.mark.parametrize(
    "text",
    [
        "Pakistan’s Additional Foreign Secretary",
        "ISLAMABAD: Pakistan\u00a0and the US",
        "😀 Daesh‑Khorasan e\u0301te",
        "א ב Tehreek-i-Taliban",
        "x’s y's",
    ],
)
def test_spot_offsets_point_at_the_source_characters(text: str) -> None:
    spot, offsets = spot_form(text)
    previous = -1
    for index, char in enumerate(spot):
        assert offsets(index) >= previous
        previous = offsets(index)
        if char != " ":
            assert char in fold_char(text[offsets(index)])


def test_spot_offsets_recover_a_mention() -> None:
    text = "😀 The Tehreek‑i‑Taliban Pakistan’s leaders"
    spot, offsets = spot_form(text)
    assert spot == " the tehreek i taliban pakistan leaders"
    start = spot.index("tehreek")
    end = spot.index("pakistan") + len("pakistan")
    assert text[offsets(start) : offsets(end - 1) + 1] == "Tehreek‑i‑Taliban Pakistan"


ALPHABET = "aAsS s'’“”–—\u00a0…•▼éßﬁ\u0301\u200bاب😀İ.,-Ω"


@pytest.mark.parametrize("seed", range(200))
def test_the_fast_spotting_paths_equal_their_definitions(seed: int) -> None:
    rng = random.Random(seed)
    text = "".join(rng.choice(ALPHABET) for _ in range(rng.randrange(0, 40)))
    translated = text.translate(normalize_module._SPOT_TABLE)
    one_to_one = normalize_module._COMPLEX not in translated
    assert normalize_module._translate(text) == (translated if one_to_one else None)
    expected = normalize_module._POSSESSIVE_S.sub(" ", translated)
    assert normalize_module._blank_possessives(translated) == expected


@pytest.mark.parametrize("seed", range(200))
def test_spot_forms_map_back_to_the_characters_they_came_from(seed: int) -> None:
    rng = random.Random(seed)
    text = "".join(rng.choice(ALPHABET) for _ in range(rng.randrange(0, 40)))
    spot, offsets = spot_form(text)
    assert "  " not in spot
    for index, char in enumerate(spot):
        if char != " ":
            assert char in fold_char(text[offsets(index)])


CASED_ALPHABET = ALPHABET + "ÉŞİǅⒶ⒈TÜ1 \n"


@pytest.mark.parametrize("seed", range(200))
def test_the_case_mask_tells_the_case_of_each_spotted_character(seed: int) -> None:
    rng = random.Random(seed)
    text = "".join(rng.choice(CASED_ALPHABET) for _ in range(rng.randrange(0, 40)))
    spot, offsets = spot_form(text)
    mask = case_mask(text, spot, offsets)
    assert len(mask) == len(spot)
    for index, char in enumerate(spot):
        source = text[offsets(index)]
        if char == " ":
            expected = " "
        elif source.isupper():
            expected = "A"
        else:
            expected = "0" if source.isdigit() else "a"
        assert mask[index] == expected, (text, index)


@settings(max_examples=2000, derandomize=True)
@given(st.text())
def test_the_normal_form_of_any_text_is_its_own_normal_form(text: str) -> None:
    once = normalize(text)
    assert normalize(once) == once
