"""The W3C Reconciliation Service API 0.2 over the resolver, for OpenRefine.

A query batch is a JSON object of named queries, ``{"q0": {"query": "TTP",
"type": "organization", "limit": 3}}``; the answer names the same keys, each
with its candidates: ``{"q0": {"result": [{"id", "name", "description",
"score", "features", "match", "type"}]}}``. ``match`` is true only for the
entity the resolver matched, so OpenRefine's automatic matching never takes a
guess: a query's type narrows the candidates, but unless ``type_strict`` is
``any`` or ``all`` it is a preference, and a name that namesakes of other
types share is matched by none. Scores are the resolver's, on OpenRefine's usual scale of 0 to 100;
``features`` have the same IDs for every candidate, so that they can be
columns: ``name_score`` (the score, 0 to 1) and ``alias_matched`` (whether an
alias rather than the name matched); ``matched_alias`` says which, ``method``
which layer of the resolver found it.

Besides, the services the manifest names: suggest (entities, types and
properties, as a user types), preview (a small HTML card), view (an HTML page
per entity) and data extension (an entity's type, description and aliases).
Everything here is a pure function of an index snapshot and its records; the
routes in ``app.api.reconcile`` only parse and answer.
"""

import re
from collections.abc import Callable, Mapping
from dataclasses import replace
from html import escape
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    field_validator,
)

from app.declared_types import check_filters
from app.errors import DomainError, PayloadTooLarge, clipped, validation_details
from app.matching.budget import NO_DEADLINE, Deadline
from app.matching.completion import Suggestion, suggest
from app.matching.index import AliasIndex, EntityRecord
from app.matching.resolve import Candidate, Resolution, Status, Thresholds, resolve
from app.models.api import MAX_BATCH_SIZE, MAX_CANDIDATES, MAX_MENTION_LENGTH, MAX_TYPES
from app.models.fields import MAX_TYPE_LENGTH

SERVICE_NAME = "alias-service"
PREVIEW_WIDTH, PREVIEW_HEIGHT = 400, 140
# The properties data extension offers, by ID: every entity has them.
PROPERTIES = {
    "type": ("Type", "The entity's type."),
    "description": ("Description", "What the entity is, in a sentence."),
    "aliases": ("Aliases", "Every alias of the entity, in the order they were added."),
}
MAX_EXTENSION_PROPERTIES = 10
# The characters of the values one data extension answers at most: a thousand
# IDs of entities with thousands of long aliases (or merged into one such)
# would answer gigabytes. About 16 MB of JSON.
MAX_EXTENSION_CHARACTERS = 16_000_000
# What a value costs beside its characters, in the answer: {"str": "..."},
_VALUE_OVERHEAD = 12
LIMIT_SETTING = {
    "type": "number",
    "default": 0,
    "label": "Limit",
    "name": "limit",
    "help_text": "At most this many values of the property per entity (0: all of them).",
}


class InvalidQueries(DomainError):
    status_code = 422


# A type is refused by its length before it is looked for, as /resolve's is.
QueryType = Annotated[str, StringConstraints(max_length=MAX_TYPE_LENGTH)]
QueryTypes = Annotated[list[QueryType], Field(max_length=MAX_TYPES)]


class ReconciliationQuery(BaseModel):
    # Properties are accepted and not used: the table has no properties.
    model_config = ConfigDict(extra="ignore")

    query: str = Field(max_length=MAX_MENTION_LENGTH)
    type: QueryType | QueryTypes | None = None
    # How the type binds: "any" and "all" keep to it strictly (as /resolve's
    # type does); otherwise, as OpenRefine's "should", it is a preference:
    # candidates are of the type, but one is a match only when the name alone
    # matches it (STRICT_TYPES).
    type_strict: Literal["any", "all", "should"] | None = None
    limit: int = Field(default=5, ge=1)

    @field_validator("limit")
    @classmethod
    def _at_most_the_candidates_given(cls, limit: int) -> int:
        """In the API a limit is a hint: more than the service gives asks for all it gives."""
        return min(limit, MAX_CANDIDATES)

    def types(self) -> list[str] | None:
        return [self.type] if isinstance(self.type, str) else self.type


_QUERY_BATCH = TypeAdapter(dict[str, ReconciliationQuery])


class PropertyRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str
    settings: dict[str, Any] = Field(default_factory=dict)


class ExtensionQuery(BaseModel):
    """A data extension request: ``{"ids": [...], "properties": [{"id": ...}]}``."""

    model_config = ConfigDict(extra="ignore")

    ids: list[str] = Field(max_length=MAX_BATCH_SIZE)
    properties: list[PropertyRequest] = Field(min_length=1, max_length=MAX_EXTENSION_PROPERTIES)


