"""Annotate whole archives: JSON Lines in, each record with its mentions out.

``alias-service annotate INPUT -o OUTPUT`` reads one JSON object a line
(gzipped or not), annotates each record's text exactly as ``POST /annotate``
does (the same engine call and the same shaping), and writes the record as
its line wrote it with a ``mentions`` field added, in input order.

The index snapshot is loaded once, in the parent process; the worker
processes are forked after it (a ProcessPoolExecutor in multiprocessing's
"fork" context, started before any thread) and share its memory
copy-on-write, as ``serve --workers`` does. The parent reads the input in
chunks of lines, the workers parse and annotate them (and gzip them, for a
.gz output), and the parent writes their records in order. Only a few chunks
per worker are in flight at a time, so an archive of any size streams
through in bounded memory; a worker that dies stops the run.

A line that holds no record to annotate is reported with its line number and
skipped; the rest is annotated. Past one machine, the same :class:`Annotator`
is sent once to each worker of a Dask cluster (``annotate_partition``).
"""

import argparse
import gc
import gzip
import json
import logging
import multiprocessing
import os
import sys
import time
import zlib
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import IO, Any, NamedTuple

import orjson
from tqdm import tqdm

from app import child_pipes
from app.annotating import check_text_length
from app.api.answers import JsonObject, annotation_public, json_bytes
from app.command_files import STANDARD_STREAM, CommandFailed, Output, written
from app.db import make_engine, require_existing_database
from app.declared_types import check_filters
from app.errors import DomainError
from app.live_index import LiveIndex
from app.matching.annotate import annotation
from app.matching.index import AliasIndex
from app.matching.resolve import Thresholds
from app.matching.worker_pools import stop_signals_held
from app.models.api import AnnotateRequest
from app.progress import progress_bar
from app.settings import Settings

log = logging.getLogger(__name__)

GZIP_MAGIC = b"\x1f\x8b"
GZIP_LEVEL = 6  # gzip's own default: 9 costs several times the time for a few per cent
UTF8_BOM = b"\xef\xbb\xbf"
# What one chunk of work holds: enough to make a trip to a worker worth it.
CHUNK_LINES = 64
CHUNK_BYTES = 1 << 20
CHUNKS_IN_FLIGHT_PER_WORKER = 4
# A line longer than this is skipped unread: far more than a record of the
# longest text a request may annotate, escapes and other fields included.
MAX_LINE_BYTES = 32 << 20
MAX_REPORTED_LINES = 20
DEFAULT_LIMIT: int = AnnotateRequest.model_fields["limit"].default

# Exit statuses besides 0 (every record annotated) and argparse's 2.
EXIT_STOPPED = 1  # the input could not be read to its end, or the run could not start
EXIT_SKIPPED = 3  # the input was read to its end, and some lines were skipped


class BrokenRecord(Exception):
    """A line that holds no record to annotate; the message says why."""


class Outcome(NamedTuple):
    """What became of one line: its annotated record, or why it was skipped."""

    line: int
    output: bytes | None
    problem: str | None = None
    mentions: int = 0


@dataclass(frozen=True)
class Annotator:
    """An index snapshot and how to annotate with it: what the archive command's
    worker processes share, and what a Dask cluster's workers are sent once."""

    index: AliasIndex
    thresholds: Thresholds
    text_field: str = "text"
    types: tuple[str, ...] | None = None
    limit: int = DEFAULT_LIMIT

    def record(self, line: bytes | str) -> tuple[bytes, int]:
        """The line's record with its ``mentions``, as JSON, and how many there are.

        Raises ``BrokenRecord`` for a line that is not a JSON object with a
        string text of at most the length a request may annotate.
        """
        line = _without_bom(line)
        record, as_written = _parsed(line)
        text = record.get(self.text_field)
        if not isinstance(text, str):
            missing = self.text_field not in record
            raise BrokenRecord(
                f"no {self.text_field!r} field"
                if missing
                else f"the {self.text_field!r} field is not a string"
            )
        try:
            check_text_length(text)
        except DomainError as error:
            raise BrokenRecord(error.detail) from None
        found = annotation(self.index, text, types=self.types, thresholds=self.thresholds)
        mentions = annotation_public(found, self.limit, self.index.caches)["mentions"]
        rewrite = "mentions" in record or not as_written
        return _with_mentions(line, rewrite, mentions), len(found.mentions)

    def outcomes(self, lines: Iterable[tuple[int, bytes | str | None]]) -> list[Outcome]:
        """Each numbered line annotated or, with the reason, skipped; ``None``
        stands for a line too long to be read."""
        done = []
        for number, line in lines:
            try:
                if line is None:
                    raise BrokenRecord(f"the line is longer than {MAX_LINE_BYTES:,} bytes")
                output, mentions = self.record(line)
                done.append(Outcome(number, output, mentions=mentions))
            except BrokenRecord as problem:
                done.append(Outcome(number, None, str(problem)))
            except Exception as error:  # one record's failure never stops an archive
                log.exception("line %d could not be annotated", number)
                done.append(Outcome(number, None, f"could not be annotated ({error!r})"))
        return done

    def __reduce__(self) -> tuple[Any, ...]:
        # The snapshot is sent without its caches (``SnapshotCaches.__reduce__``).
        return (Annotator, (self.index, self.thresholds, self.text_field, self.types, self.limit))


