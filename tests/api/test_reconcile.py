"""The reconciliation endpoints answer as the W3C Reconciliation API 0.2 schemas say."""

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from jsonschema import Draft7Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

from app import reconciliation
from app.settings import DEFAULT_PUBLIC_URL
from tests.api.test_ops import scraped, value

SCHEMAS = Path(__file__).parent.parent / "data" / "reconciliation-0.2"


def validator(name: str) -> Draft7Validator:
    resources = []
    for path in SCHEMAS.glob("*.json"):
        schema = json.loads(path.read_text(encoding="utf-8"))
        resource = Resource.from_contents(schema, default_specification=DRAFT7)
        resources += [(schema["$id"], resource), (path.name, resource)]
    registry = Registry().with_resources(resources)
    return Draft7Validator(json.loads((SCHEMAS / name).read_text()), registry=registry)


def assert_valid(name: str, document: Any) -> None:
    errors = list(validator(name).iter_errors(document))
    assert errors == [], [e.message for e in errors]


def valid_answer(response: Any, schema: str) -> Any:
    """The answer's JSON, once it is a 200 valid against ``schema``."""
    assert response.status_code == 200, response.text
    assert_valid(schema, response.json())
    return response.json()


QUERIES = {
    "q0": {"query": "Tahreek-i-Taliban Pakistan"},
    "q1": {"query": "Taliban", "limit": 1},
    "q2": {"query": "Islamabad", "type": ["organization"]},
    "q3": {"query": "nothing like it", "type": "organization", "properties": []},
}


# --- the manifest -----------------------------------------------------------------------


def test_the_manifest_names_every_service(client: TestClient) -> None:
    manifest = valid_answer(client.get("/reconcile"), "manifest.json")
    assert manifest["versions"] == ["0.2"]
    assert {t["id"] for t in manifest["defaultTypes"]} == {"organization", "location"}
    assert manifest["view"]["url"] == f"{DEFAULT_PUBLIC_URL}reconcile/view/{{{{id}}}}"
    assert manifest["preview"]["width"] > 0 and manifest["preview"]["height"] > 0
    assert set(manifest["suggest"]) == {"entity", "type", "property"}
    assert manifest["extend"]["propose_properties"]["service_path"] == "/reconcile/extend/propose"


def test_the_identifier_and_schema_spaces_come_from_the_configuration_not_the_host(
    client: TestClient,
) -> None:
    manifest = client.get("/reconcile").json()
    spoofed = client.get("/reconcile", headers={"Host": "evil.example:666"}).json()
    assert manifest["identifierSpace"] == f"{DEFAULT_PUBLIC_URL}entities/"
    assert spoofed["identifierSpace"] == manifest["identifierSpace"]
    assert spoofed["schemaSpace"] == manifest["schemaSpace"]
    assert "evil" not in json.dumps(spoofed)


def test_a_configured_public_url_is_every_address_s_base(settings: Any) -> None:
    from app.main import create_app

    public = settings.model_copy(update={"public_url": "https://refine.example.org/aliases/"})
    with TestClient(create_app(public)) as client:
        manifest = client.get("/reconcile").json()
    assert manifest["identifierSpace"] == "https://refine.example.org/aliases/entities/"
    assert manifest["suggest"]["entity"]["service_url"] == "https://refine.example.org/aliases"


def test_the_schema_space_and_every_address_of_the_manifest_answer(client: TestClient) -> None:
    manifest = client.get("/reconcile").json()
    addresses = [
        manifest["schemaSpace"],
        manifest["identifierSpace"] + "ttp",
        manifest["view"]["url"].replace("{{id}}", "ttp"),
        manifest["preview"]["url"].replace("{{id}}", "ttp"),
        manifest["documentation"],
    ]
    for address in addresses:
        parts = urlsplit(address)
        path = f"{parts.path}?{parts.query}" if parts.query else parts.path
        assert client.get(path).status_code == 200, address


# --- query batches ----------------------------------------------------------------------


