"""Read and write the alias file (``aliases.yaml``; JSON is accepted too).

Parsing is strict: the whole file validates, or nothing of it is used. An
error names the entry (its position, ID and line) and what is wrong with it.
A YAML file of plain data is read from the parser's events (``app.plain_yaml``);
one with anything else, or with a fault, is read (again) by the composing
reader here, which checks every node and names the fault's line and column.
"""

import codecs
import io
import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import Any

import ijson
import yaml
from pydantic import BaseModel, ValidationError
from yaml._yaml import CParser
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.resolver import Resolver

from app.child_read import read_in_child
from app.errors import InvalidAliasFile
from app.matching.type_names import did_you_mean
from app.models.api import AliasCreate, AliasFile, EntityCreate, EntityTypeCreate
from app.plain_yaml import (
    IMPLICIT_RESOLVERS,
    MAX_DEPTH,
    MAX_ENTRY_VALUES,
    MAX_ITEMS,
    SECTIONS,
    NotPlain,
    plain_sections,
)
from app.states import batches

_Dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
_PLAIN_TAGS = frozenset(
    f"tag:yaml.org,2002:{kind}" for kind in ("str", "int", "float", "bool", "null", "seq", "map")
)


def parse_alias_file(raw: str | bytes, *, media_type: str = "application/yaml") -> AliasFile:
    """Validate a whole alias file; raise :class:`InvalidAliasFile` naming the fault."""
    stream = read_alias_file(raw, media_type=media_type)
    entities = list(stream)
    if stream.types is None:
        return AliasFile.model_construct(entities=entities)
    return AliasFile.model_construct(types=stream.types, entities=entities)


# A file this large (in bytes, or characters) is read by a forked child process
# while its entities are consumed (``app.child_read``): about 25k aliases, read
# in half a second; a fork costs milliseconds.
READ_APART_FROM = 1 << 20


def read_alias_file(
    raw: str | bytes,
    *,
    media_type: str = "application/yaml",
    read_apart_from: int | None = None,
) -> "AliasFileStream":
    """The file's entities, each validated as it is read, without holding the whole tree.

    A fault raises :class:`InvalidAliasFile` when it is reached, after the
    entities before it were given: a caller that stores them as they come does
    so in one transaction, and rolls it back. A file of ``read_apart_from``
    bytes or more (``READ_APART_FROM`` when None) is read by a child process
    while the caller consumes it.
    """
    return AliasFileStream(raw, media_type=media_type, read_apart_from=read_apart_from)


class AliasFileStream:
    """An alias file read as it is consumed: its ``entities`` one at a time, and its
    declared ``types`` (None when it declares none) once the reading has passed them.

    ``types`` may come before or after ``entities``. Listed after them, they are
    known only when the last entity has been read: an import checks the entities'
    types against them then, before it commits (``store.import_alias_file``).
    """

    def __init__(
        self,
        raw: str | bytes,
        *,
        media_type: str = "application/yaml",
        read_apart_from: int | None = None,
    ) -> None:
        self.types: list[EntityTypeCreate] | None = None
        self.entities: Iterator[EntityCreate] = self._read(raw, media_type)
        if len(raw) >= (READ_APART_FROM if read_apart_from is None else read_apart_from):
            self.entities = read_in_child(self, self.entities)

    def __iter__(self) -> Iterator[EntityCreate]:
        return self.entities

    def _read(self, raw: str | bytes, media_type: str) -> Iterator[EntityCreate]:
        data = _utf8(raw)
        if "json" in media_type.lower():
            yield from self._checked_entities(_json_entries(data))
            return
        given = 0
        try:
            for entity in self._checked_entities(_plain_yaml_entries(data)):
                yield entity
                given += 1
        except (NotPlain, InvalidAliasFile):
            # Read again by the composing reader, which names the fault by its
            # line (or accepts what the plain reader leaves to it); the entities
            # given already are not given twice.
            yield from islice(self._checked_entities(_yaml_entries(data)), given, None)

    def _checked_entities(self, entries: "Iterator[Entry]") -> Iterator[EntityCreate]:
        """The entities among ``entries``, each validated; the types kept in ``types``."""
        first_seen: dict[str, int] = {}
        for entry, node in entries:
            if isinstance(entry, _TypesSection):
                self.types = _validated_types(entry.entries)
                continue
            position = len(first_seen)
            entity = _validated(entry, position, node)
            if entity.id in first_seen:
                raise InvalidAliasFile(
                    f"{_entry_name(position, None, node)}: id {entity.id!r} is already used by "
                    f"entity #{first_seen[entity.id] + 1}"
                )
            first_seen[entity.id] = position
            yield entity


