"""Memory that the C allocator holds free, given back to the system."""

import ctypes

# glibc's; other C libraries have none, and give freed memory back as they do.
_malloc_trim = getattr(ctypes.CDLL(None), "malloc_trim", None)


def give_back_free_memory() -> None:
    """Trim the C allocator's heaps: what it frees it otherwise keeps for reuse.

    After a large write (an import's page cache and batches, about 70 MiB
    at 400k aliases) this lowers what the process holds while the index is
    rebuilt beside it. It takes tens of milliseconds on a large heap, so it
    follows large edits only.
    """
    if _malloc_trim is not None:
        _malloc_trim(0)
