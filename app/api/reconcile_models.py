"""The shapes of the reconciliation answers, for the OpenAPI schema.

They follow the W3C Reconciliation Service API 0.2 JSON Schemas (manifest,
reconciliation-result-batch, suggest-*-response, data-extension-*). The routes
answer plain dicts built by ``app.reconciliation``; these models document them.
"""

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, RootModel

from app import reconciliation


def _example(value: Any) -> ConfigDict:
    return ConfigDict(json_schema_extra={"examples": [value]})


ORGANIZATION = {"id": "organization", "name": "organization"}


class ReconType(BaseModel):
    model_config = _example(ORGANIZATION)

    id: str
    name: str


class Feature(BaseModel):
    """A matching feature, with the same IDs for every candidate: ``name_score``
    (the score, 0 to 1) and ``alias_matched`` (true when an alias, not the
    name, matched)."""

    id: str
    value: bool | float


class ReconCandidate(BaseModel):
    id: str
    name: str
    description: str | None = Field(default=None, description="The entity's description.")
    score: float = Field(description="0 to 100.")
    features: list[Feature]
    match: bool = Field(description="True only for the entity the resolver matched.")
    type: list[ReconType]
    matched_alias: str = Field(description="The name or alias that matched.")
    method: str = Field(
        description="The resolver's layer that found it: `exact`, `structural`, "
        "`transliteration`, `compositional`, `phonetic` or `fuzzy`."
    )


class QueryResult(BaseModel):
    result: list[ReconCandidate]


TTP_RESULT = {
    "q0": {
        "result": [
            {
                "id": "ttp",
                "name": "Tehreek-e-Taliban Pakistan",
                "description": "Umbrella group of Pakistani militants.",
                "score": 100.0,
                "features": [
                    {"id": "name_score", "value": 1.0},
                    {"id": "alias_matched", "value": True},
                ],
                "match": True,
                "type": [ORGANIZATION],
                "matched_alias": "TTP",
                "method": "exact",
            }
        ]
    }
}


class ResultBatch(RootModel[dict[str, QueryResult]]):
    """Each query's candidates, under the query's key."""

    model_config = _example(TTP_RESULT)


class ServiceDefinition(BaseModel):
    service_url: str
    service_path: str


class SuggestServices(BaseModel):
    entity: ServiceDefinition
    type: ServiceDefinition
    property: ServiceDefinition


class UrlTemplate(BaseModel):
    url: str = Field(description="With `{{id}}` where the entity's ID goes.")


class PreviewService(UrlTemplate):
    width: int
    height: int


class PropertySetting(BaseModel):
    type: str
    default: Any = None
    label: str
    name: str
    help_text: str | None = None


class ExtendService(BaseModel):
    propose_properties: ServiceDefinition
    property_settings: list[PropertySetting]


class Manifest(BaseModel):
    """What OpenRefine reads when the service is added; addresses start with `PUBLIC_URL`."""

    model_config = _example(
        reconciliation.manifest(public_url="http://127.0.0.1:8000/", types=["organization"])
    )

    versions: list[str]
    name: str
    identifierSpace: str
    schemaSpace: str
    documentation: str
    view: UrlTemplate
    preview: PreviewService
    suggest: SuggestServices
    extend: ExtendService
    defaultTypes: list[ReconType]


class SuggestedEntity(BaseModel):
    id: str
    name: str
    description: str | None = Field(
        default=None, description="The entity's description, and the alias completed, if any."
    )
    notable: list[ReconType] = Field(description="The entity's type.")


class SuggestedEntities(BaseModel):
    model_config = _example(
        {"result": [{"id": "islamabad", "name": "Islamabad", "notable": [ORGANIZATION]}]}
    )

    result: list[SuggestedEntity]


class SuggestedTypes(BaseModel):
    model_config = _example({"result": [ORGANIZATION]})

    result: list[ReconType]


class PropertyDescription(BaseModel):
    id: str
    name: str
    description: str


class SuggestedProperties(BaseModel):
    model_config = _example(reconciliation.suggest_properties("alias"))

    result: list[PropertyDescription]


class PropertyProposal(BaseModel):
    model_config = _example(
        {"type": "organization", "properties": reconciliation.suggest_properties("")["result"]}
    )

    type: str | None = None
    properties: list[PropertyDescription]
    limit: int | None = None


class ExtensionColumn(BaseModel):
    id: str
    name: str


class ExtensionValue(BaseModel):
    text: str = Field(alias="str")


class ExtensionResponse(BaseModel):
    """The values of each ID's properties; an unknown ID's lists are empty."""

    model_config = _example(
        {
            "meta": [{"id": "aliases", "name": "Aliases"}],
            "rows": {"ttp": {"aliases": [{"str": "TTP"}, {"str": "Pakistani Taliban"}]}},
        }
    )

    meta: list[ExtensionColumn]
    rows: dict[str, dict[str, list[ExtensionValue]]]