def load_annotator(
    settings: Settings | None = None,
    *,
    text_field: str = "text",
    types: Iterable[str] | None = None,
    limit: int = DEFAULT_LIMIT,
) -> Annotator:
    """An annotator over the service's table, loaded once: from its database
    (``DATABASE_URL``), or read back from ``INDEX_SNAPSHOT`` when that file
    holds the database's current table; thresholds as the service's settings
    say. An unknown type is refused here, as ``POST /annotate`` refuses it."""
    settings = settings or Settings()
    require_existing_database(
        settings.database_url, remedy="set DATABASE_URL to the service's database"
    )
    engine = make_engine(settings.database_url)
    try:
        # Read back from the snapshot file, never written from here: writing
        # forks a child, and a Dask client has threads running by now.
        live = LiveIndex(engine, snapshot_file=settings.index_snapshot, keep_snapshot=False)
        live.load()
    finally:
        engine.dispose()
    chosen = tuple(types) if types else None
    check_filters(live.snapshot.known_types(), chosen)
    return Annotator(live.snapshot, settings.thresholds(), text_field, chosen, limit)


class Skipped(NamedTuple):
    """A line of a Dask partition that holds no record to annotate; as text,
    ``FILE:LINE: skipped: why``, as the archive command reports it."""

    path: str | None
    line: int
    problem: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.path else f"line {self.line} of a partition"
        return f"{where}: skipped: {self.problem}"


def annotate_partition(
    lines: Iterable[bytes | str | tuple[str, str]], annotator: Annotator
) -> list[str | Skipped]:
    """The lines of one partition of a Dask bag (``dask.bag.read_text``), each
    with its mentions as JSON text, and a :class:`Skipped` for each line that
    holds no record (``write_annotated`` writes the one and gives back the other).

    With ``read_text(..., include_path=True)`` a ``Skipped`` names its file.
    Lines are counted from the partition's start: the file's, when the file
    is one partition (``read_text``'s default, and always for a gzip).
    """
    texts: list[bytes | str] = []
    paths: list[str | None] = []
    for line in lines:
        text, path = line if isinstance(line, tuple) else (line, None)
        texts.append(text)
        paths.append(path)
    return [
        outcome.output.decode()
        if outcome.output is not None
        else Skipped(paths[outcome.line - 1], outcome.line, outcome.problem or "")
        for outcome in annotator.outcomes(_numbered_records(texts))
    ]


def write_annotated(results: Any, path: str) -> list[Skipped]:
    """Write the annotated records of a bag of ``annotate_partition`` results as
    JSON Lines, a file a partition (the ``*`` that ``path`` must have numbers
    them; a name in .gz gzips them), and give back its skipped lines, all in
    one computation.

    Each partition is annotated once: ``to_textfiles`` beside a second
    computation of the same bag would annotate it twice, as each optimises
    its own graph (fusing the annotating into its own tasks).
    """
    import dask
    from fsspec import open_files

    if "*" not in path:
        raise ValueError(f"{path!r} has no '*' for the number of each partition's file")
    partitions = results.to_delayed(optimize_graph=False)
    files = open_files(path, mode="wb", compression="infer", num=len(partitions))
    writes = [
        dask.delayed(_written)(partition, file)
        for partition, file in zip(partitions, files, strict=True)
    ]
    return [line for skipped in dask.compute(*writes) for line in skipped]


def _written(results: list[str | Skipped], file: Any) -> list[Skipped]:
    """One partition's records written to its file; its skipped lines."""
    with file as output:
        for result in results:
            if isinstance(result, str):
                output.write(result.encode() + b"\n")
    return [result for result in results if isinstance(result, Skipped)]


