"""What the commands write to, and the one-line fault they stop with.

A file is written under a temporary name beside it and renamed over it once
everything is written: a run that fails (a full disk, a worker lost, an
interrupt) leaves what was there before, never a half-written file. Standard
output is written in place; a reader that stops early (``| head``) is one
line, not a traceback.
"""

import os
import secrets
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

STANDARD_STREAM = "-"


class CommandFailed(Exception):
    """A fault the command reports on one line, such as a file it cannot read."""


@contextmanager
def written(name: str | None) -> Iterator[IO[bytes]]:
    """Where to write: standard output for None or ``-``, else the file ``name``,
    in place once the block ends without an exception. A fault names it."""
    if name is None or name == STANDARD_STREAM:
        with _standard_output() as output:
            yield output
        return
    try:
        with _replaced(Path(name)) as output:
            yield output
    except OSError as error:
        raise CommandFailed(f"{name}: {error.strerror or error}") from None


@contextmanager
def _standard_output() -> Iterator[IO[bytes]]:
    try:
        yield sys.stdout.buffer
        sys.stdout.buffer.flush()
    except BrokenPipeError:  # e.g. piped to `head`, which stopped reading
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no flush fault at exit
        raise CommandFailed("standard output was closed before the end") from None
    except OSError as error:
        raise CommandFailed(f"standard output: {error.strerror or error}") from None


@contextmanager
def _replaced(path: Path) -> Iterator[IO[bytes]]:
    """A temporary file beside ``path`` (where a rename is atomic), renamed over
    it at the end, or removed when the block raises."""
    if path.exists() and not path.is_file():  # a device, a pipe: nothing to rename over
        with path.open("wb") as output:
            yield output
        return
    target = path.resolve()  # through a symbolic link, as opening it would write
    partial = target.with_name(f".{target.name}.{secrets.token_hex(4)}.partial")
    try:
        with partial.open("xb") as output:
            yield output
        os.replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
