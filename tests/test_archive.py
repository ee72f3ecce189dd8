"""``alias-service annotate``: JSON Lines archives, run as a user would, checked
record by record against ``POST /annotate`` over the same table.

The ``client`` fixture loads the small test table into ``database_url``; the
command then reads that database in a process of its own.
"""

import errno
import gzip
import json
import multiprocessing
import os
import signal
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient

from app import archive
from app.cli import main
from app.models.api import MAX_TEXT_LENGTH
from app.settings import Settings
from tests.conftest import DATA
from tests.processes import ended_within

SEED_TEXTS = [path.read_text(encoding="utf-8") for path in sorted((DATA / "seeds").glob("*.txt"))]
SHORT_TEXTS = [
    "ISLAMABAD: the Pakistani Taliban (TTP) and Tehreek‑e‑Labbaik Pakistan’s rally.",
    "The Afghan Taliban met. The Taliban said so.",
    "Nothing to see here.",
]


def annotate_command(
    settings: Settings, *args: str, stdin: bytes | None = None
) -> subprocess.CompletedProcess[bytes]:
    environment = os.environ | {
        "DATABASE_URL": settings.database_url,
        "ALIASES_FILE": str(settings.aliases_file),
    }
    return subprocess.run(
        [sys.executable, "-m", "app.cli", "annotate", *args],
        env=environment,
        input=stdin,
        capture_output=True,
        timeout=120,
        check=False,
    )


def records(count: int) -> list[dict[str, Any]]:
    """Seed articles and short texts, each with fields of every JSON kind beside its text."""
    texts = SEED_TEXTS + SHORT_TEXTS
    return [
        {"id": n, "text": texts[n % len(texts)], "meta": {"n": [1, 2.5, None, True], "s": "é"}}
        for n in range(count)
    ]


def jsonl(given: list[dict[str, Any]]) -> bytes:
    return b"".join(json.dumps(record).encode() + b"\n" for record in given)


def write_lines(path: Path, lines: list[bytes]) -> None:
    data = b"".join(line + b"\n" for line in lines)
    path.write_bytes(gzip.compress(data) if path.suffix == ".gz" else data)


def read_records(path: Path) -> list[dict[str, Any]]:
    data = path.read_bytes()
    if path.suffix == ".gz":
        data = gzip.decompress(data)
    return [json.loads(line) for line in data.splitlines()]


def stderr_lines(result: subprocess.CompletedProcess[bytes]) -> list[str]:
    return [line for line in result.stderr.decode().splitlines() if " INFO " not in line]


# Reading the table is the command's only use of the database: the first test
# runs on every backend, the others on SQLite alone.
sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def expected_mentions(client: TestClient, text: str) -> list[dict[str, Any]]:
    response = client.post("/annotate", json={"text": text})
    assert response.status_code == 200
    mentions: list[dict[str, Any]] = response.json()["mentions"]
    return mentions


def assert_annotated_as_post_annotate(
    client: TestClient, annotated: list[dict[str, Any]], given: list[dict[str, Any]]
) -> None:
    assert [r["mentions"] for r in annotated] == [
        expected_mentions(client, r["text"]) for r in given
    ]


@pytest.mark.parametrize("suffix", [".jsonl", ".jsonl.gz"])
def test_every_record_gains_the_mentions_post_annotate_gives_in_input_order(
    client: TestClient, settings: Settings, tmp_path: Path, suffix: str
) -> None:
    given = records(200)
    source, target = tmp_path / f"in{suffix}", tmp_path / f"out{suffix}"
    write_lines(source, [json.dumps(record).encode() for record in given])

    result = annotate_command(settings, str(source), "-o", str(target), "--workers", "2")

    assert result.returncode == 0, result.stderr
    answers = {text: expected_mentions(client, text) for text in {r["text"] for r in given}}
    annotated = read_records(target)
    assert [record["id"] for record in annotated] == [record["id"] for record in given]
    for record, original in zip(annotated, given, strict=True):
        assert record.pop("mentions") == answers[original["text"]]
        assert record == original
    assert sum(len(answers[r["text"]]) for r in given) > len(given)
    (summary,) = stderr_lines(result)
    assert "200 records annotated" in summary
    assert "0 lines skipped" in summary