def _numbered_records(lines: Iterable[bytes | str]) -> Iterator[tuple[int, bytes | str]]:
    return ((number, line) for number, line in enumerate(lines, start=1) if line.strip())


def _without_bom(line: bytes | str) -> bytes | str:
    """The line without a byte order mark at its start (a file's first line may have one)."""
    if isinstance(line, str):
        return line.removeprefix("\ufeff")
    return line.removeprefix(b"\xef\xbb\xbf")


def _parsed(line: bytes | str) -> tuple[JsonObject, bool]:
    """The line's record, and whether the line may be written again as it is:
    not when it is no UTF-8 (surrogates encoded in its bytes, which only the
    standard parser reads). The standard parser also reads what orjson
    refuses and JSON allows (escaped lone surrogates, numbers past a double);
    NaN is refused by both."""
    try:
        return _object(orjson.loads(line)), True
    except orjson.JSONDecodeError as error:
        try:
            record = json.loads(line, parse_constant=_no_constant)
        except ValueError:
            raise BrokenRecord(f"not JSON: {error}") from None
    return _object(record), _is_utf8(line)


def _is_utf8(line: bytes | str) -> bool:
    try:
        line.decode() if isinstance(line, bytes) else line.encode()
    except UnicodeError:
        return False
    return True


def _object(record: Any) -> JsonObject:
    if not isinstance(record, dict):
        raise BrokenRecord(f"not a JSON object but {_JSON_KINDS.get(type(record), 'a value')}")
    return record


def _with_mentions(line: bytes | str, rewrite: bool, mentions: list[JsonObject]) -> bytes:
    """The record as the line wrote it, with ``"mentions":[...]`` added before
    its closing brace: its other fields pass through byte for byte (parsed and
    written again, an integer past 64 bits or 1e400 would change). With
    ``rewrite`` (a ``mentions`` field of its own, or text that is not to be
    copied as it is) the record is written anew without ``mentions``, each
    number as the line wrote it, strings escaped to ASCII."""
    raw = line.encode("utf-8", "surrogatepass") if isinstance(line, str) else line
    if rewrite:
        raw = _exact_json(_without_mentions(raw)).encode()
    opened = raw.strip()[:-1]  # a JSON object's text ends with its closing brace
    separator = b"," if opened.rstrip() != b"{" else b""
    return opened + separator + b'"mentions":' + json_bytes(mentions) + b"}"


class _NumberText(str):
    """A number as the line wrote it."""


def _without_mentions(line: bytes) -> JsonObject:
    record: JsonObject = json.loads(
        line, parse_int=_NumberText, parse_float=_NumberText, parse_constant=_no_constant
    )
    record.pop("mentions", None)
    return record


def _exact_json(value: Any) -> str:
    """Compact JSON with each number as it was read, strings escaped to ASCII."""
    if isinstance(value, _NumberText):
        return str.__str__(value)
    if isinstance(value, dict):
        fields = (f"{json.dumps(key)}:{_exact_json(item)}" for key, item in value.items())
        return "{" + ",".join(fields) + "}"
    if isinstance(value, list):
        return "[" + ",".join(_exact_json(item) for item in value) + "]"
    return json.dumps(value)  # a string, true, false or null


_JSON_KINDS: dict[type, str] = {
    list: "an array",
    str: "a string",
    int: "a number",
    float: "a number",
    bool: "true or false",
    type(None): "null",
}


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


# The command line.


def run(args: argparse.Namespace, settings: Settings) -> int:
    """``alias-service annotate``: the archive annotated; an exit status as the README says."""
    _refuse_to_write_over_the_input(args.input, args.output)
    with ExitStack() as stack:
        try:
            source = stack.enter_context(_Input.open(args.input))
        except OSError as error:
            return _stopped(f"{args.input}: {error.strerror or error}")
        annotator = load_annotator(settings, text_field=args.text_field, types=args.types)
        output = stack.enter_context(written(args.output))
        return _annotate(
            source,
            output,
            annotator,
            workers=args.workers,
            gzipped=args.output.endswith(".gz"),
            progress=args.progress,
        )
    return EXIT_STOPPED  # pragma: no cover (the stack does not swallow exceptions)


def _refuse_to_write_over_the_input(input_name: str, output_name: str) -> None:
    if STANDARD_STREAM in (input_name, output_name) or not os.path.exists(output_name):
        return
    try:
        same = os.path.samefile(input_name, output_name)
    except OSError:  # the input cannot be read: said when it is opened
        return
    if same:
        raise CommandFailed(f"{output_name}: is the input; write the annotated records elsewhere")


