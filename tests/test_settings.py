import inspect
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from app.main import create_app
from app.matching.resolve import resolve
from app.settings import Settings, configuration_fault

README = Path(__file__).parent.parent / "README.md"


def fault_of(**values: str) -> str:
    with pytest.raises(ValidationError) as raised:
        Settings(**values)  # type: ignore[arg-type]
    return configuration_fault(raised.value)


def test_named_tokens_are_read_by_name_beside_the_admin_token() -> None:
    settings = Settings(admin_token="root-token", admin_tokens=" alice:a-1 , bob:b:2 ")
    tokens = {name: token.get_secret_value() for name, token in settings.editor_tokens().items()}
    assert tokens == {"alice": "a-1", "bob": "b:2", "admin": "root-token"}


def test_blank_named_tokens_are_no_editors() -> None:
    assert Settings(admin_tokens=" ").editor_tokens() == {}  # type: ignore[arg-type]


def test_named_tokens_are_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ADMIN_TOKENS", "alice:a-1,bob:b-2")
    assert sorted(Settings().editor_tokens()) == ["alice", "bob"]


@pytest.mark.parametrize(
    ("tokens", "fault"),
    [
        ("alice:a-1,alice:a-2", "ADMIN_TOKENS: entry 2 repeats the editor name 'alice'"),
        ("alice:a-1,:b-2", "ADMIN_TOKENS: entry 2: an editor's name is 1 to 64 characters"),
        ("alice:", "ADMIN_TOKENS: entry 1 ('alice') has an empty token"),
        ("alice", "ADMIN_TOKENS: entry 1 is not 'name:token'"),
        ("alice:a-1,", "ADMIN_TOKENS: entry 2 is not 'name:token'"),
        ("al ice:a-1", "without white space"),
        ("alice:same,bob:same", "the editors 'alice' and 'bob' have the same token"),
    ],
)
def test_a_malformed_token_list_is_refused_naming_the_entry_not_the_token(
    tokens: str, fault: str
) -> None:
    message = fault_of(admin_tokens=tokens)
    assert fault in message
    assert "a-1" not in message
    assert "same" not in message.replace("the same token", "")


def test_a_named_token_may_not_claim_the_admin_token_s_name() -> None:
    message = fault_of(admin_token="root-token", admin_tokens="admin:other-token")
    assert message == "ADMIN_TOKENS names the editor 'admin', whose token is ADMIN_TOKEN"
    assert Settings(admin_tokens="admin:other-token").editor_tokens()  # type: ignore[arg-type]


def test_the_admin_token_may_not_be_a_named_editor_s_token_too() -> None:
    assert "have the same token" in fault_of(admin_token="t-1", admin_tokens="alice:t-1")


def test_the_index_may_lag_a_few_refresh_intervals_but_never_less_than_the_floor() -> None:
    assert Settings(refresh_interval=1.0).lag_allowance() == 3.0
    assert Settings(refresh_interval=0.25).lag_allowance() == 2.0
    assert Settings(refresh_interval=0.25, ready_lag_floor=0).lag_allowance() == 0.75


def test_the_public_url_defaults_to_the_listen_address() -> None:
    assert Settings().public_url == "http://127.0.0.1:8000/"
    assert Settings().listening_at("0.0.0.0", 9000).public_url == "http://127.0.0.1:9000/"
    assert Settings().listening_at("::1", 9000).public_url == "http://[::1]:9000/"
    assert Settings().listening_at("10.0.0.5", 80).public_url == "http://10.0.0.5:80/"


