"""Read and write the alias file (``aliases.yaml``; JSON is accepted too).

Parsing is strict: the whole file validates, or nothing of it is used. An
error names the entry (its position, ID and line) and what is wrong with it.
"""

from typing import Any

import orjson
import yaml
from pydantic import ValidationError

from app.errors import InvalidAliasFile
from app.models import AliasCreate, AliasFile, EntityCreate

_Dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_PLAIN_TAGS = frozenset(
    f"tag:yaml.org,2002:{kind}" for kind in ("str", "int", "float", "bool", "null", "seq", "map")
)


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """The safe loader without dates: an unquoted ``2020-01-01`` is the text it
    reads as (the alias file has no date field, and ``2020-99-99`` would not
    even construct)."""

    yaml_implicit_resolvers = {  # noqa: RUF012 (the resolver's own class attribute)
        first: [(tag, regexp) for tag, regexp in resolvers if tag != _TIMESTAMP]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }


def parse_alias_file(raw: str | bytes, *, media_type: str = "application/yaml") -> AliasFile:
    """Validate a whole alias file; raise :class:`InvalidAliasFile` naming the fault."""
    text = _decode(raw)
    lines: dict[int, int] = {}
    if "json" in media_type:
        data = _load_json(text)
    else:
        data, lines = _load_yaml(text)
    if not isinstance(data, dict):
        raise InvalidAliasFile("an alias file is a mapping with the key 'entities'")
    try:
        table = AliasFile.model_validate(data)
    except ValidationError as error:
        raise InvalidAliasFile(_describe(error, data, lines)) from None
    _reject_duplicate_ids(table, lines)
    return table


def dump_alias_file(table: AliasFile) -> str:
    """The alias file for ``table``; parsing it gives ``table`` back."""
    entities = [_entity_to_plain(entity) for entity in table.entities]
    return yaml.dump(
        {"entities": entities},
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


def _decode(raw: str | bytes) -> str:
    if isinstance(raw, str):
        return raw
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise InvalidAliasFile(f"the file is not UTF-8 (byte {error.start})") from None


def _load_json(text: str) -> Any:
    # orjson bounds the nesting (1024 levels) and refuses lone surrogates and
    # numbers no float holds, where json.loads recurses until RecursionError.
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError as error:
        raise InvalidAliasFile(f"not valid JSON: {error}") from None


def _load_yaml(text: str) -> tuple[Any, dict[int, int]]:
    """The document and, per entity position, its line number (1-based)."""
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.YAMLError as error:
        raise InvalidAliasFile(f"not valid YAML: {error}") from None
    if node is None:
        return {}, {}
    loader = _Loader("")
    _check_nodes(node, loader)
    try:
        data = loader.construct_document(node)
    except (yaml.YAMLError, ValueError) as error:  # e.g. an integer of 5,000 digits
        raise InvalidAliasFile(f"not valid YAML: {error}") from None
    return data, _entity_lines(node)


def _check_nodes(root: yaml.Node, loader: Any) -> None:
    """Refuse what plain data never needs and what the constructor would trip on.

    Anchors and aliases let a small file expand into a huge one; tags
    (``!!python/...``, ``!!int abc``) ask for constructors; a sequence or
    mapping as a key is no field name; a key given twice would silently
    keep only its last value.
    """
    seen: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            raise _at(node, "YAML anchors and aliases (&, *) are not allowed")
        seen.add(id(node))
        if _has_explicit_tag(node, loader):
            raise _at(
                node, f"YAML tags ({node.tag.replace('tag:yaml.org,2002:', '!!')}) are not allowed"
            )
        if isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
        elif isinstance(node, yaml.MappingNode):
            _check_keys(node)
            for key, value in node.value:
                stack.extend((key, value))


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
    mark = node.start_mark
    return InvalidAliasFile(f"line {mark.line + 1}, column {mark.column + 1}: {problem}")


def _entity_lines(root: yaml.Node) -> dict[int, int]:
    if not isinstance(root, yaml.MappingNode):
        return {}
    for key, value in root.value:
        if key.value == "entities" and isinstance(value, yaml.SequenceNode):
            return {i: item.start_mark.line + 1 for i, item in enumerate(value.value)}
    return {}


def _describe(error: ValidationError, data: dict[str, Any], lines: dict[int, int]) -> str:
    problems = [_describe_one(e, data, lines) for e in error.errors()[:10]]
    more = error.error_count() - len(problems)
    if more > 0:
        problems.append(f"... and {more} more")
    return "; ".join(problems)


def _describe_one(error: Any, data: dict[str, Any], lines: dict[int, int]) -> str:
    loc = list(error["loc"])
    message = error["msg"].removeprefix("Value error, ")
    if len(loc) < 2 or loc[0] != "entities" or not isinstance(loc[1], int):
        return f"{'.'.join(map(str, loc)) or 'file'}: {message}"
    position = loc[1]
    where = ".".join(map(str, loc[2:]))
    return f"{_entry_name(position, data, lines)}{': ' + where if where else ''}: {message}"


def _entry_name(position: int, data: dict[str, Any], lines: dict[int, int]) -> str:
    entries = data.get("entities")
    entry = entries[position] if isinstance(entries, list) else None
    entity_id = entry.get("id") if isinstance(entry, dict) else None
    name = f"entity #{position + 1}"
    if isinstance(entity_id, str):
        name += f" (id {entity_id!r})"
    if position in lines:
        name += f" at line {lines[position]}"
    return name


def _reject_duplicate_ids(table: AliasFile, lines: dict[int, int]) -> None:
    first_seen: dict[str, int] = {}
    for position, entity in enumerate(table.entities):
        if entity.id in first_seen:
            where = f" at line {lines[position]}" if position in lines else ""
            raise InvalidAliasFile(
                f"entity #{position + 1}{where}: id {entity.id!r} is already used by "
                f"entity #{first_seen[entity.id] + 1}"
            )
        first_seen[entity.id] = position