def check_results(results: dict[str, Any]) -> None:
    assert_valid("reconciliation-result-batch.json", results)
    assert set(results) == set(QUERIES)
    (ttp,) = results["q0"]["result"]
    assert (ttp["id"], ttp["match"], ttp["type"]) == (
        "ttp",
        True,
        [{"id": "organization", "name": "organization"}],
    )
    assert 85 <= ttp["score"] <= 100
    (taliban,) = results["q1"]["result"]  # ambiguous: a candidate, never a match
    assert taliban["match"] is False
    assert results["q2"]["result"] == []
    assert results["q3"]["result"] == []


def test_a_form_encoded_batch_as_openrefine_sends_it(client: TestClient) -> None:
    response = client.post("/reconcile", data={"queries": json.dumps(QUERIES)})
    assert response.status_code == 200
    check_results(response.json())


def test_a_json_batch_and_a_get_batch(client: TestClient) -> None:
    check_results(client.post("/reconcile", json=QUERIES).json())
    # A media type is case-insensitive.
    upper = {"content-type": "APPLICATION/JSON"}
    check_results(client.post("/reconcile", content=json.dumps(QUERIES), headers=upper).json())
    check_results(client.get("/reconcile", params={"queries": json.dumps(QUERIES)}).json())


def test_a_candidate_carries_its_description_the_alias_matched_and_features(
    client: TestClient,
) -> None:
    queries = {"q0": {"query": "TTP"}, "q1": {"query": "Tehreek e Labaik Pakistan"}}
    results = client.post("/reconcile", data={"queries": json.dumps(queries)}).json()
    assert_valid("reconciliation-result-batch.json", results)
    (ttp,) = results["q0"]["result"]
    assert ttp["description"] == "Umbrella of militant groups fighting the Pakistani state."
    assert (ttp["matched_alias"], ttp["method"]) == ("TTP", "exact")
    assert ttp["features"] == [
        {"id": "name_score", "value": 1.0},
        {"id": "alias_matched", "value": True},
    ]
    tlp = results["q1"]["result"][0]
    assert tlp["id"] == "tlp"
    assert "description" not in tlp  # the entity has none
    assert tlp["method"] != "exact"
    (score, by_alias) = tlp["features"]
    assert score["id"] == "name_score" and 0 < score["value"] < 1
    assert by_alias == {"id": "alias_matched", "value": False}


GEORGIAS = [
    {"id": "georgia-country", "name": "Georgia", "type": "country"},
    {"id": "georgia-state", "name": "Georgia", "type": "location"},
]


@pytest.fixture
def namesakes_of_two_types(client: TestClient, admin: dict[str, str]) -> TestClient:
    for entity in GEORGIAS:
        assert (
            client.post(
                "/admin/entities", params={"allow_shared": "true"}, json=entity, headers=admin
            ).status_code
            == 201
        )
    return client


def reconciled(client: TestClient, query: dict[str, Any]) -> list[dict[str, Any]]:
    response = client.post("/reconcile", data={"queries": json.dumps({"q0": query})})
    return valid_answer(response, "reconciliation-result-batch.json")["q0"]["result"]


def test_a_name_namesakes_of_two_types_share_is_matched_by_neither(
    namesakes_of_two_types: TestClient,
) -> None:
    found = reconciled(namesakes_of_two_types, {"query": "Georgia"})
    assert {c["id"] for c in found} == {"georgia-country", "georgia-state"}
    assert not any(c["match"] for c in found)


@pytest.mark.parametrize("strictness", [{}, {"type_strict": "should"}])
def test_a_preferred_type_narrows_the_candidates_but_does_not_make_a_guess_a_match(
    namesakes_of_two_types: TestClient, strictness: dict[str, str]
) -> None:
    query = {"query": "Georgia", "type": "country", **strictness}
    found = reconciled(namesakes_of_two_types, query)
    assert [(c["id"], c["match"]) for c in found] == [("georgia-country", False)]


