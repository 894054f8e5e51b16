"""Typed settings shared by every service, read from the environment (prefix ``DDR_``).

A service reads its own settings through :func:`service_settings`; nothing is read at import time.
Production is the default: a process that is not told ``DDR_ENVIRONMENT=development`` (or ``test``) refuses
to start with development conveniences (a signing key minted on the spot, a key store on a local file, a
known development key); ``make``, the native stack and the test kit say ``development`` explicitly.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from ddr_contracts.topics import CHECKPOINTS_TOPIC, events_topic

Environment = Literal["development", "test", "production"]

# The key-encryption key docker-compose.yml once printed for laptops ("DEV-ONLY-DDR-MASTER-KEY-PUBLIC!!"):
# public, so never acceptable where real people's data is kept.
COMPOSE_DEVELOPMENT_MASTER_KEY = "REVWLU9OTFktRERSLU1BU1RFUi1LRVktUFVCTElDISE="


def project_root() -> Path:
    """The checkout's root: the folder that holds ``services/`` and ``contracts/``."""
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "services").is_dir() and (parent / "contracts").is_dir():
            return parent
    return Path.cwd()


class KafkaSettings(BaseSettings):
    """Where the broker is and how topics are laid out: all a topic administrator needs to know."""

    model_config = SettingsConfigDict(env_prefix="DDR_", extra="ignore")

    kafka_bootstrap_servers: str = Field(default="127.0.0.1:9092", validation_alias="KAFKA_BOOTSTRAP_SERVERS")
    kafka_partitions: int = 6
    kafka_dlq_partitions: int = 1
    # Prefix of every topic name (``<namespace>ddr.<service>.events``): empty in a deployment; tests and
    # benchmarks that share one broker give each run its own so their events never meet.
    topic_namespace: str = ""


class PlatformSettings(BaseSettings):
    """What every process of the platform shares: its environment, folder, token rules and telemetry."""

    model_config = SettingsConfigDict(env_prefix="DDR_", extra="ignore")

    environment: Environment = "production"
    service_name: str = "runtime"
    var_dir: Path = Field(default_factory=lambda: project_root() / "var")

    # JWT verification. Ed25519 public key (PEM); development uses var/secrets/ (see ddr_runtime.auth.issuer).
    jwt_public_key: str = ""
    jwt_issuer: str = "ddr-platform"
    jwt_audience: str = "ddr-platform"
    # A token whose lifetime (exp - iat) is longer than this is refused, whoever signed it.
    jwt_max_lifetime_hours: float = Field(default=12.0, gt=0, le=24 * 7)
    # Revoked token ids and subjects are fetched from the key service this often; when the list is older
    # than the staleness bound (the key service cannot be reached), every bearer token is refused (503).
    revocation_refresh_seconds: float = Field(default=5.0, gt=0)
    revocation_max_staleness_seconds: float = Field(default=60.0, gt=0)

    # The largest request body a route takes unless it declares its own bound (``body_limit``): 413 beyond.
    max_body_bytes: int = Field(default=2 * 1024 * 1024, gt=0)

    otel_exporter_otlp_endpoint: str = Field(default="", validation_alias="OTEL_EXPORTER_OTLP_ENDPOINT")

    @property
    def is_development(self) -> bool:
        """Development or automated tests: the only places development conveniences are allowed."""
        return self.environment != "production"


