"""What the commands write to, and the one-line fault they stop with.

A file is written under a temporary name beside it and renamed over it once
everything is written: a run that fails (a full disk, a worker lost, an
interrupt) leaves what was there before, never a half-written file. Standard
output is written in place; a reader that stops early (``| head``) is one
line, not a traceback.
"""

import os
import secrets
import stat
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

STANDARD_STREAM = "-"


class CommandFailed(Exception):
    """A fault the command reports on one line, such as a file it cannot read."""


class Output:
    """Where a command writes; a fault in writing names the file (or standard
    output) rather than surfacing as the command's own error."""

    def __init__(self, stream: IO[bytes], name: str) -> None:
        self._stream = stream
        self._name = name

    def write(self, data: bytes) -> None:
        try:
            self._stream.write(data)
        except BrokenPipeError:
            raise  # standard output's reader stopped: _standard_output says so
        except OSError as error:
            raise CommandFailed(f"{self._name}: {error.strerror or error}") from None


@contextmanager
def written(name: str | None) -> Iterator[Output]:
    """Where to write: standard output for None or ``-``, else the file ``name``,
    in place once the block ends without an exception. A fault in opening,
    writing or renaming names it; other faults of the block pass as they are."""
    if name is None or name == STANDARD_STREAM:
        with _standard_output() as output:
            yield Output(output, "standard output")
        return
    with _replaced(Path(name), name) as output:
        yield Output(output, name)


@contextmanager
def _standard_output() -> Iterator[IO[bytes]]:
    try:
        yield sys.stdout.buffer
        try:
            sys.stdout.buffer.flush()
        except BrokenPipeError:
            raise
        except OSError as error:
            raise CommandFailed(f"standard output: {error.strerror or error}") from None
    except BrokenPipeError:  # e.g. piped to `head`, which stopped reading
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no flush fault at exit
        raise CommandFailed("standard output was closed before the end") from None


@contextmanager
def _replaced(path: Path, name: str) -> Iterator[IO[bytes]]:
    """A temporary file beside ``path`` (where a rename is atomic), renamed over
    it at the end with the mode of the file it replaces, or removed when the
    block raises."""
    try:
        if path.exists() and not path.is_file():  # a device, a pipe: nothing to rename over
            stream = path.open("wb")
            partial = None
        else:
            target = path.resolve()  # through a symbolic link, as opening it would write
            partial = target.with_name(f".{target.name}.{secrets.token_hex(4)}.partial")
            stream = partial.open("xb")
    except OSError as error:
        raise CommandFailed(f"{name}: {error.strerror or error}") from None
    try:
        with stream:
            yield stream
        if partial is not None:
            try:
                if target.exists():
                    os.chmod(partial, stat.S_IMODE(target.stat().st_mode))
                os.replace(partial, target)
            except OSError as error:
                raise CommandFailed(f"{name}: {error.strerror or error}") from None
    except BaseException:
        if partial is not None:
            partial.unlink(missing_ok=True)
        raise