# Entities dumped at once by alias_file_parts.
EXPORT_PART = 500


def dump_alias_file(table: AliasFile) -> str:
    """The alias file for ``table``; parsing it gives ``table`` back."""
    return "".join(text for text, _entities in alias_file_parts(table))


def alias_file_parts(
    table: AliasFile, *, entities_per_part: int = EXPORT_PART, as_json: bool = False
) -> Iterator[tuple[str, int]]:
    """The alias file for ``table`` (YAML, or JSON if ``as_json``) a part at a
    time, each with how many entities it holds: a large table is written as it
    is dumped, and its progress can be shown.

    Declared types come first, so that a reader knows them before the entities.
    The parts join into the text that dumping the whole table at once gives: a
    list under a key is dumped without indenting its items, as a list alone is.
    """
    head: dict[str, Any] = {}
    if table.types:
        head["types"] = [{"id": t.id, "description": t.description} for t in table.types]
    if as_json:
        yield from _json_parts(head, table.entities, entities_per_part)
        return
    if not table.entities:
        yield _dump({**head, "entities": []}), 0
        return
    yield (_dump(head) if head else "") + "entities:\n", 0
    for batch in batches(table.entities, entities_per_part):
        yield _dump([_entity_to_plain(entity) for entity in batch]), len(batch)


def _json_parts(
    head: dict[str, Any], entities: Sequence[EntityCreate], entities_per_part: int
) -> Iterator[tuple[str, int]]:
    """The JSON alias file, an entity a line, the same content as the YAML's."""
    opening = json.dumps(head, ensure_ascii=False)[:-1] + (", " if head else "")
    if not entities:
        yield opening + '"entities": []}\n', 0
        return
    yield opening + '"entities": [\n', 0
    for number, batch in enumerate(batches(entities, entities_per_part)):
        lines = ",\n".join(json.dumps(_entity_to_plain(e), ensure_ascii=False) for e in batch)
        yield ("" if number == 0 else ",\n") + lines, len(batch)
    yield "\n]}\n", 0


def _dump(plain: Any) -> str:
    return yaml.dump(
        plain,
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        width=1000,
        default_flow_style=False,
    )


def _entity_to_plain(entity: EntityCreate) -> dict[str, Any]:
    plain: dict[str, Any] = {"id": entity.id, "name": entity.name, "type": entity.type}
    if entity.description is not None:
        plain["description"] = entity.description
    if entity.prominence is not None:
        plain["prominence"] = _number(entity.prominence)
    if entity.aliases:
        plain["aliases"] = [_alias_to_plain(alias) for alias in entity.aliases]
    return plain


def _number(value: float) -> int | float:
    """A whole number as one (1200000, not 1200000.0); it parses back to the same float."""
    return int(value) if value.is_integer() and abs(value) < 2**53 else value


def _alias_to_plain(alias: AliasCreate) -> str | dict[str, str | bool]:
    if alias.note is None and alias.case_sensitive is None:
        return alias.text
    plain: dict[str, str | bool] = {"text": alias.text}
    if alias.note is not None:
        plain["note"] = alias.note
    if alias.case_sensitive is not None:
        plain["case_sensitive"] = alias.case_sensitive
    return plain


