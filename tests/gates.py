"""Every quality gate of the test suite, in one place.

Each gate sits a little below the figure measured when it was set (a little
above, for wrong matches), never at 1.000: a gate at perfection says the set
is what the engine was tuned to, not how good it is. The figures come from

    python -m tests.evaluation               # the seed-article resolve set
    python -m tests.annotation_evaluation    # the gold annotations
    python -m benchmarks.devset --split tune # the dev set (tests/devset.py)

The dev-set gates were set on 2026-12-02 from the engine as it was then
(commit 132a151, before the rewrite of candidate generation and scoring);
re-set them when that rewrite lands. They gate the tune split only: the
holdout split is reported, never tuned on, and no gate reads it.
"""

# The seed-article resolve set (tests/data/resolve_evaluation.yaml):
# measured precision 1.000, recall 0.991 (110 of 111).
RESOLVE_PRECISION = 0.98
RESOLVE_RECALL = 0.98

# The gold annotations of the seed articles and passages:
# measured precision 1.000, recall 1.000.
ANNOTATION_PRECISION = 0.99
ANNOTATION_RECALL = 0.99

# The dev set's tune split, the engine with its default thresholds:
# share correct at least, share wrong at most. Measured:
#   geonames  correct 0.646  wrong 0.102  (2,104 queries)
#   people    correct 0.864  wrong 0.068  (2,065 queries)
DEVSET_CORRECT = {"geonames": 0.635, "people": 0.850}
DEVSET_WRONG = {"geonames": 0.112, "people": 0.078}
