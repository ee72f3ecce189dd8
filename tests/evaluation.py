"""Precision and recall of /resolve's engine on the evaluation set.

    python -m tests.evaluation          # the report, and every miss and wrong match

The set is ``tests/data/resolve_evaluation.yaml`` over the shipped table.
Beside the layered resolver it measures the exact lookup alone (the
dictionary), so the report shows what the other layers add and what they cost.
"""

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import yaml

from app.aliasfile import parse_alias_file
from app.matching.index import AliasIndex, EntityRecord
from app.matching.resolve import Candidate, Resolution, Status, decide, resolve
from app.resources import SHIPPED_ALIASES_FILE

CASES_FILE = Path(__file__).parent / "data" / "resolve_evaluation.yaml"

Resolver = Callable[[AliasIndex, str], Resolution]


@dataclass(frozen=True)
class Case:
    mention: str
    expected: str | None  # None: must not be matched
    without: frozenset[str] = frozenset()


@dataclass
class Report:
    positives: int = 0
    negatives: int = 0
    correct: int = 0
    wrong: list[str] = field(default_factory=list)  # matched to the wrong entity
    missed: list[str] = field(default_factory=list)  # positives not matched
    ambiguous: int = 0

    @property
    def precision(self) -> float:
        matched = self.correct + len(self.wrong)
        return self.correct / matched if matched else 1.0

    @property
    def recall(self) -> float:
        return self.correct / self.positives if self.positives else 1.0


def load_cases(path: Path = CASES_FILE) -> list[Case]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    cases = [Case(str(mention), entity) for mention, entity in data["positives"]]
    cases += [
        Case(str(n["mention"]), None, frozenset(n.get("without", ()))) for n in data["negatives"]
    ]
    return cases


@cache
def shipped_index(without: frozenset[str] = frozenset()) -> AliasIndex:
    table = parse_alias_file(SHIPPED_ALIASES_FILE.read_bytes())
    return AliasIndex.build(
        EntityRecord(e.id, e.name, e.type, tuple(a.text for a in e.aliases))
        for e in table.entities
        if e.id not in without
    )


def exact_only(index: AliasIndex, mention: str) -> Resolution:
    """The dictionary alone: the curated forms, looked up by their normal form."""
    from app.matching.normalize import normalize
    from app.matching.resolve import Method, Thresholds

    found: dict[str, Candidate] = {}
    for posting in index.lookup("exact", normalize(mention)):
        entity = index.entity(posting.entity_id)
        if entity is not None:
            found[entity.id] = Candidate(entity, 1.0, posting.text, Method.EXACT)
    ranked = list(found.values())
    return Resolution(mention, decide(ranked, Thresholds()), tuple(ranked))


def layered(index: AliasIndex, mention: str) -> Resolution:
    return resolve(index, mention)


def evaluate(cases: list[Case], resolver: Resolver = layered) -> Report:
    report = Report()
    for case in cases:
        result = resolver(shipped_index(case.without), case.mention)
        matched = result.entity.id if result.entity else None
        report.ambiguous += result.status is Status.AMBIGUOUS
        if case.expected is None:
            report.negatives += 1
            if matched is not None:
                report.wrong.append(f"{case.mention!r} → {matched} (should not match)")
            continue
        report.positives += 1
        if matched == case.expected:
            report.correct += 1
        elif matched is not None:
            report.wrong.append(f"{case.mention!r} → {matched} (is {case.expected})")
        else:
            best = result.candidates[0] if result.candidates else None
            seen = f"{best.entity.id} {best.score:.2f} {best.method}" if best else "nothing"
            report.missed.append(f"{case.mention!r} ({case.expected}): {result.status}, {seen}")
    return report


def main() -> int:
    cases = load_cases()
    rows = [
        ("layered resolver", evaluate(cases)),
        ("exact lookup only", evaluate(cases, exact_only)),
    ]
    print(f"{len(cases)} cases: {rows[0][1].positives} positives, {rows[0][1].negatives} negatives")
    print(f"{'':20} {'precision':>9} {'recall':>7} {'wrong':>6} {'ambiguous':>9}")
    for name, report in rows:
        print(
            f"{name:20} {report.precision:9.3f} {report.recall:7.3f} "
            f"{len(report.wrong):6d} {report.ambiguous:9d}"
        )
    layered_report = rows[0][1]
    for line in layered_report.wrong:
        print("WRONG  ", line)
    for line in layered_report.missed:
        print("missed ", line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