def _utf8(raw: str | bytes) -> bytes:
    """The file as UTF-8 bytes without a byte order mark, checked a chunk at a time.

    The parsers read bytes: a file decoded whole into one string could take
    four bytes a character (one CJK or emoji name is enough).
    """
    if isinstance(raw, str):
        try:
            return raw.encode("utf-8")
        except UnicodeEncodeError as error:  # a lone surrogate
            before = raw[: error.start].encode("utf-8", "surrogatepass")
            line, column = _line_and_column(before, len(before))
            raise InvalidAliasFile(
                f"line {line}, column {column}: the file is not UTF-8 (character {error.start})"
            ) from None
    decoder = codecs.getincrementaldecoder("utf-8")()
    for start in range(0, len(raw), _CHUNK):
        try:
            decoder.decode(raw[start : start + _CHUNK], final=start + _CHUNK >= len(raw))
        except UnicodeDecodeError as error:
            offset = start + error.start
            line, column = _line_and_column(raw, offset)
            raise InvalidAliasFile(
                f"line {line}, column {column}: the file is not UTF-8 (byte {offset})"
            ) from None
    return raw.removeprefix(codecs.BOM_UTF8)


def _line_and_column(data: bytes, offset: int) -> tuple[int, int]:
    """The line and column (1-based; the column in characters) of byte ``offset``."""
    line_start = data.rfind(b"\n", 0, offset) + 1
    column = len(data[line_start:offset].decode("utf-8", "replace")) + 1
    return data.count(b"\n", 0, offset) + 1, column


_CHUNK = 1 << 20


_NOT_A_MAPPING = "an alias file is a mapping with the key 'entities' (and optionally 'types')"


def _not_a_list(section: str) -> InvalidAliasFile:
    return InvalidAliasFile(f"{section}: Input should be a valid list")


def _unknown_key(key: object, node: yaml.Node | None = None) -> InvalidAliasFile:
    where = f"line {node.start_mark.line + 1}: " if node is not None else ""
    return InvalidAliasFile(f"{where}{key}: {_unknown_field(str(key), SECTIONS, kind='key')}")


# One entry of the file, as plain data, and the YAML node it was built from
# (None for JSON, whose reader gives no positions): the node's marks name the
# line and column of a fault.
Entry = tuple[Any, yaml.Node | None]


@dataclass(frozen=True, slots=True)
class _TypesSection:
    """The file's whole ``types`` list, given among the entries where the file has it."""

    entries: Sequence[Entry]


# A \uD800-\uDFFF escape outside a high-low pair is no character (and the
# parser would quietly read it as "?"): an escape not preceded by an odd
# number of backslashes, high without its low half, or low alone.
_SURROGATE_ESCAPE = re.compile(
    rb"(?<!\\)(?:\\\\)*\\u(?:[dD][89abAB][0-9a-fA-F]{2}(\\u[dD][c-fC-F][0-9a-fA-F]{2})?"
    rb"|([dD][c-fC-F][0-9a-fA-F]{2}))"
)


def _json_entries(data: bytes) -> Iterator[Entry]:
    for escape in _SURROGATE_ESCAPE.finditer(data):
        if escape[1] is None:
            raise InvalidAliasFile(
                f"not valid JSON: a lone surrogate escape at byte {escape.start()}"
            )
    # Events without their paths: the parser makes a buffer's events at once,
    # and a path per event grows with the depth (a body of 100,000 brackets
    # cost 10 GB of paths before any depth was checked).
    events = ijson.basic_parse(io.BytesIO(data), use_float=True)
    try:
        yield from _json_top_level(events)
    except ijson.JSONError as error:
        raise InvalidAliasFile(_json_syntax_error(data, error)) from None


def _json_syntax_error(data: bytes, error: ijson.JSONError) -> str:
    """Where the JSON breaks, and how, on one line.

    The streaming parser tells neither line nor column, so the standard
    library's parser reads the file again, only now that it is known to be
    broken; it keeps no object it has read, so memory stays small.
    """
    try:
        json.loads(data, object_pairs_hook=_forget, parse_constant=_refuse_constant)
    except json.JSONDecodeError as located:
        return f"line {located.lineno}, column {located.colno}: not valid JSON: {located.msg}"
    except (ValueError, RecursionError):
        pass  # a constant, or nesting too deep for it: the streaming parser's words
    return f"not valid JSON: {str(error).splitlines()[0]}"


def _forget(_pairs: list[tuple[str, Any]]) -> None:
    return None


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


Events = Iterator[tuple[str, Any]]  # the parser's (event, value) pairs


