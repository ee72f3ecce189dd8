"""Memory that the C allocator holds free, given back to the system; a
long-lived index kept out of the garbage collector's rounds."""

import ctypes
import gc

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


def freeze_and_trim() -> None:
    """Take every object alive now (the long-lived index above all) out of the
    cyclic garbage collector's rounds, and give the memory that making it
    freed back to the system. What is frozen is freed by reference counting
    alone: a snapshot and its caches make no cycle (tests/matching/test_caches.py).

    A full collection would walk its millions of objects and stall a request
    for tens of milliseconds; they are freed by reference counting anyway.
    The C allocator keeps what it frees for reuse, the hundreds of MiB of a
    build's temporary arrays among it, unless asked to trim its heap.
    """
    gc.collect()
    gc.freeze()
    give_back_free_memory()
