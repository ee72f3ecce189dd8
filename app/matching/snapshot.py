"""A built segment kept in a file, so that a restart need not build it again.

Building the index of a large table takes most of a start-up; reading a
segment back takes a fraction of that. The file holds one header line (JSON)
and the pickled segment after it. The header names the file format, the
engine's code (a digest of this package's sources and the versions of the
libraries that build keys) and the table the segment was built from: a
``table`` string that only the caller interprets (its database and revision).
A file of another format or engine, cut short, or whose bytes do not add up
to its checksum is never used; whether its table is still the table is the
caller's to check before it serves.

The file is trusted as the database is: it is unpickled, so it must be
writable by the service alone.
"""

import gc
import hashlib
import json
import os
import pickle
import stat
import sys
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import IO, Any

from app.matching.index import Segment

FORMAT = 1
_KEY_LIBRARIES = ("anyascii", "jellyfish", "numpy", "pyahocorasick", "rapidfuzz", "xxhash")


def engine_version() -> str:
    """What a segment's contents depend on besides its table: this engine's code
    and the libraries that compute its keys."""
    digest = hashlib.sha256(sys.version.encode())
    for source in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(source.read_bytes())
    for library in _KEY_LIBRARIES:
        digest.update(f"{library} {metadata.version(library)}".encode())
    return digest.hexdigest()[:32]


@dataclass(frozen=True)
class Header:
    table: str
    length: int
    checksum: int


def write_snapshot(path: Path, segment: Segment, table: str) -> None:
    """Keep ``segment``, built from ``table``, in ``path`` (replaced whole, never half-written)."""
    keep_snapshot(path, pickled(segment), table)


def pickled(segment: Segment) -> bytes:
    """The segment as a snapshot holds it after its header."""
    return pickle.dumps(segment, protocol=pickle.HIGHEST_PROTOCOL)


def pickled_to(stream: IO[bytes], segment: Segment) -> None:
    """Write the segment to ``stream`` as ``pickled`` gives it, as it is pickled."""
    pickle.dump(segment, stream, protocol=pickle.HIGHEST_PROTOCOL)


def not_a_place_for_snapshots(path: Path) -> str | None:
    """Why ``path`` may neither give nor hold a snapshot; None when it may:
    absent, empty, or a snapshot already (of any format or engine).

    Anything else there is not the service's to replace: a database or an
    alias file named by mistake, a link, a device, a pipe (which a read would
    wait on forever)."""
    try:
        status = path.lstat()
    except FileNotFoundError:
        return None
    except OSError as error:
        return f"out of reach ({error.strerror})"
    if not stat.S_ISREG(status.st_mode):
        return "not a regular file"
    if status.st_size == 0:
        return None
    try:
        with path.open("rb") as file:
            fields = _header_fields(file)
    except OSError as error:
        return f"not readable ({error.strerror})"
    return None if fields is not None else "a file that holds something else than an index snapshot"


def keep_snapshot(path: Path, payload: bytes, table: str) -> None:
    """Keep a segment ``pickled``, built from ``table``, in ``path`` (replaced
    whole, never half-written); ValueError if ``path`` holds anything but a
    snapshot (``not_a_place_for_snapshots``)."""
    refusal = not_a_place_for_snapshots(path)
    if refusal is not None:
        raise ValueError(f"{path} is {refusal}: not replaced")
    header = {
        "format": FORMAT,
        "engine": engine_version(),
        "table": table,
        "length": len(payload),
        "checksum": zlib.crc32(payload),
    }
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        with partial.open("wb") as file:
            file.write(json.dumps(header).encode() + b"\n")
            file.write(payload)
            file.flush()
            os.fsync(file.fileno())
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


def snapshot_table(path: Path) -> str | None:
    """The table a usable snapshot in ``path`` was built from; None when there is
    none, or it is of another format or engine."""
    try:
        with path.open("rb") as file:
            header = _header(file)
    except OSError:
        return None
    return None if header is None else header.table


def read_snapshot(path: Path, table: str) -> Segment | None:
    """The segment kept in ``path`` if it was built from ``table`` and is whole."""
    try:
        with path.open("rb") as file:
            header = _header(file)
            if header is None or header.table != table:
                return None
            return _unpickled(_Summed(file, header.length), header.checksum)
    except OSError:
        return None


def unpickled(stream: IO[bytes]) -> Segment | None:
    """The segment ``pickled`` read from ``stream`` (sent by the process that
    built it, which runs this engine: no header to check), if it unpickles whole."""
    return _loaded(lambda: pickle.load(stream))


def _unpickled(file: "_Summed", checksum: int) -> Segment | None:
    segment = _loaded(lambda: pickle.load(file))
    if segment is None or file.left or file.read(1) or file.checksum != checksum:
        return None
    return segment


def _loaded(unpickle: Callable[[], object]) -> Segment | None:
    """What ``unpickle`` gives, if a segment."""
    # Millions of objects come back at once: the cyclic collector would walk
    # them again and again on the way, for nothing (none is garbage).
    collecting = gc.isenabled()
    gc.disable()
    try:
        segment = unpickle()
    except Exception:  # a file of this engine that unpickles wrong is only unusable
        return None
    finally:
        if collecting:
            gc.enable()
    return segment if isinstance(segment, Segment) else None


class _Summed:
    """The next ``length`` bytes of a file, summed as they are read: the pickle
    streams from the file, never held whole beside what it becomes."""

    def __init__(self, file: IO[bytes], length: int) -> None:
        self._file = file
        self.left = length
        self.checksum = 0

    def read(self, size: int = -1) -> bytes:
        return self._summed(self._file.read(self._within(size)))

    def readline(self, size: int = -1) -> bytes:
        return self._summed(self._file.readline(self._within(size)))

    def readinto(self, buffer: bytearray | memoryview) -> int:
        view = memoryview(buffer)[: self._within(len(buffer))]
        count = int(self._file.readinto(view))  # type: ignore[attr-defined]
        self._sum(view[:count])
        return count

    def _within(self, size: int) -> int:
        return self.left if size < 0 else min(size, self.left)

    def _summed(self, data: bytes) -> bytes:
        self._sum(data)
        return data

    def _sum(self, data: bytes | memoryview) -> None:
        self.checksum = zlib.crc32(data, self.checksum)
        self.left -= len(data)


def _header(file: IO[bytes]) -> Header | None:
    """The header of a snapshot of this format and engine; None for any other file."""
    fields = _header_fields(file)
    if fields is None or fields["format"] != FORMAT or fields["engine"] != engine_version():
        return None
    try:
        return Header(str(fields["table"]), int(fields["length"]), int(fields["checksum"]))
    except (ValueError, TypeError, KeyError):
        return None


def _header_fields(file: IO[bytes]) -> dict[str, Any] | None:
    """The first line's fields, if they are a snapshot's header (of any format or engine)."""
    try:
        fields = json.loads(file.readline(4096))
    except ValueError:
        return None
    if isinstance(fields, dict) and {"format", "engine", "table"} <= fields.keys():
        return fields
    return None