def _json_top_level(events: Events) -> Iterator[Entry]:
    """Walk the top-level mapping; build each entry of ``entities`` alone."""
    event, _ = next(events, ("", None))
    if event != "start_map":
        raise InvalidAliasFile(_NOT_A_MAPPING)
    seen: set[str] = set()
    # Read to the end, past the mapping's end: what follows it is a fault.
    for event, section in events:
        if event != "map_key":
            continue  # the mapping's end
        if section not in SECTIONS:
            raise _unknown_key(section)
        if section in seen:
            raise InvalidAliasFile(f"not valid JSON: the key {section!r} is given twice")
        seen.add(section)
        event, _ = next(events)
        if section == "types" and event == "null":
            continue  # as a model dumps a file that declares no types
        if event != "start_array":
            raise _not_a_list(section)
        if section == "entities":
            for position, (event, value) in enumerate(_items(events)):
                yield _json_entry(event, value, events, f"entity #{position + 1}"), None
        else:
            yield _json_types(events), None


def _json_types(events: Events) -> _TypesSection:
    """The declared types, a list whose start was read."""
    types: list[Entry] = []
    for position, (event, value) in enumerate(_items(events)):
        if len(types) == MAX_ITEMS:
            raise InvalidAliasFile(f"types: {_TOO_MANY_ITEMS}")
        types.append((_json_entry(event, value, events, f"type #{position + 1}"), None))
    return _TypesSection(types)


def _items(events: Events) -> Events:
    """The first event of each item of a list whose start was read, up to its end;
    the caller reads the rest of each item before asking for the next."""
    for event, value in events:
        if event == "end_array":
            return
        yield event, value


def _json_entry(event: str, value: Any, events: Events, name: str) -> Any:
    """One entry of ``entities`` or ``types``; a fault inside it names the entry
    (``entity #3``), as JSON gives no line."""
    try:
        return _json_value(event, value, events, left=[MAX_ENTRY_VALUES])
    except InvalidAliasFile as error:
        raise InvalidAliasFile(f"{name}: {error.detail}") from None


def _json_value(event: str, value: Any, events: Events, *, left: list[int], depth: int = 1) -> Any:
    """The value that begins with this event, built from the events that follow;
    ``depth`` is how deeply a list or object beginning here is nested, ``left[0]``
    how many more values its entry may hold."""
    if event == "start_map":
        return _json_object(events, depth, left)
    if event == "start_array":
        return _json_array(events, depth, left)
    return value


def _json_object(events: Events, depth: int, left: list[int]) -> dict[str, Any]:
    """An object whose start was read, up to its end; a key given twice is refused
    (a parser would keep the last)."""
    _check_json_depth(depth)
    built: dict[str, Any] = {}
    for event, key in events:
        if event == "end_map":
            break
        if key in built:
            raise InvalidAliasFile(f"not valid JSON: the key {key!r} is given twice in one object")
        _check_json_items(built, left)
        event, value = next(events)
        built[key] = _json_value(event, value, events, left=left, depth=depth + 1)
    return built


def _json_array(events: Events, depth: int, left: list[int]) -> list[Any]:
    """A list whose start was read, up to its end."""
    _check_json_depth(depth)
    built: list[Any] = []
    for event, value in _items(events):
        _check_json_items(built, left)
        built.append(_json_value(event, value, events, left=left, depth=depth + 1))
    return built


def _check_json_depth(depth: int) -> None:
    if depth > MAX_DEPTH:
        raise InvalidAliasFile(f"not valid JSON: nested more than {MAX_DEPTH} deep")


_TOO_MANY_ITEMS = f"more than {MAX_ITEMS:,} items in one list or mapping"
_TOO_MANY_VALUES = f"more than {MAX_ENTRY_VALUES:,} values in one entry"


def _check_json_items(built: list[Any] | dict[str, Any], left: list[int]) -> None:
    """Before one more item of ``built``: refuse past the limits of a list and of an entry."""
    if len(built) == MAX_ITEMS:
        raise InvalidAliasFile(_TOO_MANY_ITEMS)
    left[0] -= 1
    if not left[0]:
        raise InvalidAliasFile(_TOO_MANY_VALUES)


