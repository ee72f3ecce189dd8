"""The strongest simple baselines: a brute-force scan over every surface form.

Every form and every query is brought to one plain form: the engine's normal
form, transliterated by anyascii, lower-cased. A query is then scored
against every form with a rapidfuzz scorer (``fuzz.ratio`` for places,
``fuzz.token_sort_ratio`` too for people) and

* ``plain``: the best form's entity when it scores at least CUTOFF, as
  ``process.extractOne`` answers (it always picks one, and so always guesses);
* ``margin``: the same, only when the best entity beats the best form of any
  other entity by MARGIN points or more; otherwise it abstains.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from anyascii import anyascii
from rapidfuzz import fuzz, process

from app.matching.index import EntityRecord
from app.matching.normalize import normalize

CUTOFF = 85
MARGIN = 3
CHUNK = 64  # queries scored at once: a CHUNK x forms matrix of float32

Scorer = Callable[..., float]


def plain_form(text: str) -> str:
    return anyascii(normalize(text)).lower()


@dataclass(frozen=True)
class ScanAnswer:
    score: float  # the best form's score, 0 when none reaches the cutoff
    best: frozenset[str]  # the entities of the tied best forms
    plain: str | None  # what extractOne answers
    margin: str | None  # the answer under the margin rule


class Scan:
    def __init__(self, entities: Sequence[EntityRecord]) -> None:
        self.choices: list[str] = []
        self.owners: list[str] = []
        for entity in entities:
            for form in entity.surface_forms():
                self.choices.append(plain_form(form))
                self.owners.append(entity.id)

    def extract_one(self, text: str, scorer: Scorer = fuzz.ratio) -> str | None:
        """One query, as a caller of the library would write it (for timing)."""
        best = process.extractOne(
            plain_form(text), self.choices, scorer=scorer, score_cutoff=CUTOFF
        )
        return self.owners[best[2]] if best else None

    def answers(self, texts: Sequence[str], scorer: Scorer = fuzz.ratio) -> list[ScanAnswer]:
        """Every query at once, on every core."""
        import numpy as np

        found = []
        for start in range(0, len(texts), CHUNK):
            chunk = [plain_form(t) for t in texts[start : start + CHUNK]]
            scores = process.cdist(
                chunk,
                self.choices,
                scorer=scorer,
                score_cutoff=CUTOFF - MARGIN,
                dtype=np.float32,
                workers=-1,
            )
            for row in scores:
                hits = np.flatnonzero(row)
                found.append(self._answer([(float(row[i]), int(i)) for i in hits]))
        return found

    def _answer(self, hits: list[tuple[float, int]]) -> ScanAnswer:
        top = max((score for score, _ in hits), default=0.0)
        if top < CUTOFF:
            return ScanAnswer(0.0, frozenset(), None, None)
        tied = [i for score, i in hits if score == top]
        best = frozenset(self.owners[i] for i in tied)
        plain = self.owners[min(tied)]  # extractOne keeps the first of equal scores
        runner_up = max(
            (score for score, i in hits if self.owners[i] != plain),
            default=0.0,
        )
        margin = plain if len(best) == 1 and top - runner_up >= MARGIN else None
        return ScanAnswer(top, best, plain, margin)
