import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app import normal_forms
from app.matching.normalize import form_key, normalize, normalize_plain
from tests.matching.texts import random_text


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


@pytest.mark.parametrize("seed", range(300))
def test_the_normal_form_of_random_texts_is_its_definition(seed: int) -> None:
    text = random_text(seed)
    assert normalize(text) == normalize_plain(text), text


@settings(max_examples=2000, derandomize=True)
@given(st.text())
def test_the_normal_form_of_any_text_is_its_own_normal_form(text: str) -> None:
    once = normalize(text)
    assert normalize(once) == once


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("TTP", "ttp"),
        ("T-T-P", "ttp"),
        ("T.T.P.", "ttp"),
        ("Washington, D.C.", "washington d c"),
        ("Pakistan's", "pakistan"),
        ("", ""),
    ],
)
def test_the_form_key_of_a_text_remembered_is_the_engines(text: str, expected: str) -> None:
    assert normal_forms.form_key(text) == form_key(text) == expected


@given(st.text())
def test_the_form_key_of_any_text_remembered_is_the_engines(text: str) -> None:
    assert normal_forms.form_key(text) == form_key(text)
