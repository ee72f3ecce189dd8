"""Completing names as they are typed (the suggest service's engine)."""

import pytest

from app.matching import completion
from app.matching.completion import completions, ready, suggest, typed_prefix
from app.matching.index import AliasIndex, EntityRecord

ENTITIES = [
    EntityRecord(
        "iskp",
        "Islamic State – Khorasan Province",
        "organization",
        ("ISKP", "Daesh-Khorasan", "IS-K"),
    ),
    EntityRecord("islamabad", "Islamabad", "location", ("Islāmābād", "ISB"), prominence=1e6),
    EntityRecord("islamkot", "Islamkot", "location", (), prominence=1e4),
    EntityRecord("islam-qala", "Islam Qala", "location", ()),
    EntityRecord("karachi", "Karachi", "location", ("Karāchi", "کراچی"), prominence=1.6e7),
    EntityRecord("khost", "Khost", "location", ()),
]


def ids(found: list) -> list[str]:
    return [s.entity.id for s in found]


def test_a_prefix_completes_names_and_aliases_whatever_their_case_and_accents() -> None:
    index = AliasIndex.build(ENTITIES)
    assert ids(suggest(index, "KARA")) == ["karachi"]
    assert ids(suggest(index, "karā")) == ["karachi"]
    assert ids(suggest(index, "کرا")) == ["karachi"]
    assert ids(suggest(index, "daesh")) == ["iskp"]


def test_a_whole_name_starting_with_the_prefix_comes_before_a_word_inside_one() -> None:
    index = AliasIndex.build(ENTITIES)
    # "Khost" starts with "kho"; ISKP only has a word that does.
    assert ids(suggest(index, "kho")) == ["khost", "iskp"]


def test_among_names_alike_the_more_prominent_then_the_shorter_comes_first() -> None:
    index = AliasIndex.build(ENTITIES)
    found = ids(suggest(index, "isla"))
    assert found[:3] == ["islamabad", "islamkot", "islam-qala"]
    assert found[-1] == "iskp"


def test_a_name_that_is_exactly_the_prefix_comes_first() -> None:
    index = AliasIndex.build(ENTITIES)
    (first, *_) = suggest(index, "islam qala")
    assert (first.entity.id, first.tier) == ("islam-qala", 0)


def test_each_entity_is_suggested_once_however_many_of_its_forms_complete() -> None:
    index = AliasIndex.build(ENTITIES)
    found = ids(suggest(index, "is"))
    assert len(found) == len(set(found))
    assert {"iskp", "islamabad"} <= set(found)


def test_a_limit_and_a_type_filter_are_kept() -> None:
    index = AliasIndex.build(ENTITIES)
    assert len(suggest(index, "is", limit=2)) == 2
    assert ids(suggest(index, "is", types=frozenset({"organization"}))) == ["iskp"]


def test_a_trailing_space_asks_for_a_further_word() -> None:
    assert typed_prefix("Islam ") == "islam "
    index = AliasIndex.build(ENTITIES)
    assert ids(suggest(index, "Islam ")) == ["islam-qala"]


def test_nothing_typed_or_nothing_completing_suggests_nothing() -> None:
    index = AliasIndex.build(ENTITIES)
    assert suggest(index, "  - ") == []
    assert suggest(index, "zzz") == []


def test_edits_are_completed_at_once_and_the_base_order_is_shared() -> None:
    index = AliasIndex.build(ENTITIES)
    base = completions(index).base
    edited = index.with_changes(
        [EntityRecord("khost", "Khost", "location", ("Khowst", "Matun"))], removed=["karachi"]
    )
    assert not ready(edited)
    assert ids(suggest(edited, "matun")) == ["khost"]
    assert suggest(edited, "kara") == []
    assert ids(suggest(edited, "kho")) == ["khost", "iskp"]
    assert ready(edited)
    assert completions(edited).base is base


# Thirty towns of one name, added from the least prominent to the most, and a
# longer name more prominent than any of them.
NAMESAKES = [
    *(
        EntityRecord(f"springfield-{n}", "Springfield", "location", (), prominence=float(n))
        for n in range(30)
    ),
    EntityRecord("armory", "Springfield Armory", "organization", (), prominence=1e9),
]


def prominence(found: list) -> list[float]:
    return [s.entity.prominence for s in found]


def test_namesakes_equal_to_the_prefix_come_most_prominent_first_whatever_their_order() -> None:
    index = AliasIndex.build(NAMESAKES)
    assert prominence(suggest(index, "Springfield", limit=5)) == [29, 28, 27, 26, 25]
    next_page = suggest(index, "Springfield", limit=10)[5:]
    assert prominence(next_page) == [24, 23, 22, 21, 20]
    everyone = suggest(index, "Springfield", limit=31)
    assert prominence(everyone[:30]) == sorted(range(30), reverse=True)
    assert everyone[-1].entity.id == "armory"  # starts with it, but is not it


def test_namesakes_are_ranked_alike_in_a_long_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(completion, "LONG_RUN", 10)
    index = AliasIndex.build(NAMESAKES)
    assert prominence(suggest(index, "Springfield", limit=5)) == [29, 28, 27, 26, 25]
    assert prominence(suggest(index, "Springfield", limit=10)[5:]) == [24, 23, 22, 21, 20]
    assert ids(suggest(index, "Spr", limit=2)) == ["armory", "springfield-29"]
    assert prominence(suggest(index, "Spr", limit=4)[2:]) == [28, 27]


def test_an_entity_s_record_is_made_once_however_many_of_its_forms_complete(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each completing form made its entity's record: 10,000 aliases of 500
    characters, too large for the record cache, took 36 s to suggest."""
    many = EntityRecord("omega", "Omega", "group", tuple(f"Omega {i:04d}" for i in range(300)))
    index = AliasIndex.build([many, EntityRecord("omegaville", "Omegaville", "city")])
    made: list[str] = []
    entity_table = type(index.base.entities)
    record_of = entity_table.__getitem__
    monkeypatch.setattr(
        entity_table, "__getitem__", lambda table, i: made.append(i) or record_of(table, i)
    )
    assert ids(suggest(index, "omega", limit=5)) == ["omega", "omegaville"]
    assert sorted(made) == ["omega", "omegaville"]
