import json
import random
import subprocess
import sys
from typing import Any
from unittest.mock import ANY

import pytest

from app.aliasfile import _json_entries, alias_file_parts, dump_alias_file, parse_alias_file
from app.errors import InvalidAliasFile
from app.models.api import AliasFile, EntityTypeCreate
from app.resources import SHIPPED_ALIASES_FILE
from tests.conftest import SMALL_TABLE

GOOD_ENTRY = """
  - id: ttp
    name: Tehreek-e-Taliban Pakistan
    type: organization
    aliases: [TTP]
"""


def parse_error(text: str) -> str:
    with pytest.raises(InvalidAliasFile) as caught:
        parse_alias_file(text)
    return caught.value.detail


def test_the_shipped_table_validates() -> None:
    table = parse_alias_file(SHIPPED_ALIASES_FILE.read_bytes())
    ids = {entity.id for entity in table.entities}
    assert {"ttp", "iskp", "pakistan", "united-states", "islamabad"} <= ids
    assert all(entity.description for entity in table.entities)


def test_plain_and_mapping_aliases() -> None:
    table = parse_alias_file(SMALL_TABLE.read_bytes())
    ttp = table.entities[0]
    assert [a.text for a in ttp.aliases] == ["TTP", "Pakistani Taliban", "Taliban"]
    assert ttp.aliases[0].note is None
    assert ttp.aliases[1].note == "usual English name in news reports"


def test_dump_then_parse_gives_the_table_back() -> None:
    table = parse_alias_file(SMALL_TABLE.read_bytes())
    text = dump_alias_file(table)
    assert parse_alias_file(text) == table
    assert dump_alias_file(parse_alias_file(text)) == text


def test_json_is_accepted() -> None:
    table = parse_alias_file(SMALL_TABLE.read_bytes())
    as_json = json.dumps(table.model_dump(mode="json"))
    assert parse_alias_file(as_json, media_type="application/json") == table


def test_a_duplicate_id_names_both_entries_and_the_line() -> None:
    detail = parse_error("entities:" + GOOD_ENTRY + GOOD_ENTRY)
    assert "entity #2 at line 7" in detail
    assert "'ttp' is already used by entity #1" in detail


@pytest.mark.parametrize("repeat", ["ttp", "T-T-P", "T.T.P.", "t t p"])
def test_an_alias_repeated_once_normalised_is_refused(repeat: str) -> None:
    entry = GOOD_ENTRY.replace("[TTP]", f"[TTP, Pakistani Taliban, '{repeat}']")
    detail = parse_error("entities:" + entry)
    assert "entity #1 (id 'ttp') at line 2" in detail
    assert f"alias {repeat!r} repeats alias 'TTP' once normalised" in detail


def test_initials_are_one_alias_only_when_they_spell_the_same_word() -> None:
    entry = GOOD_ENTRY.replace("[TTP]", "[TTP, T-T-P-K, TT P, Pakistani Taliban]")
    (entity,) = parse_alias_file("entities:" + entry).entities
    assert [a.text for a in entity.aliases] == ["TTP", "T-T-P-K", "TT P", "Pakistani Taliban"]


def test_an_alias_repeating_the_name_is_refused() -> None:
    detail = parse_error(
        ("entities:" + GOOD_ENTRY).replace("[TTP]", "[Tehreek e Taliban Pakistan]")
    )
    assert "repeats the name" in detail


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("name: Tehreek-e-Taliban Pakistan", "name: ''"), "name"),
        (("name: Tehreek-e-Taliban Pakistan", "name: '  '"), "name"),
        (("name: Tehreek-e-Taliban Pakistan", "name: '---'"), "no letter or digit"),
        (("id: ttp", "id: 'has space'"), "id"),
        (("id: ttp", "id: " + "x" * 129), "id"),
        (("type: organization", "colour: red"), "colour"),
        (("aliases: [TTP]", "aliases: [TTP, '']"), "aliases.1"),
        (("aliases: [TTP]", "aliases: [{text: TTP, source: x}]"), "source"),
        (("aliases: [TTP]", 'aliases: ["a\\x07b"]'), "control"),
    ],
)
def test_malformed_entries_name_the_entry_and_the_field(
    change: tuple[str, str], expected: str
) -> None:
    detail = parse_error(("entities:" + GOOD_ENTRY).replace(*change))
    assert "entity #1" in detail
    assert expected in detail


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("entities: [", "not valid YAML"),
        ("- just a list", "mapping"),
        ("entities: 3", "entities"),
        ("entitys: []", "entitys"),
        ("a: &x [1]\nb: *x\nentities: []", "anchors"),
    ],
)
def test_malformed_files_are_refused(text: str, expected: str) -> None:
    assert expected in parse_error(text)


