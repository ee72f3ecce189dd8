"""The console script, run as a user would: from another working directory."""

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from app.aliasfile import parse_alias_file
from app.cli import main
from app.resources import SHIPPED_ALIASES_FILE
from tests.conftest import SMALL_TABLE


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
    result = run(tmp_path, "import", str(SMALL_TABLE))
    assert result.returncode == 0, result.stderr
    assert '"created":4' in result.stdout
    exported = tmp_path / "out.yaml"
    assert run(tmp_path, "export", str(exported)).returncode == 0
    shipped = parse_alias_file(SMALL_TABLE.read_bytes()).entities
    by_id = sorted(shipped, key=lambda entity: entity.id)
    assert parse_alias_file(exported.read_bytes()).entities == by_id
    to_stdout = run(tmp_path, "export")
    assert to_stdout.stdout == exported.read_text(encoding="utf-8")


def test_replace_import(tmp_path: Path) -> None:
    assert run(tmp_path, "import", str(SMALL_TABLE)).returncode == 0
    smaller = tmp_path / "one.json"
    smaller.write_text('{"entities": [{"id": "kabul", "name": "Kabul", "type": "location"}]}')
    assert run(tmp_path, "import", str(smaller), "--replace").returncode == 0
    exported = parse_alias_file(run(tmp_path, "export").stdout)
    assert [e.id for e in exported.entities] == ["kabul"]


def test_a_bad_file_is_refused_with_a_message_and_loads_nothing(tmp_path: Path) -> None:
    assert run(tmp_path, "import", str(SMALL_TABLE)).returncode == 0
    bad = tmp_path / "bad.yaml"
    bad.write_text("entities:\n  - {id: kabul, name: Kabul, type: location}\n  - {id: x}\n")
    result = run(tmp_path, "import", str(bad), "--replace")
    assert result.returncode == 1
    assert "entity #2 (id 'x') at line 3" in result.stderr
    assert len(parse_alias_file(run(tmp_path, "export").stdout).entities) == 4


def test_the_shipped_table_travels_with_the_package(tmp_path: Path) -> None:
    assert SHIPPED_ALIASES_FILE.is_file()
    result = run(tmp_path, "import", str(SHIPPED_ALIASES_FILE))
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("args", [[], ["nonsense"], ["import"]])
def test_usage_errors_exit_2(tmp_path: Path, args: list[str]) -> None:
    assert run(tmp_path, *args).returncode == 2


@pytest.mark.parametrize(
    ("args", "trusted"),
    [([], None), (["--forwarded-allow-ips", "10.0.0.5,10.0.0.6"], "10.0.0.5,10.0.0.6")],
)
def test_serve_hands_the_proxy_options_to_uvicorn(
    monkeypatch: pytest.MonkeyPatch, args: list[str], trusted: str | None
) -> None:
    given: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda _app, **options: given.update(options))
    assert main(["serve", "--port", "8123", *args]) == 0
    assert given["port"] == 8123
    assert given["proxy_headers"] is True
    # None: uvicorn's own default, $FORWARDED_ALLOW_IPS or the loopback addresses.
    assert given["forwarded_allow_ips"] == trusted
