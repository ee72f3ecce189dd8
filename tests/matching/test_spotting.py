import pytest

from app.matching.spotting import MAX_LOOK_BACK, sentence_initial


@pytest.mark.parametrize(
    "text",
    [
        "Word here",
        "ISLAMABAD: Word here",
        "It ended. Word here",
        "It ended?\n\n“Word here",
        "he said.” (Word here",
        "A headline\nWord here",
        "• Word here",
        " " * (MAX_LOOK_BACK + 1) + "Word here",
    ],
)
def test_a_word_that_begins_a_sentence(text: str) -> None:
    assert sentence_initial(text, text.index("Word"))


@pytest.mark.parametrize(
    "text", ["the Word here", "one, Word here", "the “Word” here", "the (Word) here", "x - Word"]
)
def test_a_word_inside_a_sentence(text: str) -> None:
    assert not sentence_initial(text, text.index("Word"))