def test_bytes_that_are_not_utf8_are_refused() -> None:
    with pytest.raises(InvalidAliasFile, match="not UTF-8"):
        parse_alias_file(b"entities: [\xff]")


def test_an_empty_file_is_an_empty_table() -> None:
    assert parse_alias_file("").entities == []


def test_case_sensitivity_is_kept_only_where_an_editor_set_it() -> None:
    text = (
        "entities:\n  - id: us\n    name: United States\n    type: country\n    aliases:\n"
        "      - US\n      - {text: America, case_sensitive: true}\n"
        "      - {text: USA, note: n, case_sensitive: false}\n"
    )
    table = parse_alias_file(text)
    assert [a.case_sensitive for a in table.entities[0].aliases] == [None, True, False]
    dumped = dump_alias_file(table)
    assert "case_sensitive: true" in dumped
    assert parse_alias_file(dumped) == table


def test_prominence_is_a_number_written_back_only_when_set() -> None:
    entry = GOOD_ENTRY.replace("[TTP]", "[TTP]\n    prominence: 1_200_000")
    text = "entities:" + entry + "  - {id: tlp, name: Tehreek-e-Labbaik Pakistan, type: party}\n"
    table = parse_alias_file(text)
    assert [e.prominence for e in table.entities] == [1200000.0, None]
    dumped = dump_alias_file(table)
    assert "  type: organization\n  prominence: 1200000\n" in dumped
    assert dumped.count("prominence") == 1
    assert parse_alias_file(dumped) == table
    assert dump_alias_file(parse_alias_file(dumped)) == dumped


@pytest.mark.parametrize("value", ["0", "0.25", "1.0e-07", "12.5", "1.0e+20", "9007199254740993"])
def test_every_prominence_survives_export_and_import(value: str) -> None:
    table = parse_alias_file("entities:" + GOOD_ENTRY + f"    prominence: {value}\n")
    assert parse_alias_file(dump_alias_file(table)) == table
    assert table.entities[0].prominence == float(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (".nan", "finite"),
        (".inf", "finite"),
        ("-.inf", "finite"),
        ("-1", "greater than or equal to 0"),
        ("true", "valid number"),
        ("'12'", "valid number"),
        ("[1]", "valid number"),
    ],
)
def test_a_prominence_that_is_no_finite_number_is_refused(value: str, expected: str) -> None:
    detail = parse_error("entities:" + GOOD_ENTRY + f"    prominence: {value}\n")
    assert "entity #1 (id 'ttp') at line 2: prominence" in detail
    assert expected in detail


def test_a_json_prominence_of_nan_is_refused() -> None:
    # NaN is no JSON at all: the reader refuses it before the entry is validated.
    entry = {"id": "x", "name": "X", "type": "place", "prominence": float("nan")}
    with pytest.raises(InvalidAliasFile, match="not valid JSON"):
        parse_alias_file(json.dumps({"entities": [entry]}), media_type="application/json")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("entities: !!python/object/apply:os.system ['true']", "line 1, column 11: YAML tags"),
        ("entities:\n  - id: !!int abc", "line 2, column 9: YAML tags (!!int)"),
        ("entities:\n  - name: !!timestamp 2020-99-99", "line 2, column 11: YAML tags"),
        ("entities:\n  - !!set {a}", "line 2, column 5: YAML tags"),
        ("? [a, b]\n: c\n", "line 1, column 3: a key must be a plain value"),
        (
            "entities:\n  - id: dk1\n    name: DK\n    id: dk2\n",
            "line 4, column 5: the key 'id' is given twice in one mapping (first at line 2",
        ),
        ("entities: []\nentities: []\n", "line 2, column 1: the key 'entities' is given twice"),
        ("entities:\n  - prominence: 1" + "0" * 5000, "not valid YAML"),
        ("? 1" + "0" * 5000 + "\n: x\n", "not valid YAML"),
        ("!!seq {entities: []}", "line 1, column 1: YAML tags (!!seq)"),
        ("entities: !!str []", "line 1, column 11: YAML tags (!!str)"),
        # The composer recurses once a level: deep nesting is refused, not a RecursionError.
        ("entities:\n" + "".join("  " * i + "- \n" for i in range(400)), "nested more than 32"),
        ("{a: " * 400 + "}" * 400, "nested more than 32"),
    ],
)
def test_yaml_beyond_plain_data_is_refused_naming_line_and_column(text: str, expected: str) -> None:
    assert expected in parse_error(text)


