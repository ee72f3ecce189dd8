"""The dev set as a regression gate: the engine's share correct may not fall
below, nor its share wrong rise above, the levels in tests/gates.py.

Only the tune split is gated (the holdout is only ever reported). The report
with every class and the baselines: python -m benchmarks.devset.
"""

import pytest

from app.matching.index import AliasIndex
from tests.devset import SETS, engine_answers, load_queries, load_table, tally
from tests.gates import DEVSET_CORRECT, DEVSET_WRONG


@pytest.mark.parametrize("name", SETS)
def test_the_engine_keeps_its_recorded_level_on_the_dev_set(name: str) -> None:
    queries = load_queries(name, "tune")
    index = AliasIndex.build(load_table(name))
    result = tally(queries, engine_answers(index, queries))
    figures = (
        f"correct {result.correct_share:.3f} (gate {DEVSET_CORRECT[name]}), "
        f"wrong {result.wrong_share:.3f} (gate {DEVSET_WRONG[name]})"
    )
    assert result.correct_share >= DEVSET_CORRECT[name], figures
    assert result.wrong_share <= DEVSET_WRONG[name], figures


@pytest.mark.parametrize("name", SETS)
def test_the_dev_set_is_large_and_split(name: str) -> None:
    queries = load_queries(name)
    holdout = [q for q in queries if q.split == "holdout"]
    assert len(queries) >= 2500
    assert 0.25 <= len(holdout) / len(queries) <= 0.35
    assert any(q.gold is None for q in queries), "hard negatives"
    assert len({q.kind for q in queries}) >= 5
    assert len({q.script for q in queries}) >= 5
