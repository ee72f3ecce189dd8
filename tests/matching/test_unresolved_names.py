"""The capitalised names a text names that no entity answers to (``Annotation.unresolved``)."""

from hypothesis import given, settings
from hypothesis import strategies as st

from app.matching.annotate import annotate, annotation
from app.matching.index import AliasIndex, EntityRecord

INDEX = AliasIndex.build(
    [
        EntityRecord("ttp", "Tehreek-e-Taliban Pakistan", "organization", ("TTP",)),
        EntityRecord("pakistan", "Pakistan", "country", ("Pakistani",)),
        EntityRecord("khawaja-asif", "Khawaja Asif", "person"),
    ]
)

PARAGRAPH = (
    "Officials met in Quetta on Monday. Zabihullah Mujahid, the spokesman, said the TTP "
    "had fighters in North Waziristan and Kunar. In March 2023 Pakistan closed the border."
)


def test_the_names_of_places_and_people_the_table_lacks_are_told_as_written() -> None:
    assert annotation(INDEX, PARAGRAPH).unresolved() == [
        "Quetta",
        "Zabihullah Mujahid",
        "North Waziristan",
        "Kunar",
    ]


def test_names_the_table_knows_are_not_told() -> None:
    assert annotation(INDEX, "Khawaja Asif spoke for Pakistan and the TTP.").unresolved() == []


def test_a_surname_the_text_named_in_full_is_not_told() -> None:
    found = annotation(INDEX, "Khawaja Asif spoke, and then Mr Asif said more.")
    assert "Asif" in [m.text for m in found.mentions]
    assert found.unresolved() == []


def test_dates_and_a_word_that_only_begins_a_sentence_are_not_told() -> None:
    text = "However, on Tuesday, May 10 and Feb 22, nothing. In March it rained. Separately"
    assert annotation(INDEX, text).unresolved() == []


def test_a_stop_ends_the_name_but_an_initial_keeps_it() -> None:
    text = "They met the U.S. Army in Khost. Zabihullah Mujahid spoke."
    assert annotation(INDEX, text).unresolved() == ["U.S. Army", "Khost", "Zabihullah Mujahid"]


def test_a_word_the_sentence_alone_capitalised_is_cut_off_the_name() -> None:
    text = "They left and then came back. Then Zabihullah Mujahid spoke. North Waziristan fell."
    assert annotation(INDEX, text).unresolved() == ["Zabihullah Mujahid", "North Waziristan"]


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet=st.sampled_from("QKabc .,\nTPZ"), max_size=80))
def test_annotation_answers_what_annotate_does_and_names_only_text_of_the_text(text: str) -> None:
    found = annotation(INDEX, text)
    assert found.mentions == annotate(INDEX, text)
    assert all(name and name in text for name in found.unresolved())
