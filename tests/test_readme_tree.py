"""The README's "How it works" tree names every module of the package, so that
a newcomer reading it finds each one, and a module added or renamed without it
fails here."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def tree() -> str:
    """The tree's lines for the package, down to the folders beside it."""
    readme = (ROOT / "README.md").read_text()
    block = readme.split("## How it works", 1)[1].split("```", 2)[1]
    return block.split("\nmigrations/", 1)[0]


def test_the_tree_names_every_module_of_the_package() -> None:
    named = set(re.findall(r"\w+\.py", tree()))
    modules = {p.name for p in (ROOT / "app").rglob("*.py") if p.name != "__init__.py"}
    assert modules - named == set()


def test_the_tree_names_no_module_that_is_gone() -> None:
    modules = {p.name for p in (ROOT / "app").rglob("*.py")}
    assert set(re.findall(r"\w+\.py", tree())) - modules == set()
