"""The API's request and response bodies, and the alias file's shape.

One family per resource, on the bases in ``app.models.tables``:
``EntityCreate``, ``EntityUpdate``, ``EntityPublic``; the same for aliases.
``EntityCreate`` is also one entry of the alias file, so the file and the API
validate entities by the same rules. The routes name these classes as their
request and response models; their names are the OpenAPI schema's component
names, which generated clients are built from.
"""

from collections.abc import Iterable
from datetime import datetime
from typing import Annotated, Any, Literal, Protocol

from pydantic import (
    BeforeValidator,
    ConfigDict,
    StringConstraints,
    model_validator,
)
from sqlmodel import Field, SQLModel

from app import examples as example
from app.matching.resolve import DEFAULT_THRESHOLDS, TieBreak
from app.matching.type_names import requested_types
from app.models.fields import (
    MAX_ALIASES,
    PROMINENCE_DESCRIPTION,
    EntityId,
    MatchableText,
    Note,
    Prominence,
    TypeDescription,
    TypeName,
)
from app.models.tables import AliasBase, EntityBase, ReviewStatus
from app.normal_forms import form_key

# --- request models -----------------------------------------------------------


def _alias_from_string(value: Any) -> Any:
    return {"text": value} if isinstance(value, str) else value


class AliasCreate(AliasBase):
    model_config = ConfigDict(
        extra="forbid",
        # A form that no entity of the shipped table has, so trying it succeeds.
        json_schema_extra={"examples": [{"text": "Tehrik-e-Taliban", "note": "Dawn spelling"}]},
    )


AliasEntry = Annotated[AliasCreate, BeforeValidator(_alias_from_string)]


class AliasUpdate(SQLModel):
    """The fields of an alias to change; those not sent stay as they are."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"note": "checked against the group's statements"}]},
    )

    text: MatchableText | None = Field(default=None, description="Cannot be null.")
    note: Note | None = Field(default=None, description="null removes it.")
    case_sensitive: bool | None = Field(
        default=None, description="null brings back the rule by the alias's form."
    )

    @model_validator(mode="after")
    def _text_is_not_cleared(self) -> "AliasUpdate":
        if "text" in self.model_fields_set and self.text is None:
            raise ValueError("text cannot be null: an alias is its text")
        return self


class EntityCreate(EntityBase):
    """A new entity with its aliases; also one entry of the alias file."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            # An entity the shipped table lacks, so trying it succeeds.
            "examples": [
                {
                    "id": "lashkar-e-jhangvi",
                    "name": "Lashkar-e-Jhangvi",
                    "type": "organization",
                    "description": "Sectarian militant group based in Pakistan.",
                    "aliases": ["LeJ", {"text": "Lashkar-i-Jhangvi", "note": "news usage"}],
                }
            ]
        },
    )

    id: EntityId
    aliases: list[AliasEntry] = Field(default_factory=list, max_length=MAX_ALIASES)

    @model_validator(mode="after")
    def _forms_are_distinct(self) -> "EntityCreate":
        seen = {form_key(self.name): f"the name {self.name!r}"}
        for alias in self.aliases:
            key = form_key(alias.text)
            if key in seen:
                raise ValueError(f"alias {alias.text!r} repeats {seen[key]} once normalised")
            seen[key] = f"alias {alias.text!r}"
        return self


class EntityMerge(SQLModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"into": "ttp"}]},
    )

    into: EntityId = Field(description="The ID of the entity that stays.")


class EntityUpdate(SQLModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"description": "Umbrella group of Pakistani militants."}]},
    )

    name: MatchableText | None = Field(default=None, description="Cannot be null.")
    type: TypeName | None = Field(default=None, description="Cannot be null.")
    description: Note | None = Field(default=None, description="null removes it.")
    prominence: Prominence | None = Field(
        default=None, description=f"{PROMINENCE_DESCRIPTION} null removes it."
    )

    @model_validator(mode="after")
    def _name_and_type_are_not_cleared(self) -> "EntityUpdate":
        for field in ("name", "type"):
            if field in self.model_fields_set and getattr(self, field) is None:
                raise ValueError(f"{field} cannot be null: an entity always has one")
        return self


