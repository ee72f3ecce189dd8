"""The engine's normal form and form key of a text, remembered for the latest texts.

An entry of an alias file asks for each of its texts' normal form up to four
times on its way in: validation checks that the text has one and that no two
of the entity's forms are one, the store writes it beside the text, and the
import's sharing check looks it up. The texts of one import batch are met
again within a few thousand others, so a bounded cache makes those one
computation each; the form key is made from the normal form remembered.
"""

from functools import lru_cache

from app.matching import normalize as engine

# Above the texts of one import batch (IMPORT_BATCH entities of a few aliases
# each); at most some megabytes of strings.
REMEMBERED = 1 << 16

normalize = lru_cache(maxsize=REMEMBERED)(engine.normalize)


@lru_cache(maxsize=REMEMBERED)
def form_key(text: str) -> str:
    """``engine.form_key``, from the normal form remembered."""
    return engine.form_key_of_normal(normalize(text))
