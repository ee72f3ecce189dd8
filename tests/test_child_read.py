import json
import logging
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app import child_pipes, child_read
from app.aliasfile import read_alias_file
from app.errors import InvalidAliasFile
from app.models.api import EntityCreate
from tests.processes import ended_within, orphaned_child

TYPES = (
    "types:\n  - {id: city, description: Towns.}\n  - {id: organization, description: Groups.}\n"
)


def yaml_file(entities: int) -> str:
    """A file of every kind of field, its types declared after its entities."""
    lines = ["entities:\n"]
    for n in range(entities):
        lines.append(f"  - {{id: e{n}, name: Entity {n}, type: city}}\n")
        lines.append(
            f"  - id: g{n}\n    name: Group {n}\n    type: organization\n"
            f"    description: Group number {n}.\n    prominence: {n + 0.5}\n"
            f"    aliases: [G{n}, {{text: Grp {n}, note: a note}},"
            f" {{text: GRP-X{n}, case_sensitive: true}},"
            f" {{text: gr Y{n}, case_sensitive: false}}]\n"
        )
    return "".join(lines) + TYPES


def read(text: str, *, apart: bool, media_type: str = "application/yaml") -> tuple[Any, ...]:
    """The entities read, their fields set, and the types, read apart or here."""
    stream = read_alias_file(
        text, media_type=media_type, read_apart_from=0 if apart else len(text) + 1
    )
    entities = list(stream)
    return entities, [fields_set(entity) for entity in entities], stream.types


def fields_set(entity: EntityCreate) -> tuple[set[str], list[set[str]]]:
    return entity.model_fields_set, [alias.model_fields_set for alias in entity.aliases]


def test_a_file_read_apart_gives_what_reading_it_here_gives(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(child_read, "SENT_AT_ONCE", 7)  # many batches
    text = yaml_file(40)
    apart = read(text, apart=True)
    assert apart == read(text, apart=False)
    entities, _, types = apart
    assert len(entities) == 80
    assert [t.id for t in types] == ["city", "organization"]
    assert entities[1].aliases[2].case_sensitive is True
    assert (
        entities[1].model_dump()
        == EntityCreate.model_validate(entities[1].model_dump()).model_dump()
    )


def test_a_model_made_again_has_every_attribute_a_validated_one_has() -> None:
    validated = read(yaml_file(1), apart=False)[0][1]
    made = child_read._unpacked(child_read._packed(validated))
    assert made.__getstate__() == validated.__getstate__()
    assert made.aliases[1].__getstate__() == validated.aliases[1].__getstate__()
    made.name = "Renamed"  # an ordinary model: its fields can be set
    assert made.name == "Renamed" and "name" in made.model_fields_set


def test_json_with_its_types_first_is_read_apart_the_same() -> None:
    entities = [
        {"id": f"x{n}", "name": f"X {n}", "type": "city", "aliases": [f"Ex{n}"]} for n in range(5)
    ]
    text = json.dumps({"types": [{"id": "city", "description": "Towns."}], "entities": entities})
    apart = read(text, apart=True, media_type="application/json")
    assert apart == read(text, apart=False, media_type="application/json")
    assert apart[2] is not None and apart[2][0].id == "city"


def entities_until_the_fault(text: str, *, apart: bool) -> tuple[list[str], str]:
    stream = read_alias_file(text, read_apart_from=0 if apart else len(text) + 1)
    given = []
    with pytest.raises(InvalidAliasFile) as caught:
        for entity in stream:
            given.append(entity.id)
    return given, caught.value.detail


def test_a_fault_read_apart_is_raised_after_the_same_entities(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(child_read, "SENT_AT_ONCE", 3)
    text = yaml_file(5).replace("name: Group 3\n", "name: ''\n")
    given, detail = entities_until_the_fault(text, apart=True)
    assert (given, detail) == entities_until_the_fault(text, apart=False)
    assert given == ["e0", "g0", "e1", "g1", "e2", "g2", "e3"]
    assert "entity #8 (id 'g3')" in detail


def failing_for(entity_id: str, fail: Any) -> Any:
    packed = child_read._packed

    def packing(entity: EntityCreate) -> Any:
        if entity.id == entity_id:  # in the child process alone: it alone packs
            fail()
        return packed(entity)

    return packing


def test_a_child_that_fails_leaves_the_rest_of_the_reading_here(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def fail() -> None:
        raise RuntimeError("broken")

    monkeypatch.setattr(child_read, "SENT_AT_ONCE", 2)
    monkeypatch.setattr(child_read, "_packed", failing_for("g2", fail))
    text = yaml_file(6)
    assert read(text, apart=True) == read(text, apart=False)
    assert "the alias file's child process failed after 4 entities: reading on here" in caplog.text


def test_a_child_fallen_silent_is_left_and_the_reading_done_here(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(child_read, "SENT_AT_ONCE", 1)
    monkeypatch.setattr(child_read, "SILENCE_LIMIT", 0.5)
    monkeypatch.setattr(child_read, "_packed", failing_for("e1", lambda: time.sleep(60)))
    text = yaml_file(3)
    started = time.monotonic()
    assert read(text, apart=True) == read(text, apart=False)
    assert time.monotonic() - started < 30
    # Two sent before it fell silent, unless a busy machine kept them past the limit.
    assert re.search(r"child process failed after [012] entities: reading on here", caplog.text)


def test_without_a_child_the_file_is_read_here(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def no_fork() -> int:
        raise OSError("Resource temporarily unavailable")

    monkeypatch.setattr(os, "fork", no_fork)
    text = yaml_file(3)
    with caplog.at_level(logging.WARNING):
        assert read(text, apart=True) == read(text, apart=False)
    assert "not by a child process: Resource temporarily unavailable" in caplog.text


def test_a_reading_left_unfinished_stops_its_child(monkeypatch: pytest.MonkeyPatch) -> None:
    children = []
    forked = child_read._forked

    def forking(*args: Any) -> tuple[int, int]:
        child, pipe = forked(*args)
        children.append(child)
        return child, pipe

    monkeypatch.setattr(child_read, "_forked", forking)
    monkeypatch.setattr(child_read, "SENT_AT_ONCE", 1)
    entities: Iterator[EntityCreate] = iter(read_alias_file(yaml_file(50), read_apart_from=0))
    assert next(entities).id == "e0"
    entities.close()  # type: ignore[attr-defined]
    (child,) = children
    with pytest.raises(ChildProcessError):  # ended and reaped
        os.waitpid(child, os.WNOHANG)


def test_a_child_whose_importing_process_is_killed_stops(tmp_path: Path) -> None:
    child = orphaned_child(
        "from app import child_read\nfrom app.aliasfile import read_alias_file",
        "child_read._Sender.send_all",
        'list(read_alias_file("entities: []\\n", read_apart_from=0))',
        tmp_path / "child.pid",
    )
    assert ended_within(child, 10 * child_pipes.ORPHAN_CHECK_INTERVAL)
