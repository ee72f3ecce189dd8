from app.matching.index import AliasIndex, EntityRecord
from app.matching.type_names import closest, did_you_mean

TYPES = ["agreement", "city", "country", "event", "government-body", "organization", "person"]


def test_a_near_spelling_suggests_the_known_type() -> None:
    assert closest("organisation", TYPES) == "organization"
    assert closest("goverment-body", TYPES) == "government-body"
    assert closest("Persons", TYPES) == "person"
    assert closest("ORGANIZATION", TYPES) == "organization"


def test_a_name_far_from_every_type_suggests_nothing() -> None:
    assert closest("org", TYPES) is None
    assert closest("weapon", TYPES) is None
    assert closest("organisation", []) is None


def test_the_suggestion_reads_as_a_question() -> None:
    assert did_you_mean("citi", TYPES) == "; did you mean 'city'?"
    assert did_you_mean("weapon", TYPES) == ""


def kabul(entity_type: str) -> EntityRecord:
    return EntityRecord(id="kabul", name="Kabul", type=entity_type)


def test_the_types_in_use_follow_the_edits_of_a_snapshot() -> None:
    index = AliasIndex.build([kabul("city"), EntityRecord(id="ttp", name="TTP", type="group")])
    assert index.types_in_use() == {"city", "group"}
    edited = index.with_changes([kabul("capital")])
    assert edited.types_in_use() == {"capital", "group"}
    assert edited.with_changes([], removed=["ttp"]).types_in_use() == {"capital"}


def test_the_known_types_are_the_declared_and_those_in_use_by_folded_name() -> None:
    index = AliasIndex.build([kabul("City")]).with_declared_types(["person"])
    assert index.known_types() == {"city": "City", "person": "person"}
    assert index.with_changes([kabul("town")]).declared_types == ("person",)
