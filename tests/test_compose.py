"""``compose.yaml`` holds together: its services, what they run and the files
they mount (no container engine needed; ``test_replicas.py`` runs the same
parts as processes)."""

import re
from collections.abc import Mapping
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


def interpolated(value: str, environment: Mapping[str, str]) -> str:
    """``value`` with compose's ``${NAME}``, ``${NAME:-default}`` and
    ``${NAME:?error}`` replaced, innermost first (compose nests them)."""
    innermost = re.compile(r"\$\{(\w+)(?:(:-|:\?)([^${}]*))?\}")

    def replaced(found: re.Match[str]) -> str:
        name, operator, operand = found.groups()
        given = environment.get(name, "")
        if given or operator is None:
            return given
        assert operator == ":-", f"{name} must be set: {operand}"
        return str(operand)

    while innermost.search(value):
        value = innermost.sub(replaced, value)
    return value


@pytest.mark.parametrize(
    ("environment", "public_url", "published"),
    [
        ({}, "http://localhost:8080/", "8080"),
        ({"PUBLISHED_PORT": "9090"}, "http://localhost:9090/", "9090"),
        (
            {"PUBLISHED_PORT": "9090", "PUBLIC_URL": "https://aliases.example.org/"},
            "https://aliases.example.org/",
            "9090",
        ),
    ],
)
def test_the_public_url_follows_the_published_port_unless_given(
    services: dict[str, Any], environment: dict[str, str], public_url: str, published: str
) -> None:
    given = {"ADMIN_TOKEN": "t", "POSTGRES_PASSWORD": "p", **environment}
    replica = services["replica"]["environment"]
    assert interpolated(replica["PUBLIC_URL"], given) == public_url
    port = interpolated(services["nginx"]["ports"][0], given)
    assert port.rsplit(":", 1)[0] == published
