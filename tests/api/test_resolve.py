import pytest
from fastapi.testclient import TestClient

from app.api.compute import INLINE_MENTIONS
from app.models.api import MAX_BATCH_SIZE, MAX_MENTION_LENGTH


def test_get_resolves_a_variant_spelling_of_an_alias(client: TestClient) -> None:
    response = client.get("/resolve", params={"q": "Pakistani‑Taliban"})
    assert response.status_code == 200
    assert response.json() == {
        "query": "Pakistani‑Taliban",
        "status": "matched",
        "entity": {"id": "ttp", "name": "Tehreek-e-Taliban Pakistan", "type": "organization"},
        "score": 1.0,
        "candidates": [
            {
                "id": "ttp",
                "name": "Tehreek-e-Taliban Pakistan",
                "type": "organization",
                "score": 1.0,
                "matched_alias": "Pakistani Taliban",
                "method": "exact",
            }
        ],
        "tie_break": None,
    }


def test_a_form_of_two_entities_is_ambiguous(client: TestClient) -> None:
    body = client.get("/resolve", params={"q": "taliban"}).json()
    assert body["status"] == "ambiguous"
    assert body["entity"] is None
    assert [c["id"] for c in body["candidates"]] == ["afghan-taliban", "ttp"]


def test_type_and_limit(client: TestClient) -> None:
    body = client.get("/resolve", params={"q": "taliban", "limit": 1}).json()
    assert (body["status"], len(body["candidates"])) == ("ambiguous", 1)
    body = client.get("/resolve", params={"q": "Islamabad", "type": "organization"}).json()
    assert body["status"] == "unmatched"


def test_batch_answers_in_order(client: TestClient) -> None:
    mentions = ["TLP", "", "   ", "nothing like it", "TTP", "\u0000😀"]
    response = client.post("/resolve", json={"mentions": mentions})
    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["query"] for r in results] == mentions
    assert [r["status"] for r in results] == [
        "matched",
        "unmatched",
        "unmatched",
        "unmatched",
        "matched",
        "unmatched",
    ]
    assert [r["entity"] and r["entity"]["id"] for r in results] == [
        "tlp",
        None,
        None,
        None,
        "ttp",
        None,
    ]


