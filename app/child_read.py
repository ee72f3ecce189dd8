"""Read a large alias file in a forked child process while this process stores it.

An import reads each entity (parses and validates it), then stores it: at
400k aliases about 7 s of reading and 11 s of storing, one after the other on
one core. A child process, forked with the file in its memory, reads it on
another core meanwhile, and sends the entities it has validated through a
pipe a batch at a time: as plain tuples, made into models here without
being validated again (``_unpacked``). Pickled models would cost more at
both ends: at 400k aliases the child pickles the tuples in 0.3 s (the
models, 1.6 s), and this process makes them into models in 1.0 s (the
models unpickled, 1.2 s; both with the collector off).

The entities come in the file's order, and a fault in the file raises the
same ``InvalidAliasFile`` after the same entities as reading here would. A
child that cannot be forked, or that fails otherwise, leaves the reading to
this process, from the first entity it did not send.
"""

import gc
import io
import logging
import os
import pickle
import time
from collections.abc import Generator, Iterator
from itertools import islice
from typing import IO, Any, NoReturn, Protocol, TypeVar

from pydantic import BaseModel

from app import child_pipes
from app.errors import InvalidAliasFile
from app.models.api import AliasCreate, EntityCreate, EntityTypeCreate

log = logging.getLogger(__name__)

# Entities sent at once: a few batches fill the pipe, so the child reads that
# far ahead of what is stored and no further.
SENT_AT_ONCE = 500
# A child that sends nothing for this long is stuck (a lock held by another
# thread of the process it was forked from, say): the file is read here.
SILENCE_LIMIT = 120.0

_ENTITY_FIELDS = tuple(EntityCreate.model_fields)
_ALIAS_FIELDS = tuple(AliasCreate.model_fields)
_ALIASES = _ENTITY_FIELDS.index("aliases")
_set = object.__setattr__
M = TypeVar("M", bound=BaseModel)

# An entity's fields and the names of those set; its aliases' the same way.
Packed = tuple[tuple[Any, ...], tuple[str, ...]]


class Reading(Protocol):
    """What reads the file: its declared ``types``, known once read past them."""

    types: list[EntityTypeCreate] | None


def read_in_child(reading: Reading, entities: Iterator[EntityCreate]) -> Iterator[EntityCreate]:
    """``entities``, read by a forked child process as they are consumed here,
    and ``reading.types`` set as the child reads past them."""
    try:
        child, pipe = _forked(reading, entities)
    except (OSError, AttributeError) as error:  # AttributeError: no os.fork here
        log.warning("the alias file is read here, not by a child process: %s", error)
        yield from entities
        return
    given = 0
    messages = _messages(child, pipe)
    try:
        for kind, content in messages:
            if kind == "types":
                reading.types = content
            elif kind == "entities":
                for packed in content:
                    yield _unpacked(packed)
                    given += 1
            elif kind == "fault":
                raise content
            else:  # "done"
                return
    finally:
        messages.close()
        child_pipes.stop_group(child)
    log.warning("the alias file's child process failed after %d entities: reading on here", given)
    yield from islice(entities, given, None)


def _messages(child: int, pipe: int) -> Generator[tuple[str, Any], None, None]:
    """What the child sends, message after message, until it ends, falls
    silent for ``SILENCE_LIMIT`` seconds, or sends what cannot be read."""
    source = child_pipes.PipeReader(pipe, child, time.monotonic() + SILENCE_LIMIT)
    try:
        stream = io.BufferedReader(source, child_pipes.PIPE_BYTES)
        while True:
            source.deadline = time.monotonic() + SILENCE_LIMIT
            try:
                yield pickle.load(stream)
            except (EOFError, pickle.UnpicklingError, TimeoutError):
                return
    finally:
        os.close(pipe)


def _forked(reading: Reading, entities: Iterator[EntityCreate]) -> tuple[int, int]:
    """The child process that reads ``entities``, and the pipe to read from it."""
    receiving, sending = os.pipe()
    parent = os.getpid()
    try:
        child = os.fork()
    except OSError:
        os.close(receiving)
        os.close(sending)
        raise
    if child == 0:  # pragma: no cover (the child's coverage is not collected)
        os.close(receiving)
        _run_child(reading, entities, sending, parent)
    os.close(sending)
    return child, receiving


def _run_child(
    reading: Reading, entities: Iterator[EntityCreate], pipe: int, parent: int
) -> NoReturn:  # pragma: no cover
    status = 1
    try:
        # An importing process killed outright leaves no reading of its file
        # going on (a closed pipe alone would not stop it: what it sends is
        # dropped, and it reads on to the end).
        child_pipes.stop_when_orphaned(parent)
        # The objects of the process it was forked from stay out of the
        # collector's rounds: they are not this child's garbage.
        gc.freeze()
        with io.BufferedWriter(child_pipes.PipeWriter(pipe), child_pipes.PIPE_BYTES) as stream:
            _Sender(reading, stream).send_all(entities)
        status = 0
    finally:
        os._exit(status)


class _Sender:  # pragma: no cover
    """Sends each batch of entities as read, the types once known, and how the
    reading ended: ``done``, or the fault in the file."""

    def __init__(self, reading: Reading, stream: IO[bytes]) -> None:
        self._reading, self._stream = reading, stream
        self._batch: list[Packed] = []
        self._types: list[EntityTypeCreate] | None = None

    def send_all(self, entities: Iterator[EntityCreate]) -> None:
        try:
            for entity in entities:
                self._batch.append(_packed(entity))
                if len(self._batch) == SENT_AT_ONCE:
                    self._send_read()
        except InvalidAliasFile as fault:
            self._send_read()
            self._send("fault", fault)
            return
        self._send_read()
        self._send("done", None)

    def _send_read(self) -> None:
        """The types if newly read, then the entities read since the last batch."""
        if self._reading.types is not self._types:
            self._types = self._reading.types
            self._send("types", self._types)
        if self._batch:
            self._send("entities", self._batch)
            self._batch = []

    def _send(self, kind: str, content: Any) -> None:
        pickle.dump((kind, content), self._stream, pickle.HIGHEST_PROTOCOL)
        self._stream.flush()  # to be read now, not once the buffer is full


def _packed(entity: EntityCreate) -> Packed:  # pragma: no cover
    values = list(entity.__dict__.values())
    values[_ALIASES] = [
        (tuple(alias.__dict__.values()), tuple(alias.model_fields_set)) for alias in entity.aliases
    ]
    return tuple(values), tuple(entity.model_fields_set)


def _unpacked(packed: Packed) -> EntityCreate:
    """The entity packed, as validating it again would make it."""
    values, fields_set = packed
    fields = dict(zip(_ENTITY_FIELDS, values, strict=True))
    fields["aliases"] = [
        _model(AliasCreate, dict(zip(_ALIAS_FIELDS, alias, strict=True)), alias_set)
        for alias, alias_set in fields["aliases"]
    ]
    return _model(EntityCreate, fields, fields_set)


def _model(cls: type[M], fields: dict[str, Any], fields_set: tuple[str, ...]) -> M:
    """A model of fields already validated: what ``model_construct`` makes, at
    less than half its cost (it would look for defaults and extra fields)."""
    model = object.__new__(cls)
    _set(model, "__dict__", fields)
    _set(model, "__pydantic_fields_set__", set(fields_set))
    _set(model, "__pydantic_extra__", None)
    _set(model, "__pydantic_private__", None)
    return model
