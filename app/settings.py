"""Configuration, read once from the environment (see README: Configuration)."""

import re
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from app.matching.derived_forms import usable_cores
from app.matching.resolve import DEFAULT_THRESHOLDS, Thresholds
from app.models.fields import CONTROL_CHARACTERS
from app.resources import SHIPPED_ALIASES_FILE

# The editor whose token is ADMIN_TOKEN.
ADMIN_EDITOR = "admin"
MAX_EDITOR_NAME_LENGTH = 64
# Names are what history records and filters by: no white space, and neither
# of the list's separators.
EDITOR_NAME_PATTERN = rf"^[^\s,:{CONTROL_CHARACTERS}]{{1,{MAX_EDITOR_NAME_LENGTH}}}$"
_EDITOR_NAME = re.compile(EDITOR_NAME_PATTERN)
# serve's default listen address; `serve --host/--port` puts its own in its place.
DEFAULT_PUBLIC_URL = "http://127.0.0.1:8000/"
# Processes one setting or option may ask for, at most: more than any machine
# here has cores, and a typo (100000) is refused instead of forking them.
MAX_WORKERS = 256


class Settings(BaseSettings):
    # Numbers must be finite: NaN would be refused by whichever bound it is
    # first compared with, and named by it.
    model_config = SettingsConfigDict(env_file=None, extra="ignore", allow_inf_nan=False)

    database_url: str = Field(
        default="sqlite:///alias-service.db",
        description="SQLAlchemy URL; the default is a SQLite file in the working directory.",
    )
    admin_token: SecretStr | None = Field(
        default=None,
        description=f"Bearer token for /admin, of the editor {ADMIN_EDITOR!r}; "
        "without it or ADMIN_TOKENS /admin stays closed.",
    )
    admin_tokens: Annotated[dict[str, SecretStr], NoDecode] = Field(
        default_factory=dict,
        description="More editors' bearer tokens, 'name:token,name:token'; history records "
        "the name.",
    )
    aliases_file: Path = Field(
        default=SHIPPED_ALIASES_FILE, description="Alias file loaded into an empty database."
    )
    index_snapshot: Path | None = Field(
        default=None,
        description="File that keeps the built index, so a restart on the same table reads it.",
    )
    build_workers: int | None = Field(
        default=None,
        ge=1,
        le=MAX_WORKERS,
        description="Processes that build the index of a large table; the default is one "
        "per usable CPU, 1 builds it in the serving process alone.",
    )
    refresh_interval: float = Field(
        default=0.25, gt=0, le=1.0, description="Seconds between checks for others' edits."
    )
    # The engine's defaults: the decision rule's numbers are written in one place.
    match_threshold: float = Field(
        default=DEFAULT_THRESHOLDS.match,
        ge=0,
        le=1,
        description="Score an entity needs for 'matched'.",
    )
    match_margin: float = Field(
        default=DEFAULT_THRESHOLDS.margin,
        ge=0,
        le=1,
        description="By how much it must beat the runner-up.",
    )
    database_wait: float = Field(
        default=60.0,
        ge=0,
        description="Seconds `serve` waits, trying again, for a database that is not reachable.",
    )
    write_check_interval: float = Field(
        default=5.0, ge=0, description="Seconds /readyz reuses its last check that writes work."
    )
    ready_lag_intervals: float = Field(
        default=3.0,
        ge=1,
        description="Refresh intervals the index may miss others' edits before /readyz fails.",
    )
    ready_lag_floor: float = Field(
        default=2.0,
        ge=0,
        description="Seconds the index may always lag, or its refreshes fail, before "
        "/readyz fails.",
    )
    ready_refresh_limit: float = Field(
        default=600.0,
        gt=0,
        description="Seconds one rebuild of the whole index (after a large replace import "
        "elsewhere, or a compaction) may run before /readyz counts it as stalled.",
    )
    max_body_bytes: int = Field(
        default=1 << 20, ge=1, description="Largest request body, but imports."
    )
    max_import_bytes: int = Field(
        default=64 << 20, ge=1, description="Largest alias file accepted."
    )
    max_batch_bytes: int = Field(
        default=8 << 20, ge=1, description="Largest POST /annotate/batch body."
    )
    request_time_budget: float = Field(
        default=10.0,
        gt=0,
        description="Seconds of matching work one request may take; past them it answers 503.",
    )
    keep_alive_timeout: int = Field(
        default=5, ge=1, description="Seconds an idle keep-alive connection is kept open."
    )
    limit_concurrency: int = Field(
        default=256, ge=1, description="Connections and requests per worker; past them 503."
    )
    header_timeout: float = Field(
        default=10.0, gt=0, description="Seconds a request's headers may take to arrive."
    )
    body_timeout: float = Field(
        default=60.0, gt=0, description="Seconds a request's body may take to arrive."
    )
    max_header_bytes: int = Field(
        default=32 << 10, ge=1024, description="Largest request line and headers; past it 431."
    )

    public_url: str = Field(
        default=DEFAULT_PUBLIC_URL,
        pattern=r"^https?://[^\s/?#]+(/[^\s?#]*)?$",
        description="The service's public base URL: reconciliation identifiers and links "
        "start with it. `serve` defaults it to its listen address.",
    )

    review_flush_interval: float = Field(
        default=5.0,
        gt=0,
        le=3600,
        description="Seconds between writes of the review queue's counts.",
    )
    review_max_forms: int = Field(
        default=10_000,
        ge=1,
        description="Distinct unresolved mentions a worker counts between two writes.",
    )

    @field_validator("admin_token", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: Any) -> Any:
        # ADMIN_TOKEN="" (a template's empty default) means no token, not an
        # empty one: admin stays closed, and the start-up warning says so.
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("public_url")
    @classmethod
    def _ends_with_slash(cls, value: str) -> str:
        # Links are the base URL and a relative path: "https://x/refine" + "entities/".
        return value if value.endswith("/") else value + "/"

    @field_validator("admin_tokens", mode="before")
    @classmethod
    def _named_tokens(cls, value: Any) -> Any:
        return parse_named_tokens(value) if isinstance(value, str) else value

    @model_validator(mode="after")
    def _one_editor_per_name_and_token(self) -> "Settings":
        if self.admin_token is not None and ADMIN_EDITOR in self.admin_tokens:
            raise ValueError(
                f"ADMIN_TOKENS names the editor {ADMIN_EDITOR!r}, whose token is ADMIN_TOKEN"
            )
        seen: dict[str, str] = {}
        for name, token in self.editor_tokens().items():
            other = seen.setdefault(token.get_secret_value(), name)
            if other != name:  # the token would not say which of them made a change
                raise ValueError(f"the editors {other!r} and {name!r} have the same token")
        return self

    def thresholds(self) -> Thresholds:
        """The decision rule that ``MATCH_THRESHOLD`` and ``MATCH_MARGIN`` set."""
        return Thresholds(match=self.match_threshold, margin=self.match_margin)

    def index_build_workers(self) -> int:
        """``BUILD_WORKERS``, or the CPUs this process may use."""
        return self.build_workers or usable_cores()

    def lag_allowance(self) -> float:
        """Seconds this process's index may miss other processes' edits and still be ready."""
        return max(self.ready_lag_intervals * self.refresh_interval, self.ready_lag_floor)

    def listening_at(self, host: str, port: int) -> "Settings":
        """These settings with ``PUBLIC_URL`` defaulting to the listen address
        (a wildcard address is reached through the loopback one)."""
        if "public_url" in self.model_fields_set:
            return self
        reachable = {"0.0.0.0": "127.0.0.1", "::": "[::1]"}.get(host, host)
        if ":" in reachable and not reachable.startswith("["):
            reachable = f"[{reachable}]"
        return self.model_copy(update={"public_url": f"http://{reachable}:{port}/"})

    def editor_tokens(self) -> dict[str, SecretStr]:
        """Every editor's token by name, ADMIN_TOKEN's as the editor ``admin``."""
        named = dict(self.admin_tokens)
        if self.admin_token is not None:
            named[ADMIN_EDITOR] = self.admin_token
        return named