@sqlite_only
def test_a_gzip_is_recognised_by_its_bytes_and_stdin_to_stdout_works(
    client: TestClient, settings: Settings
) -> None:
    given = records(7)
    data = gzip.compress(jsonl(given))

    result = annotate_command(settings, "-", "-o", "-", "--workers", "1", stdin=data)

    assert result.returncode == 0, result.stderr
    annotated = [json.loads(line) for line in result.stdout.splitlines()]
    assert_annotated_as_post_annotate(client, annotated, given)


@sqlite_only
def test_broken_lines_are_reported_by_number_and_the_rest_annotated(
    client: TestClient, settings: Settings, tmp_path: Path
) -> None:
    good = records(4)
    lines = [
        json.dumps(good[0]).encode(),
        b"{not json",
        json.dumps(good[1]).encode(),
        b"[1, 2]",
        b'{"id": 9}',
        b'{"text": 42}',
        b"",
        json.dumps({"text": "x" * (MAX_TEXT_LENGTH + 1)}).encode(),
        b"\xff\xfe",
        json.dumps(good[2]).encode(),
        b'{"text": NaN}',
        json.dumps(good[3]).encode(),
    ]
    source, target = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    write_lines(source, lines)

    result = annotate_command(settings, str(source), "-o", str(target), "--workers", "2")

    assert result.returncode == 3
    assert b"Traceback" not in result.stderr
    *reports, summary = stderr_lines(result)
    assert reports == [
        f"alias-service: {source}:2: skipped: not JSON: {reports[0].split('not JSON: ')[1]}",
        f"alias-service: {source}:4: skipped: not a JSON object but an array",
        f"alias-service: {source}:5: skipped: no 'text' field",
        f"alias-service: {source}:6: skipped: the 'text' field is not a string",
        f"alias-service: {source}:8: skipped: the text has {MAX_TEXT_LENGTH + 1:,} characters; "
        f"at most {MAX_TEXT_LENGTH:,} are annotated",
        f"alias-service: {source}:9: skipped: not JSON: {reports[5].split('not JSON: ')[1]}",
        f"alias-service: {source}:11: skipped: not JSON: {reports[6].split('not JSON: ')[1]}",
    ]
    assert "4 records annotated" in summary
    assert "7 lines skipped" in summary
    annotated = read_records(target)
    assert [r["id"] for r in annotated] == [r["id"] for r in good]
    assert_annotated_as_post_annotate(client, annotated, good)


@sqlite_only
def test_numbers_no_parser_holds_pass_through_as_written(
    client: TestClient, settings: Settings, tmp_path: Path
) -> None:
    text = SHORT_TEXTS[1]
    added = (
        '{"id":1, "big":1180591620717411303424,"huge":1e400,'
        f'"close":0.1000000000000000055511151231257827, "text":"{text}"}}'
    )
    replaced = (
        '{"mentions":[1e400],"big":-1180591620717411303424,"close":0.1000000000000000055511151231257827,'
        f'"nested":{{"x":[1e400,2E-5,"\\u00e9"]}},"text":"{text}"}}'
    )
    source, target = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    write_lines(source, [added.encode(), replaced.encode()])

    result = annotate_command(settings, str(source), "-o", str(target), "--workers", "1")

    assert result.returncode == 0, result.stderr
    first, second = target.read_bytes().decode().splitlines()
    assert first.startswith(added[:-1] + ',"mentions":[')
    as_written = json.loads(second, parse_int=str, parse_float=str)
    assert as_written.pop("mentions") == json.loads(
        json.dumps(expected_mentions(client, text)), parse_int=str, parse_float=str
    )
    assert as_written == {
        "big": "-1180591620717411303424",
        "close": "0.1000000000000000055511151231257827",
        "nested": {"x": ["1e400", "2E-5", "é"]},
        "text": text,
    }


