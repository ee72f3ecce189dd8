"""The console script, run as a user would: from another working directory."""

import fcntl
import json
import os
import pty
import socket
import sqlite3
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import make_url
from sqlmodel import Session

from app import cli, serving, store
from app.aliasfile import parse_alias_file
from app.cli import main
from app.db import make_engine
from app.live_index import LiveIndex
from app.resources import SHIPPED_ALIASES_FILE
from tests.conftest import SMALL_TABLE
from tests.servers import HOST, free_port, http, tcp_relay


def run(
    cwd: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"} | (env or {})
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_migrate_creates_the_default_sqlite_file_in_the_working_directory(tmp_path: Path) -> None:
    result = run(tmp_path, "migrate")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "alias-service.db").exists()


def test_import_then_export_round_trips(tmp_path: Path) -> None:
    result = run(tmp_path, "import", "--create", str(SMALL_TABLE), "--allow-shared")
    assert result.returncode == 0, result.stderr
    assert '"created":4' in result.stdout
    exported = tmp_path / "out.yaml"
    assert run(tmp_path, "export", str(exported)).returncode == 0
    shipped = parse_alias_file(SMALL_TABLE.read_bytes()).entities
    by_id = sorted(shipped, key=lambda entity: entity.id)
    assert parse_alias_file(exported.read_bytes()).entities == by_id
    to_stdout = run(tmp_path, "export")
    assert to_stdout.stdout == exported.read_text(encoding="utf-8")


def test_an_export_to_a_json_file_is_json_that_imports_back(tmp_path: Path) -> None:
    assert run(tmp_path, "import", "--create", str(SMALL_TABLE), "--allow-shared").returncode == 0
    as_yaml, backup = run(tmp_path, "export").stdout, tmp_path / "backup.JSON"
    assert run(tmp_path, "export", str(backup)).returncode == 0
    assert [e["id"] for e in json.loads(backup.read_text())["entities"]] == sorted(
        e.id for e in parse_alias_file(SMALL_TABLE.read_bytes()).entities
    )
    assert run(tmp_path, "import", str(backup), "--replace").returncode == 0
    assert run(tmp_path, "export").stdout == as_yaml


def test_replace_import(tmp_path: Path) -> None:
    assert run(tmp_path, "import", "--create", str(SMALL_TABLE), "--allow-shared").returncode == 0
    smaller = tmp_path / "one.json"
    smaller.write_text('{"entities": [{"id": "kabul", "name": "Kabul", "type": "location"}]}')
    assert run(tmp_path, "import", str(smaller), "--replace").returncode == 0
    exported = parse_alias_file(run(tmp_path, "export").stdout)
    assert [e.id for e in exported.entities] == ["kabul"]


def replace_with(folder: Path, content: str, *flags: str) -> subprocess.CompletedProcess[str]:
    """``import --replace`` of an alias file with ``content``."""
    path = folder / "replacement.yaml"
    path.write_text(content)
    return run(folder, "import", str(path), "--replace", *flags)


def stored_ids(folder: Path) -> list[str]:
    engine = make_engine(f"sqlite:///{folder / 'alias-service.db'}")
    try:
        with Session(engine) as session:
            return [entity.id for entity in store.export_table(session=session).entities]
    finally:
        engine.dispose()


def test_a_replace_with_no_entities_needs_allow_empty(tmp_path: Path) -> None:
    assert run(tmp_path, "import", "--create", str(SMALL_TABLE), "--allow-shared").returncode == 0
    refused = replace_with(tmp_path, "entities: []\n")
    assert refused.returncode == 1
    assert "--allow-empty" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert len(stored_ids(tmp_path)) == 4
    allowed = replace_with(tmp_path, "entities: []\n", "--allow-empty")
    assert allowed.returncode == 0, allowed.stderr
    assert stored_ids(tmp_path) == []


def test_a_bad_file_is_refused_with_a_message_and_loads_nothing(tmp_path: Path) -> None:
    assert run(tmp_path, "import", "--create", str(SMALL_TABLE), "--allow-shared").returncode == 0
    result = replace_with(
        tmp_path, "entities:\n  - {id: kabul, name: Kabul, type: location}\n  - {id: x}\n"
    )
    assert result.returncode == 1
    assert "entity #2 (id 'x') at line 3" in result.stderr
    assert len(stored_ids(tmp_path)) == 4


