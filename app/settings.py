"""Runtime configuration, read from CREDITGATE_* environment variables."""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

Scope = Literal["decide", "read", "review", "receivables", "admin"]
ALL_SCOPES: tuple[Scope, ...] = ("decide", "read", "review", "receivables", "admin")

DEFAULT_POLICY_FILE = Path(__file__).parent / "policy" / "default_policy.yaml"


class Settings(BaseSettings):
    """Everything the service reads from its environment."""

    model_config = SettingsConfigDict(env_prefix="CREDITGATE_", extra="ignore")

    database_url: str = "sqlite+aiosqlite:///./creditgate.db"
    provider: str = "simulated"
    # JSON object {"<key>": ["scope", ...]}; kept secret so it never shows in a repr or a log.
    api_keys: Annotated[SecretStr, NoDecode] = SecretStr("{}")
    policy_file: Path = DEFAULT_POLICY_FILE

    decision_budget_ms: int = Field(default=2500, ge=50, le=30_000)
    max_body_bytes: int = Field(default=256 * 1024, ge=1024)
    database_pool_size: int = Field(default=10, ge=1, le=200)

    simulated_latency_ms: int = Field(default=0, ge=0)
    simulated_failure_rate: float = Field(default=0.0, ge=0.0, le=1.0)

    # Decisions older than this are deleted by `creditgate retention purge`; audit events never are.
    decision_retention_days: int = Field(default=730, ge=1)
    # Empty: /metrics answers without a key. Otherwise the scope a key needs to scrape it.
    metrics_scope: Scope | Literal[""] = ""
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["json", "text"] = "json"

    @field_validator("api_keys")
    @classmethod
    def _api_keys_are_a_scope_map(cls, value: SecretStr) -> SecretStr:
        parse_api_keys(value.get_secret_value())
        return value

    def key_scopes(self) -> dict[str, frozenset[str]]:
        """API key → scopes, as configured."""
        return parse_api_keys(self.api_keys.get_secret_value())

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def parse_api_keys(raw: str) -> dict[str, frozenset[str]]:
    try:
        document = json.loads(raw or "{}")
    except json.JSONDecodeError as exc:
        raise ValueError(f"CREDITGATE_API_KEYS is not JSON: {exc.msg}") from None
    if not isinstance(document, dict):
        raise ValueError('CREDITGATE_API_KEYS must be a JSON object {"<key>": ["scope", ...]}')
    keys: dict[str, frozenset[str]] = {}
    for key, scopes in document.items():
        if len(key) < 16:
            raise ValueError("every API key must be at least 16 characters long")
        if not isinstance(scopes, list) or not all(scope in ALL_SCOPES for scope in scopes):
            raise ValueError(f"scopes must be a list drawn from {', '.join(ALL_SCOPES)}")
        keys[key] = frozenset(scopes)
    return keys


def key_id(api_key: str) -> str:
    """A stable, non-secret name for an API key: used in stored records and logs."""
    return "key_" + hashlib.sha256(api_key.encode()).hexdigest()[:12]


@lru_cache
def get_settings() -> Settings:
    return Settings()
