"""Annotation quality may not fall below the recorded level.

The figures: python -m tests.annotation_evaluation; the gates: tests/gates.py.
"""

from tests.annotation_evaluation import dictionary_only, evaluate, load_documents
from tests.gates import ANNOTATION_PRECISION, ANNOTATION_RECALL


def test_the_engine_keeps_its_recorded_precision_and_recall() -> None:
    score = evaluate(load_documents())
    assert score.precision >= ANNOTATION_PRECISION, score.errors
    assert score.recall >= ANNOTATION_RECALL, score.errors
    assert score.expected >= 240


def test_variants_and_the_document_add_to_the_dictionary() -> None:
    documents = load_documents()
    assert evaluate(documents).f1 > evaluate(documents, dictionary_only).f1