class _EntryReader(CParser, Composer, SafeConstructor, Resolver):
    """libyaml's parser, composing and constructing one node at a time."""

    # Without dates, as the plain reader resolves scalars.
    yaml_implicit_resolvers = IMPLICIT_RESOLVERS

    def __init__(self, data: bytes) -> None:
        CParser.__init__(self, data)
        self.depth = 0
        self.values_left = MAX_ENTRY_VALUES  # of the entry being composed
        Composer.__init__(self)
        SafeConstructor.__init__(self)
        Resolver.__init__(self)

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node:
        # Anchors and aliases let a small file expand into a huge one; a curated
        # table never needs them.
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            raise InvalidAliasFile(
                f"line {self.line()}: YAML anchors and aliases (&, *) are not allowed"
            )
        self.depth += 1
        if self.depth > MAX_DEPTH:  # the composer recurses once a level
            raise InvalidAliasFile(f"line {self.line()}: nested more than {MAX_DEPTH} deep")
        # Within an entry (which has no parent): a list's item has its index,
        # a mapping's key has none (and its value has the key).
        items = index if isinstance(index, int) else None
        if index is None and isinstance(parent, yaml.MappingNode):
            items = len(parent.value)
        if items == MAX_ITEMS:
            raise InvalidAliasFile(f"line {self.line()}: {_TOO_MANY_ITEMS}")
        # Counted as the plain reader counts: a list's items and a mapping's values.
        if parent is None:  # an entry begins
            self.values_left = MAX_ENTRY_VALUES
        elif index is not None:
            self.values_left -= 1
            if not self.values_left:
                raise InvalidAliasFile(f"line {self.line()}: {_TOO_MANY_VALUES}")
        try:
            node: yaml.Node = super().compose_node(parent, index)  # type: ignore[assignment]
        finally:
            self.depth -= 1
        return node

    def line(self) -> int:
        """The line (1-based) where the next node begins."""
        mark = getattr(self.peek_event(), "start_mark", None)
        return mark.line + 1 if mark is not None else 0

    def value(self) -> Any:
        return self.constructed(self.compose_node(None, None))

    def constructed(self, node: yaml.Node) -> Any:
        """The plain data of ``node``, once it is known to be plain data."""
        _check_nodes(node, self)
        try:
            return self.construct_document(node)
        except ValueError as error:  # e.g. an integer of 5,000 digits
            raise InvalidAliasFile(f"not valid YAML: {error}") from None


def _check_nodes(root: yaml.Node, loader: Any) -> None:
    """Refuse what plain data never needs and what the constructor would trip on.

    Tags (``!!python/...``, ``!!int abc``) ask for constructors; a sequence or
    mapping as a key is no field name; a key given twice would silently
    keep only its last value.
    """
    stack = [root]  # a tree: the composer refused anchors and aliases
    while stack:
        node = stack.pop()
        if _has_explicit_tag(node, loader):
            raise _at(node, f"YAML tags ({_short(node.tag)}) are not allowed")
        if isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
        elif isinstance(node, yaml.MappingNode):
            _check_keys(node)
            for key, value in node.value:
                stack.extend((key, value))


def _short(tag: str) -> str:
    """A tag as written in the file: ``!!int``, not ``tag:yaml.org,2002:int``."""
    return tag.replace("tag:yaml.org,2002:", "!!")


def _has_explicit_tag(node: yaml.Node, loader: Any) -> bool:
    if node.tag not in _PLAIN_TAGS:
        return True
    if not isinstance(node, yaml.ScalarNode):
        return False
    plain = not node.style
    return bool(node.tag != loader.resolve(yaml.ScalarNode, node.value, (plain, not plain)))


def _check_keys(mapping: yaml.MappingNode) -> None:
    first_seen: dict[str, yaml.Node] = {}
    for key, _value in mapping.value:
        if not isinstance(key, yaml.ScalarNode):
            raise _at(key, "a key must be a plain value, not a list or a mapping")
        if key.value in first_seen:
            first = first_seen[key.value].start_mark
            raise _at(
                key,
                f"the key {key.value!r} is given twice in one mapping "
                f"(first at line {first.line + 1}, column {first.column + 1})",
            )
        first_seen[key.value] = key


