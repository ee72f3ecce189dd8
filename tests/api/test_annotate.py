import string
import time

import pytest
from fastapi.testclient import TestClient

from app.api.annotate import MAX_ANSWER_ENTRIES
from app.api.compute import INLINE_CHARACTERS
from app.models.api import MAX_DOCUMENTS, MAX_TEXT_LENGTH
from tests.matching.test_bounded_work import IN_A_SENTENCE, MULTIPLE, article

TEXT = "ISLAMABAD: the Pakistani Taliban (TTP) and Tehreek‑e‑Labbaik Pakistan’s rally."


def test_every_mention_with_offsets_into_the_text_as_sent(client: TestClient) -> None:
    response = client.post("/annotate", json={"text": TEXT})
    assert response.status_code == 200
    mentions = response.json()["mentions"]
    assert [(m["text"], m["entity"]["id"]) for m in mentions] == [
        ("ISLAMABAD", "islamabad"),
        ("Pakistani Taliban", "ttp"),
        ("TTP", "ttp"),
        ("Tehreek‑e‑Labbaik Pakistan", "tlp"),
    ]
    for mention in mentions:
        assert TEXT[mention["start"] : mention["end"]] == mention["text"]
    first = mentions[0]
    assert set(first) == {
        "start",
        "end",
        "text",
        "status",
        "entity",
        "score",
        "method",
        "candidates",
    }
    assert (first["status"], first["method"], first["score"]) == ("matched", "exact", 1.0)
    assert first["candidates"][0]["matched_alias"] == "Islamabad"


def test_an_ambiguous_name_without_evidence_is_listed_as_ambiguous(client: TestClient) -> None:
    (mention,) = client.post("/annotate", json={"text": "The Taliban said so."}).json()["mentions"]
    assert (mention["status"], mention["entity"]) == ("ambiguous", None)
    assert {c["id"] for c in mention["candidates"]} == {"afghan-taliban", "ttp"}


def test_the_text_settles_an_ambiguous_name(client: TestClient) -> None:
    text = "The Afghan Taliban met. The Taliban said so."
    mentions = client.post("/annotate", json={"text": text}).json()["mentions"]
    assert [(m["text"], m["entity"]["id"], m["method"]) for m in mentions] == [
        ("Afghan Taliban", "afghan-taliban", "exact"),
        ("Taliban", "afghan-taliban", "document"),
    ]


def test_types_filter(client: TestClient) -> None:
    body = {"text": TEXT, "types": ["location"]}
    mentions = client.post("/annotate", json=body).json()["mentions"]
    assert [m["entity"]["id"] for m in mentions] == ["islamabad"]


def test_batch_answers_each_text_in_order(client: TestClient) -> None:
    body = {"documents": [{"text": "TTP"}, {"text": ""}, {"text": "TTP", "types": ["location"]}]}
    results = client.post("/annotate/batch", json=body).json()["results"]
    assert [[m["entity"]["id"] for m in r["mentions"]] for r in results] == [["ttp"], [], []]
    too_many = {"documents": [{"text": "TTP"}] * (MAX_DOCUMENTS + 1)}
    assert client.post("/annotate/batch", json=too_many).status_code == 422


@pytest.mark.parametrize(
    "text", ["", "   ", "\x00\x01\x1b[0m", "x" * MAX_TEXT_LENGTH, "😀" * 10_000, "\u202eTTP\u202c"]
)
def test_odd_texts_answer_200(client: TestClient, text: str) -> None:
    response = client.post("/annotate", json={"text": text})
    assert response.status_code == 200
    assert isinstance(response.json()["mentions"], list)


def test_a_text_over_the_limit_is_413(client: TestClient) -> None:
    response = client.post("/annotate", json={"text": "x" * (MAX_TEXT_LENGTH + 1)})
    assert response.status_code == 413
    assert f"{MAX_TEXT_LENGTH:,}" in response.json()["detail"]