def manifest(*, public_url: str, types: list[str]) -> dict[str, Any]:
    """The service manifest that OpenRefine reads when the service is added.

    Every address starts with ``public_url`` (the ``PUBLIC_URL`` setting),
    never with what a request's headers say the host is."""
    service_url = public_url.rstrip("/")
    return {
        "versions": ["0.2"],
        "name": SERVICE_NAME,
        "identifierSpace": f"{public_url}entities/",
        "schemaSpace": f"{public_url}types",
        "documentation": f"{public_url}docs",
        "view": {"url": f"{public_url}reconcile/view/{{{{id}}}}"},
        "preview": {
            "url": f"{public_url}reconcile/preview?id={{{{id}}}}",
            "width": PREVIEW_WIDTH,
            "height": PREVIEW_HEIGHT,
        },
        "suggest": {
            kind: {"service_url": service_url, "service_path": f"/reconcile/suggest/{kind}"}
            for kind in ("entity", "type", "property")
        },
        "extend": {
            "propose_properties": {
                "service_url": service_url,
                "service_path": "/reconcile/extend/propose",
            },
            "property_settings": [LIMIT_SETTING],
        },
        "defaultTypes": [{"id": t, "name": t} for t in types],
    }


def _parsed(adapter: TypeAdapter[Any], raw: str, what: str) -> Any:
    """``raw`` read by ``adapter``; InvalidQueries names each problem as a 422
    does, where a refused key or value is clipped, never echoed whole."""
    try:
        return adapter.validate_json(raw)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or what}: {e['msg']}"
            for e in validation_details(error.errors())
        )
        raise InvalidQueries(f"invalid {what}: {problems}") from None


def parse_queries(raw: str, known_types: Mapping[str, str]) -> dict[str, ReconciliationQuery]:
    """A query batch from its JSON text; InvalidQueries names what is wrong,
    UnknownType a type that is no type of the table."""
    batch: dict[str, ReconciliationQuery] = _parsed(_QUERY_BATCH, raw, "reconciliation queries")
    if len(batch) > MAX_BATCH_SIZE:
        raise InvalidQueries(
            f"at most {MAX_BATCH_SIZE} queries in one batch; this one has {len(batch)}"
        )
    for query in batch.values():
        check_filters(known_types, query.types())
    return batch


_EXTENSION = TypeAdapter(ExtensionQuery)


def parse_extension(raw: str) -> ExtensionQuery:
    """A data extension request from its JSON text, checked as ``check_extension`` does."""
    query: ExtensionQuery = _parsed(_EXTENSION, raw, "data extension request")
    return check_extension(query)


def check_extension(query: ExtensionQuery) -> ExtensionQuery:
    """The request, once its properties and settings are known ones: unknown
    ones are refused, naming them and what is offered."""
    for wanted in query.properties:
        if wanted.id not in PROPERTIES:
            raise InvalidQueries(
                f"no property {clipped(wanted.id)!r}; the properties are {', '.join(PROPERTIES)}"
            )
        _value_limit(wanted)
    return query


# A limit sent as text: ASCII digits only (``str.isdigit`` also takes "²", which ``int`` refuses).
_DIGITS = re.compile(r"[0-9]+")


def _value_limit(wanted: PropertyRequest) -> int | None:
    """The ``limit`` setting of a property: None for all values."""
    unknown = set(wanted.settings) - {"limit"}
    if unknown:
        raise InvalidQueries(
            f"property {wanted.id!r}: no setting {clipped(sorted(unknown)[0])!r}; only 'limit'"
        )
    limit = wanted.settings.get("limit", 0)
    if isinstance(limit, str) and _DIGITS.fullmatch(limit.strip()):
        limit = int(limit)
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
        raise InvalidQueries(f"property {wanted.id!r}: 'limit' is a whole number >= 0")
    return limit or None


# --- reconciling ---------------------------------------------------------------------


def reconcile(
    index: AliasIndex,
    queries: dict[str, ReconciliationQuery],
    thresholds: Thresholds,
    deadline: Deadline = NO_DEADLINE,
    resolved: Callable[[Resolution], None] | None = None,
) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """Each query's candidates; ``budget.WorkStopped`` when ``deadline`` says to stop.
    ``resolved`` is told of each query's resolution (to count the unresolved)."""
    results = {}
    for key, query in queries.items():
        deadline.check()
        resolution = _resolution(index, query, thresholds)
        if resolved is not None:
            resolved(resolution)
        results[key] = {"result": _candidates(resolution)}
    return results