@pytest.mark.parametrize("strictness", ["any", "all"])
def test_a_strict_type_is_a_filter_as_resolve_s_is(
    namesakes_of_two_types: TestClient, strictness: str
) -> None:
    query = {"query": "Georgia", "type": "country", "type_strict": strictness}
    found = reconciled(namesakes_of_two_types, query)
    assert [(c["id"], c["match"]) for c in found] == [("georgia-country", True)]
    resolved = namesakes_of_two_types.get("/resolve", params={"q": "Georgia", "type": "country"})
    assert resolved.json()["entity"]["id"] == "georgia-country"


def test_a_name_of_one_entity_is_matched_with_its_type_preferred(client: TestClient) -> None:
    query = {"query": "TTP", "type": "organization", "type_strict": "should"}
    assert [(c["id"], c["match"]) for c in reconciled(client, query)] == [("ttp", True)]


def test_a_type_strictness_the_api_does_not_have_is_refused(client: TestClient) -> None:
    queries = {"q0": {"query": "TTP", "type": "organization", "type_strict": "most"}}
    response = client.post("/reconcile", data={"queries": json.dumps(queries)})
    assert response.status_code == 422
    assert "type_strict" in response.json()["detail"]


def test_the_query_schema_accepts_what_the_tests_send() -> None:
    assert_valid("reconciliation-query-batch.json", QUERIES)


@pytest.mark.parametrize(
    "queries",
    ['{"q0": {"limit": 3}}', '{"q0": "TTP"}', "[1]", "{", '{"q0": {"query": "x", "limit": 0}}'],
)
def test_malformed_queries_are_422(client: TestClient, queries: str) -> None:
    response = client.post("/reconcile", data={"queries": queries})
    assert response.status_code == 422
    assert "invalid reconciliation queries" in response.json()["detail"]


def test_ten_thousand_queries_are_refused_naming_the_limit(client: TestClient) -> None:
    batch = {f"q{i}": {"query": "TTP"} for i in range(10_000)}
    response = client.post("/reconcile", data={"queries": json.dumps(batch)})
    assert response.status_code == 422
    assert response.json()["detail"] == ("at most 1000 queries in one batch; this one has 10000")


HUGE = "x" * 200_000


@pytest.mark.parametrize(
    ("field", "queries"),
    [
        ("queries", {HUGE: {"limit": 3}}),
        ("queries", {"q0": {"query": "TTP", "type": HUGE}}),
        ("queries", {"q0": {"query": "TTP", "type": [HUGE]}}),
        ("extend", {"ids": ["ttp"], "properties": [{"id": HUGE}]}),
        ("extend", {"ids": ["ttp"], "properties": [{"id": "type", "settings": {HUGE: 1}}]}),
    ],
)
def test_a_refusal_names_a_large_key_type_or_property_without_echoing_it(
    client: TestClient, field: str, queries: dict[str, Any]
) -> None:
    response = client.post("/reconcile", data={field: json.dumps(queries)})
    assert response.status_code == 422
    assert len(response.text) < 2_000, response.text[:200]
    assert "x" * 41 not in response.text


def test_a_long_unknown_type_is_named_clipped(client: TestClient) -> None:
    longest = "y" * 64
    queries = {"q0": {"query": "TTP", "type": longest}}
    response = client.post("/reconcile", data={"queries": json.dumps(queries)})
    assert response.status_code == 422
    assert "no entity type is 'yyyyy" in response.json()["detail"]
    assert longest not in response.json()["detail"]


def test_a_query_of_an_unknown_type_is_refused_naming_the_type(client: TestClient) -> None:
    queries = {"q0": {"query": "TTP", "type": "organisation", "type_strict": "should"}}
    response = client.post("/reconcile", data={"queries": json.dumps(queries)})
    assert response.status_code == 422
    assert "'organisation'" in response.json()["detail"]
    assert "did you mean 'organization'" in response.json()["detail"]


def test_a_form_without_queries_or_extend_is_refused(client: TestClient) -> None:
    response = client.post("/reconcile", data={"query": "TTP"})
    assert response.status_code == 422
    assert "neither 'queries' nor 'extend'" in response.json()["detail"]


# --- suggest ----------------------------------------------------------------------------