def test_a_50_megabyte_body_is_413(client: TestClient) -> None:
    body = b'{"text": "' + b"x" * (50 << 20) + b'"}'
    response = client.post("/annotate", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 413


@pytest.mark.parametrize(
    "body",
    [b'{"text": "\xff\xfe"}', b'{"text": ', b'{"text": 3}', b'{"texts": "x"}', b"[]"],
)
def test_malformed_bodies_are_4xx_json(client: TestClient, body: bytes) -> None:
    response = client.post("/annotate", content=body, headers={"content-type": "application/json"})
    assert 400 <= response.status_code < 500
    assert "detail" in response.json()


def test_a_long_text_is_annotated_as_a_short_one(client: TestClient) -> None:
    # Long texts are annotated in the threadpool, short ones in place (app.api.compute).
    filler = " and then" * (INLINE_CHARACTERS // 9 + 1)
    short = client.post("/annotate", json={"text": TEXT}).json()["mentions"]
    long = client.post("/annotate", json={"text": TEXT + filler}).json()["mentions"]
    assert len(TEXT + filler) > INLINE_CHARACTERS
    assert short and long == short
    batch = client.post("/annotate/batch", json={"documents": [{"text": TEXT + filler}]})
    assert batch.json()["results"][0]["mentions"] == short


def test_limit_bounds_the_candidates_of_each_mention(client: TestClient) -> None:
    text = "The Taliban said so. The Taliban denied it."

    def candidates(limit: int) -> list[int]:
        answer = client.post("/annotate", json={"text": text, "limit": limit}).json()
        return [len(m["candidates"]) for m in answer["mentions"]]

    assert candidates(5) == [2, 2]  # the Afghan Taliban and the TTP: ambiguous
    assert candidates(1) == [1, 1]
    assert candidates(5) == [2, 2]


def test_a_batch_of_the_costliest_texts_costs_about_what_articles_do(client: TestClient) -> None:
    # The engine's own test times each kind of text (tests/matching/test_bounded_work.py);
    # here five of the longest texts go through POST /annotate/batch, against
    # five articles of the same length, best of two rounds taking turns. Each
    # long word is another, so that nothing remembered from one saves work on the next.
    rest = MAX_TEXT_LENGTH - len(IN_A_SENTENCE)
    words = iter(f"Pakistan{letter}" for letter in string.ascii_letters)

    def repeated_words() -> list[str]:
        return [IN_A_SENTENCE + (next(words) * rest)[:rest] for _ in range(5)]

    batches = {"articles": lambda: [article(MAX_TEXT_LENGTH)] * 5, "words": repeated_words}
    best = dict.fromkeys(batches, float("inf"))
    for _ in range(2):
        for name, texts in batches.items():
            body = {"documents": [{"text": text} for text in texts()]}
            started = time.perf_counter()
            response = client.post("/annotate/batch", json=body)
            best[name] = min(best[name], time.perf_counter() - started)
            assert response.status_code == 200
    assert best["words"] <= MULTIPLE * best["articles"], best


@pytest.mark.parametrize("texts", [2, 5])
def test_an_answer_past_its_bound_of_mentions_and_candidates_is_413(
    client: TestClient, texts: int
) -> None:
    """A name repeated all through the texts: 386 MB of JSON for 3.7 MB of them, before."""
    repeated = "TTP " * (INLINE_CHARACTERS // 4 + 1)  # in the threadpool: larger than in place
    one = client.post("/annotate", json={"text": repeated}).json()["mentions"]
    per_text = sum(1 + len(mention["candidates"]) for mention in one)
    needed = MAX_ANSWER_ENTRIES // per_text + 1
    many = repeated * (needed // texts + 1)
    documents = [{"text": many[:MAX_TEXT_LENGTH]} for _ in range(texts)]
    answer = client.post("/annotate/batch", json={"documents": documents})
    assert answer.status_code == 413, answer.text[:300]
    assert f"more than {MAX_ANSWER_ENTRIES:,} mentions and candidates" in answer.json()["detail"]
    fewer = client.post("/annotate/batch", json={"documents": [{"text": repeated}] * 2})
    assert fewer.status_code == 200
