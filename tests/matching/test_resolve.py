import pytest

from app.matching.index import AliasIndex, EntityRecord
from app.matching.resolve import Method, Status, resolve

INDEX = AliasIndex.build(
    [
        EntityRecord("ttp", "Tehreek-e-Taliban Pakistan", "organization", ("TTP", "Taliban")),
        EntityRecord("afghan-taliban", "Afghan Taliban", "organization", ("Taliban",)),
        EntityRecord("tlp", "Tehreek-e-Labbaik Pakistan", "organization", ("TLP",)),
        EntityRecord("islamabad", "Islamabad", "location"),
    ]
)


def test_one_entity_owning_the_form_is_a_match() -> None:
    result = resolve(INDEX, "Tehreek‑e‑Taliban  PAKISTAN")
    assert result.status is Status.MATCHED
    assert result.entity is not None and result.entity.id == "ttp"
    assert result.score == 1.0
    (candidate,) = result.candidates
    assert candidate.matched_alias == "Tehreek-e-Taliban Pakistan"
    assert candidate.method is Method.EXACT


def test_a_form_of_several_entities_is_ambiguous_with_every_candidate() -> None:
    result = resolve(INDEX, "Taliban")
    assert result.status is Status.AMBIGUOUS
    assert result.entity is None
    assert sorted(c.entity.id for c in result.candidates) == ["afghan-taliban", "ttp"]


def test_the_type_filter_narrows_the_candidates() -> None:
    assert resolve(INDEX, "Islamabad", entity_type="organization").status is Status.UNMATCHED
    assert resolve(INDEX, "Islamabad", entity_type="LOCATION").status is Status.MATCHED


@pytest.mark.parametrize("query", ["", "   ", "Tehreek", "Labbaik Taliban", "x" * 10_000])
def test_no_entity_owning_the_form_is_unmatched(query: str) -> None:
    result = resolve(INDEX, query)
    assert result.status is Status.UNMATCHED
    assert result.candidates == ()
    assert result.score == 0.0


def test_the_limit_caps_the_candidates_but_not_the_decision() -> None:
    result = resolve(INDEX, "Taliban", limit=1)
    assert result.status is Status.AMBIGUOUS
    assert len(result.candidates) == 1
