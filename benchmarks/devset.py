"""The engine on the development set, beside the brute-force baselines in the same run.

    python -m benchmarks.devset [--set geonames|people|all] [--split tune|holdout|all]

For each set (tests/devset.py: the tables, the frozen queries and their
classes) it prints, overall and per class (script, length band, kind, and the
method of the engine's best candidate; and per split), the share correct / wrong /
abstained of:

* the engine: ``resolve()`` with the default thresholds;
* ``ratio``: rapidfuzz's ``fuzz.ratio`` over anyascii-transliterated normal
  forms, cutoff 85, the best form's entity (``process.extractOne``);
* ``ratio+margin``: the same, abstaining unless the best entity is 3 points
  above the best form of any other entity;
* for people also ``token_sort+margin``: ``fuzz.token_sort_ratio`` with the
  margin rule.

Where gold is null, any match is wrong and no match is correct. Then the
candidate recall (is the brute-force best form's entity among the entities
the engine scored?) and the reliability of the engine's ``matched`` answers
by score band. The holdout split is for reporting only: never tune on it.
"""

import argparse
import time
from collections.abc import Callable

from rapidfuzz import fuzz

from app.matching.index import AliasIndex
from app.matching.resolve import scored_entity_ids
from benchmarks.baselines import Scan, ScanAnswer
from tests.devset import (
    SETS,
    Answer,
    DevQuery,
    Tally,
    engine_answers,
    load_queries,
    load_table,
)

RECALL_TARGET = 0.99
BANDS = [(0.0, 0.85), (0.85, 0.9), (0.9, 0.95), (0.95, 1.0), (1.0, 1.01)]
Classifier = Callable[[DevQuery, Answer], str]
CLASSES: dict[str, Classifier] = {
    "split": lambda q, a: q.split,
    "kind": lambda q, a: q.kind,
    "script": lambda q, a: q.script,
    "length": lambda q, a: q.length,
    "method": lambda q, a: a.method,
}


def run_set(name: str, split: str, misses: int) -> list[tuple[DevQuery, Answer]]:
    queries = load_queries(name, split)
    entities = load_table(name)
    started = time.perf_counter()
    index = AliasIndex.build(entities)
    aliases = sum(len(e.aliases) for e in entities)
    print(
        f"\n=== {name} ({split}): {len(entities):,} entities, {aliases:,} aliases; "
        f"{len(queries):,} queries; index built in {time.perf_counter() - started:.1f} s"
    )
    started = time.perf_counter()
    engine = engine_answers(index, queries)
    print(f"engine: {(time.perf_counter() - started) / len(queries) * 1000:.2f} ms per query")

    scan = Scan(entities)
    texts = [q.text for q in queries]
    started = time.perf_counter()
    by_ratio = scan.answers(texts, fuzz.ratio)
    print(f"ratio scan: {(time.perf_counter() - started) / len(queries) * 1000:.1f} ms per query")
    systems: dict[str, list[Answer]] = {
        "engine": engine,
        "ratio": [Answer(a.plain) for a in by_ratio],
        "ratio+margin": [Answer(a.margin) for a in by_ratio],
    }
    if name == "people":
        by_token = scan.answers(texts, fuzz.token_sort_ratio)
        systems["token_sort+margin"] = [Answer(a.margin) for a in by_token]

    print_tables(queries, systems)
    print_candidate_recall(index, queries, by_ratio, misses)
    return list(zip(queries, engine, strict=True))


def print_tables(queries: list[DevQuery], systems: dict[str, list[Answer]]) -> None:
    engine = systems["engine"]
    header = f"{'':24} {'n':>5}" + "".join(f" | {s[:22]:^22}" for s in systems)
    sub = f"{'':24} {'':>5}" + " | correct  wrong  abst." * len(systems)
    for title, classify in [("overall", None), *CLASSES.items()]:
        groups: dict[str, list[int]] = {}
        for i, (q, a) in enumerate(zip(queries, engine, strict=True)):
            groups.setdefault(classify(q, a) if classify else "all", []).append(i)
        print(f"\n-- by {title}" if classify else "\n-- overall")
        print(header)
        print(sub)
        for group, members in sorted(groups.items(), key=lambda g: -len(g[1])):
            cells = []
            for answers in systems.values():
                t = Tally()
                for i in members:
                    t.add(answers[i].found, queries[i].gold)
                cells.append(
                    f" | {t.correct_share:7.3f} {t.wrong_share:6.3f} {t.abstained_share:6.3f}"
                )
            print(f"{group[:24]:24} {len(members):5d}" + "".join(cells))


def print_candidate_recall(
    index: AliasIndex, queries: list[DevQuery], scan: list[ScanAnswer], misses: int
) -> None:
    reached, missed = 0, []
    for q, a in zip(queries, scan, strict=True):
        if not a.best:
            continue
        if a.best & scored_entity_ids(index, q.text):
            reached += 1
        else:
            found = ", ".join(sorted(a.best)[:3])
            missed.append(f"  {q.text!r} ({q.kind}, gold {q.gold}): best forms of {found}")
    total = reached + len(missed)
    share = reached / total if total else 1.0
    print(
        f"\ncandidate recall: {share:.3f} (target >= {RECALL_TARGET}): {reached:,} of {total:,}"
        " queries whose best ratio form scores >= 85 had that form's entity among the"
        " engine's scored entities"
    )
    for line in missed[:misses]:
        print(line)


def print_reliability(answers: list[tuple[DevQuery, Answer]]) -> None:
    print("\n=== reliability of the engine's matched answers by score (all sets run)")
    print(f"{'score band':14} {'matched':>8} {'right':>7}")
    for low, high in BANDS:
        inside = [q.gold == a.found for q, a in answers if a.found and low <= a.score < high]
        if not inside and low == 0.0:
            continue
        band = "1.0" if low == 1.0 else f"[{low:.2f}, {high:.2f})"
        right = f"{sum(inside) / len(inside):7.3f}" if inside else f"{'-':>7}"
        print(f"{band:14} {len(inside):8d} {right}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--set", choices=[*SETS, "all"], default="all")
    parser.add_argument("--split", choices=["tune", "holdout", "all"], default="all")
    parser.add_argument("--misses", type=int, default=15, help="candidate-recall misses shown")
    args = parser.parse_args()
    answers = []
    for name in SETS if args.set == "all" else [args.set]:
        answers += run_set(name, args.split, args.misses)
    print_reliability(answers)


if __name__ == "__main__":
    main()