def _at(node: yaml.Node, problem: str) -> InvalidAliasFile:
    return InvalidAliasFile(f"{_position(node)}: {problem}")


def _plain_yaml_entries(data: bytes) -> Iterator[Entry]:
    """The file's entries read from the parser's events (see ``app.plain_yaml``):
    without nodes, so a fault is found but not placed; :class:`NotPlain` for
    what only the composing reader decides on."""
    for section, item in plain_sections(data):
        if section == "types":
            yield _TypesSection([(entry, None) for entry in item]), None
        else:
            yield item, None


def _yaml_entries(data: bytes) -> Iterator[Entry]:
    reader = _EntryReader(data)
    try:
        yield from _yaml_top_level(reader)
    except yaml.MarkedYAMLError as error:
        raise InvalidAliasFile(_yaml_syntax_error(error)) from None
    except yaml.YAMLError as error:
        raise InvalidAliasFile(f"not valid YAML: {error}") from None
    finally:
        reader.dispose()


def _yaml_syntax_error(error: yaml.MarkedYAMLError) -> str:
    """PyYAML's message on one line, without the name it gives the data
    (``"<byte string>"``): the caller knows the file's."""
    mark = error.problem_mark or error.context_mark
    where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
    message = f"{where}not valid YAML: {error.problem or error.context}"
    if error.context and error.problem and error.context_mark:
        started = error.context_mark
        message += f" ({error.context} at line {started.line + 1}, column {started.column + 1})"
    return message


def _yaml_top_level(reader: _EntryReader) -> Iterator[Entry]:
    reader.get_event()  # the stream's start
    if reader.check_event(yaml.StreamEndEvent):
        return  # an empty file: an empty table
    reader.get_event()  # the document's start
    if not reader.check_event(yaml.MappingStartEvent):
        raise InvalidAliasFile(_NOT_A_MAPPING)
    seen: dict[str, yaml.Node] = {}
    _start(reader, "tag:yaml.org,2002:map")
    while not reader.check_event(yaml.MappingEndEvent):
        key_node = reader.compose_node(None, None)
        _check_keys(yaml.MappingNode("", [(key_node, key_node)]))  # a plain value
        if key_node.value in seen:
            first = seen[key_node.value]
            _check_keys(yaml.MappingNode("", [(first, key_node), (key_node, key_node)]))
        key = reader.constructed(key_node)
        if key not in SECTIONS:
            reader.value()  # an anchor there is the better message
            raise _unknown_key(key, key_node)
        seen[key] = key_node
        items = _yaml_items(reader, key)
        if key == "types":
            types = list(islice(items, MAX_ITEMS + 1))
            if len(types) > MAX_ITEMS:
                raise _at(types[-1][1], f"types: {_TOO_MANY_ITEMS}")
            yield _TypesSection(types), None
        else:
            yield from items
    reader.get_event()  # the mapping's end
    reader.get_event()  # the document's end
    if not reader.check_event(yaml.StreamEndEvent):
        raise InvalidAliasFile("not valid YAML: expected a single document in the stream")


def _yaml_items(reader: _EntryReader, section: str) -> Iterator[tuple[Any, yaml.Node]]:
    """The entries of the list under ``section``, each with its line, read one at a time."""
    if not reader.check_event(yaml.SequenceStartEvent):
        if reader.value() is None:
            return  # "entities:" with nothing after it
        raise _not_a_list(section)
    _start(reader, "tag:yaml.org,2002:seq")
    while not reader.check_event(yaml.SequenceEndEvent):
        node = reader.compose_node(None, None)
        yield reader.constructed(node), node
    reader.get_event()


