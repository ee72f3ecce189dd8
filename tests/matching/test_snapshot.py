import io
import json
from pathlib import Path

from app.matching.annotate import annotate
from app.matching.index import AliasIndex, Segment
from app.matching.resolve import resolve
from app.matching.snapshot import (
    pickled,
    pickled_to,
    read_snapshot,
    snapshot_table,
    unpickled,
    write_snapshot,
)
from benchmarks.annotate import shipped_entities

TABLE = "7:1:2026-12-04T10:00:00"
ARTICLE = (
    "ISLAMABAD: Pakistan and the US discussed countering Daesh-Khorasan and the "
    "Tehreek-i-Taliban Pakistan (TTP), said Khawaja Aasif."
)
QUERIES = [
    "T.T.P.",
    "Tahreek-i-Taliban Pakistan",
    "IS-Khorasan",
    "Islamabd",
    "Ministry of Foreign Affairs",
]


def kept(tmp_path: Path) -> tuple[Path, AliasIndex]:
    built = AliasIndex.build(shipped_entities())
    path = tmp_path / "index.snapshot"
    write_snapshot(path, built.base, TABLE)
    return path, built


def read_back(path: Path) -> AliasIndex:
    segment = read_snapshot(path, TABLE)
    assert isinstance(segment, Segment)
    return AliasIndex(base=segment)


def test_a_segment_read_back_answers_as_the_one_built(tmp_path: Path) -> None:
    path, built = kept(tmp_path)
    again = read_back(path)
    assert snapshot_table(path) == TABLE
    assert [resolve(again, q) for q in QUERIES] == [resolve(built, q) for q in QUERIES]
    assert annotate(again, ARTICLE) == annotate(built, ARTICLE)
    assert (again.entity_count, again.alias_count) == (built.entity_count, built.alias_count)


def test_a_segment_read_back_has_the_tables_it_was_pickled_without(tmp_path: Path) -> None:
    path, built = kept(tmp_path)
    again = read_back(path).base
    assert again.vocabulary == built.base.vocabulary
    assert list(again.vocabulary) == list(built.base.vocabulary)  # in the same order
    assert [again.entities.number(i) for i in built.base.entities] == list(
        range(len(built.base.entities))
    )
    assert again.spotting.keys_by_number() == built.base.spotting.keys_by_number()


def test_a_segment_read_back_takes_edits_as_the_one_built(tmp_path: Path) -> None:
    path, built = kept(tmp_path)
    ttp = built.entity("ttp")
    assert ttp is not None
    renamed = ttp.__class__("ttp", "Tehrik Group", ttp.type, ("TTG",))
    edited, edited_again = built.with_changes([renamed]), read_back(path).with_changes([renamed])
    for query in ["TTG", "TTP", "Tehrik Group"]:
        assert resolve(edited_again, query) == resolve(edited, query)


def test_a_snapshot_of_another_table_is_not_read(tmp_path: Path) -> None:
    path, _ = kept(tmp_path)
    assert read_snapshot(path, "8:1:2026-12-04T10:00:00") is None


def test_a_damaged_or_cut_snapshot_is_not_read(tmp_path: Path) -> None:
    path, _ = kept(tmp_path)
    whole = path.read_bytes()
    damaged = bytearray(whole)
    damaged[len(whole) // 2] ^= 0xFF
    path.write_bytes(bytes(damaged))
    assert read_snapshot(path, TABLE) is None
    path.write_bytes(whole[: len(whole) - 100])
    assert read_snapshot(path, TABLE) is None


def test_a_snapshot_of_another_engine_or_no_snapshot_at_all_has_no_table(tmp_path: Path) -> None:
    path, _ = kept(tmp_path)
    header, _, payload = path.read_bytes().partition(b"\n")
    fields = json.loads(header)
    path.write_bytes(json.dumps({**fields, "engine": "another"}).encode() + b"\n" + payload)
    assert snapshot_table(path) is None
    assert read_snapshot(path, TABLE) is None
    path.write_bytes(b"not a snapshot\n")
    assert snapshot_table(path) is None
    assert snapshot_table(tmp_path / "missing") is None
    assert read_snapshot(tmp_path / "missing", TABLE) is None


def test_a_segment_pickled_into_a_stream_is_pickled_as_a_snapshot_holds_it() -> None:
    segment = AliasIndex.build(shipped_entities()).base
    stream = io.BytesIO()
    pickled_to(stream, segment)
    assert stream.getvalue() == pickled(segment)
    stream.seek(0)
    again = unpickled(stream)
    assert again is not None
    assert again.spotting.keys_by_number() == segment.spotting.keys_by_number()