def test_the_shipped_table_travels_with_the_package(tmp_path: Path) -> None:
    assert SHIPPED_ALIASES_FILE.is_file()
    result = run(tmp_path, "import", "--create", str(SHIPPED_ALIASES_FILE), "--allow-shared")
    assert result.returncode == 0, result.stderr


def test_an_import_that_shares_a_form_needs_allow_shared(tmp_path: Path) -> None:
    refused = run(tmp_path, "import", "--create", str(SMALL_TABLE))
    assert refused.returncode == 1
    assert "'taliban' by 'afghan-taliban', 'ttp'" in refused.stderr
    assert "--allow-shared" in refused.stderr
    assert stored_ids(tmp_path) == []


@pytest.mark.parametrize("args", [[], ["nonsense"], ["import"]])
def test_usage_errors_exit_2(tmp_path: Path, args: list[str]) -> None:
    assert run(tmp_path, *args).returncode == 2


def serve_until_it_exits(cwd: Path, database_url: str, wait: str = "2") -> tuple[int, str]:
    """``serve`` against a database it should not start on: exit code and output."""
    port = str(free_port())
    env = {"DATABASE_URL": database_url, "DATABASE_WAIT": wait}
    result = run(cwd, "serve", "--host", HOST, "--port", port, env=env)
    return result.returncode, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("make_database", "reason"),
    [
        (lambda folder: f"sqlite:///{folder / 'missing' / 'a.db'}", "unable to open database file"),
        (lambda folder: f"sqlite:///{_corrupt_file(folder)}", "file is not a database"),
        (lambda folder: f"sqlite:///file:{_database_file(folder)}?mode=ro&uri=true", "readonly"),
    ],
    ids=["directory missing", "not a database", "read-only"],
)
def test_serve_stops_with_one_line_on_a_database_it_cannot_use(
    tmp_path: Path, make_database: Callable[[Path], str], reason: str
) -> None:
    started = time.monotonic()
    code, output = serve_until_it_exits(tmp_path, make_database(tmp_path), wait="30")
    assert code == 1
    assert "Traceback" not in output
    assert output.splitlines()[-1].startswith("alias-service: cannot use the database sqlite:")
    assert reason in output.splitlines()[-1]
    assert time.monotonic() - started < 20  # at once, not after the 30 s of waiting


@pytest.mark.postgres
def test_serve_stops_with_one_line_on_an_unknown_postgres_database(
    tmp_path: Path, postgres_server: str
) -> None:
    url = make_url(postgres_server).set(database="no_such_database", password="secret")
    code, output = serve_until_it_exits(tmp_path, url.render_as_string(hide_password=False))
    assert code == 1
    assert "Traceback" not in output and "secret" not in output
    assert 'database "no_such_database" does not exist' in output.splitlines()[-1]
    assert "not reachable" not in output  # refused by the server: no retry


def test_serve_tries_again_then_gives_up_on_a_database_that_does_not_answer(
    tmp_path: Path,
) -> None:
    nothing_listens = f"postgresql+psycopg://alias:secret@{HOST}:{free_port()}/aliases"
    started = time.monotonic()
    code, output = serve_until_it_exits(tmp_path, nothing_listens, wait="2")
    assert code == 1
    assert "Traceback" not in output and "secret" not in output
    tries = [line for line in output.splitlines() if "not reachable (" in line]
    assert len(tries) >= 2, output
    assert all("Connection refused" in line and "next try in" in line for line in tries)
    assert "was not reachable within 2 s" in output.splitlines()[-1]
    assert time.monotonic() - started < 30


