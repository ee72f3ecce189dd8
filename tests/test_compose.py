"""``compose.yaml`` holds together: its services, what they run and the files
they mount (no container engine needed; ``test_replicas.py`` runs the same
parts as processes)."""

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy.engine import make_url

from app.cli import _parser

ROOT = Path(__file__).parents[1]


@pytest.fixture(scope="module")
def services() -> dict[str, Any]:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))
    found: dict[str, Any] = compose["services"]
    return found


def test_it_runs_postgres_two_replicas_and_nginx(services: dict[str, Any]) -> None:
    assert set(services) == {"postgres", "replica", "nginx"}
    replica = services["replica"]
    assert replica["deploy"]["replicas"] == 2
    assert (ROOT / replica["build"] / "Dockerfile").is_file()
    assert replica["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert services["nginx"]["depends_on"]["replica"]["condition"] == "service_healthy"
    database = make_url(replica["environment"]["DATABASE_URL"])
    assert (database.drivername, database.host) == ("postgresql+psycopg", "postgres")


def test_the_replicas_command_is_one_the_service_accepts(services: dict[str, Any]) -> None:
    args = _parser().parse_args(services["replica"]["command"])
    assert args.forwarded_allow_ips == "*"
    assert args.host == "0.0.0.0"


def test_nginx_mounts_the_config_in_the_repository_and_proxies_to_the_replicas(
    services: dict[str, Any],
) -> None:
    mounts = dict(volume.split(":")[:2] for volume in services["nginx"]["volumes"])
    assert all((ROOT / source).exists() for source in mounts), mounts
    assert mounts == {"./deploy/nginx.conf": "/etc/nginx/conf.d/default.conf"}
    site = (ROOT / "deploy" / "nginx.conf").read_text(encoding="utf-8")
    port = _parser().parse_args(services["replica"]["command"]).port
    assert re.search(rf"^\s*server replica:{port}\b", site, re.MULTILINE)
    inside = services["nginx"]["ports"][0].rsplit(":", 1)[1]
    assert re.search(rf"^\s*listen {inside};", site, re.MULTILINE)
    for header in ("Host", "X-Forwarded-For", "X-Forwarded-Proto"):
        assert re.search(rf"^\s*proxy_set_header {header} ", site, re.MULTILINE), header
