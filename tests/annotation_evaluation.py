"""Precision, recall and F1 of /annotate's engine against gold annotations.

    python -m tests.annotation_evaluation     # the figures, and every miss and wrong mention

Gold: the five seed articles (``tests/data/annotate_gold.yaml``, reviewed by
hand) and passages written for what the articles lack: uncurated spellings,
look-alike actors, short aliases that are English words, and Unicode that
shifts offsets (``tests/data/annotate_passages.yaml``). A mention counts when
its span and its entity are both right; an ambiguous mention counts as no
answer. Beside the full engine it measures dictionary spotting alone.
"""

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from app.matching.annotate import Mention, annotate, dictionary_mentions
from app.matching.index import AliasIndex
from tests.evaluation import shipped_index

DATA = Path(__file__).parent / "data"
Gold = set[tuple[int, int, str]]
Annotator = Callable[[AliasIndex, str], list[Mention]]


@dataclass
class Document:
    name: str
    text: str
    gold: Gold


@dataclass
class Score:
    true: int = 0
    predicted: int = 0
    expected: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def precision(self) -> float:
        return self.true / self.predicted if self.predicted else 1.0

    @property
    def recall(self) -> float:
        return self.true / self.expected if self.expected else 1.0

    @property
    def f1(self) -> float:
        total = self.precision + self.recall
        return 2 * self.precision * self.recall / total if total else 0.0


def load_documents() -> list[Document]:
    gold = yaml.safe_load((DATA / "annotate_gold.yaml").read_text(encoding="utf-8"))
    documents = [
        Document(name, (DATA / "seeds" / name).read_text(encoding="utf-8"), _spans(mentions))
        for name, mentions in gold["documents"].items()
    ]
    passages = yaml.safe_load((DATA / "annotate_passages.yaml").read_text(encoding="utf-8"))
    for name, text in passages["passages"].items():
        documents.append(Document(name, text, _found_in(text, passages["gold"][name])))
    return documents


def _spans(mentions: list[list]) -> Gold:
    return {(start, end, entity) for start, end, _text, entity in mentions}


def _found_in(text: str, mentions: list[list[str]]) -> Gold:
    """Gold written as [text, entity] in order: their offsets in ``text``."""
    gold, position = set(), 0
    for written, entity in mentions:
        start = text.index(written, position)
        position = start + len(written)
        gold.add((start, position, entity))
    return gold


def evaluate(documents: list[Document], annotator: Annotator = annotate) -> Score:
    score = Score()
    index = shipped_index()
    for document in documents:
        found = {
            (m.span.start, m.span.end, m.resolution.entity.id)
            for m in annotator(index, document.text)
            if m.resolution.entity is not None
        }
        score.true += len(found & document.gold)
        score.predicted += len(found)
        score.expected += len(document.gold)
        for start, end, entity in sorted(found - document.gold):
            score.errors.append(f"{document.name}: WRONG {document.text[start:end]!r} → {entity}")
        for start, end, entity in sorted(document.gold - found):
            score.errors.append(f"{document.name}: missed {document.text[start:end]!r} ({entity})")
    return score


def dictionary_only(index: AliasIndex, text: str) -> list[Mention]:
    return dictionary_mentions(index, text)


def main() -> int:
    documents = load_documents()
    rows = [
        ("full engine", evaluate(documents)),
        ("dictionary only", evaluate(documents, dictionary_only)),
    ]
    gold = sum(len(d.gold) for d in documents)
    print(f"{len(documents)} documents, {gold} gold mentions")
    print(f"{'':16} {'precision':>9} {'recall':>7} {'F1':>6}")
    for name, score in rows:
        print(f"{name:16} {score.precision:9.3f} {score.recall:7.3f} {score.f1:6.3f}")
    for line in rows[0][1].errors:
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
