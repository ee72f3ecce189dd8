"""Where the files that travel with the package are.

A wheel carries the migrations and the shipped table inside ``app/``; a
source checkout (or an editable install) keeps them at the repository's top.
"""

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def _packaged_or_checkout(name: str) -> Path:
    inside = _PACKAGE / name
    return inside if inside.exists() else _PACKAGE.parent / name


MIGRATIONS_DIR = _packaged_or_checkout("migrations")
SHIPPED_ALIASES_FILE = _packaged_or_checkout("aliases.yaml")