@sqlite_only
def test_a_byte_order_mark_and_encoded_surrogates_come_out_as_valid_json_lines(
    client: TestClient, settings: Settings, tmp_path: Path
) -> None:
    text = SHORT_TEXTS[1]
    with_bom = b"\xef\xbb\xbf" + json.dumps({"id": 1, "text": text}).encode()
    surrogate = b'{"id":2,"note":"a\xed\xa0\x80b","text":' + json.dumps(text).encode() + b"}"
    source, target = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    write_lines(source, [with_bom, surrogate])

    result = annotate_command(settings, str(source), "-o", str(target), "--workers", "1")

    assert result.returncode == 0, result.stderr
    first, second = target.read_bytes().splitlines()
    assert orjson.loads(first)["id"] == 1  # no byte order mark left in the middle of the output
    record = json.loads(second.decode("ascii"))  # surrogates escaped, as JSON allows
    assert (record["id"], record["note"]) == (2, "a\ud800b")
    assert record["mentions"] == expected_mentions(client, text)


@sqlite_only
def test_a_truncated_gzip_is_one_line_naming_the_file_and_the_output_stays_valid(
    client: TestClient, settings: Settings, tmp_path: Path
) -> None:
    given = records(300)
    whole = gzip.compress(jsonl(given))
    source, target = tmp_path / "cut.jsonl.gz", tmp_path / "out.jsonl.gz"
    source.write_bytes(whole[: len(whole) * 2 // 3])

    result = annotate_command(settings, str(source), "-o", str(target), "--workers", "2")

    assert result.returncode == 1
    assert b"Traceback" not in result.stderr
    summary, stopped = stderr_lines(result)
    assert stopped.startswith(f"alias-service: {source}: the gzip data ends early, after line ")
    annotated = read_records(target)  # a whole gzip stream of whole JSON lines
    assert 0 < len(annotated) < len(given)
    assert f"{len(annotated):,} records annotated" in summary
    assert [r["id"] for r in annotated] == list(range(len(annotated)))
    last = annotated[-1]
    assert last["mentions"] == expected_mentions(client, last["text"])


def assert_stopped_with_one_line(result: subprocess.CompletedProcess[bytes], line: str) -> None:
    assert result.returncode == archive.EXIT_STOPPED
    assert stderr_lines(result) == [f"alias-service: {line}"]


def one_record_archive(folder: Path) -> Path:
    source = folder / "in.jsonl"
    write_lines(source, [json.dumps(records(1)[0]).encode()])
    return source


@sqlite_only
def test_a_missing_input_is_one_line_and_writes_nothing(settings: Settings, tmp_path: Path) -> None:
    source, target = tmp_path / "absent.jsonl", tmp_path / "out.jsonl"
    result = annotate_command(settings, str(source), "-o", str(target))
    assert_stopped_with_one_line(result, f"{source}: No such file or directory")
    assert not target.exists()


@sqlite_only
def test_an_output_that_cannot_be_made_is_one_line(
    client: TestClient, settings: Settings, tmp_path: Path
) -> None:
    # ``client`` has loaded the table: the command gets as far as its output.
    target = tmp_path / "absent" / "out.jsonl"
    result = annotate_command(settings, str(one_record_archive(tmp_path)), "-o", str(target))
    assert_stopped_with_one_line(result, f"{target}: No such file or directory")


def test_a_missing_database_is_one_line_and_is_not_created(tmp_path: Path) -> None:
    database = tmp_path / "none.db"
    settings = Settings(database_url=f"sqlite:///{database}")
    source, target = one_record_archive(tmp_path), tmp_path / "out.jsonl"
    result = annotate_command(settings, str(source), "-o", str(target))
    assert_stopped_with_one_line(
        result, f"no database at {database}; set DATABASE_URL to the service's database"
    )
    assert not database.exists()


def test_without_database_url_the_default_file_is_not_created_either(tmp_path: Path) -> None:
    environment = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    source = one_record_archive(tmp_path)
    result = subprocess.run(
        [sys.executable, "-m", "app.cli", "annotate", str(source), "-o", "out.jsonl"],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert_stopped_with_one_line(
        result, "no database at ./alias-service.db; set DATABASE_URL to the service's database"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl"]


@sqlite_only
@pytest.mark.parametrize("linked", [False, True], ids=["the same name", "a symbolic link"])
def test_writing_over_the_input_is_refused_and_the_input_kept(
    client: TestClient, settings: Settings, tmp_path: Path, linked: bool
) -> None:
    source = tmp_path / "in.jsonl"
    write_lines(source, [json.dumps(r).encode() for r in records(50)])
    before = source.read_bytes()
    target = tmp_path / "link.jsonl" if linked else source
    if linked:
        target.symlink_to(source)

    result = annotate_command(settings, str(source), "-o", str(target))

    assert_stopped_with_one_line(
        result, f"{target}: is the input; write the annotated records elsewhere"
    )
    assert source.read_bytes() == before


class NoProcesses:
    """Stands for a pool the system refuses to fork."""

    def __init__(self, *_args: object, **_kwargs: object) -> None:
        raise BlockingIOError(errno.EAGAIN, "Resource temporarily unavailable")


@sqlite_only
def test_a_fault_of_the_run_itself_is_one_line_not_blamed_on_the_output(
    client: TestClient,
    settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(archive, "ProcessPoolExecutor", NoProcesses)
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    source, target = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    write_lines(source, [json.dumps(r).encode() for r in records(10)])
    target.write_bytes(b"before\n")
    target.chmod(0o640)

    status = main(["annotate", str(source), "-o", str(target), "--workers", "2"])

    assert status == 1
    assert capsys.readouterr().err.splitlines() == [
        "alias-service: Resource temporarily unavailable"
    ]
    assert target.read_bytes() == b"before\n"

    assert main(["annotate", str(source), "-o", str(target), "--workers", "1"]) == 0
    assert stat.S_IMODE(target.stat().st_mode) == 0o640  # the mode of the file it replaced


def killed_worker(lines: list[tuple[int, bytes | None]], gzipped: bool) -> None:
    """Stands for a worker's chunk: the worker is killed as it starts one."""
    os.kill(os.getpid(), signal.SIGKILL)


@sqlite_only
def test_a_worker_killed_stops_the_run_on_one_line_and_leaves_the_output_as_it_was(
    client: TestClient,
    settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(archive, "_shared_chunk", killed_worker)
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    folder = tmp_path / "archive"
    folder.mkdir()
    source, target = folder / "in.jsonl", folder / "out.jsonl"
    write_lines(source, [json.dumps(r).encode() for r in records(500)])
    target.write_bytes(b"an earlier run's output\n")

    status = main(["annotate", str(source), "-o", str(target), "--workers", "2"])

    assert status == 1
    assert capsys.readouterr().err.splitlines() == [
        "alias-service: a worker process stopped unexpectedly (killed, or out of memory): "
        "the run is abandoned (an output file is not written; standard output is incomplete)"
    ]
    assert target.read_bytes() == b"an earlier run's output\n"
    assert sorted(p.name for p in folder.iterdir()) == ["in.jsonl", "out.jsonl"]


@sqlite_only
def test_the_workers_are_forked_before_the_progress_bar_starts_its_thread(
    client: TestClient,
    settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    children_when_the_bar_started = []
    real_bar = archive.progress_bar

    def watched_bar(**options: Any) -> Any:
        children_when_the_bar_started.append(len(multiprocessing.active_children()))
        return real_bar(**options)

    monkeypatch.setattr(archive, "progress_bar", watched_bar)
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    source, target = one_record_archive(tmp_path), tmp_path / "out.jsonl"

    assert main(["annotate", str(source), "-o", str(target), "--workers", "2"]) == 0
    assert children_when_the_bar_started == [2]


@sqlite_only
def test_loading_the_annotator_reads_a_kept_index_but_forks_no_writer(
    client: TestClient, settings: Settings, tmp_path: Path
) -> None:
    snapshot = tmp_path / "index.snapshot"
    annotator = archive.load_annotator(settings.model_copy(update={"index_snapshot": snapshot}))
    assert annotator.index.alias_count > 0
    assert "index-keeper" not in {thread.name for thread in threading.enumerate()}
    assert not snapshot.exists()


@sqlite_only
def test_a_reader_that_stops_early_is_one_line(
    client: TestClient, settings: Settings, tmp_path: Path
) -> None:
    source = tmp_path / "in.jsonl"
    write_lines(source, [json.dumps(r).encode() for r in records(3000)])
    environment = os.environ | {"DATABASE_URL": settings.database_url}
    command = [sys.executable, "-m", "app.cli", "annotate", str(source), "-o", "-"]
    with subprocess.Popen(
        command, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    ) as process:
        assert process.stdout is not None and process.stderr is not None
        process.stdout.readline()
        process.stdout.close()  # as `| head -1` does
        errors = process.stderr.read().decode()
        assert process.wait(timeout=120) == 1
    lines = [line for line in errors.splitlines() if " INFO " not in line]
    assert lines == ["alias-service: standard output was closed before the end"]


@sqlite_only
def test_types_filter_the_mentions_and_an_unknown_type_is_refused(
    client: TestClient, settings: Settings, tmp_path: Path
) -> None:
    given = records(5)
    source, target = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    write_lines(source, [json.dumps({"body": r["text"]}).encode() for r in given])

    filtered = annotate_command(
        settings,
        str(source),
        "-o",
        str(target),
        "--types",
        "location",
        "--text-field",
        "body",
        "--progress",
    )

    assert filtered.returncode == 0, filtered.stderr
    assert "100%" in filtered.stderr.decode()  # the progress bar, asked for off a terminal
    expected = [
        client.post("/annotate", json={"text": r["text"], "types": ["location"]}).json()
        for r in given
    ]
    assert [{"mentions": r["mentions"]} for r in read_records(target)] == expected
    assert {m["entity"]["type"] for e in expected for m in e["mentions"]} == {"location"}

    unknown = annotate_command(settings, str(source), "-o", str(target), "--types", "locaton")
    assert unknown.returncode == 1
    (line,) = stderr_lines(unknown)
    assert line.startswith("alias-service: no entity type is 'locaton'")


def test_the_archive_command_imports_no_router() -> None:
    loaded = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, app.archive; "
            "print(*(n for n, m in sys.modules.items() if hasattr(m, 'router')))",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert loaded.stdout.split() == []


def readme_dask_lines() -> str:
    """The README's Python block that annotates an archive on a Dask cluster."""
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    blocks = [b.split("```")[0] for b in readme.split("```python\n")[1:]]
    (block,) = (b for b in blocks if "annotate_partition" in b)
    return block


@pytest.mark.slow
@sqlite_only
def test_the_readme_dask_lines_give_the_mentions_post_annotate_gives(
    client: TestClient,
    settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from distributed import LocalCluster

    given = records(120)
    for part in range(3):  # a gzip is one partition: three files, three partitions
        lines = [json.dumps(r).encode() for r in given[part * 40 : (part + 1) * 40]]
        if part == 1:
            lines.insert(6, b"{not json")
        write_lines(tmp_path / f"news-{part}.jsonl.gz", lines)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", settings.database_url)

    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
    ) as cluster:
        printed: list[Any] = []
        exec(readme_dask_lines(), {"SCHEDULER": cluster, "print": printed.append})
        workers = len(cluster.scheduler_info["workers"])

    assert workers == 2
    (skipped,) = printed
    assert str(skipped).startswith(f"{tmp_path / 'news-1.jsonl.gz'}:7: skipped: not JSON: ")
    annotated = [
        r for part in range(3) for r in read_records(tmp_path / f"annotated-{part}.jsonl.gz")
    ]
    assert [r["id"] for r in annotated] == [r["id"] for r in given]
    answers = {text: expected_mentions(client, text) for text in {r["text"] for r in given}}
    for record in annotated:
        assert record["mentions"] == answers[record["text"]]


def test_write_annotated_annotates_each_partition_once_and_returns_the_skipped(
    tmp_path: Path,
) -> None:
    import dask
    import dask.bag as db

    calls = []

    def annotated(lines: list[str]) -> list[str | archive.Skipped]:
        calls.append(len(lines))
        return [line if line != "bad" else archive.Skipped("in", 2, "why") for line in lines]

    results = db.from_sequence(["{}", "bad", "[]", "{}"], npartitions=2).map_partitions(annotated)
    with dask.config.set(scheduler="synchronous"):
        skipped = archive.write_annotated(results, str(tmp_path / "out-*.jsonl"))

    assert calls == [2, 2]
    assert [str(line) for line in skipped] == ["in:2: skipped: why"]
    assert [(tmp_path / f"out-{n}.jsonl").read_text() for n in range(2)] == ["{}\n", "[]\n{}\n"]


def test_write_annotated_wants_a_star_to_number_the_files(tmp_path: Path) -> None:
    import dask.bag as db

    results = db.from_sequence(["{}"], npartitions=1)
    with pytest.raises(ValueError, match="no '\\*'"):
        archive.write_annotated(results, str(tmp_path / "out.jsonl.gz"))
    assert list(tmp_path.iterdir()) == []


@sqlite_only
def test_a_line_past_the_bound_is_skipped_unread_and_the_next_is_annotated(
    client: TestClient,
    settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(archive, "MAX_LINE_BYTES", 100)
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    short = {"text": SHORT_TEXTS[1]}
    source, target = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    lines = [json.dumps({"text": "x" * 250}).encode(), json.dumps(short).encode()]
    write_lines(source, lines)

    status = main(["annotate", str(source), "-o", str(target), "--workers", "1"])

    assert status == archive.EXIT_SKIPPED
    reports = capsys.readouterr().err.splitlines()
    assert f"alias-service: {source}:1: skipped: the line is longer than 100 bytes" in reports
    assert read_records(target) == [short | {"mentions": expected_mentions(client, short["text"])}]


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(child) for child in (task / "children").read_text().split()]
    return found


def test_a_terminated_run_leaves_no_partial_file_and_no_worker(
    client: TestClient, settings: Settings, tmp_path: Path
) -> None:
    """SIGTERM (a supervisor stopping it) killed the command where it stood: its
    half-written file stayed beside the output, and its workers annotated on."""
    source, target = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    write_lines(source, [json.dumps(record).encode() for record in records(50_000)])
    environment = os.environ | {"DATABASE_URL": settings.database_url}
    command = [sys.executable, "-m", "app.cli", "annotate", str(source), "-o", str(target)]
    process = subprocess.Popen(
        [*command, "--workers", "2"], env=environment, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 60
    while not list(tmp_path.glob(".out.jsonl.*")) or len(_children(process.pid)) < 2:
        assert time.monotonic() < deadline and process.poll() is None
        time.sleep(0.05)
    workers = _children(process.pid)
    process.send_signal(signal.SIGTERM)
    assert_stopped_whole(process, workers, tmp_path)


def test_a_run_terminated_while_its_workers_start_stops_whole(
    client: TestClient, settings: Settings, tmp_path: Path
) -> None:
    """SIGTERM that came while the pool started (its workers forked, not yet
    the thread that stops them) ended the command with a traceback ("cannot
    join thread before it is started"), or left it waiting for its workers."""
    source, target, pids = tmp_path / "in.jsonl", tmp_path / "out.jsonl", tmp_path / "workers"
    write_lines(source, [json.dumps(record).encode() for record in records(100)])
    arguments = ["annotate", str(source), "-o", str(target), "--workers", "2"]
    script = "\n".join(
        [
            "import os, signal, sys",
            "from concurrent.futures import ProcessPoolExecutor",
            "from app.cli import main",
            "launch = ProcessPoolExecutor._launch_processes",
            "def launched_then_terminated(pool):",
            "    launch(pool)",
            f"    with open({str(pids)!r}, 'w') as file:",
            "        file.write(' '.join(map(str, pool._processes)))",
            "    os.kill(os.getpid(), signal.SIGTERM)",
            "ProcessPoolExecutor._launch_processes = launched_then_terminated",
            f"sys.exit(main({arguments!r}))",
        ]
    )
    environment = os.environ | {"DATABASE_URL": settings.database_url}
    process = subprocess.Popen(
        [sys.executable, "-c", script], env=environment, stderr=subprocess.PIPE
    )
    assert_stopped_whole(process, [], tmp_path)
    workers = [int(pid) for pid in pids.read_text().split()]
    assert len(workers) == 2 and all(ended_within(worker, 10) for worker in workers)


def assert_stopped_whole(
    process: subprocess.Popen[bytes], workers: list[int], tmp_path: Path
) -> None:
    """The command ended as SIGTERM asks: its own status and line, no output
    file half written, no worker left."""
    try:
        _, stderr = process.communicate(timeout=60)
    finally:
        process.kill()  # if it waits on (its workers stop once it has ended)
    assert process.returncode == 128 + signal.SIGTERM, stderr.decode()[-2000:]
    assert stderr.decode().splitlines()[-1] == "alias-service: stopped"
    assert not [path.name for path in tmp_path.iterdir() if "out.jsonl" in path.name]
    assert all(ended_within(worker, 10) for worker in workers)