def _annotate(
    source: "_Input",
    output: Output,
    annotator: Annotator,
    *,
    workers: int,
    gzipped: bool,
    progress: bool | None,
) -> int:
    started = time.perf_counter()
    tally = _Tally(source.name)
    wrote = False
    # The workers are forked before the bar starts its thread.
    with (
        _annotating(annotator, workers, gzipped) as in_order,
        progress_bar(
            description="annotated", unit="B", shown=progress, total=source.size, unit_scale=True
        ) as bar,
    ):
        for position, done in in_order(source.chunks()):
            output.write(done.output)
            wrote = wrote or bool(done.output)
            tally.add(done)
            bar.update(position - bar.n)
            bar.set_postfix(records=tally.annotated, refresh=False)
    if gzipped and not wrote:  # no record: still a gzip file, of nothing
        output.write(gzip.compress(b"", GZIP_LEVEL, mtime=0))
    tally.finish(time.perf_counter() - started, workers)
    if source.problem is not None:
        return _stopped(source.problem)
    return EXIT_SKIPPED if tally.skipped else 0


InOrder = Callable[[Iterator["_Chunk"]], Iterator[tuple[int, "_Done"]]]


@contextmanager
def _annotating(annotator: Annotator, workers: int, gzipped: bool) -> Iterator[InOrder]:
    """What annotates chunks and gives back each one's input position and
    what became of it, in input order: this process, or ``workers`` processes
    forked now, sharing the annotator loaded before."""
    if workers == 1:
        yield lambda chunks: (
            (chunk.position, _done(annotator.outcomes(chunk.lines), gzipped)) for chunk in chunks
        )
        return
    global _shared
    _shared = annotator
    # Objects that exist now are shared with every worker: keep the cyclic
    # collector from writing to their pages in each one.
    gc.collect()
    gc.freeze()
    pool = ProcessPoolExecutor(
        workers,
        mp_context=multiprocessing.get_context("fork"),
        # A command killed outright leaves no worker annotating for nobody.
        initializer=child_pipes.stop_when_orphaned,
        initargs=(os.getpid(),),
    )
    try:
        with stop_signals_held():  # the pool started whole, or its shutdown could not stop it
            first = pool.submit(os.getpid)  # every worker forked here, before any thread
        first.result()
        yield lambda chunks: _in_order(pool, chunks, workers, gzipped)
    finally:
        with stop_signals_held():
            pool.shutdown(cancel_futures=True)


def _in_order(
    pool: ProcessPoolExecutor, chunks: Iterator["_Chunk"], workers: int, gzipped: bool
) -> Iterator[tuple[int, "_Done"]]:
    """Only a few chunks a worker in flight at a time, so that the input is not
    read ahead into memory; a worker that dies stops the run."""
    pending: deque[tuple[int, Future[_Done]]] = deque()
    try:
        for chunk in chunks:
            with stop_signals_held():  # the pool's books kept whole for its shutdown
                pending.append((chunk.position, pool.submit(_shared_chunk, chunk.lines, gzipped)))
            if len(pending) >= workers * CHUNKS_IN_FLIGHT_PER_WORKER:
                position, result = pending.popleft()
                yield position, result.result()
        while pending:
            position, result = pending.popleft()
            yield position, result.result()
    except BrokenProcessPool:
        raise CommandFailed(
            "a worker process stopped unexpectedly (killed, or out of memory): "
            "the run is abandoned (an output file is not written; standard output is incomplete)"
        ) from None


# The annotator the workers inherit when they are forked.
_shared: Annotator | None = None


def _shared_chunk(lines: list[tuple[int, bytes | None]], gzipped: bool) -> "_Done":
    assert _shared is not None, "set before the workers are forked"
    return _done(_shared.outcomes(lines), gzipped)


class _Done(NamedTuple):
    """A chunk's annotated records as one block of JSON Lines (one object to
    send back and write, not one per record), and the lines it skipped."""

    output: bytes
    annotated: int
    mentions: int
    skipped: list[tuple[int, str | None]]


