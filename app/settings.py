"""Runtime configuration, read from CREDITGATE_* environment variables."""

from __future__ import annotations

import hashlib
import ipaddress
import json
import re
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

Scope = Literal["decide", "read", "review", "receivables", "sales", "admin"]
ALL_SCOPES: tuple[Scope, ...] = ("decide", "read", "review", "receivables", "sales", "admin")

DEFAULT_POLICY_FILE = Path(__file__).parent / "policy" / "default_policy.yaml"


class Settings(BaseSettings):
    """Everything the service reads from its environment."""

    model_config = SettingsConfigDict(env_prefix="CREDITGATE_", extra="ignore")

    database_url: str = "sqlite+aiosqlite:///./creditgate.db"
    # One provider, or a chain "primary,fallback,...": a built-in name or `package.module:Factory`.
    provider: str = "simulated"
    # JSON object {"<key>" or "sha256:<hex digest>": ["scope", ...]}; kept secret so it never shows in a log.
    api_keys: Annotated[SecretStr, NoDecode] = SecretStr("{}")
    policy_file: Path = DEFAULT_POLICY_FILE

    decision_budget_ms: int = Field(default=2500, ge=50, le=30_000)
    max_body_bytes: int = Field(default=256 * 1024, ge=1024)
    database_pool_size: int = Field(default=10, ge=1, le=200)
    # How long a request waits for a pooled connection under load before it answers 503.
    database_pool_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    # How long a request waits for SQLite's write lock before it answers 503 (fail fast, never hang).
    sqlite_busy_timeout_ms: int = Field(default=5000, ge=100, le=60_000)
    # FULL: a commit is on disk before the decision is answered, power loss included; NORMAL (WAL) survives a
    # crash of the process but may lose the last commits on power loss. Group commit makes FULL cheap.
    sqlite_synchronous: Literal["FULL", "NORMAL"] = "FULL"
    # A SQLite file's WAL is copied back into the database in the background at most this often, instead of
    # inside whichever commit fills the log (whose decision would wait for it); 0 leaves it to the commits.
    sqlite_checkpoint_interval_ms: int = Field(default=100, ge=0, le=60_000)
    # PostgreSQL: the server cancels a statement after this long, and the client gives up a second later when
    # the server does not answer at all (a partition); the request answers 503. 0 turns both off.
    database_statement_timeout_seconds: float = Field(default=10.0, ge=0, le=3600)
    database_connect_timeout_seconds: float = Field(default=5.0, gt=0, le=120)
    # Exports and what-if replays running at once per process, each on a connection of their own pool; more
    # wait this long for a turn, then get 503 with Retry-After, so the decision path keeps its latency.
    heavy_read_concurrency: int = Field(default=2, ge=1, le=64)
    heavy_read_queue_seconds: float = Field(default=2.0, ge=0, le=120)

    # Credit reserved for an order and not shipped stops counting after this many days.
    reservation_expiry_days: int = Field(default=30, ge=1, le=365)
    # Idempotency records are kept at least this long; an in-flight claim is taken over after its lease.
    idempotency_retention_hours: int = Field(default=24, ge=24, le=24 * 90)
    idempotency_lease_seconds: int = Field(default=60, ge=5, le=3600)
    # The receivables batch takes far larger bodies than any other route.
    max_batch_body_bytes: int = Field(default=16 * 1024 * 1024, ge=1024)
    max_batch_invoices: int = Field(default=20_000, ge=1, le=100_000)

    # Decisions (which may buy a report) per API key per window, counted in the database; 0 turns it off.
    # 6,000 a minute (100/s): ten times a busy B2B checkout's peak, so a real checkout is never refused, while a
    # client stuck in a retry loop is stopped within the minute (README, "Configuration").
    decision_rate_limit: int = Field(default=6000, ge=0)
    decision_rate_window_seconds: int = Field(default=60, ge=1, le=3600)

    simulated_latency_ms: int = Field(default=0, ge=0)
    simulated_failure_rate: float = Field(default=0.0, ge=0.0, le=1.0)

    # Resilience around every provider call (all inside the decision budget).
    provider_timeout_ms: int = Field(default=1500, ge=10, le=30_000)
    provider_retries: int = Field(default=2, ge=0, le=5)
    provider_max_concurrency: int = Field(default=16, ge=1, le=1000)
    provider_breaker_failures: int = Field(default=5, ge=1, le=1000)
    provider_breaker_reset_seconds: float = Field(default=30.0, gt=0, le=3600)
    provider_stale_max_days: int = Field(default=365, ge=0, le=3650)

    creditsafe_base_url: str = "https://connect.sandbox.creditsafe.com/v1"
    creditsafe_username: str = ""
    creditsafe_password: SecretStr = SecretStr("")
    creditsafe_report_cost: Decimal = Field(default=Decimal("10.00"), ge=0)
    creditsafe_cost_currency: str = Field(default="EUR", pattern=r"^[A-Z]{3}$")

    # Portfolio monitoring: the in-process scheduler runs a pass this often (0: off, use `creditgate monitor`).
    monitor_interval_seconds: int = Field(default=0, ge=0, le=7 * 24 * 3600)
    monitor_budget: int = Field(default=50, ge=0, le=100_000)  # paid report calls per pass at most
    monitor_recent_days: int = Field(default=90, ge=1, le=3650)  # "recent orders": decided within this

    # Webhooks: the dispatcher runs this often (0: off, use `creditgate webhooks dispatch`).
    webhooks_dispatch_interval_seconds: float = Field(default=2.0, ge=0, le=3600)
    webhooks_max_attempts: int = Field(default=12, ge=1, le=100)
    webhooks_backoff_base_seconds: float = Field(default=10.0, ge=0, le=3600)
    webhooks_backoff_max_seconds: float = Field(default=6 * 3600, ge=0, le=7 * 24 * 3600)
    webhooks_timeout_seconds: float = Field(default=10.0, gt=0, le=60)
    # Off in production: subscriptions to loopback, private or link-local addresses are refused.
    webhooks_allow_private_targets: bool = False

    insurer_limits_risk_class: Literal["A", "B", "C", "D", "E"] = "B"
    # The credit insurer that limit requests go to: "none", "http" (the JSON protocol of docs/insurance.md)
    # or `package.module:Factory`.
    insurer: str = "none"
    insurer_base_url: str = ""
    insurer_api_key: SecretStr = SecretStr("")
    insurer_timeout_ms: int = Field(default=5000, ge=10, le=60_000)

    # Signs the console's session cookies; unset, each process draws its own (sessions end at a restart,
    # and replicas behind a load balancer need one shared value).
    console_secret: SecretStr | None = None
    console_session_minutes: int = Field(default=480, ge=5, le=24 * 60)
    # "auto": the cookie is Secure when the request came over https (set it to "always" behind a TLS proxy).
    console_secure_cookie: Literal["auto", "always", "never"] = "auto"
    # Who each key is, for people: JSON {"key_<12 hex>": "Anna de Vries"}; the console and its review history
    # show the name, and the key id where none is configured (`creditgate keys new` prints a key's id).
    key_names: dict[str, str] = Field(default_factory=dict)

    @property
    def provider_chain(self) -> list[str]:
        """The configured providers, primary first."""
        return [name.strip() for name in self.provider.split(",") if name.strip()]

    # Decisions older than this are deleted by `creditgate retention purge`; audit events never are.
    decision_retention_days: int = Field(default=730, ge=1)
    # Empty: /metrics answers without a key. Otherwise the scope a key needs to scrape it.
    metrics_scope: Scope | Literal[""] = ""
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["json", "text"] = "json"
    # The reverse proxies whose X-Forwarded-For and X-Forwarded-Proto are believed (IPs or networks, or "*");
    # empty: those headers are ignored, the peer's address and scheme are what the app sees.
    trusted_proxies: str = ""

    @field_validator("trusted_proxies")
    @classmethod
    def _trusted_proxies_are_addresses(cls, value: str) -> str:
        for entry in (part.strip() for part in value.split(",")):
            if entry in ("", "*"):
                continue
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ValueError(f"{entry!r} is not an IP address or network (e.g. 10.0.0.0/8), nor *") from None
        return ",".join(part.strip() for part in value.split(",") if part.strip())

    @field_validator("key_names")
    @classmethod
    def _key_names_name_key_ids(cls, value: dict[str, str]) -> dict[str, str]:
        for key, name in value.items():
            if not KEY_ID.fullmatch(key):
                raise ValueError(f"{key!r} is not a key id (key_ and 12 hex digits, as in the audit log)")
            if not name.strip() or len(name) > 100 or any(not char.isprintable() for char in name):
                raise ValueError(f"the name of {key} must be 1 to 100 printable characters")
        return {key: name.strip() for key, name in value.items()}

    @field_validator("api_keys")
    @classmethod
    def _api_keys_are_a_scope_map(cls, value: SecretStr) -> SecretStr:
        parse_api_keys(value.get_secret_value())
        return value

    def key_scopes(self) -> dict[str, frozenset[str]]:
        """API key (or its `sha256:` digest) → scopes, as configured."""
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
        if key.startswith(DIGEST_PREFIX):
            if not DIGEST.fullmatch(key):
                raise ValueError("a key digest is sha256: and 64 lowercase hex digits (see `creditgate keys new`)")
        elif len(key) < 16:
            raise ValueError("every API key must be at least 16 characters long")
        if not isinstance(scopes, list) or not all(scope in ALL_SCOPES for scope in scopes):
            raise ValueError(f"scopes must be a list drawn from {', '.join(ALL_SCOPES)}")
        keys[key] = frozenset(scopes)
    return keys


DIGEST_PREFIX = "sha256:"
DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
KEY_ID = re.compile(r"key_[0-9a-f]{12}")


def key_digest(api_key: str) -> str:
    """How CREDITGATE_API_KEYS may hold a key without its plain text: `sha256:<hex>`."""
    return DIGEST_PREFIX + hashlib.sha256(api_key.encode()).hexdigest()


def key_id(api_key: str) -> str:
    """A stable, non-secret name for an API key, the same for the key and its digest: in records and logs."""
    digest = api_key if DIGEST.fullmatch(api_key) else key_digest(api_key)
    return "key_" + digest.removeprefix(DIGEST_PREFIX)[:12]


@lru_cache
def get_settings() -> Settings:
    return Settings()