def test_an_unquoted_date_is_text() -> None:
    entry = GOOD_ENTRY.replace("id: ttp", "id: 2020-99-99").replace("[TTP]", "[2020-01-01]")
    (entity,) = parse_alias_file("entities:" + entry).entities
    assert (entity.id, entity.aliases[0].text) == ("2020-99-99", "2020-01-01")


@pytest.mark.parametrize(
    "text",
    [
        '{"entities": ' + "[" * 100_000 + "]" * 100_000 + "}",
        '{"entities": [{"id": "x", "name": "\\ud800", "type": "t"}]}',
        '{"entities": [{"id": "x", "name": "X", "type": "t", "prominence": 1' + "0" * 5000 + "}]}",
        '{"entities": [{"id": "dk1", "id": "dk2", "name": "DK", "type": "t"}]}',
        '{"entities": [], "entities": []}',
    ],
)
def test_json_that_no_table_needs_is_refused(text: str) -> None:
    with pytest.raises(InvalidAliasFile, match="not valid JSON"):
        parse_alias_file(text, media_type="application/json")


# Two million aliases of one entity: the file's readers once read them all,
# then validated them all (30 s and 1.7 GB); they stop at the limit now.
MANY_ALIASES = (
    '\'{"entities": [{"id": "x", "name": "X", "type": "t", "aliases": [\''
    " + ', '.join(f'\"a{i}\"' for i in range(2_000_000)) + ']}]}'"
)


@pytest.mark.parametrize("media_type", ["application/json", "application/yaml"])
@pytest.mark.parametrize(
    ("text", "refusal"),
    [
        ("'{\"entities\": ' + '[' * 100_000 + ']' * 100_000 + '}'", "nest"),
        (MANY_ALIASES, "more than 10,000 items in one list or mapping"),
    ],
    ids=["nested 100,000 deep", "2,000,000 aliases"],
)
def test_what_no_entry_needs_is_refused_in_bounded_memory(
    media_type: str, text: str, refusal: str
) -> None:
    """Read in a process held to 1 GiB, whose peak is checked: the JSON
    parser's event paths once grew with the depth (10 GB for 100,000 levels)."""
    program = f"""
import resource
resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
from app.aliasfile import parse_alias_file
from app.errors import InvalidAliasFile
from app.models.api import AliasFile, EntityTypeCreate
try:
    parse_alias_file({text}, media_type={media_type!r})
except InvalidAliasFile as error:
    print(error.detail)
# This process's own peak: ru_maxrss would also count the parent's, from before exec.
peak = next(line for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(int(peak.split()[1]) // 1024)
"""
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    said, peak_mib = done.stdout.splitlines()
    assert refusal in said
    assert int(peak_mib) < 300


@pytest.mark.parametrize(
    ("text", "media_type"),
    [
        ("entities:\n  - id: x\n    name: X\n    type: t\n    aliases:\n{}", "application/yaml"),
        ("entities:\n  - {{id: x, name: X, type: t, aliases: [{}]}}", "application/yaml"),
        (
            '{{"entities": [{{"id": "x", "name": "X", "type": "t", "aliases": [{}]}}]}}',
            "application/json",
        ),
    ],
    ids=["block", "flow", "json"],
)
def test_an_entity_has_at_most_ten_thousand_aliases(text: str, media_type: str) -> None:
    def entity_with(n: int) -> str:
        if "aliases:\n" in text:
            return text.format("".join(f"      - a{i}\n" for i in range(n)))
        return text.format(", ".join(f'"a{i}"' for i in range(n)))

    (entity,) = parse_alias_file(entity_with(10_000), media_type=media_type).entities
    assert len(entity.aliases) == 10_000
    with pytest.raises(InvalidAliasFile, match="more than 10,000 items in one list or mapping"):
        parse_alias_file(entity_with(10_001), media_type=media_type)


@pytest.mark.parametrize("media_type", ["application/json", "application/yaml"])
def test_a_mapping_of_more_than_ten_thousand_keys_is_refused(media_type: str) -> None:
    keys = ", ".join(f'"k{i}": 1' for i in range(10_001))
    with pytest.raises(InvalidAliasFile, match="more than 10,000 items in one list or mapping"):
        parse_alias_file('{"entities": [{' + keys + "}]}", media_type=media_type)


