"""The native stack runs the key service as its own process and gives each service its own credential."""

from __future__ import annotations

import asyncio
import stat
from pathlib import Path

from ddr_runtime.config import Settings
from ddr_runtime.db import create_engine
from ddr_runtime.keyservice.credentials import Credentials
from ddr_runtime.stack.runner import Stack, installed_services


def stack(tmp_path: Path) -> Stack:
    return Stack(Settings(environment="development", var_dir=tmp_path))


def revoke_all(tmp_path: Path, service: str) -> None:
    async def revoke() -> None:
        engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'stores' / 'keys.sqlite'}")
        await Credentials(engine).revoke(reason="test", service=service)
        await engine.dispose()

    asyncio.run(revoke())


def test_each_service_gets_a_private_credential_file_of_its_own(tmp_path: Path) -> None:
    files = stack(tmp_path).provision_credentials("sqlite")

    assert sorted(files) == sorted(s.name for s in installed_services())
    assert len({path.read_text() for path in files.values()}) == len(files)
    assert all(stat.S_IMODE(path.stat().st_mode) == 0o600 for path in files.values())


def test_a_live_credential_is_kept_and_a_revoked_one_replaced(tmp_path: Path) -> None:
    first = {name: path.read_text() for name, path in stack(tmp_path).provision_credentials("sqlite").items()}
    revoke_all(tmp_path, "screening")

    second = {
        name: path.read_text() for name, path in stack(tmp_path).provision_credentials("sqlite").items()
    }

    assert second["registration"] == first["registration"]
    assert second["screening"] != first["screening"]


def test_a_service_is_given_the_key_service_and_never_the_kek(tmp_path: Path) -> None:
    native = stack(tmp_path)
    (service,) = [s for s in installed_services() if s.name == "screening"]

    env = native.service_env(service, "postgres")

    assert env["DDR_KEY_SERVICE_URL"] == f"http://127.0.0.1:{native.keys_process.port}"
    assert env["DDR_KEY_SERVICE_CREDENTIAL_FILE"].endswith("key-credentials/screening")
    assert not {"DDR_MASTER_KEY", "DDR_KEYSTORE_URL", "DDR_KEYS_KEK"} & set(env)
    assert native.keys_env("postgres")["DDR_KEYS_DATABASE_URL"].endswith("/ddr_keys")