def _done(outcomes: list[Outcome], gzipped: bool) -> _Done:
    """The chunk's block of records; with ``gzipped``, a gzip member of its own
    (gzip members one after another are one gzip file), so that compressing is
    the workers' work, not the parent's."""
    records = [outcome.output for outcome in outcomes if outcome.output is not None]
    block = b"\n".join(records) + b"\n" if records else b""
    return _Done(
        output=gzip.compress(block, GZIP_LEVEL, mtime=0) if gzipped and block else block,
        annotated=len(records),
        mentions=sum(outcome.mentions for outcome in outcomes),
        skipped=[(o.line, o.problem) for o in outcomes if o.output is None],
    )


class _Chunk(NamedTuple):
    lines: list[tuple[int, bytes | None]]
    position: int  # how far the input was read when it was complete


class _Input:
    """A JSON Lines source, gzipped or not, read in chunks of numbered lines.
    Reading stops at data that cannot be read, and ``problem`` says why."""

    def __init__(self, name: str, raw: IO[bytes], size: int | None) -> None:
        self.name = name
        self.size = size
        self.problem: str | None = None
        self._raw = raw
        self._read = 0
        gzipped = name.endswith(".gz") or raw.peek(2)[:2] == GZIP_MAGIC  # type: ignore[attr-defined]
        self._stream: IO[bytes] = gzip.GzipFile(fileobj=raw) if gzipped else raw  # type: ignore[assignment]

    @classmethod
    def open(cls, name: str) -> "_Input":
        if name == "-":
            return cls("<stdin>", sys.stdin.buffer, None)
        raw = open(name, "rb")  # noqa: SIM115 (closed by __exit__)
        return cls(name, raw, os.fstat(raw.fileno()).st_size)

    def __enter__(self) -> "_Input":
        return self

    def __exit__(self, *_exc: object) -> None:
        if self._raw is not sys.stdin.buffer:
            self._raw.close()

    def chunks(self) -> Iterator[_Chunk]:
        lines: list[tuple[int, bytes | None]] = []
        size = 0
        for number, line in self._lines():
            lines.append((number, line))
            size += len(line) if line is not None else MAX_LINE_BYTES
            if len(lines) >= CHUNK_LINES or size >= CHUNK_BYTES:
                yield _Chunk(lines, self._position())
                lines, size = [], 0
        if lines:
            yield _Chunk(lines, self._position())

    def _lines(self) -> Iterator[tuple[int, bytes | None]]:
        """Numbered lines that are not blank; ``None`` for one too long to read."""
        number = 0
        try:
            while line := self._stream.readline(MAX_LINE_BYTES):
                number += 1
                self._read += len(line)
                if number == 1:
                    line = line.removeprefix(UTF8_BOM)
                if len(line) == MAX_LINE_BYTES and not line.endswith(b"\n"):
                    self._skip_rest_of_line()
                    yield number, None
                elif line.strip():
                    yield number, line
        except EOFError:
            self.problem = (
                f"{self.name}: the gzip data ends early, after line {number}: the file is "
                "truncated (the records before that point were written)"
            )
        except (OSError, zlib.error) as error:
            self.problem = f"{self.name}: cannot be read after line {number}: {error}"

    def _skip_rest_of_line(self) -> None:
        while (part := self._stream.readline(MAX_LINE_BYTES)) and not part.endswith(b"\n"):
            self._read += len(part)

    def _position(self) -> int:
        """How far the input was read: in the file (compressed) when it has a size."""
        return self._raw.tell() if self.size is not None else self._read


class _Tally:
    """Counts what was annotated and skipped; reports the first skipped lines."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.annotated = 0
        self.mentions = 0
        self.skipped = 0

    def add(self, done: _Done) -> None:
        self.annotated += done.annotated
        self.mentions += done.mentions
        for line, problem in done.skipped:
            self.skipped += 1
            if self.skipped <= MAX_REPORTED_LINES:
                _say(f"{self.name}:{line}: skipped: {problem}")

    def finish(self, seconds: float, workers: int) -> None:
        if self.skipped > MAX_REPORTED_LINES:
            _say(f"{self.name}: {self.skipped - MAX_REPORTED_LINES:,} more lines skipped")
        rate = self.annotated / seconds if seconds > 0 else 0.0
        _say(
            f"{self.name}: {self.annotated:,} records annotated ({self.mentions:,} mentions), "
            f"{self.skipped:,} lines skipped, in {seconds:.1f} s ({rate:,.0f} records/s, "
            f"{workers} worker{'s' if workers > 1 else ''})"
        )


def _say(line: str) -> None:
    tqdm.write(f"alias-service: {line}", file=sys.stderr)


def _stopped(line: str) -> int:
    _say(line)
    return EXIT_STOPPED