def _full_entity(media_type: str, aliases: list[Any]) -> str:
    entity = {"id": "x", "name": "X", "type": "t", "aliases": aliases}
    # JSON is YAML too: read by the YAML readers as YAML in flow style.
    return json.dumps({"entities": [entity]})


@pytest.mark.parametrize("media_type", ["application/json", "application/yaml"])
def test_an_entity_of_ten_thousand_aliases_with_every_field_is_read(media_type: str) -> None:
    full = [{"text": f"a{i}", "note": "n", "case_sensitive": True} for i in range(10_000)]
    (entity,) = parse_alias_file(_full_entity(media_type, full), media_type=media_type).entities
    assert len(entity.aliases) == 10_000


@pytest.mark.parametrize("media_type", ["application/json", "application/yaml"])
def test_lists_within_lists_cannot_make_one_entry_hold_a_whole_file(media_type: str) -> None:
    """300 lists of 300 within the list of aliases: each list within the limit of
    its items, 90,300 values in the entry. Read to its end, such an entry of
    4 million values took 33 s in 11 MiB of YAML."""
    nested = [[f"a{i}" for i in range(300)] for _ in range(300)]
    where = "entity #1" if media_type == "application/json" else "line "
    with pytest.raises(InvalidAliasFile, match=f"{where}.*more than 80,000 values in one entry"):
        parse_alias_file(_full_entity(media_type, nested), media_type=media_type)


def test_a_fault_within_a_json_type_names_the_type() -> None:
    keys = ", ".join(f'"k{i}": 1' for i in range(10_001))
    text = '{"types": [{"id": "t", "description": "d"}, {' + keys + "}]}"
    with pytest.raises(InvalidAliasFile, match=r"^type #2: more than 10,000 items"):
        parse_alias_file(text, media_type="application/json")


@pytest.mark.parametrize(
    ("head", "item", "media_type"),
    [
        ("types:\n", "  - {{id: t{}, description: d}}\n", "application/yaml"),
        ("types: [", "{{id: t{}, description: d}}, ", "application/yaml"),
        ('{"types": [', '{{"id": "t{}", "description": "d"}}, ', "application/json"),
    ],
    ids=["block", "flow", "json"],
)
def test_at_most_ten_thousand_types_are_declared(head: str, item: str, media_type: str) -> None:
    def declaring(n: int) -> str:
        items = "".join(item.format(i) for i in range(n))
        if head.endswith("["):
            return head + items.rstrip(", ") + ("]}" if "json" in media_type else "]")
        return head + items

    declared = parse_alias_file(declaring(10_000), media_type=media_type).types
    assert declared is not None and len(declared) == 10_000
    with pytest.raises(InvalidAliasFile, match="types: more than 10,000 items"):
        parse_alias_file(declaring(10_001), media_type=media_type)


def test_a_lone_surrogate_in_text_is_refused() -> None:
    text = '{"entities": [{"id": "x", "name": "\ud800", "type": "t"}]}'
    with pytest.raises(InvalidAliasFile, match="not UTF-8"):
        parse_alias_file(text, media_type="application/json")


def test_a_normal_form_longer_than_its_column_is_refused() -> None:
    # U+FDFA is one character; its normal form has 18 (a phrase of four words).
    entry = GOOD_ENTRY.replace("[TTP]", "['" + "\ufdfa" * 200 + "']")
    assert "its normal form has 3,600 characters; at most 2,048 are stored" in parse_error(
        "entities:" + entry
    )


def test_a_type_with_a_control_character_is_refused() -> None:
    detail = parse_error(("entities:" + GOOD_ENTRY).replace("organization", '"org\\x01"'))
    assert "entity #1 (id 'ttp') at line 2: type: String should match pattern" in detail


TYPES = """types:
  - id: organization
    description: Armed groups, parties and other bodies.
  - id: person
    description: A person.
"""


def test_the_shipped_table_declares_every_type_its_entities_have() -> None:
    table = parse_alias_file(SHIPPED_ALIASES_FILE.read_bytes())
    assert table.types is not None
    declared = [kind.id for kind in table.types]
    assert {"organization", "government-body", "city", "province"} <= set(declared)
    assert {entity.type for entity in table.entities} <= set(declared)
    assert all(kind.description for kind in table.types)