class EntityTypeCreate(SQLModel):
    """One declared type; also one entry of the alias file's ``types``."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"id": "organization", "description": "Armed groups, parties, firms."}]
        },
    )

    id: TypeName
    description: TypeDescription


class AliasFile(SQLModel):
    """The whole table as the alias file holds it."""

    model_config = ConfigDict(extra="forbid")

    # None: the file declares no types (a merge keeps the stored ones).
    types: list[EntityTypeCreate] | None = None
    entities: list[EntityCreate] = Field(default_factory=list)


class AliasFileSource(Protocol):
    """An alias file to import: a whole ``AliasFile``, or one read as it is stored.

    ``types`` is read only once every entity was taken: a streamed file may list them last.
    """

    @property
    def types(self) -> list[EntityTypeCreate] | None: ...

    @property
    def entities(self) -> Iterable[EntityCreate]: ...


# --- response models -------------------------------------------------------------


# The public models answer with what is stored: a row that an older version
# let in (a type with a control character, a name of long normal form) is
# shown as it is, not refused with a 500.


class AliasPublic(AliasBase):
    model_config = ConfigDict(
        json_schema_extra=example.examples({**example.ALIAS, "case_sensitive": None})
    )

    id: int
    text: str


class EntitySummary(SQLModel):
    id: str
    name: str
    type: str


class EntityPublic(EntityBase):
    model_config = ConfigDict(json_schema_extra=example.examples(example.ENTITY))

    id: str
    name: str
    type: str
    aliases: list[AliasPublic] = Field(default_factory=list)


class EntityList(SQLModel):
    model_config = ConfigDict(
        json_schema_extra=example.examples({"items": [example.ENTITY], "total": 1})
    )

    items: list[EntityPublic]
    total: int


class EntityTypePublic(SQLModel):
    id: str
    description: str | None = Field(description="null for a type in use that is not declared.")
    entities: int = Field(description="Entities of this type.")


class EntityTypeList(SQLModel):
    model_config = ConfigDict(json_schema_extra=example.examples(example.TYPES))

    items: list[EntityTypePublic]


class ImportReport(SQLModel):
    model_config = ConfigDict(json_schema_extra=example.examples(example.IMPORT_REPORT))

    mode: Literal["merge", "replace"]
    entities: int = Field(description="Entities in the file.")
    created: int
    updated: int
    deleted: int
    aliases_added: int
    aliases_deleted: int = Field(
        default=0, description="Aliases removed: by a replace, and with the entities it deleted."
    )
    revision: int = Field(
        description="The table's revision after the import; unchanged when nothing changed."
    )


STATE_DESCRIPTION = (
    "The entity as it was: {id, name, type, description, prominence, aliases: [{id, text, "
    "note, case_sensitive}]}; {id, merged_into} once merged into another; null where it "
    "did not exist."
)


class ChangePublic(SQLModel):
    id: int
    revision: int = Field(description="The table revision of the edit; an edit's rows share it.")
    at: datetime
    editor: str = Field(description="The name of the token that made the change.")
    action: str = Field(
        description="create, update, delete, add_alias, delete_alias, import, replace, merge, "
        "declare_types, review_dismiss, revert."
    )
    entity_id: str | None = Field(description="null for a replace's row for the whole table.")
    before: dict[str, Any] | None = Field(description=STATE_DESCRIPTION)
    after: dict[str, Any] | None = Field(description=STATE_DESCRIPTION)
    reverts: int | None = Field(
        default=None, description="For a revert: the ID of the change it undid."
    )
    detail: dict[str, Any] | None = Field(
        default=None,
        description="What a change of no entity changed: the declared types `before` and "
        "`after` (`declare_types`, and its revert); the review item dismissed, its form and "
        "its status before (`review_dismiss`, and its revert); how many entities a large "
        "replace left (its row for the whole table). null for a change of an entity.",
    )


class HistoryPage(SQLModel):
    model_config = ConfigDict(
        json_schema_extra=example.examples({"changes": [example.CHANGE], "next": "YzQ4"})
    )

    changes: list[ChangePublic] = Field(description="Newest first.")
    next: str | None = Field(
        description="Pass as `cursor` for the page after this one; null on the last page."
    )


class RevertReport(SQLModel):
    model_config = ConfigDict(json_schema_extra=example.examples(example.REVERT_REPORT))

    revision: int = Field(description="The revision of the revert, itself a change.")
    total: int = Field(description="Entities the revert changed.")
    changes: list[ChangePublic] = Field(description="The revert's changes (the first 100).")


class ChangePreview(SQLModel):
    entity_id: str
    action: str
    before: dict[str, Any] | None = Field(description=STATE_DESCRIPTION)
    after: dict[str, Any] | None = Field(description=STATE_DESCRIPTION)


class TableChangePreview(SQLModel):
    action: str
    detail: dict[str, Any] = Field(description="As the history's `detail` gives it.")


class SharedForm(SQLModel):
    form: str = Field(description="The normal form that several entities would have.")
    entity_ids: list[str]


class EditCounts(SQLModel):
    created: int = 0
    updated: int = 0
    deleted: int = 0


class EditReport(SQLModel):
    """What an edit would change; answered by ``dry_run=true``, which writes nothing."""

    model_config = ConfigDict(json_schema_extra=example.examples(example.DRY_RUN))

    dry_run: Literal[True] = True
    revision: int = Field(description="The table revision, which the dry run left as it was.")
    counts: EditCounts = Field(default_factory=EditCounts)
    created: list[str] = Field(default_factory=list, description="Entity IDs (the first 1,000).")
    updated: list[str] = Field(default_factory=list, description="Entity IDs (the first 1,000).")
    deleted: list[str] = Field(default_factory=list, description="Entity IDs (the first 1,000).")
    changes: list[ChangePreview] = Field(
        default_factory=list, description="Each entity's before and after (the first 100)."
    )
    table_changes: list[TableChangePreview] = Field(
        default_factory=list,
        description="Changes of no entity (the first 100): the declared types before and "
        "after, review items dismissed or opened again, a large replace's row for the whole "
        "table.",
    )
    shared_forms: list[SharedForm] = Field(
        default_factory=list,
        description="Forms the edit gives an entity that another entity has already "
        "(the first 100).",
    )


class ErrorDetail(SQLModel):
    detail: Any = Field(description="What was wrong with the request.")


class ServerError(SQLModel):
    detail: str = Field(description="What failed, in general terms.")
    error_id: str = Field(description="The ID under which the service logged the error.")


# --- resolving ---------------------------------------------------------------------

MAX_MENTION_LENGTH = 1000
MAX_BATCH_SIZE = 1000
MAX_CANDIDATES = 50
MAX_TYPES = 20

# The text of one mention that a batch asks to resolve.
MentionText = Annotated[str, StringConstraints(max_length=MAX_MENTION_LENGTH)]
TIE_BREAK_DESCRIPTION = (
    "'prominence': a mention that would be ambiguous is matched to the candidate, within "
    "the margin of the best and reaching the threshold, whose prominence is strictly above "
    "every other's there (all of them having one); the result's tie_break then says so. "
    "Unset (the default), only the margin decides."
)

THRESHOLD_DESCRIPTION = (
    "Score needed for 'matched' (default: the service's MATCH_THRESHOLD, "
    f"{DEFAULT_THRESHOLDS.match} unless configured)."
)

TYPE_DESCRIPTION = "Only entities of this type. With `types`, entities of any of them."
TYPES_DESCRIPTION = "Only entities of these types. With `type`, entities of any of them."


class TypeFilter(SQLModel):
    """A request's entity types: ``type`` (one) and ``types`` (a list) are synonyms."""

    type: TypeName | None = Field(default=None, description=TYPE_DESCRIPTION)
    types: list[TypeName] | None = Field(
        default=None, max_length=MAX_TYPES, description=TYPES_DESCRIPTION
    )

    def type_filter(self) -> list[str] | None:
        """The types asked for, by either field; None for entities of every type."""
        return requested_types(self.type, self.types)