def _start(reader: _EntryReader, kind: str) -> None:
    """Consume a collection's start event, which must carry no anchor and no tag
    but its own kind's (``!!map``, ``!!seq``)."""
    event = reader.peek_event()
    if getattr(event, "anchor", None):
        reader.compose_node(None, None)  # raises, naming the line
    tag = getattr(event, "tag", None)
    if tag is not None and not getattr(event, "implicit", True) and tag != kind:
        mark = getattr(event, "start_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "line ?"
        raise InvalidAliasFile(f"{where}: YAML tags ({_short(tag)}) are not allowed")
    reader.get_event()


def _validated_types(entries: Sequence[Entry]) -> list[EntityTypeCreate]:
    """The declared types; a repeated one (ignoring case) is refused naming both."""
    types: list[EntityTypeCreate] = []
    first_seen: dict[str, str] = {}
    for position, (entry, node) in enumerate(entries):
        name = _entry_name(position, entry, node, kind="type")
        try:
            declared = EntityTypeCreate.model_validate(entry)
        except ValidationError as error:
            raise InvalidAliasFile(_describe(error, name, EntityTypeCreate, node)) from None
        folded = declared.id.casefold()
        if folded in first_seen:
            raise InvalidAliasFile(
                f"{name}: the type {declared.id!r} is already declared by {first_seen[folded]} "
                "(types are told apart ignoring case)"
            )
        first_seen[folded] = name
        types.append(declared)
    return types


def _validated(entry: Any, position: int, node: yaml.Node | None) -> EntityCreate:
    try:
        return EntityCreate.model_validate(entry)
    except ValidationError as error:
        name = _entry_name(position, entry, node)
        raise InvalidAliasFile(_describe(error, name, EntityCreate, node)) from None


def _describe(
    error: ValidationError, name: str, model: type[BaseModel], node: yaml.Node | None
) -> str:
    """Each problem with the field it is in, that field's line and column where the
    YAML node gives them, and for an unknown field the known one it likely meant."""
    problems = []
    for problem in error.errors()[:10]:
        loc = problem["loc"]
        where = ".".join(map(str, loc))
        if problem["type"] == "extra_forbidden":
            message = _unknown_field(str(loc[-1]), _fields_at(model, loc[:-1]))
        else:
            message = problem["msg"].removeprefix("Value error, ")
        if where and (field := _node_at(node, loc)) is not None:
            message += f" (at {_position(field)})"
        problems.append(f"{name}{': ' + where if where else ''}: {message}")
    more = error.error_count() - len(problems)
    if more > 0:
        problems.append(f"... and {more} more")
    return "; ".join(problems)


def _unknown_field(name: str, known: Sequence[str], *, kind: str = "field") -> str:
    """'unknown field; did you mean 'aliases'?', or the fields there are when none is alike."""
    suggestion = did_you_mean(name, known)
    if suggestion or not known:
        return f"unknown {kind}{suggestion}"
    listed = ", ".join(sorted(known, key=lambda field: field != "id"))
    return f"unknown {kind}; known {kind}s: {listed}"


# The models of an entry's nested fields, for naming the fields known there.
_NESTED_MODELS: dict[tuple[type[BaseModel], str], type[BaseModel]] = {
    (EntityCreate, "aliases"): AliasCreate
}


def _fields_at(model: type[BaseModel], path: Sequence[int | str]) -> tuple[str, ...]:
    """The fields of the object at ``path`` (a validation error's location) in ``model``."""
    current: type[BaseModel] | None = model
    for part in path:
        if current is None:
            break
        if isinstance(part, str):
            current = _NESTED_MODELS.get((current, part))
    return () if current is None else tuple(current.model_fields)


def _node_at(node: yaml.Node | None, loc: Sequence[int | str]) -> yaml.Node | None:
    """The deepest node on the way to ``loc``; a mapping's last step gives the key,
    where the field's name is written."""
    found = None
    for step, part in enumerate(loc, start=1):
        if isinstance(node, yaml.MappingNode):
            pair = next((pair for pair in node.value if pair[0].value == part), None)
            if pair is None:
                break
            found, node = (pair[0] if step == len(loc) else pair[1]), pair[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if not 0 <= part < len(node.value):
                break
            found = node = node.value[part]
        else:
            break
    return found


def _position(node: yaml.Node) -> str:
    mark = node.start_mark
    return f"line {mark.line + 1}, column {mark.column + 1}"


def _entry_name(position: int, entry: Any, node: yaml.Node | None, *, kind: str = "entity") -> str:
    entity_id = entry.get("id") if isinstance(entry, dict) else None
    name = f"{kind} #{position + 1}"
    if isinstance(entity_id, str):
        name += f" (id {entity_id!r})"
    if node is not None:
        name += f" at line {node.start_mark.line + 1}"
    return name
