"""The review counts a worker holds between flushes (``app.review``)."""

import random
import string

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from app import review as review_module
from app.matching.annotate import annotation
from app.matching.index import AliasIndex, EntityRecord
from app.matching.resolve import Candidate, Method
from app.models.tables import MAX_REVIEW_FORM_LENGTH, ReviewItem
from app.review import ReviewCollector

TTP = EntityRecord("ttp", "Tehreek-e-Taliban Pakistan", "organization")
AFGHAN = EntityRecord("afghan-taliban", "Afghan Taliban", "organization")


def candidate(entity: EntityRecord, score: float) -> Candidate:
    return Candidate(entity, score, entity.name, Method.FUZZY)


def random_form(rng: random.Random) -> str:
    return "".join(rng.choices(string.ascii_letters, k=12))


def stored(engine: Engine) -> dict[str, tuple[int, str]]:
    with Session(engine) as session:
        return {i.form: (i.count, i.example) for i in session.exec(select(ReviewItem))}


def test_a_flood_of_random_forms_holds_no_more_than_the_bound() -> None:
    review = ReviewCollector(max_forms=100)
    review.note("Quetta")
    rng = random.Random(10)
    for _ in range(5000):
        review.note(random_form(rng))
    review.note("Quetta")
    assert review.pending == 100
    assert review.refused == 5000 - 99
    # The forms held before the flood go on counting.
    assert [t.count for t in review.held() if t.form == "quetta"] == [2]


def test_empty_and_overlong_mentions_are_not_held() -> None:
    review = ReviewCollector()
    review.note("")
    review.note("x" * (MAX_REVIEW_FORM_LENGTH + 1))
    assert review.pending == 0


def test_spellings_of_one_form_are_gathered_with_the_most_frequent_as_the_example() -> None:
    review = ReviewCollector()
    for written in ("QUETTA", "Quetta", "Quetta", "quetta"):
        review.note(written)
    (tally,) = review.held()
    assert (tally.form, tally.example, tally.count) == ("quetta", "Quetta", 4)
    assert tally.first_seen <= tally.last_seen


def test_the_latest_candidates_known_are_kept_and_a_sighting_without_keeps_them() -> None:
    review = ReviewCollector()
    review.note("Taliban", [candidate(TTP, 1.0)])
    review.note("Taliban", [candidate(AFGHAN, 1.0), candidate(TTP, 0.9)])
    review.note("Taliban")
    (tally,) = review.held()
    assert tally.candidates == (("afghan-taliban", 1.0), ("ttp", 0.9))


def test_forms_no_alias_could_hold_are_dropped_when_gathered() -> None:
    review = ReviewCollector()
    for written in ("Kunar\x00", "--", "Khost"):
        review.note(written)
    assert [t.form for t in review.held()] == ["khost"]


def test_a_flush_adds_its_counts_to_the_stored_ones(engine: Engine) -> None:
    review = ReviewCollector()
    review.note("Quetta")
    review.note("Kunar")
    assert review.flush(engine) == 2
    review.note("quetta")
    review.note("quetta")
    assert review.flush(engine) == 1
    assert stored(engine) == {"quetta": (3, "Quetta"), "kunar": (1, "Kunar")}
    assert review.flush(engine) == 0  # nothing held: nothing written
    assert review.open_items == 2


def test_counts_a_flush_could_not_write_are_held_for_the_next(engine: Engine) -> None:
    review = ReviewCollector()
    review.note("Quetta")
    with engine.begin() as connection:
        connection.exec_driver_sql("ALTER TABLE review_item RENAME TO review_item_away")
    with pytest.raises(Exception, match="review_item"):
        review.flush(engine)
    review.note("Quetta")
    with engine.begin() as connection:
        connection.exec_driver_sql("ALTER TABLE review_item_away RENAME TO review_item")
    review.flush(engine)
    assert stored(engine) == {"quetta": (2, "Quetta")}


def test_annotated_text_waits_for_the_flush_within_its_bound(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    index = AliasIndex.build([TTP])
    text = "Officials in Quetta said so. "
    monkeypatch.setattr(review_module, "MAX_HELD_CHARACTERS", 2 * len(text))
    review = ReviewCollector()
    for _ in range(3):
        review.note_annotation(annotation(index, text))
    assert review.pending == 0  # nothing told yet: that waits for the flush
    assert review.refused_texts == 1
    assert [(t.form, t.count) for t in review.held()] == [("quetta", 2)]
    review.note_annotation(annotation(index, text))  # room again after the texts were told
    assert review.refused_texts == 1


def test_the_open_count_is_read_again_only_once_older_than_its_max_age(engine: Engine) -> None:
    review = ReviewCollector()
    assert review.open_count(engine, max_age=3600) == 0
    elsewhere = ReviewCollector()  # another worker's flush
    elsewhere.note("Quetta")
    elsewhere.flush(engine)
    assert review.open_count(engine, max_age=3600) == 0  # the count read a moment ago
    assert review.open_count(engine, max_age=0) == 1
    review.note("Kunar")
    review.flush(engine)  # a flush counts the open forms as it writes
    assert review.open_count(engine, max_age=3600) == 2