class ResolveRequest(TypeFilter):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"mentions": ["TTP", "Daesh-Khorasan", "Islamabad"], "limit": 3}]
        },
    )

    mentions: list[MentionText] = Field(
        max_length=MAX_BATCH_SIZE,
        description=f"Up to {MAX_BATCH_SIZE} mentions of up to {MAX_MENTION_LENGTH} characters.",
    )
    limit: int = Field(default=5, ge=1, le=MAX_CANDIDATES, description="Candidates per mention.")
    threshold: float | None = Field(default=None, ge=0, le=1, description=THRESHOLD_DESCRIPTION)
    tie_break: TieBreak | None = Field(default=None, description=TIE_BREAK_DESCRIPTION)


class ExchangePublic(SQLModel):
    part: str = Field(description="The part of the mention, as written there (e.g. 'IS').")
    for_: str = Field(
        alias="for",
        description="The curated form of the same entity it was read as (e.g. 'Islamic State').",
    )
    entity: str = Field(description="The ID of the entity that both name (e.g. 'islamic-state').")


class CandidatePublic(EntitySummary):
    score: float = Field(ge=0, le=1)
    matched_alias: str = Field(description="The curated name or alias that matched.")
    method: str = Field(description="The matching layer that found it, e.g. 'exact'.")
    prominence: float | None = Field(
        default=None, description="The entity's prominence; present only when it has one."
    )
    exchanged: list[ExchangePublic] | None = Field(
        default=None,
        description="Only with method 'compositional': the part of the mention that was read "
        "as another name of what it names, so that the mention became `matched_alias` "
        "(IS-Khorasan as Islamic State-Khorasan). Absent for the other methods.",
    )


