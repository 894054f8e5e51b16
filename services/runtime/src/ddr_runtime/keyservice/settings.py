"""Settings of the key service process (``DDR_KEYS_*`` beside the platform's ``DDR_*``)."""

from __future__ import annotations

import base64
from pathlib import Path

from pydantic import Field, SecretStr, model_validator

from ddr_runtime.config import PlatformSettings, development_key_material, to_async_url, token_key_problems
from ddr_runtime.crypto.keystore import KEY_BYTES, KeyRing, load_or_create_master_key


class KeyServiceSettings(PlatformSettings):
    """The key service's own settings: its store, its KEKs, its batch bound."""

    service_name: str = "keys"
    # The subject-key store. Empty (development only): var/stores/keys.sqlite.
    keys_database_url: str = ""
    # The KEK wrapping every new subject key (32 bytes, base64). Development: var/secrets/master.key.
    keys_kek: SecretStr | None = None
    # KEKs being rotated out, comma-separated: they still unwrap until `ddr keys rotate` re-wraps their keys.
    keys_previous_keks: SecretStr | None = None
    # The most subjects one call may name.
    keys_max_batch: int = Field(default=5000, ge=1, le=50_000)
    keys_cache_seconds: float = Field(default=30.0, ge=0)

    @model_validator(mode="after")
    def _production_refuses_defaults(self) -> KeyServiceSettings:
        # An empty variable (Compose's ``${DDR_KEYS_KEK:-}``) means unset.
        for name in ("keys_kek", "keys_previous_keks"):
            value = getattr(self, name)
            if value is not None and not value.get_secret_value().strip():
                object.__setattr__(self, name, None)
        if self.environment == "production":
            problems = self.production_problems()
            if problems:
                raise ValueError("refused in production: " + "; ".join(problems))
        return self

    def production_problems(self) -> list[str]:
        problems = token_key_problems(self)
        if not self.keys_database_url or self.keys_database_url.startswith("sqlite"):
            problems.append("DDR_KEYS_DATABASE_URL must be a PostgreSQL URL")
        if self.keys_kek is None:
            problems.append("DDR_KEYS_KEK must hold the key-encryption key")
        else:
            known = development_key_material(self.var_dir)
            keks = [self._decode(self.keys_kek.get_secret_value()), *self._previous()]
            if any(kek in known for kek in keks):
                problems.append("a development key-encryption key (Compose's, or one under var/secrets)")
        return problems

    def database_url(self) -> str:
        if self.keys_database_url:
            return to_async_url(self.keys_database_url)
        return f"sqlite+aiosqlite:///{self.var_dir / 'stores' / 'keys.sqlite'}"

    def key_ring(self) -> KeyRing:
        """The current KEK and the previous ones; development makes its KEK in var/secrets."""
        if self.keys_kek is not None:
            current = self._decode(self.keys_kek.get_secret_value())
        elif self.is_development:
            current = load_or_create_master_key(self.var_dir / "secrets" / "master.key")
        else:
            raise ValueError("DDR_KEYS_KEK must be set outside development")
        return KeyRing(current, self._previous())

    def _previous(self) -> list[bytes]:
        if self.keys_previous_keks is None:
            return []
        text = self.keys_previous_keks.get_secret_value()
        return [self._decode(part) for part in text.split(",") if part.strip()]

    @staticmethod
    def _decode(text: str) -> bytes:
        key = base64.b64decode(text.strip())
        if len(key) != KEY_BYTES:
            raise ValueError("a key-encryption key is 32 bytes, base64-encoded")
        return key


def credential_file(var_dir: Path, service: str) -> Path:
    """Where the development stack keeps a service's credential (0600, under var/secrets)."""
    return var_dir / "secrets" / "key-credentials" / service