def test_declared_types_are_read_before_or_after_the_entities() -> None:
    first = parse_alias_file(TYPES + "entities:" + GOOD_ENTRY)
    last = parse_alias_file("entities:" + GOOD_ENTRY + TYPES)
    assert first == last
    assert first.types is not None
    assert [(kind.id, kind.description) for kind in first.types] == [
        ("organization", "Armed groups, parties and other bodies."),
        ("person", "A person."),
    ]


def test_a_file_without_types_declares_none() -> None:
    assert parse_alias_file("entities:" + GOOD_ENTRY).types is None


def test_declared_types_survive_a_dump_and_come_first() -> None:
    table = parse_alias_file("entities:" + GOOD_ENTRY + TYPES)
    text = dump_alias_file(table)
    assert text.index("types:") < text.index("entities:")
    assert parse_alias_file(text) == table
    as_json = json.dumps(table.model_dump(mode="json"))
    assert parse_alias_file(as_json, media_type="application/json") == table


def test_declared_types_in_json_may_follow_the_entities() -> None:
    text = json.dumps(
        {
            "entities": [{"id": "ttp", "name": "TTP group", "type": "organization"}],
            "types": [{"id": "organization", "description": "Groups."}],
        }
    )
    table = parse_alias_file(text, media_type="application/json")
    assert table.types is not None
    assert [kind.id for kind in table.types] == ["organization"]


@pytest.mark.parametrize(
    ("types", "expected"),
    [
        (
            "  - {id: organization, description: Groups.}\n"
            "  - {id: Organization, description: The same.}\n",
            "type #2 (id 'Organization') at line 3: the type 'Organization' is already "
            "declared by type #1 (id 'organization') at line 2",
        ),
        ("  - {id: organization}\n", "type #1 (id 'organization') at line 2: description: Field"),
        ("  - {id: organization, description: ''}\n", "description: String should have at least"),
        ('  - {id: organization, description: "a\\x07b"}\n', "control or surrogate character"),
        ("  - {id: two words, description: Groups.}\n", "id: String should match pattern"),
        (
            "  - {id: organization, description: Groups., colour: red}\n",
            "colour: unknown field; known fields: id, description",
        ),
        ("  - organization\n", "type #1 at line 2: Input should be a valid dictionary"),
    ],
)
def test_a_faulty_type_declaration_is_refused_naming_its_line(types: str, expected: str) -> None:
    assert expected in parse_error("types:\n" + types + "entities:" + GOOD_ENTRY)


def test_types_given_as_other_than_a_list_or_twice_are_refused() -> None:
    assert "types: Input should be a valid list" in parse_error("types: organization\n")
    assert "the key 'types' is given twice" in parse_error(TYPES + TYPES)
    twice = '{"types": [], "types": []}'
    with pytest.raises(InvalidAliasFile, match="the key 'types' is given twice"):
        parse_alias_file(twice, media_type="application/json")


def json_error(text: str | bytes) -> str:
    with pytest.raises(InvalidAliasFile) as caught:
        parse_alias_file(text, media_type="application/json")
    return caught.value.detail


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            ("aliases: [TTP]", "aliasses: [TTP]"),
            "entity #1 (id 'ttp') at line 2: aliasses: unknown field; did you mean 'aliases'? "
            "(at line 5, column 5)",
        ),
        (
            ("aliases: [TTP]", "aliases: [{text: TTP, nots: Dawn}]"),
            "aliases.0.nots: unknown field; did you mean 'note'? (at line 5, column 27)",
        ),
        (
            ("aliases: [TTP]", "colour: red"),
            "colour: unknown field; known fields: id, name, type, description, prominence, "
            "aliases (at line 5, column 5)",
        ),
        (("entities:", "entitys:"), "line 1: entitys: unknown key; did you mean 'entities'?"),
    ],
    ids=["entity", "alias", "no near field", "top level"],
)
def test_an_unknown_field_names_the_known_one_it_likely_meant(
    change: tuple[str, str], expected: str
) -> None:
    assert expected in parse_error(("entities:" + GOOD_ENTRY).replace(*change))


def test_an_unknown_field_of_a_type_declaration_is_named_with_its_likely_meaning() -> None:
    detail = parse_error("types:\n  - {id: organization, descripton: Groups.}\nentities: []\n")
    assert "descripton: unknown field; did you mean 'description'? (at line 2, column 24)" in detail


