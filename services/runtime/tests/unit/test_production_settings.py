"""Production is the safe path: it is the default, and it refuses every development convenience."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pydantic import SecretStr, ValidationError

from ddr_runtime.auth.issuer import DevelopmentTokenIssuer, public_key_pem
from ddr_runtime.config import COMPOSE_DEVELOPMENT_MASTER_KEY, Settings
from ddr_runtime.crypto.keystore import load_or_create_master_key
from ddr_runtime.keyservice.settings import KeyServiceSettings

PUBLIC_KEY = public_key_pem(Ed25519PrivateKey.generate().public_key()).decode()


def production(tmp_path: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "environment": "production",
        "var_dir": tmp_path,
        "database_url": "postgresql://ddr@db/ddr_registration",
        "jwt_public_key": PUBLIC_KEY,
        "key_service_url": "https://keys.internal:8443",
        "key_service_credential": SecretStr("ddrk.0123.secret"),
        **overrides,
    }
    return Settings(**values)  # type: ignore[arg-type]


def key_service(tmp_path: Path, **overrides: object) -> KeyServiceSettings:
    values: dict[str, object] = {
        "environment": "production",
        "var_dir": tmp_path,
        "keys_database_url": "postgresql://keys@db/ddr_keys",
        "jwt_public_key": PUBLIC_KEY,
        "keys_kek": SecretStr(base64.b64encode(os.urandom(32)).decode()),
        **overrides,
    }
    return KeyServiceSettings(**values)  # type: ignore[arg-type]


def test_the_environment_is_production_unless_told_otherwise(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DDR_ENVIRONMENT", raising=False)

    with pytest.raises(ValidationError, match="refused in production"):
        Settings()


def test_a_complete_production_configuration_is_accepted(tmp_path: Path) -> None:
    assert production(tmp_path).environment == "production"


def test_production_refuses_a_local_key_store(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="DDR_KEY_SERVICE_URL must name the key service"):
        production(tmp_path, key_service_url="")


def test_production_refuses_a_service_holding_the_key_encryption_key(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="belong to the key service alone"):
        production(tmp_path, master_key=SecretStr(base64.b64encode(os.urandom(32)).decode()))


def test_production_refuses_the_key_service_over_plain_http(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="must be https"):
        production(tmp_path, key_service_url="http://keys:8000")


def test_production_refuses_a_service_without_its_own_key_credential(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="own credential"):
        production(tmp_path, key_service_credential=None)


def test_production_refuses_the_development_token_public_key(tmp_path: Path) -> None:
    development = DevelopmentTokenIssuer.from_settings(Settings(environment="development", var_dir=tmp_path))

    with pytest.raises(ValidationError, match="development key pair"):
        production(tmp_path, jwt_public_key=development.public_key_pem.decode())


def test_the_key_service_refuses_the_master_key_compose_printed(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="development key-encryption key"):
        key_service(tmp_path, keys_kek=SecretStr(COMPOSE_DEVELOPMENT_MASTER_KEY))


def test_the_key_service_refuses_a_key_found_under_var_secrets(tmp_path: Path) -> None:
    development_kek = load_or_create_master_key(tmp_path / "secrets" / "master.key")

    with pytest.raises(ValidationError, match="development key-encryption key"):
        key_service(tmp_path, keys_kek=SecretStr(base64.b64encode(development_kek).decode()))


def test_the_key_service_refuses_a_development_key_among_the_previous_ones(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="development key-encryption key"):
        key_service(tmp_path, keys_previous_keks=SecretStr(COMPOSE_DEVELOPMENT_MASTER_KEY))


def test_the_key_service_refuses_to_run_without_a_key_encryption_key(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="DDR_KEYS_KEK must hold"):
        key_service(tmp_path, keys_kek=None)


def test_the_key_service_refuses_a_local_sqlite_store_in_production(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="DDR_KEYS_DATABASE_URL must be a PostgreSQL URL"):
        key_service(tmp_path, keys_database_url="")


def test_the_development_key_service_makes_its_key_under_var_secrets(tmp_path: Path) -> None:
    settings = KeyServiceSettings(environment="development", var_dir=tmp_path)

    ring = settings.key_ring()

    assert (tmp_path / "secrets" / "master.key").exists()
    assert ring.ids == [settings.key_ring().current_id]


def test_an_empty_variable_for_the_key_service_files_means_unset(tmp_path: Path) -> None:
    settings = Settings(
        environment="development", var_dir=tmp_path, key_service_ca_file="", key_service_credential_file=""
    )

    assert (settings.key_service_ca_file, settings.key_service_credential_file) == (None, None)