def parse_named_tokens(text: str) -> dict[str, SecretStr]:
    """``name:token,name:token`` by name; a blank text is no editor.

    The messages name the entry by its position and name, never its token.
    """
    if not text.strip():
        return {}
    tokens: dict[str, SecretStr] = {}
    for position, entry in enumerate(text.split(","), start=1):
        name, colon, token = (part.strip() for part in entry.partition(":"))
        if not colon:
            raise ValueError(f"entry {position} is not 'name:token'")
        if not _EDITOR_NAME.fullmatch(name):
            raise ValueError(
                f"entry {position}: an editor's name is 1 to {MAX_EDITOR_NAME_LENGTH} characters "
                "without white space, ',' or ':'"
            )
        if not token:
            raise ValueError(f"entry {position} ({name!r}) has an empty token")
        if name in tokens:
            raise ValueError(f"entry {position} repeats the editor name {name!r}")
        tokens[name] = SecretStr(token)
    return tokens


def configuration_fault(error: ValidationError) -> str:
    """One line naming each setting that is wrong, without the values (they may be tokens)."""
    faults = []
    for fault in error.errors():
        setting = "_".join(str(part) for part in fault["loc"]).upper()
        message = fault["msg"].removeprefix("Value error, ")
        faults.append(f"{setting}: {message}" if setting else message)
    return "; ".join(faults)