@pytest.mark.postgres
def test_serve_waits_for_a_database_that_comes_up(tmp_path: Path, postgres_url: str) -> None:
    database = make_url(postgres_url)
    relay_port = free_port()
    through_relay = database.set(host=HOST, port=relay_port)
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": through_relay.render_as_string(hide_password=False),
        "DATABASE_WAIT": "60",
        "ALIASES_FILE": str(SMALL_TABLE),
    }
    log = tmp_path / "serve.log"
    command = [sys.executable, "-m", "app.cli", "serve", "--host", HOST, "--port", str(port)]
    with log.open("wb") as output:
        process = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=output, stderr=output)
    try:
        wait_for(lambda: log.read_text().count("not reachable (") >= 2, log)
        # Meanwhile nothing listens: a client is refused, not left waiting.
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection((HOST, port), timeout=5).close()
        with tcp_relay(relay_port, (database.host or HOST, database.port or 5432)):
            wait_for(lambda: _ready(f"http://{HOST}:{port}"), log)
            assert process.poll() is None
            status, body = http("GET", f"http://{HOST}:{port}/resolve?q=TTP")
            assert (status, json.loads(body)["status"]) == (200, "matched")
            process.terminate()
            process.wait(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert "Traceback" not in log.read_text()


def wait_for(condition: Callable[[], bool], log: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, log.read_text()
        time.sleep(0.1)


def _ready(origin: str) -> bool:
    try:
        return http("GET", f"{origin}/readyz")[0] == 200
    except OSError:
        return False


def _database_file(folder: Path) -> Path:
    """A database that was set up (so the read-only case fails only on writing)."""
    result = run(folder, "import", "--create", str(SMALL_TABLE), "--allow-shared")
    assert result.returncode == 0, result.stderr
    return folder / "alias-service.db"


def _corrupt_file(folder: Path) -> Path:
    path = folder / "corrupt.db"
    path.write_bytes(b"these are not the pages of a database\n" * 200)
    return path


def test_export_from_a_corrupt_database_is_one_line(tmp_path: Path) -> None:
    result = run(tmp_path, "export", env={"DATABASE_URL": f"sqlite:///{_corrupt_file(tmp_path)}"})
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines() == ["alias-service: database error: file is not a database"]


def test_a_yaml_tag_is_one_line_on_stderr_and_exit_1(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    bad = tmp_path / "tagged.yaml"
    bad.write_text(f"entities: !!python/object/apply:os.system ['touch {marker}']\n")
    result = run(tmp_path, "import", "--create", str(bad))
    assert result.returncode == 1
    # The schema is brought up to date (its log lines) while the file is read.
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1] == (
        f"alias-service: {bad}: line 1, column 11: YAML tags (!!python/object/apply:os.system) "
        "are not allowed"
    )
    assert not marker.exists()


@pytest.mark.parametrize(
    ("args", "trusted"),
    [([], None), (["--forwarded-allow-ips", "10.0.0.5,10.0.0.6"], "10.0.0.5,10.0.0.6")],
)
def test_serve_hands_the_proxy_options_to_uvicorn(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], trusted: str | None
) -> None:
    monkeypatch.chdir(tmp_path)  # serve sets up its database before uvicorn starts
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'alias-service.db'}")
    given: dict[str, Any] = {}
    monkeypatch.setattr(serving, "serve", lambda **kwargs: given.update(kwargs))
    assert main(["serve", "--port", "8123", *args]) == 0
    assert given["port"] == 8123
    assert given["options"]["proxy_headers"] is True
    # None: uvicorn's own default, $FORWARDED_ALLOW_IPS or the loopback addresses.
    assert given["options"]["forwarded_allow_ips"] == trusted


def test_serve_begins_to_load_the_index_before_it_imports_the_web_application(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The command's own imports leave the web application out, for ``serve``
    # to import once the index's build has begun.
    imported = subprocess.run(
        [sys.executable, "-c", "import sys, app.cli; print(*sorted(sys.modules))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert not {"app.main", "app.serving", "fastapi", "starlette", "uvicorn"} & set(imported)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'alias-service.db'}")
    calls: list[tuple[str, LiveIndex]] = []
    monkeypatch.setattr(LiveIndex, "begin_load", lambda live: calls.append(("begun", live)))
    monkeypatch.setattr(
        serving, "serve", lambda **kwargs: calls.append(("served", kwargs["live_index"]))
    )
    assert main(["serve"]) == 0
    [(begun, live), (served, given)] = calls
    assert (begun, served) == ("begun", "served") and given is live


def test_a_port_another_server_holds_is_said_before_the_database_is_touched(
    tmp_path: Path,
) -> None:
    """uvicorn found the port taken once the index had loaded (half a minute at a
    million aliases), then exited 3 with its own message."""
    with socket.create_server((HOST, 0)) as holder:
        port = holder.getsockname()[1]
        result = run(tmp_path, "serve", "--host", HOST, "--port", str(port))
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"alias-service: cannot listen on {HOST}:{port}: a server listens there"
    ]
    assert not (tmp_path / "alias-service.db").exists()


def test_a_repeated_editor_name_stops_the_service_with_one_line(tmp_path: Path) -> None:
    result = run(tmp_path, "serve", env={"ADMIN_TOKENS": "alice:a-1,alice:a-2"})
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "alias-service: invalid configuration: ADMIN_TOKENS: entry 2 repeats the editor "
        "name 'alice'"
    ]
    assert not (tmp_path / "alias-service.db").exists()