class ResolveResult(SQLModel):
    model_config = ConfigDict(
        json_schema_extra=example.examples(example.RESOLVED, example.AMBIGUOUS)
    )

    query: str
    status: Literal["matched", "ambiguous", "unmatched"]
    entity: EntitySummary | None = Field(description="Set only when status is 'matched'.")
    score: float = Field(ge=0, le=1, description="The best candidate's score; 0 when none.")
    candidates: list[CandidatePublic] = Field(description="Best first, one per entity.")
    tie_break: TieBreak | None = Field(
        description="'prominence' when the request's tie_break chose the entity among "
        "candidates that fit equally well; null when the margin decided (or nothing matched)."
    )


class ResolveResponse(SQLModel):
    model_config = ConfigDict(
        json_schema_extra=example.examples({"results": [example.RESOLVED, example.AMBIGUOUS]})
    )

    results: list[ResolveResult]


# --- annotating ---------------------------------------------------------------------

MAX_TEXT_LENGTH = 200_000
MAX_DOCUMENTS = 100


class AnnotateRequest(TypeFilter):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "text": "ISLAMABAD: Pakistan and the US discussed countering "
                    "Daesh-Khorasan and the Tehreek-i-Taliban Pakistan (TTP).",
                    "types": ["organization", "country"],
                }
            ]
        },
    )

    text: str = Field(description=f"The text, up to {MAX_TEXT_LENGTH:,} characters (longer: 413).")
    threshold: float | None = Field(default=None, ge=0, le=1, description=THRESHOLD_DESCRIPTION)
    limit: int = Field(default=5, ge=1, le=MAX_CANDIDATES, description="Candidates per mention.")


class MentionPublic(SQLModel):
    start: int = Field(description="Offset of the first code point of the mention in the text.")
    end: int = Field(description="Offset after its last: text[start:end] is the mention.")
    text: str
    status: Literal["matched", "ambiguous"]
    entity: EntitySummary | None
    score: float = Field(ge=0, le=1)
    method: str = Field(
        description="exact, structural, transliteration, compositional, phonetic, fuzzy, "
        "or document."
    )
    candidates: list[CandidatePublic]


class AnnotateResponse(SQLModel):
    model_config = ConfigDict(json_schema_extra=example.examples(example.ANNOTATED))

    mentions: list[MentionPublic] = Field(description="In the order of the text, none overlapping.")


class AnnotateBatchRequest(SQLModel):
    model_config = ConfigDict(extra="forbid")

    documents: list[AnnotateRequest] = Field(
        min_length=1, max_length=MAX_DOCUMENTS, description=f"Up to {MAX_DOCUMENTS} texts."
    )


class AnnotateBatchResponse(SQLModel):
    model_config = ConfigDict(
        json_schema_extra=example.examples({"results": [example.ANNOTATED, {"mentions": []}]})
    )

    results: list[AnnotateResponse] = Field(description="In the order of the documents.")


# --- the review queue ---------------------------------------------------------------


class ReviewCandidate(SQLModel):
    id: str = Field(description="The entity's ID.")
    score: float = Field(ge=0, le=1)


class ReviewItemPublic(SQLModel):
    model_config = ConfigDict(json_schema_extra=example.examples(example.REVIEW_ITEM))

    id: int
    form: str = Field(description="The normal form the mentions were counted by.")
    example: str = Field(description="One of them as written.")
    count: int = Field(description="How many times live traffic left it unmatched or ambiguous.")
    status: ReviewStatus = Field(
        description="open; dismissed or accepted by an editor; resolved when the table "
        "matches it now (counted again, it opens again)."
    )
    first_seen: datetime
    last_seen: datetime
    candidates: list[ReviewCandidate] = Field(
        description="The candidates it had when last seen with any, best first."
    )
    entity_id: str | None = Field(default=None, description="The entity it was accepted for.")
    decided_by: str | None = Field(default=None, description="The editor who decided.")
    decided_at: datetime | None = None


class ReviewList(SQLModel):
    model_config = ConfigDict(json_schema_extra=example.examples({"items": [example.REVIEW_ITEM]}))

    items: list[ReviewItemPublic] = Field(description="The most frequent first.")


class ReviewAccept(SQLModel):
    """Either the entity the example names, or a new entity to create for it."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"entity_id": "ttp"},
                {
                    "new_entity": {
                        "id": "quetta",
                        "name": "Quetta",
                        "type": "location",
                        "description": "Capital of Balochistan.",
                    }
                },
            ]
        },
    )

    entity_id: EntityId | None = Field(
        default=None, description="Add the example as an alias of this entity."
    )
    new_entity: EntityCreate | None = Field(
        default=None, description="Create this entity, the example among its names or aliases."
    )

    @model_validator(mode="after")
    def _one_target(self) -> "ReviewAccept":
        if (self.entity_id is None) == (self.new_entity is None):
            raise ValueError("give either entity_id or new_entity, and not both")
        return self
