"""Configuration, read once from the environment (see README: Configuration)."""

from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from app.resources import SHIPPED_ALIASES_FILE


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=None, extra="ignore")

    database_url: str = Field(
        default="sqlite:///alias-service.db",
        description="SQLAlchemy URL; the default is a SQLite file in the working directory.",
    )
    admin_token: SecretStr | None = Field(
        default=None, description="Bearer token for /admin; without it /admin stays closed."
    )
    aliases_file: Path = Field(
        default=SHIPPED_ALIASES_FILE, description="Alias file loaded into an empty database."
    )
    index_snapshot: Path | None = Field(
        default=None,
        description="File that keeps the built index, so a restart on the same table reads it.",
    )
    refresh_interval: float = Field(
        default=0.25, gt=0, le=1.0, description="Seconds between checks for others' edits."
    )
    match_threshold: float = Field(
        default=0.85, ge=0, le=1, description="Score an entity needs for 'matched'."
    )
    match_margin: float = Field(
        default=0.04, ge=0, le=1, description="By how much it must beat the runner-up."
    )
    database_wait: float = Field(
        default=60.0,
        ge=0,
        description="Seconds `serve` waits, trying again, for a database that is not reachable.",
    )
    write_check_interval: float = Field(
        default=5.0, ge=0, description="Seconds /readyz reuses its last check that writes work."
    )
    max_body_bytes: int = Field(default=1 << 20, description="Largest request body, but imports.")
    max_import_bytes: int = Field(default=64 << 20, description="Largest alias file accepted.")
    max_batch_bytes: int = Field(default=8 << 20, description="Largest POST /annotate/batch body.")
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

    @field_validator("admin_token", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: Any) -> Any:
        # ADMIN_TOKEN="" (a template's empty default) means no token, not an
        # empty one: admin stays closed, and the start-up warning says so.
        return None if isinstance(value, str) and not value.strip() else value
