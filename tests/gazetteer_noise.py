"""Junk links when a large gazetteer is loaded beside the curated table.

    python -m tests.gazetteer_noise [--aliases 300000] [--places N]

A user who loads GeoNames' cities beside the shipped table must not see
common words linked to places: a sentence-initial "According" to Erding, a
lower-case "as" to Asse, a "10" to a district of Helsinki. This annotates the
documents of the annotation evaluation (the five seed articles and the
written passages) with the shipped table plus the most populous places of
GeoNames' cities500 (``benchmarks.common``: until ``--aliases`` aliases, or
the first ``--places`` places), and counts the listed mentions, matched or
ambiguous, that name a gazetteer entity where the gold has no mention:
junk links per 1,000 words, each one listed. Places that the texts do name
but the shipped table lacks (``REAL_PLACES``) are right, not junk.

Mentions at gold spans that a gazetteer namesake makes ambiguous (GeoNames'
Islamabad beside the curated one) are counted apart: that is the table's
choice, not noise. A gold mention linked to a gazetteer entity instead would
be an error, and is listed too.
"""

import argparse
import sys
from dataclasses import dataclass, field
from functools import cache

from app.matching.annotate import annotate
from app.matching.index import AliasIndex, EntityRecord
from benchmarks.common import cities, distinct_forms
from tests.annotation_evaluation import Document, load_documents
from tests.evaluation import shipped_index

PREFIX = "geonames:"
# Places the documents name that only the gazetteer holds: linking them is right.
REAL_PLACES = {
    "variants": {"Dera Ismail Khan"},
    "look-alikes": {"LAHORE"},
    "compositions": {"PESHAWAR"},
}


@dataclass
class Noise:
    words: int = 0
    junk: list[str] = field(default_factory=list)
    ambiguous_gold: list[str] = field(default_factory=list)
    misread_gold: list[str] = field(default_factory=list)

    @property
    def per_thousand_words(self) -> float:
        return 1000 * len(self.junk) / self.words if self.words else 0.0


def gazetteer(*, aliases: int | None = None, places: int | None = None) -> list[EntityRecord]:
    """The most populous places, until ``aliases`` aliases or ``places`` places."""
    entities: list[EntityRecord] = []
    count = 0
    for city in cities():
        if (aliases is not None and count >= aliases) or len(entities) == places:
            break
        names = distinct_forms(city["name"], city.get("alternatenames") or ())
        entities.append(
            EntityRecord(f"{PREFIX}{city['geonameid']}", city["name"], "city", tuple(names))
        )
        count += len(names)
    return entities


@cache
def combined_index(*, aliases: int | None = None, places: int | None = None) -> AliasIndex:
    """The shipped table with the gazetteer beside it."""
    shipped = list(shipped_index().entities())
    return AliasIndex.build([*shipped, *gazetteer(aliases=aliases, places=places)])


def measure(index: AliasIndex, documents: list[Document]) -> Noise:
    noise = Noise()
    for document in documents:
        noise.words += len(document.text.split())
        gold_spans = {(start, end) for start, end, _ in document.gold}
        for mention in annotate(index, document.text):
            resolution, span = mention.resolution, mention.span
            named = [c.entity for c in resolution.candidates if c.entity.id.startswith(PREFIX)]
            if resolution.entity is not None:
                named = [resolution.entity] if resolution.entity.id.startswith(PREFIX) else []
            if not named:
                continue
            line = (
                f"{document.name}: {mention.text!r} → {named[0].name} ({named[0].id}),"
                f" {resolution.status.value}, {mention.method} {resolution.score:.3f}"
            )
            if (span.start, span.end) in gold_spans:
                misread = resolution.entity is not None
                (noise.misread_gold if misread else noise.ambiguous_gold).append(line)
            elif mention.text not in REAL_PLACES.get(document.name, ()):
                noise.junk.append(line)
    return noise


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--aliases", type=int, default=300_000)
    parser.add_argument("--places", type=int, default=None)
    args = parser.parse_args()
    aliases = None if args.places else args.aliases
    places = gazetteer(aliases=aliases, places=args.places)
    index = combined_index(aliases=aliases, places=args.places)
    documents = load_documents()
    noise = measure(index, documents)
    print(
        f"{len(places):,} GeoNames places, {sum(len(p.aliases) for p in places):,} aliases,"
        f" beside the shipped table; {len(documents)} documents, {noise.words:,} words"
    )
    print(f"junk links: {len(noise.junk)}, {noise.per_thousand_words:.2f} per 1,000 words")
    for line in noise.junk:
        print(f"  junk  {line}")
    print(f"gold mentions linked to a gazetteer entity instead: {len(noise.misread_gold)}")
    for line in noise.misread_gold:
        print(f"  wrong {line}")
    print(f"gold mentions a gazetteer namesake makes ambiguous: {len(noise.ambiguous_gold)}")
    for line in noise.ambiguous_gold:
        print(f"  gold  {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