def test_a_configured_public_url_is_kept_and_ends_with_a_slash(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PUBLIC_URL", "https://refine.example.org/aliases")
    settings = Settings().listening_at("0.0.0.0", 9000)
    assert settings.public_url == "https://refine.example.org/aliases/"


def test_a_public_url_that_is_no_http_address_is_refused() -> None:
    assert fault_of(public_url="ftp://example.org/").startswith("PUBLIC_URL:")
    assert fault_of(public_url="example.org").startswith("PUBLIC_URL:")


@pytest.mark.parametrize("setting", ["max_body_bytes", "max_import_bytes", "max_batch_bytes"])
@pytest.mark.parametrize("size", [0, -1])
def test_a_body_limit_admits_at_least_one_byte(setting: str, size: int) -> None:
    assert fault_of(**{setting: str(size)}).startswith(f"{setting.upper()}:")


@pytest.mark.parametrize(
    ("setting", "value"),
    [("review_flush_interval", "1e10"), ("review_flush_interval", "inf"), ("build_workers", "257")],
)
def test_a_setting_past_what_can_be_honoured_is_refused(setting: str, value: str) -> None:
    """A flush interval of 1e10 s killed the flushing thread (past time_t); 100,000
    build workers would be forked."""
    assert fault_of(**{setting: value}).startswith(f"{setting.upper()}:")


@pytest.mark.parametrize("value", ["nan", "NaN", "inf", "-inf"])
@pytest.mark.parametrize("setting", ["refresh_interval", "match_threshold", "database_wait"])
def test_a_number_that_is_not_finite_is_refused_as_such(setting: str, value: str) -> None:
    """NaN was refused as 'less than or equal to 1', the bound it cannot be compared with."""
    assert fault_of(**{setting: value}) == f"{setting.upper()}: Input should be a finite number"


def default_of(setting: str) -> float:
    default: float = Settings.model_fields[setting].default
    return default


def test_the_engine_s_default_decision_rule_is_the_settings_defaults() -> None:
    engine_default = inspect.signature(resolve).parameters["thresholds"].default
    assert (engine_default.match, engine_default.margin) == (
        default_of("match_threshold"),
        default_of("match_margin"),
    )
    assert Settings().thresholds() == engine_default


def test_the_readme_states_the_settings_default_thresholds() -> None:
    readme = README.read_text(encoding="utf-8")
    table = re.findall(r"\| `MATCH_THRESHOLD`, `MATCH_MARGIN` \| `([\d.]+)`, `([\d.]+)` \|", readme)
    prose = re.findall(r"`(MATCH_THRESHOLD|MATCH_MARGIN)`, default ([\d.]+)", readme)
    stated = [("MATCH_THRESHOLD", t) for t, _ in table] + [("MATCH_MARGIN", m) for _, m in table]
    stated += prose + [
        ("MATCH_THRESHOLD", t) for t in re.findall(r"lowering it below ([\d.]+)", readme)
    ]
    assert {name for name, _ in stated} == {"MATCH_THRESHOLD", "MATCH_MARGIN"}
    expected = {name: default_of(name.lower()) for name, _ in stated}
    wrong = [(name, float(value)) for name, value in stated if float(value) != expected[name]]
    assert not wrong, f"the README's defaults differ from the settings' {expected}: {wrong}"


def descriptions(node: Any, where: str = "") -> Iterator[tuple[str, str]]:
    """(where, text) of every description in an OpenAPI document."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "description" and isinstance(value, str):
                yield where, value
            else:
                yield from descriptions(value, f"{where}/{key}")
    elif isinstance(node, list):
        for position, value in enumerate(node):
            yield from descriptions(value, f"{where}/{position}")


def test_the_openapi_schema_states_the_settings_default_threshold() -> None:
    document = create_app(Settings()).openapi()
    stated = {
        where: float(number)
        for where, text in descriptions(document)
        for number in re.findall(r"MATCH_THRESHOLD, ([\d.]+)", text)
    }
    assert any(where.startswith("/paths//resolve/get/parameters/") for where in stated)
    assert {
        "/components/schemas/ResolveRequest/properties/threshold",
        "/components/schemas/AnnotateRequest/properties/threshold",
    } <= set(stated)
    assert set(stated.values()) == {default_of("match_threshold")}


def test_the_index_is_built_by_one_process_per_usable_cpu_unless_told(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("app.settings.usable_cores", lambda: 6)
    assert Settings().index_build_workers() == 6
    monkeypatch.setenv("BUILD_WORKERS", "1")
    assert Settings().index_build_workers() == 1
    assert fault_of(build_workers="0").startswith("BUILD_WORKERS:")