def test_entities_are_suggested_by_the_start_of_a_name_or_of_a_word_of_one(
    client: TestClient,
) -> None:
    found = valid_answer(
        client.get("/reconcile/suggest/entity", params={"prefix": "tehr"}),
        "suggest-entities-response.json",
    )
    assert {e["id"] for e in found["result"]} == {"tlp", "ttp"}
    (ttp,) = [e for e in found["result"] if e["id"] == "ttp"]
    assert ttp["notable"] == [{"id": "organization", "name": "organization"}]
    assert ttp["description"].startswith("Umbrella")
    by_word = client.get("/reconcile/suggest/entity", params={"prefix": "TALIB"}).json()
    assert {e["id"] for e in by_word["result"]} == {"ttp", "afghan-taliban"}


def test_entity_suggestions_page_with_a_cursor_and_keep_to_a_type(client: TestClient) -> None:
    first = client.get("/reconcile/suggest/entity", params={"prefix": "t", "limit": 1}).json()
    second = client.get(
        "/reconcile/suggest/entity", params={"prefix": "t", "limit": 1, "cursor": 1}
    ).json()
    assert first["result"][0]["id"] != second["result"][0]["id"]
    places = client.get(
        "/reconcile/suggest/entity", params={"prefix": "isl", "type": "organization"}
    ).json()
    assert places == {"result": []}
    unknown = client.get("/reconcile/suggest/entity", params={"prefix": "t", "type": "nope"})
    assert unknown.status_code == 422


def test_entity_suggestions_keep_to_the_types_given_as_types(
    client: TestClient, admin: dict[str, str]
) -> None:
    tehran = {"id": "tehran", "name": "Tehran", "type": "location"}
    assert client.post("/admin/entities", json=tehran, headers=admin).status_code == 201

    def suggested(**params: Any) -> set[str]:
        response = client.get("/reconcile/suggest/entity", params={"prefix": "teh", **params})
        return {e["id"] for e in valid_answer(response, "suggest-entities-response.json")["result"]}

    assert suggested() == {"tehran", "ttp", "tlp"}
    assert suggested(types="location") == {"tehran"}
    assert suggested(types="organization") == {"ttp", "tlp"}
    assert suggested(types=["location", "organization"]) == suggested()
    assert suggested(type="organization", types="location") == suggested()
    refused = client.get("/reconcile/suggest/entity", params={"prefix": "i", "types": "nope"})
    assert refused.status_code == 422


def test_types_and_properties_are_suggested(client: TestClient) -> None:
    types = valid_answer(
        client.get("/reconcile/suggest/type", params={"prefix": "LOC"}),
        "suggest-types-response.json",
    )
    assert types == {"result": [{"id": "location", "name": "location"}]}
    properties = valid_answer(
        client.get("/reconcile/suggest/property", params={"prefix": "al"}),
        "suggest-properties-response.json",
    )
    assert [p["id"] for p in properties["result"]] == ["aliases"]


# --- preview and view -------------------------------------------------------------------


