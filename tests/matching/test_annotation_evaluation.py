"""Annotation quality may not fall below the recorded level.

The figures: python -m tests.annotation_evaluation
"""

from tests.annotation_evaluation import dictionary_only, evaluate, load_documents

RECORDED_PRECISION = 1.0
RECORDED_RECALL = 1.0


def test_the_engine_keeps_its_recorded_precision_and_recall() -> None:
    score = evaluate(load_documents())
    assert score.precision >= RECORDED_PRECISION, score.errors
    assert score.recall >= RECORDED_RECALL, score.errors
    assert score.expected >= 240


def test_variants_and_the_document_add_to_the_dictionary() -> None:
    documents = load_documents()
    assert evaluate(documents).f1 > evaluate(documents, dictionary_only).f1