def test_a_large_batch_answers_as_small_ones(client: TestClient) -> None:
    # Large batches are resolved in the threadpool, small ones in place (app.api.compute).
    mentions = ["TLP", "Tehreek-i-Taliban Pakistan", "nothing like it"]
    small = client.post("/resolve", json={"mentions": mentions}).json()["results"]
    many = mentions * (INLINE_MENTIONS // len(mentions) + 1)
    large = client.post("/resolve", json={"mentions": many}).json()["results"]
    assert len(many) > INLINE_MENTIONS
    assert large == small * (len(many) // len(mentions))


def test_limits_are_enforced_with_422(client: TestClient) -> None:
    too_long = "x" * (MAX_MENTION_LENGTH + 1)
    assert client.get("/resolve", params={"q": too_long}).status_code == 422
    assert client.post("/resolve", json={"mentions": [too_long]}).status_code == 422
    many = {"mentions": ["TTP"] * (MAX_BATCH_SIZE + 1)}
    response = client.post("/resolve", json=many)
    assert response.status_code == 422
    assert "mentions" in str(response.json()["detail"])
    assert client.get("/resolve", params={"q": "TTP", "limit": 0}).status_code == 422


def test_malformed_requests_are_422(client: TestClient) -> None:
    assert client.get("/resolve").status_code == 422
    for body in ({}, {"mentions": "TTP"}, {"mentions": [1]}, {"mentions": [], "extra": 1}, []):
        assert client.post("/resolve", json=body).status_code == 422
    broken = client.post(
        "/resolve", content=b'{"mentions": [', headers={"content-type": "application/json"}
    )
    assert broken.status_code == 422
    not_utf8 = client.post(
        "/resolve", content=b'{"mentions": ["\xff"]}', headers={"content-type": "application/json"}
    )
    assert not_utf8.status_code in (400, 422)
    assert "detail" in not_utf8.json()


def test_a_lone_surrogate_is_a_422_that_names_the_mention(client: TestClient) -> None:
    raw = b'{"mentions": ["TTP", "\\ud83d TTP"]}'
    response = client.post("/resolve", content=raw, headers={"content-type": "application/json"})
    assert response.status_code == 422
    (error,) = response.json()["detail"]
    assert error["loc"] == ["body", "mentions", 1]


def test_control_characters_are_unmatched(client: TestClient) -> None:
    body = client.post("/resolve", json={"mentions": ["\x00\x1f", "TTP\x07"]}).json()
    assert [r["status"] for r in body["results"]] == ["unmatched", "matched"]


def test_variants_are_matched_and_say_how(client: TestClient) -> None:
    body = client.get("/resolve", params={"q": "Tahreek-i-Taliban Pakistan"}).json()
    assert body["status"] == "matched"
    assert body["entity"]["id"] == "ttp"
    (candidate,) = body["candidates"]
    assert (candidate["method"], candidate["matched_alias"]) == (
        "phonetic",
        "Tehreek-e-Taliban Pakistan",
    )
    assert 0.85 <= candidate["score"] < 1


def test_the_threshold_can_be_raised_per_request(client: TestClient) -> None:
    strict = client.get("/resolve", params={"q": "Tahreek-i-Taliban Pakistan", "threshold": 0.99})
    assert strict.json()["status"] == "unmatched"
    assert strict.json()["candidates"][0]["id"] == "ttp"  # still shown, not matched
    batch = client.post(
        "/resolve", json={"mentions": ["Tahreek-i-Taliban Pakistan", "TTP"], "threshold": 0.99}
    ).json()["results"]
    assert [r["status"] for r in batch] == ["unmatched", "matched"]
    assert client.get("/resolve", params={"q": "TTP", "threshold": 1.5}).status_code == 422


def test_a_look_alike_of_a_table_entity_is_not_matched(client: TestClient) -> None:
    body = client.get("/resolve", params={"q": "Tehreek-e-Insaf Pakistan"}).json()
    assert body["status"] == "unmatched"


@pytest.mark.parametrize(
    "mention",
    [
        "",
        " \t\n ",
        "\x00\x07\x1b[31m",
        "😀🔥 TTP 🚀",
        "TTP‏",  # a right-to-left mark after it
        "Tehreek-e-طالبان Pakistan",  # mixed scripts
        "ا" * MAX_MENTION_LENGTH,
        "word " * (MAX_MENTION_LENGTH // 5),
    ],
)
def test_odd_mentions_get_an_answer_not_an_error(client: TestClient, mention: str) -> None:
    response = client.post("/resolve", json={"mentions": [mention]})
    assert response.status_code == 200
    assert response.json()["results"][0]["status"] in ("matched", "ambiguous", "unmatched")


def test_a_ten_kilobyte_mention_is_refused_with_its_limit(client: TestClient) -> None:
    response = client.get("/resolve", params={"q": "x" * 10_000})
    assert response.status_code == 422
    assert str(MAX_MENTION_LENGTH) in response.text


def test_a_batch_of_100000_is_refused(client: TestClient) -> None:
    response = client.post("/resolve", json={"mentions": ["TTP"] * 100_000})
    assert response.status_code in (413, 422)
    assert "detail" in response.json()


OTTAWAS = (
    "entities:\n"
    "  - {id: ottawa-illinois, name: Ottawa, type: city, prominence: 18768}\n"
    "  - {id: ottawa-kansas, name: Ottawa, type: city}\n"
    "  - {id: ottawa-ontario, name: Ottawa, type: city, prominence: 1017449}\n"
)


@pytest.fixture
def ottawas(client: TestClient, admin: dict[str, str]) -> TestClient:
    """Three cities called Ottawa, one (Kansas) without a prominence."""
    headers = {**admin, "content-type": "application/yaml"}
    imported = client.post("/admin/import?allow_shared=true", content=OTTAWAS, headers=headers)
    assert imported.status_code == 200
    return client


def test_namesakes_stay_ambiguous_ordered_by_prominence(ottawas: TestClient) -> None:
    body = ottawas.get("/resolve", params={"q": "Ottawa"}).json()
    assert (body["status"], body["entity"], body["tie_break"]) == ("ambiguous", None, None)
    shown = [(c["id"], c.get("prominence")) for c in body["candidates"]]
    assert shown == [
        ("ottawa-ontario", 1017449),
        ("ottawa-illinois", 18768),
        ("ottawa-kansas", None),
    ]
    assert "prominence" not in body["candidates"][2]
    unknown = ottawas.get("/resolve", params={"q": "Ottawa", "tie_break": "prominence"}).json()
    assert (unknown["status"], unknown["tie_break"]) == ("ambiguous", None)  # Kansas is unknown


def test_tie_break_prominence_matches_and_says_so(
    ottawas: TestClient, admin: dict[str, str]
) -> None:
    patched = ottawas.patch(
        "/admin/entities/ottawa-kansas", json={"prominence": 12625}, headers=admin
    )
    assert patched.status_code == 200
    params = {"q": "Ottawa", "tie_break": "prominence"}
    body = ottawas.get("/resolve", params=params).json()
    assert (body["status"], body["tie_break"]) == ("matched", "prominence")
    assert body["entity"] == {"id": "ottawa-ontario", "name": "Ottawa", "type": "city"}
    assert body["score"] == 1.0
    batch = ottawas.post(
        "/resolve", json={"mentions": ["Ottawa", "TTP", "Taliban"], "tie_break": "prominence"}
    ).json()["results"]
    assert [(r["status"], r["tie_break"]) for r in batch] == [
        ("matched", "prominence"),
        ("matched", None),  # the margin decided
        ("ambiguous", None),  # neither Taliban has a prominence
    ]
    default = ottawas.post("/resolve", json={"mentions": ["Ottawa"]}).json()["results"][0]
    assert (default["status"], default["tie_break"]) == ("ambiguous", None)
    tied = {"prominence": 1017449}
    assert (
        ottawas.patch("/admin/entities/ottawa-kansas", json=tied, headers=admin).status_code == 200
    )
    assert ottawas.get("/resolve", params=params).json()["status"] == "ambiguous"


def test_an_unknown_tie_break_is_422(client: TestClient) -> None:
    assert client.get("/resolve", params={"q": "TTP", "tie_break": "population"}).status_code == 422
    for value in ("population", "", 1):
        body = {"mentions": ["TTP"], "tie_break": value}
        assert client.post("/resolve", json=body).status_code == 422
    assert client.post("/resolve", json={"mentions": ["TTP"], "tie_break": None}).status_code == 200


def test_openapi_documents_prominence_and_the_tie_break(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    schemas = spec["components"]["schemas"]
    (param,) = [
        p for p in spec["paths"]["/resolve"]["get"]["parameters"] if p["name"] == "tie_break"
    ]
    assert "prominence" in str(param["schema"])
    assert "prominence" in param["description"]
    assert schemas["TieBreak"]["enum"] == ["prominence"]
    assert "TieBreak" in str(schemas["ResolveRequest"]["properties"]["tie_break"])
    assert "TieBreak" in str(schemas["ResolveResult"]["properties"]["tie_break"])
    assert "tie_break" in schemas["ResolveResult"]["required"]
    assert "prominence" in schemas["CandidatePublic"]["properties"]
    for name in ("EntityCreate", "EntityUpdate", "EntityPublic"):
        prominence = schemas[name]["properties"]["prominence"]
        assert {"type": "number", "minimum": 0} in prominence["anyOf"], name


ISLAMIC_STATE = """\
entities:
  - {id: islamic-state, name: Islamic State, type: organization, aliases: [IS, ISIS, Daesh]}
  - id: iskp
    name: Islamic State – Khorasan Province
    type: organization
    aliases: [Islamic State-Khorasan]
"""


def test_a_compositional_match_says_which_part_was_exchanged(
    client: TestClient, admin: dict[str, str]
) -> None:
    imported = client.post(
        "/admin/import",
        content=ISLAMIC_STATE,
        headers={**admin, "Content-Type": "application/yaml"},
    )
    assert imported.status_code == 200, imported.text
    body = client.get("/resolve", params={"q": "IS-Khorasan"}).json()
    assert (body["status"], body["entity"]["id"], body["score"]) == ("matched", "iskp", 0.93)
    assert body["candidates"] == [
        {
            "id": "iskp",
            "name": "Islamic State – Khorasan Province",
            "type": "organization",
            "score": 0.93,
            "matched_alias": "Islamic State-Khorasan",
            "method": "compositional",
            "exchanged": [{"part": "IS", "for": "Islamic State", "entity": "islamic-state"}],
        }
    ]
    # Other methods carry no "exchanged".
    (exact,) = client.get("/resolve", params={"q": "Islamic State-Khorasan"}).json()["candidates"]
    assert exact["method"] == "exact"
    assert "exchanged" not in exact
    # In running text too.
    text = "Officials said IS-Khorasan fighters crossed over."
    (mention,) = client.post("/annotate", json={"text": text}).json()["mentions"]
    assert (mention["text"], mention["method"]) == ("IS-Khorasan", "compositional")
    assert mention["candidates"][0]["exchanged"] == [
        {"part": "IS", "for": "Islamic State", "entity": "islamic-state"}
    ]


def test_the_exchanged_parts_are_documented(client: TestClient) -> None:
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    exchanged = schemas["CandidatePublic"]["properties"]["exchanged"]
    assert "compositional" in exchanged["description"]
    assert "exchanged" not in schemas["CandidatePublic"].get("required", [])
    assert set(schemas["ExchangePublic"]["properties"]) == {"part", "for", "entity"}