def test_a_preview_is_a_small_html_card(client: TestClient) -> None:
    response = client.get("/reconcile/preview", params={"id": "ttp"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    for shown in ("Tehreek-e-Taliban Pakistan", "organization", "Umbrella", "Pakistani Taliban"):
        assert shown in response.text


def test_the_view_is_an_html_page_of_the_entity(client: TestClient) -> None:
    response = client.get("/reconcile/view/ttp")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "<h1>Tehreek-e-Taliban Pakistan</h1>" in response.text
    assert "<li>Pakistani Taliban</li>" in response.text


def test_names_are_escaped_in_html(client: TestClient, admin: dict[str, str]) -> None:
    entity = {
        "id": "xss",
        "name": "<script>alert(1)</script> Group",
        "type": "organization",
        "description": 'A "quoted" & <b>bold</b> one',
        "aliases": ["<img src=x onerror=alert(2)>"],
    }
    assert (
        client.post(
            "/admin/entities", params={"allow_shared": "true"}, json=entity, headers=admin
        ).status_code
        == 201
    )
    for path in ("/reconcile/view/xss", "/reconcile/preview?id=xss"):
        page = client.get(path).text
        assert "<script>" not in page and "<img" not in page and "<b>" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt; Group" in page


def test_an_unknown_id_is_404_and_a_merged_one_leads_to_its_survivor(
    client: TestClient, admin: dict[str, str]
) -> None:
    assert client.get("/reconcile/view/nobody").status_code == 404
    assert client.get("/reconcile/preview", params={"id": "nobody"}).status_code == 404
    merged = client.post("/admin/entities/tlp/merge", json={"into": "ttp"}, headers=admin)
    assert merged.status_code == 200, merged.text
    view = client.get("/reconcile/view/tlp", follow_redirects=False)
    assert (view.status_code, view.headers["location"]) == (308, "/reconcile/view/ttp")
    preview = client.get("/reconcile/preview", params={"id": "tlp"})
    assert "Tehreek-e-Taliban Pakistan" in preview.text


# --- data extension ---------------------------------------------------------------------


def test_properties_are_proposed_for_a_type(client: TestClient) -> None:
    proposal = valid_answer(
        client.get("/reconcile/extend/propose", params={"type": "organization"}),
        "data-extension-property-proposal.json",
    )
    assert [p["id"] for p in proposal["properties"]] == ["type", "description", "aliases"]
    assert proposal["type"] == "organization"
    unknown = client.get("/reconcile/extend/propose", params={"type": "nope"})
    assert unknown.status_code == 422


def test_properties_are_proposed_for_the_types_given_as_types(client: TestClient) -> None:
    one = client.get("/reconcile/extend/propose", params={"types": "location"})
    assert valid_answer(one, "data-extension-property-proposal.json")["type"] == "location"
    both = client.get("/reconcile/extend/propose", params={"types": ["location", "organization"]})
    proposal = valid_answer(both, "data-extension-property-proposal.json")
    assert "type" not in proposal and len(proposal["properties"]) == 3
    unknown = client.get("/reconcile/extend/propose", params={"types": ["location", "nope"]})
    assert unknown.status_code == 422 and "'nope'" in unknown.json()["detail"]


EXTENSION = {
    "ids": ["ttp", "islamabad", "nobody"],
    "properties": [{"id": "type"}, {"id": "description"}, {"id": "aliases"}],
}


def check_extension(answer: dict[str, Any]) -> None:
    assert_valid("data-extension-response.json", answer)
    assert [m["id"] for m in answer["meta"]] == ["type", "description", "aliases"]
    ttp = answer["rows"]["ttp"]
    assert ttp["type"] == [{"str": "organization"}]
    assert ttp["description"][0]["str"].startswith("Umbrella")
    assert ttp["aliases"] == [{"str": "TTP"}, {"str": "Pakistani Taliban"}, {"str": "Taliban"}]
    assert answer["rows"]["islamabad"]["description"] == []
    assert answer["rows"]["nobody"] == {"type": [], "description": [], "aliases": []}


def test_data_extension_answers_each_id_s_properties(client: TestClient) -> None:
    assert_valid("data-extension-query.json", EXTENSION)
    text = json.dumps(EXTENSION)
    check_extension(client.post("/reconcile", data={"extend": text}).json())
    check_extension(client.get("/reconcile", params={"extend": text}).json())
    check_extension(client.post("/reconcile/extend", json=EXTENSION).json())


def test_a_limit_setting_keeps_the_first_values(client: TestClient) -> None:
    query = {"ids": ["ttp"], "properties": [{"id": "aliases", "settings": {"limit": 1}}]}
    answer = client.post("/reconcile", data={"extend": json.dumps(query)}).json()
    assert answer["rows"]["ttp"]["aliases"] == [{"str": "TTP"}]


def test_an_extension_past_its_bound_of_characters_is_413(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A thousand IDs merged into an entity of 10,000 long aliases answered 4.6 GB."""
    aliases = client.get("/entities/ttp").json()["aliases"]
    size = sum(len(alias["text"]) + reconciliation._VALUE_OVERHEAD for alias in aliases)
    monkeypatch.setattr(reconciliation, "MAX_EXTENSION_CHARACTERS", size - 1)
    query = {"ids": ["ttp", "ttp"], "properties": [{"id": "aliases"}]}
    refused = client.post("/reconcile/extend", json=query)
    assert refused.status_code == 413, refused.text
    assert f"more than {size - 1:,} characters of values" in refused.json()["detail"]
    monkeypatch.setattr(reconciliation, "MAX_EXTENSION_CHARACTERS", size)
    answered = client.post("/reconcile/extend", json=query).json()  # one ID, asked twice
    assert len(answered["rows"]["ttp"]["aliases"]) == len(aliases)
    query["properties"] = [{"id": "aliases", "settings": {"limit": 1}}]
    monkeypatch.setattr(reconciliation, "MAX_EXTENSION_CHARACTERS", 100)
    assert client.post("/reconcile/extend", json=query).status_code == 200


def test_a_merged_id_is_extended_with_its_survivor_s_values(
    client: TestClient, admin: dict[str, str]
) -> None:
    client.post("/admin/entities/tlp/merge", json={"into": "ttp"}, headers=admin)
    query = {"ids": ["tlp"], "properties": [{"id": "type"}]}
    answer = client.post("/reconcile", data={"extend": json.dumps(query)}).json()
    assert answer["rows"] == {"tlp": {"type": [{"str": "organization"}]}}


@pytest.mark.parametrize("odd", ["a\u0000b", "x" * 200, "ttp\n", "", "tt p"])
def test_an_id_no_entity_could_have_is_extended_as_unknown(client: TestClient, odd: str) -> None:
    query = {"ids": [odd, "ttp"], "properties": [{"id": "type"}]}
    answer = client.post("/reconcile", data={"extend": json.dumps(query)})
    rows = valid_answer(answer, "data-extension-response.json")["rows"]
    assert rows == {odd: {"type": []}, "ttp": {"type": [{"str": "organization"}]}}


@pytest.mark.parametrize(
    ("extension", "named"),
    [
        ({"ids": ["ttp"], "properties": [{"id": "population"}]}, "no property 'population'"),
        ({"ids": ["ttp"], "properties": []}, "properties"),
        ({"ids": ["ttp"]}, "properties"),
        ({"ids": ["ttp"], "properties": [{"id": "type", "settings": {"lang": "en"}}]}, "'lang'"),
        ({"ids": ["ttp"], "properties": [{"id": "type", "settings": {"limit": -1}}]}, "limit"),
    ],
)
def test_an_extension_asking_what_is_not_offered_is_refused(
    client: TestClient, extension: dict[str, Any], named: str
) -> None:
    response = client.post("/reconcile", data={"extend": json.dumps(extension)})
    assert response.status_code == 422
    assert named in response.json()["detail"]


# --- as OpenRefine does it --------------------------------------------------------------

COLUMN = [
    "Tehreek-e-Taliban Pakistan",
    "TTP",
    "Pakistani Taliban",
    "Taliban",
    "Afghan Taliban",
    "TLP",
    "Tehreek-e-Labbaik Pakistan",
    "Tehrik i Taliban",
    "Islamabad",
    "Nobody at all",
    "ttp",
    "Afghan Talibans",
]


def test_reconciling_a_column_as_openrefine_does(client: TestClient) -> None:
    """The requests OpenRefine 3.x sends, in its order: the manifest when the
    service is added; the column in form-encoded batches of 10 with the chosen
    type; suggest as a user searches for a match by hand; the preview as they
    hover; then "Add columns from reconciled values": propose and extend."""
    manifest = valid_answer(client.get("/reconcile"), "manifest.json")
    matched: dict[str, str] = {}
    for start in range(0, len(COLUMN), 10):
        batch = {
            f"q{i}": {"query": cell, "type": "organization", "type_strict": "should"}
            for i, cell in enumerate(COLUMN[start : start + 10], start=start)
        }
        assert_valid("reconciliation-query-batch.json", batch)
        response = client.post("/reconcile", data={"queries": json.dumps(batch)})
        results = valid_answer(response, "reconciliation-result-batch.json")
        assert set(results) == set(batch)
        for key, result in results.items():
            matched.update((key, c["id"]) for c in result["result"] if c["match"])
    assert matched["q0"] == matched["q1"] == matched["q10"] == "ttp"
    assert "q3" not in matched and "q9" not in matched  # ambiguous, and nothing

    suggest = manifest["suggest"]["entity"]
    found = valid_answer(
        client.get(suggest["service_path"], params={"prefix": "Afgh", "type": "organization"}),
        "suggest-entities-response.json",
    )
    assert found["result"][0]["id"] == "afghan-taliban"
    for kind, schema in (("type", "types"), ("property", "properties")):
        path = manifest["suggest"][kind]["service_path"]
        valid_answer(client.get(path, params={"prefix": "a"}), f"suggest-{schema}-response.json")

    preview = manifest["preview"]["url"].replace("{{id}}", "afghan-taliban")
    assert "Afghan Taliban" in client.get(urlsplit(preview).path + "?id=afghan-taliban").text

    propose = manifest["extend"]["propose_properties"]["service_path"]
    proposal = valid_answer(
        client.get(propose, params={"type": "organization", "limit": 10}),
        "data-extension-property-proposal.json",
    )
    extension = {
        "ids": sorted(set(matched.values())),
        "properties": [{"id": p["id"]} for p in proposal["properties"]],
    }
    answer = client.post("/reconcile", data={"extend": json.dumps(extension)})
    rows = valid_answer(answer, "data-extension-response.json")["rows"]
    assert rows["ttp"]["type"] == [{"str": "organization"}]


@pytest.mark.parametrize("text", ["{", "[]", '{"ids": "ttp", "properties": [{"id": "type"}]}'])
def test_a_malformed_extension_is_422(client: TestClient, text: str) -> None:
    response = client.post("/reconcile", data={"extend": text})
    assert response.status_code == 422
    assert response.json()["detail"].startswith("invalid data extension request")


@pytest.mark.parametrize("limit", ["²", "١", "3.0", " ", True])
def test_a_limit_setting_that_is_not_ascii_digits_is_refused(
    client: TestClient, limit: Any
) -> None:
    query = {"ids": ["ttp"], "properties": [{"id": "aliases", "settings": {"limit": limit}}]}
    response = client.post("/reconcile", data={"extend": json.dumps(query)})
    assert response.status_code == 422, response.text
    assert "'limit' is a whole number" in response.json()["detail"]


def test_a_limit_setting_sent_as_text_is_read(client: TestClient) -> None:
    query = {"ids": ["ttp"], "properties": [{"id": "aliases", "settings": {"limit": " 2 "}}]}
    answer = client.post("/reconcile", data={"extend": json.dumps(query)}).json()
    assert answer["rows"]["ttp"]["aliases"] == [{"str": "TTP"}, {"str": "Pakistani Taliban"}]


def test_a_limit_above_the_candidates_given_is_a_hint_not_an_error(client: TestClient) -> None:
    queries = {"q0": {"query": "Taliban", "limit": 10_000}, "q1": {"query": "TTP"}}
    response = client.post("/reconcile", data={"queries": json.dumps(queries)})
    results = valid_answer(response, "reconciliation-result-batch.json")
    assert {c["id"] for c in results["q0"]["result"]} == {"ttp", "afghan-taliban"}
    assert results["q1"]["result"][0]["id"] == "ttp"


def test_a_match_a_preferred_type_does_not_confirm_is_counted_as_ambiguous(
    namesakes_of_two_types: TestClient,
) -> None:
    counted = {"endpoint": "reconcile", "method": "exact"}
    before = scraped(namesakes_of_two_types)
    reconciled(namesakes_of_two_types, {"query": "Georgia", "type": "country"})
    after = scraped(namesakes_of_two_types)
    for status, added in (("ambiguous", 1), ("matched", 0)):
        name, labels = "alias_resolutions_total", {**counted, "status": status}
        assert value(after, name, **labels) - value(before, name, **labels) == added
