import pytest

from app.matching.index import AliasIndex, EntityRecord
from app.matching.resolve import (
    Candidate,
    Method,
    Status,
    Thresholds,
    TieBreak,
    most_prominent,
    resolve,
)

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


def test_exact_beats_structural_beats_every_approximate_find() -> None:
    exact, structural, *approximate = (
        resolve(INDEX, q).score
        for q in ("TTP", "T.T.P", "Tehrik-i-Taliban Pakistan", "Tahreek-e-Taliban Pakistan")
    )
    assert exact == 1.0 > structural == 0.98 > max(approximate)


def test_approximate_scores_follow_the_spelling() -> None:
    one_letter = resolve(INDEX, "Islamabd").score
    two_letters = resolve(INDEX, "Islaambd").score
    assert one_letter > two_letters


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


def namesakes(*prominences: float | None) -> AliasIndex:
    """Cities all named Ottawa, with these prominences; their IDs say the order given."""
    return AliasIndex.build(
        EntityRecord(f"ottawa-{i}", "Ottawa", "city", prominence=p)
        for i, p in enumerate(prominences)
    )


def test_equal_scores_are_ordered_by_prominence_the_unknown_last() -> None:
    result = resolve(namesakes(None, 18768.0, 1017449.0, 18768.0, 0.0), "Ottawa")
    assert (result.status, result.entity, result.tie_break) == (Status.AMBIGUOUS, None, None)
    ids = [c.entity.id for c in result.candidates]
    assert ids == ["ottawa-2", "ottawa-1", "ottawa-3", "ottawa-4", "ottawa-0"]


def test_a_higher_score_still_comes_before_a_higher_prominence() -> None:
    index = AliasIndex.build(
        [
            EntityRecord("ottawa", "Ottawa", "city", prominence=1.0),
            EntityRecord("ottawa-river", "Ottawa River", "river", ("Ottawa",), prominence=9.0),
            EntityRecord("ottowa", "Ottowa", "village", prominence=99.0),
        ]
    )
    result = resolve(index, "Ottawa")
    assert [c.entity.id for c in result.candidates] == ["ottawa-river", "ottawa"]


@pytest.mark.parametrize("query", ["Ottawa", "OTTAWA", "Otawa", "Otttawa"])
def test_tie_break_matches_the_one_clearly_most_prominent_namesake(query: str) -> None:
    index = namesakes(18768.0, 1017449.0, 0.0)
    asked = resolve(index, query, tie_break=TieBreak.PROMINENCE)
    assert (asked.status, asked.tie_break) == (Status.MATCHED, TieBreak.PROMINENCE)
    assert asked.entity is not None and asked.entity.id == "ottawa-1"
    assert [c.entity.id for c in asked.candidates] == ["ottawa-1", "ottawa-0", "ottawa-2"]
    assert asked.score == resolve(index, query).score
    plain = resolve(index, query)
    assert (plain.status, plain.entity, plain.tie_break) == (Status.AMBIGUOUS, None, None)
    assert plain.candidates == asked.candidates


def test_tie_break_keeps_the_chosen_namesake_within_the_limit() -> None:
    result = resolve(namesakes(1.0, 2.0), "Ottawa", limit=1, tie_break=TieBreak.PROMINENCE)
    assert result.status is Status.MATCHED
    assert [c.entity.id for c in result.candidates] == ["ottawa-1"]


@pytest.mark.parametrize(
    "prominences",
    [
        (5.0, 5.0),  # equal
        (10.0, 3.0, 10.0),  # the highest shared
        (None, None),  # none set
        (1017449.0, None),  # one unknown: nothing says it is smaller
        (1017449.0, 5.0, None),
        (0.0, 0.0),
    ],
)
def test_tie_break_leaves_namesakes_ambiguous_when_prominence_sets_none_apart(
    prominences: tuple[float | None, ...],
) -> None:
    result = resolve(namesakes(*prominences), "Ottawa", tie_break=TieBreak.PROMINENCE)
    assert (result.status, result.entity, result.tie_break) == (Status.AMBIGUOUS, None, None)


def test_tie_break_changes_nothing_that_is_not_ambiguous() -> None:
    index = namesakes(1.0, 2.0)
    below = resolve(
        index, "Otawa", thresholds=Thresholds(match=0.99), tie_break=TieBreak.PROMINENCE
    )
    assert (below.status, below.tie_break) == (Status.UNMATCHED, None)  # 0.95 < 0.99
    assert resolve(index, "Lahore", tie_break=TieBreak.PROMINENCE).status is Status.UNMATCHED
    clear = resolve(INDEX, "TTP", tie_break=TieBreak.PROMINENCE)
    assert (clear.status, clear.tie_break) == (Status.MATCHED, None)
    assert resolve(INDEX, "Taliban", tie_break=TieBreak.PROMINENCE).status is Status.AMBIGUOUS


def scored(*candidates: tuple[str, float, float | None]) -> list[Candidate]:
    return [
        Candidate(EntityRecord(i, i, "city", prominence=p), score, i, Method.FUZZY)
        for i, score, p in candidates
    ]


def test_the_most_prominent_is_sought_only_within_the_margin_of_the_best() -> None:
    rule = Thresholds(match=0.85, margin=0.05)
    ranked = scored(("a", 0.95, 10.0), ("b", 0.92, 500.0), ("c", 0.80, 9999.0))
    chosen = most_prominent(ranked, rule)
    assert chosen is not None and chosen.entity.id == "b"
    unknown_outside = scored(("a", 0.95, 10.0), ("b", 0.92, 500.0), ("c", 0.80, None))
    chosen = most_prominent(unknown_outside, rule)
    assert chosen is not None and chosen.entity.id == "b"
    assert most_prominent(scored(("a", 0.95, 10.0), ("b", 0.89, 500.0)), rule) is None


def test_the_most_prominent_must_reach_the_threshold_itself() -> None:
    ranked = scored(("a", 0.87, 10.0), ("b", 0.84, 500.0))
    assert most_prominent(ranked, Thresholds(match=0.85, margin=0.05)) is None
    chosen = most_prominent(ranked, Thresholds(match=0.84, margin=0.05))
    assert chosen is not None and chosen.entity.id == "b"
    assert most_prominent([], Thresholds()) is None
    assert most_prominent(scored(("a", 1.0, 10.0)), Thresholds()) is None
