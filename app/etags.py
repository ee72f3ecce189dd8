"""Entity tags: a version of an entity that an edit can be made conditional on.

An entity's ETag is a hash of its public state (its fields and its aliases
with their ids), so any change to the entity or to one of its aliases gives
another. An edit sent with ``If-Match`` is made only if the entity is still
in the state the editor saw (RFC 9110, section 13.1.1).
"""

import hashlib
import re
from dataclasses import dataclass

from app.errors import DomainError
from app.models.api import EntityPublic


def etag_of(entity: EntityPublic) -> str:
    """The strong ETag of an entity as the API shows it."""
    digest = hashlib.sha256(entity.model_dump_json().encode()).hexdigest()
    return f'"{digest[:32]}"'


# An entity-tag: optionally W/, then a quoted string of the characters RFC
# 9110 allows (no space, no double quote, no control character).
_ENTITY_TAG = r'(?:W/)?"[\x21\x23-\x7e\x80-\xff]*"'
_TAG_LIST = re.compile(rf"^[ \t]*{_ENTITY_TAG}(?:[ \t]*,[ \t]*{_ENTITY_TAG})*[ \t]*$")
_TAGS = re.compile(_ENTITY_TAG)


@dataclass(frozen=True, slots=True)
class IfMatch:
    """A parsed If-Match header: ``*`` (any existing entity) or some entity-tags."""

    any: bool
    tags: frozenset[str]

    def matches(self, etag: str) -> bool:
        # The strong comparison: a weak tag never matches.
        return self.any or etag in self.tags


def parse_if_match(header: str) -> IfMatch:
    if header.strip() == "*":
        return IfMatch(any=True, tags=frozenset())
    if not _TAG_LIST.match(header):
        raise DomainError(
            f"If-Match must be * or a list of entity-tags such as "
            f'"0f3c..." (as GET /entities/{{id}} gives in ETag), not {header[:100]!r}'
        )
    return IfMatch(any=False, tags=frozenset(_TAGS.findall(header)))
