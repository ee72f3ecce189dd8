"""The plain reader gives the composing reader's entries, and leaves it what it cannot."""

import random
from pathlib import Path

import pytest

from app.aliasfile import _plain_yaml_entries, _yaml_entries, read_alias_file
from app.errors import InvalidAliasFile
from app.plain_yaml import NotPlain, plain_sections
from app.resources import SHIPPED_ALIASES_FILE
from tests.conftest import SMALL_TABLE

ENTRY = "  - id: e{n}\n    name: Entity {n}\n    type: city\n    aliases: [Alias {n}]\n"


def entries_both_ways(data: bytes) -> tuple[list[object], list[object]]:
    plain = [entry for entry, _ in _plain_yaml_entries(data)]
    composed = [entry for entry, _ in _yaml_entries(data)]
    return plain, composed


def as_plain(entries: list[object]) -> list[object]:
    """Entries with the types section as its plain items, for comparing."""
    return [getattr(entry, "entries", entry) for entry in entries]


@pytest.mark.parametrize("path", [SHIPPED_ALIASES_FILE, SMALL_TABLE])
def test_the_plain_reader_reads_the_tables_as_the_composing_one(path: Path) -> None:
    plain, composed = entries_both_ways(path.read_bytes())
    assert plain
    assert [_without_nodes(entry) for entry in as_plain(plain)] == [
        _without_nodes(entry) for entry in as_plain(composed)
    ]


def _without_nodes(entry: object) -> object:
    if isinstance(entry, list):
        return [item for item, _node in entry]
    return entry


SCALARS = [
    "plain text", "'quoted 123'", '"true"', "123", "-1.5e3", "0x1F", "0o17", "1_000",
    "1:30", "true", "No", "off", "~", "null", "", ".inf", "2020-01-01", "2020-99-99",
    "12:30:45", "'<<'", "!!str 12", "&x a", "[]", "{}", "[1, [2, [3]]]", "{a: 1, b: [x]}",
]  # fmt: skip


def test_whatever_the_plain_reader_reads_it_reads_as_the_composing_one() -> None:
    chooser = random.Random(9)
    plain_files = 0
    for _ in range(300):
        fields = [f"  k{i}: {chooser.choice(SCALARS)}" for i in range(chooser.randint(1, 4))]
        text = "entities:\n  -\n" + "\n".join("  " + field for field in fields) + "\n"
        try:
            plain, composed = entries_both_ways(text.encode())
        except NotPlain:
            continue  # a tag or an anchor: the composing reader's alone
        assert plain == composed, text
        plain_files += 1
    assert plain_files > 100


@pytest.mark.parametrize(
    "text",
    [
        "entities:\n  - id: !!str abc\n",  # any tag
        "entities:\n  - !!map {id: a}\n",
        "entities:\n  - &a {id: a}\n",  # an anchor
        "entities:\n  - {id: a, id: b}\n",  # a key twice
        "entities:\n  - {1: a}\n",  # a key that is not text
        "entities:\n  - {[a]: b}\n",
        "entities:\n  - {<<: {id: a}}\n",  # a merge key
        "entities:\n  - {id: [\n",  # a syntax error
        "entities:\n  - " + "[" * 40 + "]" * 40 + "\n",  # deep
        "",  # no document
        "entities:\n",  # no list
        "entities: []\nentities: []\n",
        "colours: []\n",
        "entities: []\n---\nentities: []\n",
    ],
)
def test_what_is_not_plain_data_is_left_to_the_composing_reader(text: str) -> None:
    with pytest.raises(NotPlain):
        list(plain_sections(text.encode()))


def test_a_tag_the_composing_reader_accepts_is_read_by_it() -> None:
    table = read_alias_file("entities:\n  - {id: a, name: !!str Alpha, type: city}\n")
    assert [entity.name for entity in table] == ["Alpha"]


def test_a_fault_after_many_entities_names_its_line_and_gives_no_entity_twice() -> None:
    good = "".join(ENTRY.format(n=n) for n in range(50))
    bad = "  - id: e50\n    name: Entity 50\n    type: city\n    aliasses: [x]\n"
    stream = read_alias_file("entities:\n" + good + bad)
    given = []
    with pytest.raises(InvalidAliasFile) as caught:
        for entity in stream:
            given.append(entity.id)
    assert given == [f"e{n}" for n in range(50)]
    assert "entity #51 (id 'e50') at line 202" in caught.value.detail
    assert "line 205, column 5" in caught.value.detail
