import pytest

from app.matching.index import AliasIndex, EntityRecord
from app.matching.resolve import Method, Status, Thresholds, resolve

INDEX = AliasIndex.build(
    [
        EntityRecord("ttp", "Tehreek-e-Taliban Pakistan", "organization", ("TTP", "Taliban")),
        EntityRecord("afghan-taliban", "Afghan Taliban", "organization", ("Taliban",)),
        EntityRecord("tlp", "Tehreek-e-Labbaik Pakistan", "organization", ("TLP",)),
        EntityRecord("iskp", "Islamic State – Khorasan Province", "organization", ("ISKP",)),
        EntityRecord("islamabad", "Islamabad", "city"),
        EntityRecord("pakistan", "Pakistan", "country"),
        EntityRecord("afghanistan", "Afghanistan", "country"),
        EntityRecord(
            "pk-mofa",
            "Ministry of Foreign Affairs of Pakistan",
            "government-body",
            ("Ministry of Foreign Affairs",),
        ),
        EntityRecord("syed-haider-shah", "Syed Haider Shah", "person"),
    ]
)


def best(query: str, **options: object) -> tuple[Status, str | None, Method | None]:
    result = resolve(INDEX, query, **options)  # type: ignore[arg-type]
    top = result.candidates[0] if result.candidates else None
    return result.status, result.entity and result.entity.id, top and top.method


@pytest.mark.parametrize(
    ("query", "entity", "method"),
    [
        ("Tehreek‑e‑Taliban  PAKISTAN", "ttp", Method.EXACT),
        ("T.T.P.", "ttp", Method.STRUCTURAL),
        ("I S K P", "iskp", Method.STRUCTURAL),
        ("Tehreek-e-Taliban Pakistan (TTP)", "ttp", Method.STRUCTURAL),
        ("Ambassador Syed Haider Shah", "syed-haider-shah", Method.STRUCTURAL),
        ("Tehrik-i-Taliban Pakistan", "ttp", Method.TRANSLITERATION),
        ("Islamic State Khurasan Province", "iskp", Method.TRANSLITERATION),
        ("Tahreek-e-Taliban Pakistan", "ttp", Method.PHONETIC),
        ("Sayyid Haider Shah", "syed-haider-shah", Method.PHONETIC),
        ("تحریک طالبان پاکستان", "ttp", Method.PHONETIC),
        ("Islamabd", "islamabad", Method.PHONETIC),
        ("Tehreek-e-Talibann Pakistan Movement", None, Method.FUZZY),
    ],
)
def test_each_layer_names_itself(query: str, entity: str | None, method: Method) -> None:
    status, found, used = best(query)
    assert (found, used) == (entity, method)
    assert status is (Status.MATCHED if entity else Status.UNMATCHED)


def test_scores_fall_as_layers_forget_more() -> None:
    scores = [
        resolve(INDEX, q).score
        for q in ("TTP", "T.T.P", "Tehrik-i-Taliban Pakistan", "Tahreek-e-Taliban Pakistan")
    ]
    assert scores == sorted(scores, reverse=True)
    assert scores[0] == 1.0


def test_a_form_of_several_entities_is_ambiguous_with_every_candidate() -> None:
    result = resolve(INDEX, "Taliban")
    assert result.status is Status.AMBIGUOUS
    assert result.entity is None
    assert sorted(c.entity.id for c in result.candidates) == ["afghan-taliban", "ttp"]


@pytest.mark.parametrize(
    "query",
    [
        "Tehreek-e-Labbaik Pakistan Movement",
        "Tehreek-e-Insaf Pakistan",
        "Ministry of Foreign Affairs of Afghanistan",
        "Afghan Ministry of Foreign Affairs",
        "Islamic State Pakistan Province",
        "Tehreek Taliban",
    ],
)
def test_look_alikes_of_other_actors_are_not_matched(query: str) -> None:
    assert resolve(INDEX, query).status is not Status.MATCHED


def test_a_shared_word_counts_less_than_a_distinctive_one() -> None:
    labbaik = resolve(INDEX, "Tehreek-e-Labaik Pakistan")  # a typo of TLP's distinctive word
    assert labbaik.entity is not None and labbaik.entity.id == "tlp"
    assert all(c.entity.id != "ttp" or c.score < 0.85 for c in labbaik.candidates)


def test_the_threshold_is_a_per_call_option() -> None:
    strict = Thresholds(match=0.99)
    assert (
        resolve(INDEX, "Tahreek-e-Taliban Pakistan", thresholds=strict).status is Status.UNMATCHED
    )
    assert resolve(INDEX, "TTP", thresholds=strict).status is Status.MATCHED


def test_the_margin_makes_close_calls_ambiguous() -> None:
    close = Thresholds(margin=0.5)
    index = AliasIndex.build(
        [EntityRecord("a", "Tehreek Alpha", "x"), EntityRecord("b", "Tehrik Alpha Beta", "x")]
    )
    assert resolve(index, "Tehreek Alpha").status is Status.MATCHED
    assert resolve(index, "Tehreek Alpha", thresholds=close).status is Status.MATCHED  # exact layer
    loose = Thresholds(match=0.1, margin=0.5, floor=0.0)
    fuzzy = resolve(index, "Tehreek Alpha Betta Gamma", thresholds=loose)
    assert fuzzy.status is Status.AMBIGUOUS


def test_the_type_filter_narrows_every_layer() -> None:
    assert best("Islamabad", types=["organization"])[0] is Status.UNMATCHED
    assert best("Islamabd", types=["CITY"])[1] == "islamabad"
    assert best("Taliban", types=["organization"])[0] is Status.AMBIGUOUS


@pytest.mark.parametrize(
    "query", ["", "   ", "---", "\x00\x01", "😀😀", "x" * 10_000, "a b c d e f g h i j " * 100]
)
def test_nothing_plausible_is_unmatched(query: str) -> None:
    result = resolve(INDEX, query)
    assert result.status is Status.UNMATCHED
    assert result.score < 0.85


def test_the_limit_caps_the_candidates_but_not_the_decision() -> None:
    result = resolve(INDEX, "Taliban", limit=1)
    assert result.status is Status.AMBIGUOUS
    assert len(result.candidates) == 1
