import pickle

import pytest

from app.matching.records import EntityRecord, EntityTable

RECORDS = [
    EntityRecord("ttp", "Tehreek-e-Taliban Pakistan", "organization", ("TTP", "تحریک طالبان")),
    EntityRecord(
        "khi",
        "Karachi",
        "place",
        ("Karāchī", "کراچی", "𠀋 city"),  # a character beyond the BMP
        case_rules=(("Karāchī", True),),
        prominence=14_910_352.0,
        description="Sindh, Pakistan",
    ),
    EntityRecord("zero", "Nowhere", "place", prominence=0.0),
    EntityRecord("bare", "Bare", "person"),
    EntityRecord("nul", "With\x00NUL", "person", ("", "And\x00another", "x")),
]


def test_records_come_back_as_given_in_their_order() -> None:
    table = EntityTable(RECORDS)
    assert [table[r.id] for r in RECORDS] == RECORDS
    assert list(table.values()) == RECORDS
    assert list(table) == [r.id for r in RECORDS]
    assert list(table.types()) == [r.type for r in RECORDS]
    assert len(table) == len(RECORDS)


def test_a_form_is_its_records_text_at_its_place() -> None:
    table = EntityTable(RECORDS)
    number = table.number("khi")
    assert [table.text(number, p) for p in range(4)] == list(RECORDS[1].surface_forms())
    assert table.id_of(number) == "khi"


def test_an_unknown_id_names_no_record() -> None:
    table = EntityTable(RECORDS)
    assert table.get("nope") is None
    assert "nope" not in table
    assert "ttp" in table
    with pytest.raises(KeyError):
        table["nope"]


def test_an_id_given_twice_names_its_last_record_in_its_first_place() -> None:
    renamed = EntityRecord("ttp", "TTP", "organization")
    table = EntityTable([*RECORDS, renamed])
    assert table["ttp"] == renamed
    assert list(table) == [r.id for r in RECORDS]
    assert next(iter(table.values())) == renamed
    assert table.text(0, 0) == RECORDS[0].name  # the first record's forms keep their text


def test_a_pickled_table_gives_the_same_records() -> None:
    table = EntityTable(RECORDS)
    table["ttp"]  # remembered, and not pickled
    again = pickle.loads(pickle.dumps(table))
    assert list(again.values()) == RECORDS
    assert again["khi"] == RECORDS[1]