# The strategies of the 0.2 API under which the query's types are a filter;
# under ``should`` (what OpenRefine sends), and when none is given, they are a
# preference.
STRICT_TYPES = ("any", "all")


def _resolution(
    index: AliasIndex, query: ReconciliationQuery, thresholds: Thresholds
) -> Resolution:
    """The query's resolution among entities of its types. Where the types are
    only a preference, a match stands only when the name, resolved among every
    entity, is matched to the same one: a namesake of another type makes the
    name ambiguous, as it is, and the answer then says so."""
    types = query.types()
    found = resolve(index, query.query, types=types, limit=query.limit, thresholds=thresholds)
    if found.status is not Status.MATCHED or types is None or query.type_strict in STRICT_TYPES:
        return found
    anywhere = resolve(index, query.query, limit=query.limit, thresholds=thresholds)
    if anywhere.entity is not None and anywhere.entity.id == found.candidates[0].entity.id:
        return found
    return replace(found, status=Status.AMBIGUOUS, tie_break=None)


def _candidates(resolution: Resolution) -> list[dict[str, Any]]:
    """The resolution's candidates; the first is a match when it was matched."""
    matched = resolution.status is Status.MATCHED
    return [_candidate(c, rank == 0 and matched) for rank, c in enumerate(resolution.candidates)]


def _candidate(candidate: Candidate, match: bool) -> dict[str, Any]:
    """A candidate as the API has it; what the match was (its features, the
    alias and the method) stays apart from what the entity is."""
    entity = candidate.entity
    found: dict[str, Any] = {
        "id": entity.id,
        "name": entity.name,
        "score": round(candidate.score * 100, 2),
        "features": [
            {"id": "name_score", "value": round(candidate.score, 4)},
            {"id": "alias_matched", "value": candidate.matched_alias != entity.name},
        ],
        "match": match,
        "type": [_type(entity.type)],
        "matched_alias": candidate.matched_alias,
        "method": candidate.method.value,
    }
    if entity.description:
        found["description"] = entity.description
    return found


def _type(name: str) -> dict[str, str]:
    return {"id": name, "name": name}


def _description(entity: EntityRecord, matched_form: str) -> str:
    """The entity's description, and the alias that matched when it is not the name:
    where candidates are chosen from, it tells why an unexpected one came."""
    parts = [entity.description] if entity.description else []
    if matched_form != entity.name:
        parts.append(f"matched “{matched_form}”")
    return " · ".join(parts)


# --- suggest -------------------------------------------------------------------------


def suggest_entities(
    index: AliasIndex,
    prefix: str,
    *,
    types: list[str] | None = None,
    limit: int = 10,
    cursor: int = 0,
) -> dict[str, list[dict[str, Any]]]:
    """Entities whose name or an alias starts (or has a word starting) with
    ``prefix``, best first; ``cursor`` skips that many (the next page)."""
    check_filters(index.known_types(), types)
    wanted = None if types is None else frozenset(t.casefold() for t in types)
    found = suggest(index, prefix, limit=cursor + limit, types=wanted)
    return {"result": [_suggested(s) for s in found[cursor:]]}


def _suggested(suggestion: Suggestion) -> dict[str, Any]:
    entity = suggestion.entity
    found: dict[str, Any] = {"id": entity.id, "name": entity.name, "notable": [_type(entity.type)]}
    description = _description(entity, suggestion.form)
    if description:
        found["description"] = description
    return found


def suggest_types(index: AliasIndex, prefix: str, *, limit: int = 10) -> dict[str, Any]:
    """The table's types (declared or in use) that start with ``prefix``, or
    have it in them, in that order; case does not matter."""
    wanted = prefix.strip().casefold()
    names = sorted(index.known_types().values(), key=str.casefold)
    starting = [n for n in names if n.casefold().startswith(wanted)]
    inside = [n for n in names if wanted in n.casefold() and n not in starting]
    return {"result": [_type(n) for n in [*starting, *inside][:limit]]}


def suggest_properties(prefix: str, *, limit: int = 10) -> dict[str, Any]:
    """The data extension's properties whose ID or name has ``prefix`` in it."""
    wanted = prefix.strip().casefold()
    return {
        "result": [
            described
            for described in _described_properties()
            if wanted in described["id"] or wanted in described["name"].casefold()
        ][:limit]
    }


def _described_properties() -> list[dict[str, str]]:
    """The data extension's properties as suggest and proposals show them."""
    return [
        {"id": key, "name": name, "description": description}
        for key, (name, description) in PROPERTIES.items()
    ]


