"""The keys of an index build's forms: ``form_keys`` one form at a time, against
the ``FormKeyMaker`` that the build uses, in one run.

    python -m benchmarks.form_keys [--aliases 1000000] [--rounds 2] [--before REF]

Takes the normal forms that ``Segment._add_entity`` keys when it builds the
index over GeoNames' cities500 (``benchmarks.common``: about 1.23M forms at a
million aliases) and prints, turn about, the seconds (wall and CPU) that each
way takes over all of them, each from emptied word caches as in a fresh
process, and how many forms the two key differently (0 is the only right
answer). With ``--before REF`` each round also times ``form_keys`` of that git
revision (e.g. ``main``, what builds used before) over the same forms, in a
process of its own. For scale, it prints the seconds of the build's other
per-form steps, ``normalize`` and ``case_rule`` of every surface form.
"""

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from app.matching.casing import case_rule
from app.matching.index import EntityRecord
from app.matching.keys import FormKeyMaker, form_keys, phonetic_word, transliterate_word
from app.matching.normalize import normalize
from benchmarks.common import table_and_queries
from benchmarks.scale import Code, checkout

# Run in the folder of the revision measured: form_keys over the forms of a file.
BEFORE = r"""
import json, sys, time
from app.matching.keys import form_keys
normals = json.loads(open(sys.argv[1], encoding="utf-8").read())
wall, cpu = time.perf_counter(), time.process_time()
for normal in normals:
    form_keys(normal)
print(json.dumps([time.perf_counter() - wall, time.process_time() - cpu]))
"""


def build_forms(entities: Iterable[EntityRecord]) -> tuple[list[str], list[str]]:
    """Every surface form, and the distinct normal forms of each entity, as a build keys them."""
    texts, normals = [], []
    for entity in entities:
        seen: set[str] = set()
        for text in entity.surface_forms():
            texts.append(text)
            normal = normalize(text)
            if normal and normal not in seen:
                seen.add(normal)
                normals.append(normal)
    return texts, normals


def seconds(step: Callable[[str], object], inputs: list[str]) -> tuple[float, float]:
    """Seconds, wall and CPU, for ``step`` over ``inputs``, from word caches emptied."""
    transliterate_word.cache_clear()  # type: ignore[attr-defined]  # set by the cache
    phonetic_word.cache_clear()  # type: ignore[attr-defined]
    wall, cpu = time.perf_counter(), time.process_time()
    for value in inputs:
        step(value)
    return time.perf_counter() - wall, time.process_time() - cpu


def seconds_before(code: Code, forms: Path) -> tuple[float, float]:
    output = subprocess.run(
        [sys.executable, "-c", BEFORE, str(forms)],
        cwd=code.folder,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    wall, cpu = json.loads(output.splitlines()[-1])
    return wall, cpu


def shown(label: str, measured: tuple[float, float]) -> str:
    return f"{label} {measured[0]:.1f} s (CPU {measured[1]:.1f} s)"


def differences(normals: list[str]) -> int:
    make = FormKeyMaker().keys
    return sum(make(normal) != form_keys(normal) for normal in normals)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--aliases", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--before", metavar="REF", help="also time form_keys of this git revision")
    args = parser.parse_args()
    entities, _ = table_and_queries(args.aliases)
    texts, normals = build_forms(entities)
    print(f"{len(normals):,} normal forms of {len(entities):,} entities ({len(texts):,} texts)")
    with tempfile.TemporaryDirectory() as folder:
        forms = Path(folder) / "forms.json"
        forms.write_text(json.dumps(normals), encoding="utf-8")
        before = checkout(args.before, Path(folder) / "before") if args.before else None
        for round_ in range(1, args.rounds + 1):
            figures = []
            if before:
                figures.append(shown(f"form_keys at {before.label}", seconds_before(before, forms)))
            figures.append(shown("form_keys", seconds(form_keys, normals)))
            figures.append(shown("FormKeyMaker", seconds(FormKeyMaker().keys, normals)))
            print(f"  round {round_}: " + ", ".join(figures))
    print("  " + shown("normalize", seconds(normalize, texts)))
    print("  " + shown("case_rule", seconds(case_rule, texts)))
    print(f"  forms keyed differently: {differences(normals)}")


if __name__ == "__main__":
    main()