class Settings(PlatformSettings, KafkaSettings):
    """Settings of one service process."""

    model_config = SettingsConfigDict(env_prefix="DDR_", extra="ignore")

    # Event store of this service. Empty: an SQLite file under var/ named after the service.
    database_url: str = ""
    # Personal-data keys. Production: the key service (``ddr keys serve``, its own process holding the
    # key-encryption key), reached over HTTPS with this service's own credential. Development and tests
    # only: a key store opened in process (``keystore_url``, default var/stores/keys.sqlite) under
    # ``master_key`` (default: a development key in var/secrets).
    key_service_url: str = ""
    key_service_credential: SecretStr | None = None
    # A file holding the credential (a mounted secret); read when key_service_credential is not set.
    key_service_credential_file: Path | None = None
    # CA bundle that signed the key service's TLS certificate (default: the system's).
    key_service_ca_file: Path | None = None
    keystore_url: str = ""
    master_key: SecretStr | None = None
    # How long an unwrapped subject key stays in this process's memory: an erasure or a revoked credential
    # takes effect here within this bound.
    key_cache_seconds: float = Field(default=30.0, ge=0)

    # Facts recorded more than this many days after they happened need the records officer's role and a
    # reason (the Back-Recording-Reason header), both kept in the event.
    back_recording_window_days: int = Field(default=14, ge=0)
    # How long a stored answer to an Idempotency-Key is replayed.
    idempotency_ttl_hours: int = Field(default=24, ge=1)
    # Seconds between the signed checkpoints a service takes of its own store (the first at start); 0: none.
    audit_checkpoint_seconds: float = 3600.0
    # How long each /readyz probe (store, Kafka...) may take before it counts as failed; keep the
    # orchestrator's probe timeout above it.
    readiness_timeout_seconds: float = Field(default=2.0, gt=0)

    @field_validator(
        "key_service_credential_file", "key_service_ca_file", "key_service_credential", mode="before"
    )
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        # Compose passes an unset variable as an empty string (``${DDR_KEY_SERVICE_CA_FILE:-}``).
        return None if isinstance(value, str) and not value.strip() else value

    @model_validator(mode="after")
    def _production_refuses_defaults(self) -> Settings:
        if self.environment == "production":
            problems = production_problems(self)
            if problems:
                raise ValueError("refused in production: " + "; ".join(problems))
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
        """The in-process key store's URL (development and tests only; production uses the key service)."""
        if self.keystore_url:
            return to_async_url(self.keystore_url)
        return f"sqlite+aiosqlite:///{self.var_dir / 'stores' / 'keys.sqlite'}"

    def key_credential(self) -> str:
        """This service's credential for the key service: the setting, else the file it names, else ''."""
        if self.key_service_credential is not None:
            return self.key_service_credential.get_secret_value().strip()
        if self.key_service_credential_file is not None:
            return self.key_service_credential_file.read_text().strip()
        return ""


def token_key_problems(settings: PlatformSettings) -> list[str]:
    """What is wrong with the token-verification key for production (empty when nothing is)."""
    if not settings.jwt_public_key:
        return ["DDR_JWT_PUBLIC_KEY must name the identity provider's public key"]
    if _public_key_text(settings.jwt_public_key) in development_public_keys(settings.var_dir):
        return ["DDR_JWT_PUBLIC_KEY is the development key pair's public key"]
    return []


def production_problems(settings: Settings) -> list[str]:
    """What keeps ``settings`` from being safe for real people's data (empty when nothing does)."""
    problems = token_key_problems(settings)
    if not settings.database_url or settings.database_url.startswith("sqlite"):
        problems.append("DDR_DATABASE_URL must be a PostgreSQL URL")
    if not settings.key_service_url:
        problems.append("DDR_KEY_SERVICE_URL must name the key service (no local key store in production)")
    elif urlsplit(settings.key_service_url).scheme != "https":
        problems.append("DDR_KEY_SERVICE_URL must be https:// (subject keys cross that connection)")
    if settings.key_service_credential is None and settings.key_service_credential_file is None:
        problems.append("DDR_KEY_SERVICE_CREDENTIAL(_FILE) must hold this service's own credential")
    if settings.master_key is not None or settings.keystore_url:
        problems.append(
            "DDR_MASTER_KEY and DDR_KEYSTORE_URL belong to the key service alone, never to a service"
        )
    return problems


def development_key_material(var_dir: Path) -> set[bytes]:
    """Every key a development setup is known to use: the one Compose printed, and whatever lies under
    ``var/secrets`` (raw and base64-decoded), so none of them can pass for a production key."""
    known = {base64.b64decode(COMPOSE_DEVELOPMENT_MASTER_KEY)}
    folder = var_dir / "secrets"
    if folder.is_dir():
        for path in folder.rglob("*"):
            if path.is_file():
                raw = path.read_bytes().strip()
                known.add(raw)
                known.update(_decoded(raw))
    return known


def development_public_keys(var_dir: Path) -> set[str]:
    """The development public keys (PEM text) found under ``var/secrets``."""
    folder = var_dir / "secrets"
    if not folder.is_dir():
        return set()
    return {
        path.read_text().strip()
        for path in folder.rglob("*.pem")
        if path.is_file() and "PUBLIC KEY" in path.read_text(errors="replace")
    }


def is_development_key(key: bytes, var_dir: Path) -> bool:
    return key in development_key_material(var_dir)


def _decoded(raw: bytes) -> Iterable[bytes]:
    try:
        yield base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        return


def _public_key_text(configured: str) -> str:
    text = configured.strip()
    if text.startswith("-----BEGIN"):
        return text
    path = Path(text)
    return path.read_text().strip() if path.is_file() else text


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