# --- data extension ------------------------------------------------------------------


def propose_properties(
    index: AliasIndex, *, entity_types: list[str] | None, limit: int | None = None
) -> dict[str, Any]:
    """The properties data extension offers for entities of ``entity_types``
    (every type has the same); the answer names the type when there is one."""
    check_filters(index.known_types(), entity_types)
    proposal: dict[str, Any] = {"properties": _described_properties()[:limit]}
    if entity_types is not None and len(entity_types) == 1:
        proposal["type"] = entity_types[0]
    if limit is not None:
        proposal["limit"] = limit
    return proposal


def extend(index: AliasIndex, query: ExtensionQuery, merged: Mapping[str, str]) -> dict[str, Any]:
    """The values of the wanted properties of each ID; an unknown ID's are empty,
    a merged entity's (``merged``: its ID → the survivor's) are the survivor's."""
    meta = [{"id": p.id, "name": PROPERTIES[p.id][0]} for p in query.properties]
    rows = {}
    size = 0
    for entity_id in query.ids:
        if entity_id in rows:  # asked twice, answered once
            continue
        entity = index.entity(merged.get(entity_id, entity_id))
        row = {p.id: _values(entity, p.id)[: _value_limit(p)] for p in query.properties}
        size += sum(len(v["str"]) + _VALUE_OVERHEAD for values in row.values() for v in values)
        if size > MAX_EXTENSION_CHARACTERS:
            raise PayloadTooLarge(
                f"the answer would hold more than {MAX_EXTENSION_CHARACTERS:,} characters of "
                "values: ask for fewer IDs, or set a 'limit' on 'aliases'"
            )
        rows[entity_id] = row
    return {"meta": meta, "rows": rows}


def _values(entity: EntityRecord | None, property_id: str) -> list[dict[str, str]]:
    if entity is None:
        return []
    if property_id == "type":
        return [{"str": entity.type}]
    if property_id == "description":
        return [{"str": entity.description}] if entity.description else []
    return [{"str": alias} for alias in entity.aliases]


# --- HTML ----------------------------------------------------------------------------

_STYLE = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 0.6em; color: #222; }
h1 { font-size: 1.4em; margin: 0 0 0.2em; } h2 { font-size: 1.1em; margin: 0; }
.type { color: #555; font-variant: small-caps; } .id { color: #777; font-family: monospace; }
ul.aliases { padding-left: 1.2em; } ul.aliases.inline { padding: 0; display: inline; }
ul.aliases.inline li { display: inline; } ul.aliases.inline li + li::before { content: " · "; }
"""
# Aliases a preview shows; the view shows them all.
PREVIEW_ALIASES = 8


def preview_html(entity: EntityRecord) -> str:
    """A small card of the entity, for OpenRefine's preview frame."""
    aliases = entity.aliases[:PREVIEW_ALIASES]
    more = len(entity.aliases) - len(aliases)
    also = ""
    if aliases:
        rest = f" and {more} more" if more > 0 else ""
        also = f"<div>Also: {_alias_list(aliases, inline=True)}{rest}</div>"
    return _page(
        entity.name,
        f"<h2>{escape(entity.name)}</h2>{_kind(entity)}{_paragraph(entity.description)}{also}",
    )


def view_html(entity: EntityRecord, *, public_url: str) -> str:
    """A page of the entity: its name, type, description, prominence and every alias."""
    json_address = f"{public_url}entities/{entity.id}"
    prominence = (
        f"<p>Prominence: {entity.prominence:g}</p>" if entity.prominence is not None else ""
    )
    return _page(
        entity.name,
        f"<h1>{escape(entity.name)}</h1>{_kind(entity)}"
        + _paragraph(entity.description)
        + prominence
        + f"<h2>Aliases ({len(entity.aliases)})</h2>"
        + _alias_list(entity.aliases, inline=False)
        + f'<p><a href="{escape(json_address)}">As JSON</a></p>',
    )


def _kind(entity: EntityRecord) -> str:
    return (
        f'<div><span class="type">{escape(entity.type)}</span> '
        f'<span class="id">{escape(entity.id)}</span></div>'
    )


def _paragraph(text: str | None) -> str:
    return f"<p>{escape(text)}</p>" if text else ""


def _alias_list(aliases: tuple[str, ...], *, inline: bool) -> str:
    items = "".join(f"<li>{escape(alias)}</li>" for alias in aliases)
    return f'<ul class="aliases{" inline" if inline else ""}">{items}</ul>'


def _page(title: str, body: str) -> str:
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body>{body}</body></html>"
    )