def test_a_dry_run_import_reports_and_writes_nothing(tmp_path: Path) -> None:
    assert run(tmp_path, "import", "--create", str(SMALL_TABLE), "--allow-shared").returncode == 0
    result = replace_with(
        tmp_path, "entities:\n  - {id: kabul, name: Kabul, type: location}\n", "--dry-run"
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert (report["dry_run"], report["created"]) == (True, ["kabul"])
    assert sorted(report["deleted"]) == ["afghan-taliban", "islamabad", "tlp", "ttp"]
    assert "kabul" not in stored_ids(tmp_path)
    assert len(stored_ids(tmp_path)) == 4


# --- as a person meets it: in-process, standard error captured -----------------------


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory without a database, and no DATABASE_URL."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    return tmp_path


def fails_with(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    """The one line ``alias-service ARGS`` writes on standard error as it exits 1."""
    assert main(list(args)) == 1
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1, lines
    return lines[0]


def created_folder(folder: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    assert main(["import", "--create", "--allow-shared", str(SMALL_TABLE)]) == 0
    capsys.readouterr()
    return folder


def test_version_names_the_installed_release(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out == f"alias-service {metadata.version('alias-service')}\n"


@pytest.mark.parametrize(
    "command",
    [["import", "--allow-shared", str(SMALL_TABLE)], ["export"]],
    ids=["import", "export"],
)
def test_import_and_export_refuse_to_create_a_database_unless_told(
    folder: Path, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    assert fails_with(capsys, *command) == (
        "alias-service: no database at ./alias-service.db; pass --create or set DATABASE_URL"
    )
    assert not (folder / "alias-service.db").exists()
    assert main([*command, "--create"]) == 0
    assert (folder / "alias-service.db").exists()


def test_a_database_named_by_database_url_is_created_without_being_told(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{folder / 'chosen.db'}")
    assert main(["import", "--allow-shared", str(SMALL_TABLE)]) == 0
    assert (folder / "chosen.db").exists()
    assert not (folder / "alias-service.db").exists()


def test_the_default_database_once_there_needs_no_create(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    created_folder(folder, capsys)
    assert main(["export", str(folder / "out.yaml")]) == 0
    assert len(parse_alias_file((folder / "out.yaml").read_bytes()).entities) == 4


@pytest.mark.parametrize(
    ("make_path", "reason"),
    [
        (lambda folder: folder / "missing.yaml", "No such file or directory"),
        (lambda folder: folder, "Is a directory"),
    ],
    ids=["missing", "a directory"],
)
def test_a_file_that_cannot_be_read_is_one_line_naming_it(
    folder: Path,
    capsys: pytest.CaptureFixture[str],
    make_path: Callable[[Path], Path],
    reason: str,
) -> None:
    created_folder(folder, capsys)
    path = make_path(folder)
    assert fails_with(capsys, "import", str(path)) == f"alias-service: {path}: {reason}"


def test_an_export_to_a_folder_that_does_not_exist_is_one_line_naming_the_file(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    created_folder(folder, capsys)
    target = folder / "no" / "such" / "out.yaml"
    assert fails_with(capsys, "export", str(target)) == (
        f"alias-service: {target}: No such file or directory"
    )


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        (
            "tab.yaml",
            "entities:\n  - id: a\n\tname: A\n",
            "line 3, column 1: not valid YAML: found a tab character that violates indentation "
            "(while scanning a plain scalar at line 2, column 9)",
        ),
        (
            "broken.json",
            '{"entities": [\n  {"id": "a" "name": "A"}]}',
            "line 2, column 14: not valid JSON: Expecting ',' delimiter",
        ),
        (
            "latin1.yaml",
            "entities:\n  - {id: a, name: Caf\xe9, type: place}\n".encode("latin-1"),
            "line 2, column 22: the file is not UTF-8 (byte 31)",
        ),
        (
            "misspelt.yaml",
            "entities:\n  - id: kabul\n    name: Kabul\n    type: city\n    aliasses: [KBL]\n",
            "entity #1 (id 'kabul') at line 2: aliasses: unknown field; did you mean 'aliases'? "
            "(at line 5, column 5)",
        ),
        (
            "misspelt-alias.yaml",
            "entities:\n  - id: kabul\n    name: Kabul\n    type: city\n"
            "    aliases:\n      - {text: KBL, nots: code}\n",
            "entity #1 (id 'kabul') at line 2: aliases.0.nots: unknown field; did you mean "
            "'note'? (at line 6, column 21)",
        ),
        (
            "misspelt-type.yaml",
            "types:\n  - {id: city, descripton: Towns.}\nentities: []\n",
            "descripton: unknown field; did you mean 'description'? (at line 2, column 16)",
        ),
        (
            "invalid.json",
            '{"entities": [{"id": "a", "name": "A", "type": "t"}, {"id": "b", "name": ""}]}',
            "entity #2 (id 'b'): name: String should have at least 1 character",
        ),
        (
            "twice.yaml",
            "entities:\n  - id: a\n    name: A\n    id: b\n",
            "line 4, column 5: the key 'id' is given twice in one mapping",
        ),
        (
            "tagged.yaml",
            "entities:\n  - id: !!int abc\n",
            "line 2, column 9: YAML tags (!!int) are not allowed",
        ),
    ],
    ids=lambda value: value if isinstance(value, str) and len(value) < 20 else "",
)
def test_a_faulty_file_is_one_line_naming_the_file_and_where_in_it(
    folder: Path,
    capsys: pytest.CaptureFixture[str],
    name: str,
    content: str | bytes,
    expected: str,
) -> None:
    created_folder(folder, capsys)
    path = folder / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    line = fails_with(capsys, "import", str(path))
    assert line.startswith(f"alias-service: {path}: ")
    assert expected in line
    assert len(stored_ids(folder)) == 4


def test_a_missing_file_is_no_traceback_in_a_real_process(tmp_path: Path) -> None:
    result = run(tmp_path, "import", "--create", str(tmp_path / "missing.yaml"))
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"alias-service: {tmp_path / 'missing.yaml'}: No such file or directory"
    ]
    assert not (tmp_path / "alias-service.db").exists()  # refused before the database


def test_a_dry_run_writes_not_a_byte_of_the_database(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    created_folder(folder, capsys)
    database = folder / "alias-service.db"
    before = database.read_bytes()
    kabul = folder / "kabul.yaml"
    kabul.write_text("entities:\n  - {id: kabul, name: Kabul, type: location}\n")
    assert main(["import", "--dry-run", str(kabul)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["dry_run"], report["created"], report["counts"]["created"]) == (
        True,
        ["kabul"],
        1,
    )
    assert database.read_bytes() == before


def test_a_dry_run_of_a_broken_file_names_it_and_creates_no_database(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = folder / "broken.yaml"
    broken.write_text("entities:\n  - {id: kabul, name: Kabul, typ: location}\n")
    line = fails_with(capsys, "import", "--create", "--dry-run", str(broken))
    assert line.startswith(f"alias-service: {broken}: ")
    assert sorted(p.name for p in folder.iterdir()) == ["broken.yaml"]


def test_a_dry_run_creates_no_database_even_when_told_to(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert fails_with(capsys, "import", "--create", "--dry-run", str(SMALL_TABLE)) == (
        "alias-service: no database at ./alias-service.db; a dry run creates none"
    )
    assert list(folder.iterdir()) == []


def test_a_dry_run_does_not_migrate_a_database_behind_the_schema(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    database = folder / "alias-service.db"
    database.touch()
    assert fails_with(capsys, "import", "--dry-run", str(SMALL_TABLE)) == (
        "alias-service: the database schema is not up to date; a dry run does not migrate "
        "it: run alias-service migrate first"
    )
    with sqlite3.connect(database) as connection:
        tables = connection.execute("SELECT name FROM sqlite_master").fetchall()
    assert tables == []


def progress_lines(stderr: str) -> list[str]:
    """The states a bar drew (each redraw begins with a carriage return)."""
    return [state.strip() for state in stderr.replace("\n", "\r").split("\r") if state.strip()]


def test_progress_counts_the_entities_an_import_reads(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["import", "--create", "--allow-shared", "--progress", str(SMALL_TABLE)]) == 0
    drawn = progress_lines(capsys.readouterr().err)
    assert drawn[-1].startswith("table.yaml: 4 entities [")


def test_progress_counts_the_entities_an_export_writes_out_of_all(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    created_folder(folder, capsys)
    assert main(["export", "--progress", str(folder / "out.yaml")]) == 0
    drawn = progress_lines(capsys.readouterr().err)
    assert drawn[-1].startswith("out.yaml: 100%")
    assert "4/4 [" in drawn[-1]


@pytest.mark.parametrize("flags", [[], ["--quiet"]], ids=["not a terminal", "quiet"])
def test_no_progress_is_drawn_into_a_pipe_or_when_quiet(
    folder: Path, capsys: pytest.CaptureFixture[str], flags: list[str]
) -> None:
    assert main(["import", "--create", "--allow-shared", *flags, str(SMALL_TABLE)]) == 0
    assert main(["export", *flags, str(folder / "out.yaml")]) == 0
    assert capsys.readouterr().err == ""


def test_a_schema_of_a_newer_release_is_one_line_naming_it(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Alembic's 'Can't locate revision' came with its traceback."""
    assert main(["migrate"]) == 0
    with sqlite3.connect(folder / "alias-service.db") as database:
        database.execute("UPDATE alembic_version SET version_num = 'ffffffffffff'")
    capsys.readouterr()
    said = fails_with(capsys, "migrate")
    assert "of a release this one does not know" in said
    assert "'ffffffffffff'" in said


def test_a_database_of_another_application_is_one_line_and_left_alone(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with sqlite3.connect(folder / "alias-service.db") as database:
        database.execute("CREATE TABLE entity (code TEXT)")
    said = fails_with(capsys, "migrate")
    assert "holds tables of another application named as alias-service's (entity)" in said
    with sqlite3.connect(folder / "alias-service.db") as database:
        names = database.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    assert names == [("entity",)]


def test_an_interrupted_command_says_so_in_one_line(
    folder: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(*_args: object) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "_migrate", interrupted)
    assert main(["migrate"]) == 130
    assert capsys.readouterr().err == "alias-service: interrupted\n"


def test_quiet_and_progress_together_are_a_usage_error(folder: Path) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["import", "--quiet", "--progress", str(SMALL_TABLE)])
    assert exited.value.code == 2


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--port", "70000"], "--port: must be a port number, 1 to 65535"),
        (["--port", "0"], "--port: must be a port number, 1 to 65535"),
        (["--workers", "0"], "--workers: must be 1 to 256"),
        (["--workers", "-2"], "--workers: must be 1 to 256"),
        (["--workers", "100000"], "--workers: must be 1 to 256"),
        (["--workers", "two"], "--workers: must be a whole number, not 'two'"),
        (["--port", "80.5"], "--port: must be a whole number, not '80.5'"),
    ],
)
def test_serve_refuses_a_port_or_worker_count_it_could_not_honour(
    args: list[str], named: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["serve", *args])
    assert exited.value.code == 2
    assert named in capsys.readouterr().err


def test_an_import_on_a_terminal_shows_its_progress_by_default(tmp_path: Path) -> None:
    controller, terminal = pty.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))  # 80 columns
    environment = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    command = [sys.executable, "-m", "app.cli", "import", "--create", "--allow-shared"]
    with subprocess.Popen(
        [*command, str(SMALL_TABLE)],
        cwd=tmp_path,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=terminal,
    ) as process:
        os.close(terminal)
        drawn = _read_all(controller)
        assert process.wait(timeout=60) == 0
    assert "table.yaml: 4 entities [" in drawn


def _read_all(descriptor: int) -> str:
    """Everything written to a pseudo-terminal until its last writer closed it."""
    chunks = []
    while True:
        try:
            chunk = os.read(descriptor, 4096)
        except OSError:  # EIO: the other end is closed
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(descriptor)
    return b"".join(chunks).decode("utf-8", "replace")
