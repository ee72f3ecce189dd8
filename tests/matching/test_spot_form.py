"""The spotting form against its definition, and what its offsets and case mask say.

``spot_form`` folds most texts in a few whole-text passes and ``case_mask``
cuts a mask of the whole text; ``spot_form_plain`` and ``case_mask_plain``
read one character at a time: slow, and plainly right. Seeded random texts
of many scripts hold each pair equal.
"""

import random

import pytest

from app.matching import spot_form as spot_form_module
from app.matching.normalize import fold_char
from app.matching.spot_form import (
    OffsetMap,
    case_mask,
    case_mask_plain,
    spot_form,
    spot_form_plain,
    spot_key,
)
from tests.matching.texts import random_text


def mapped(spot: str, offsets: OffsetMap) -> list[int]:
    """Where each character of ``spot`` came from: what an offset map means."""
    return [offsets(index) for index in range(len(spot))]


@pytest.mark.parametrize("seed", range(500))
def test_the_spot_form_of_random_texts_is_its_definition(seed: int) -> None:
    text = random_text(seed)
    spot, offsets = spot_form(text)
    plain, plain_offsets = spot_form_plain(text)
    assert spot == plain, text
    assert mapped(spot, offsets) == mapped(plain, plain_offsets), text


@pytest.mark.parametrize("seed", range(200))
def test_the_spot_key_of_random_texts_is_their_spot_form_stripped(seed: int) -> None:
    text = random_text(seed)
    assert spot_key(text) == " ".join(spot_form_plain(text)[0].split()), text


@pytest.mark.parametrize("seed", range(300))
def test_the_case_mask_of_random_texts_is_its_definition(seed: int) -> None:
    text = random_text(seed)
    spot, offsets = spot_form(text)
    assert case_mask(text, spot, offsets) == case_mask_plain(text, spot, offsets), text


def test_a_text_that_folds_to_several_keeps_its_leading_space() -> None:
    # The rare path once dropped it: " a" and " a​" spot alike.
    assert spot_form(" a​")[0] == spot_form(" a")[0] == " a"
    assert mapped(*spot_form(" a​")) == [0, 1]


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
    translated = text.translate(spot_form_module._SPOT_TABLE)
    one_to_one = spot_form_module._COMPLEX not in translated
    assert spot_form_module._translate(text) == (translated if one_to_one else None)
    expected = spot_form_module._POSSESSIVE_S.sub(" ", translated)
    assert spot_form_module._blank_possessives(translated) == expected


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
