"""An alias file's YAML read straight from libyaml's events, for files of plain data.

The reader in ``app.aliasfile`` composes each entry into nodes, checks them
(tags, anchors, keys) and constructs the entry from them: every fault can be
named by its line and column. Most files hold nothing but untagged scalars,
lists and mappings keyed by text, and for those this reader builds the same
entries from the parser's events alone, without nodes. On anything else (a
tag, an anchor, a key given twice, a key that is not text, a scalar that
does not construct, a syntax error, deep nesting, an unusual layout of the
top level) it raises :class:`NotPlain`, and the caller reads the file again
with the composing reader, which accepts it or names the fault.
"""

from collections.abc import Iterator
from itertools import islice
from typing import Any

import yaml
from yaml._yaml import CParser
from yaml.constructor import SafeConstructor
from yaml.resolver import Resolver

from app.models.fields import MAX_ALIASES

TIMESTAMP = "tag:yaml.org,2002:timestamp"
STR = "tag:yaml.org,2002:str"
# Without dates: an unquoted ``2020-01-01`` is the text it reads as (the alias
# file has no date field, and ``2020-99-99`` would not even construct).
IMPLICIT_RESOLVERS = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != TIMESTAMP]
    for first, resolvers in Resolver.yaml_implicit_resolvers.items()
}
MAX_DEPTH = 32  # an entity is three levels deep; parsers recurse or slow down with depth
# Items of one list or mapping within an entry (its aliases are the longest),
# and declared types. Reading stops at the first beyond, so neither an entry
# nor the types can hold a whole file.
MAX_ITEMS = MAX_ALIASES
# Values within one entry (a list's items and a mapping's values, counted
# through every level), at most: 10,000 aliases as mappings of their three
# fields come to 40,000. Lists within lists, which no entry has, would
# otherwise let one entry hold a whole file (4 million values in 11 MiB).
MAX_ENTRY_VALUES = 8 * MAX_ITEMS
SECTIONS = ("entities", "types")

_CONSTRUCTOR = SafeConstructor()
_SCALAR_CONSTRUCTORS = {
    f"tag:yaml.org,2002:{kind}": SafeConstructor.yaml_constructors[f"tag:yaml.org,2002:{kind}"]
    for kind in ("int", "float", "bool", "null")
}


class NotPlain(Exception):
    """The file holds something this reader leaves to the composing one."""


def plain_sections(data: bytes) -> Iterator[tuple[str, Any]]:
    """Each item of the file's ``entities`` as ``("entities", item)``, and its whole
    ``types`` list as ``("types", items)``, in the file's order; :class:`NotPlain`
    as soon as the file holds what only the composing reader decides on."""
    parser = CParser(data)
    try:
        yield from _top_level(parser)
    except (yaml.YAMLError, ValueError, TypeError, RecursionError):
        raise NotPlain from None
    finally:
        parser.dispose()


def _top_level(parser: CParser) -> Iterator[tuple[str, Any]]:
    _expect(parser, yaml.StreamStartEvent)
    _expect(parser, yaml.DocumentStartEvent)
    _expect_collection(parser.get_event(), yaml.MappingStartEvent)
    seen: set[str] = set()
    while type(event := parser.get_event()) is not yaml.MappingEndEvent:
        section = _key(event)
        if section not in SECTIONS or section in seen:
            raise NotPlain
        seen.add(section)
        _expect_collection(parser.get_event(), yaml.SequenceStartEvent)
        items = _items(parser)
        if section == "types":
            types = list(islice(items, MAX_ITEMS + 1))
            if len(types) > MAX_ITEMS:
                raise NotPlain
            yield section, types
        else:
            yield from ((section, item) for item in items)
    _expect(parser, yaml.DocumentEndEvent)
    _expect(parser, yaml.StreamEndEvent)


def _items(parser: CParser) -> Iterator[Any]:
    """The values of a list whose start event was consumed, up to its end."""
    while type(event := parser.get_event()) is not yaml.SequenceEndEvent:
        yield _value(parser, event, depth=1, left=[MAX_ENTRY_VALUES])


def _value(parser: CParser, event: Any, *, depth: int, left: list[int]) -> Any:
    """The plain data that begins with ``event``, built from the events that follow;
    ``left[0]``: how many more values its entry may hold."""
    kind = type(event)
    if kind is yaml.ScalarEvent:
        return _scalar(event)
    if depth > MAX_DEPTH:
        raise NotPlain
    if kind is yaml.SequenceStartEvent:
        _expect_collection(event, kind)
        items: list[Any] = []
        while type(event := parser.get_event()) is not yaml.SequenceEndEvent:
            left[0] -= 1
            if len(items) == MAX_ITEMS or not left[0]:
                raise NotPlain
            items.append(_value(parser, event, depth=depth + 1, left=left))
        return items
    if kind is yaml.MappingStartEvent:
        _expect_collection(event, kind)
        mapping: dict[str, Any] = {}
        while type(event := parser.get_event()) is not yaml.MappingEndEvent:
            key = _key(event)
            left[0] -= 1
            if key in mapping or len(mapping) == MAX_ITEMS or not left[0]:
                raise NotPlain
            mapping[key] = _value(parser, parser.get_event(), depth=depth + 1, left=left)
        return mapping
    raise NotPlain  # an alias (*name)


def _key(event: Any) -> str:
    """A mapping's key, which must be text: a key of another kind is left to the
    composing reader, which tells keys apart by how they are written."""
    if type(event) is not yaml.ScalarEvent:
        raise NotPlain
    key = _scalar(event)
    if type(key) is not str:
        raise NotPlain
    return key


def _scalar(event: Any) -> Any:
    """An untagged scalar's value, resolved and constructed as the safe loader does."""
    if event.tag is not None or event.anchor is not None:
        raise NotPlain
    value: str = event.value
    if not event.implicit[0]:  # quoted: always text
        return value
    tag = scalar_tag(value)
    if tag == STR:
        return value
    construct = _SCALAR_CONSTRUCTORS.get(tag)
    if construct is None:  # a merge key (<<) or a value key (=)
        raise NotPlain
    return construct(_CONSTRUCTOR, yaml.ScalarNode(tag, value))


def scalar_tag(value: str) -> str:
    """The tag a plain scalar resolves to, without dates."""
    for tag, regexp in IMPLICIT_RESOLVERS.get(value[:1], ()):
        if regexp.match(value):
            return str(tag)
    return STR


def _expect(parser: CParser, kind: type[yaml.Event]) -> None:
    if type(parser.get_event()) is not kind:
        raise NotPlain


def _expect_collection(event: Any, kind: type[yaml.CollectionStartEvent]) -> None:
    """A list or mapping that begins here, with neither an anchor nor a tag."""
    if type(event) is not kind or event.anchor is not None or event.tag is not None:
        raise NotPlain
