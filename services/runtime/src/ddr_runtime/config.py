"""Typed settings shared by every service, read from the environment (prefix ``DDR_``).

A service reads its own settings through :func:`service_settings`; nothing is read at import time.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from ddr_contracts.topics import CHECKPOINTS_TOPIC, events_topic

Environment = Literal["development", "test", "production"]


def project_root() -> Path:
    """The checkout's root: the folder that holds ``services/`` and ``contracts/``."""
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "services").is_dir() and (parent / "contracts").is_dir():
            return parent
    return Path.cwd()


class Settings(BaseSettings):
    """Settings of one service process."""

    model_config = SettingsConfigDict(env_prefix="DDR_", extra="ignore")

    environment: Environment = "development"
    service_name: str = "runtime"
    var_dir: Path = Field(default_factory=lambda: project_root() / "var")

    # Event store of this service. Empty: an SQLite file under var/ named after the service.
    database_url: str = ""
    # The one key store of personal-data keys that every service reaches. Empty: var/keys.sqlite.
    keystore_url: str = ""
    # Key-encryption key that wraps every subject key at rest (32 bytes, base64). A KMS replaces it in production.
    master_key: SecretStr | None = None

    kafka_bootstrap_servers: str = Field(default="127.0.0.1:9092", validation_alias="KAFKA_BOOTSTRAP_SERVERS")
    kafka_partitions: int = 6
    kafka_dlq_partitions: int = 1
    # Prefix of every topic name (``<namespace>ddr.<service>.events``): empty in a deployment; tests and
    # benchmarks that share one broker give each run its own so their events never meet.
    topic_namespace: str = ""

    # JWT verification. Ed25519 public key (PEM); development uses var/secrets/ (see ddr_runtime.auth.issuer).
    jwt_public_key: str = ""
    jwt_issuer: str = "ddr-platform"
    jwt_audience: str = "ddr-platform"

    # Facts recorded more than this many days after they happened need the records officer's role and a
    # reason (the Back-Recording-Reason header), both kept in the event.
    back_recording_window_days: int = Field(default=14, ge=0)
    # How long a stored answer to an Idempotency-Key is replayed.
    idempotency_ttl_hours: int = Field(default=24, ge=1)
    # Seconds between the signed checkpoints a service takes of its own store (the first at start); 0: none.
    audit_checkpoint_seconds: float = 3600.0

    otel_exporter_otlp_endpoint: str = Field(default="", validation_alias="OTEL_EXPORTER_OTLP_ENDPOINT")

    @model_validator(mode="after")
    def _production_refuses_defaults(self) -> Settings:
        if self.environment == "production":
            if self.master_key is None:
                raise ValueError("DDR_MASTER_KEY must be set in production")
            if not self.jwt_public_key:
                raise ValueError("DDR_JWT_PUBLIC_KEY must be set in production")
            if not self.database_url or self.database_url.startswith("sqlite"):
                raise ValueError("production needs a PostgreSQL DDR_DATABASE_URL")
        return self

    def store_url(self) -> str:
        """SQLAlchemy async URL of this service's event store."""
        if self.database_url:
            return to_async_url(self.database_url)
        return f"sqlite+aiosqlite:///{self.var_dir / 'stores' / f'{self.service_name}.sqlite'}"

    def events_topic(self, service: str) -> str:
        """The event topic of ``service`` as this process names it (with the topic namespace)."""
        return self.topic_namespace + events_topic(service)

    def checkpoints_topic(self) -> str:
        """The topic every service publishes its store checkpoints to (with the topic namespace)."""
        return self.topic_namespace + CHECKPOINTS_TOPIC

    def keys_url(self) -> str:
        if self.keystore_url:
            return to_async_url(self.keystore_url)
        return f"sqlite+aiosqlite:///{self.var_dir / 'stores' / 'keys.sqlite'}"


def to_async_url(url: str) -> str:
    """Accept plain ``postgresql://`` and ``sqlite://`` URLs and name the async driver."""
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+asyncpg://" + url.split("://", 1)[1]
    if url.startswith("sqlite://") and "+aiosqlite" not in url:
        return "sqlite+aiosqlite://" + url.split("://", 1)[1]
    return url


def service_settings(service_name: str, **overrides: object) -> Settings:
    """Settings for ``service_name``; per-service environment (``DDR_<SERVICE>_DATABASE_URL``) wins."""
    import os

    prefix = f"DDR_{service_name.upper()}_"
    scoped = {
        key[len(prefix) :].lower(): value for key, value in os.environ.items() if key.startswith(prefix)
    }
    values: dict[str, object] = {"service_name": service_name, **scoped, **overrides}
    return Settings(**values)  # type: ignore[arg-type]