def test_an_unknown_field_in_json_is_named_with_the_entity_position_and_id() -> None:
    first = '{"id": "a", "name": "A", "type": "t"}'
    text = f'{{"entities": [{first}, {{"id": "b", "name": "B", "typ": "t"}}]}}'
    assert "entity #2 (id 'b'): typ: unknown field; did you mean 'type'?" in json_error(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "entities:\n  - id: a\n\tname: A\n",
            "line 3, column 1: not valid YAML: found a tab character that violates indentation "
            "(while scanning a plain scalar at line 2, column 9)",
        ),
        (
            "entities:\n  - {id: a, name: [A\n",
            "line 3, column 1: not valid YAML: did not find expected ',' or ']' "
            "(while parsing a flow sequence at line 2, column 19)",
        ),
    ],
    ids=["tab", "unclosed bracket"],
)
def test_a_yaml_syntax_error_is_one_line_naming_line_and_column(text: str, expected: str) -> None:
    detail = parse_error(text)
    assert detail == expected
    assert "<byte string>" not in detail and "\n" not in detail


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            '{"entities": [\n  {"id": "a" "name": "A"}]}',
            "line 2, column 14: not valid JSON: Expecting",
        ),
        ('{"entities": [\n', "line 2, column 1: not valid JSON: Expecting value"),
    ],
    ids=["missing comma", "cut short"],
)
def test_a_json_syntax_error_is_one_line_naming_line_and_column(text: str, expected: str) -> None:
    detail = json_error(text)
    assert detail.startswith(expected)
    assert "\n" not in detail


def test_a_key_twice_in_a_json_entity_names_the_entity() -> None:
    text = '{"entities": [{"id": "a", "name": "A", "type": "t"}, {"id": "b", "id": "c"}]}'
    assert json_error(text).startswith("entity #2: not valid JSON: the key 'id' is given twice")


def test_bytes_that_are_not_utf8_are_named_by_line_and_column() -> None:
    detail = parse_error(b"entities:\n  - name: caf\xc3\xa9 \xff\n")  # type: ignore[arg-type]
    assert detail == "line 2, column 16: the file is not UTF-8 (byte 26)"


@pytest.mark.parametrize("entities_per_part", [1, 3, 1000])
def test_the_file_written_in_parts_is_the_file_written_at_once(entities_per_part: int) -> None:
    table = parse_alias_file(SHIPPED_ALIASES_FILE.read_bytes())
    parts = list(alias_file_parts(table, entities_per_part=entities_per_part))
    assert "".join(text for text, _ in parts) == dump_alias_file(table)
    assert sum(count for _, count in parts) == len(table.entities)
    assert parse_alias_file("".join(text for text, _ in parts)) == table


@pytest.mark.parametrize("entities_per_part", [1, 3, 1000])
def test_the_json_file_holds_what_the_yaml_file_holds(entities_per_part: int) -> None:
    table = parse_alias_file(SHIPPED_ALIASES_FILE.read_bytes())
    parts = list(alias_file_parts(table, entities_per_part=entities_per_part, as_json=True))
    text = "".join(part for part, _ in parts)
    assert sum(count for _, count in parts) == len(table.entities)
    assert json.loads(text)["types"][0] == {"id": "agreement", "description": ANY}
    assert parse_alias_file(text.encode(), media_type="application/json") == table


@pytest.mark.parametrize("types", [None, [EntityTypeCreate(id="city", description="A town.")]])
def test_a_json_file_of_no_entity_is_json(types: list[EntityTypeCreate] | None) -> None:
    table = AliasFile(types=types, entities=[])
    text = "".join(part for part, _ in alias_file_parts(table, as_json=True))
    assert parse_alias_file(text.encode(), media_type="application/json") == table


def test_json_entries_are_built_as_the_standard_library_parses_them() -> None:
    chooser = random.Random(12)

    def value(depth: int) -> object:
        kind = chooser.choice(["text", "number", "list", "object"] if depth < 5 else ["text"])
        if kind == "list":
            return [value(depth + 1) for _ in range(chooser.randint(0, 3))]
        if kind == "object":
            return {f"k{i}": value(depth + 1) for i in range(chooser.randint(0, 3))}
        return chooser.choice(["a", "", 1.5, -2.0, True, None]) if kind == "number" else "é ✓"

    entries = [{"entry": value(1)} for _ in range(200)]
    data = json.dumps({"entities": entries}).encode()
    assert [entry for entry, _ in _json_entries(data)] == entries
