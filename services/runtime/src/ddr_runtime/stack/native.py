"""Kafka and PostgreSQL as plain local processes, without Docker.

Thin wrappers around ``deploy/local/kafka.sh`` and ``deploy/local/postgres.sh`` (which hold the real logic and
document their environment), for the ``ddr stack`` command and the test fixtures. Every method runs the script
with ``subprocess.run(check=True)``; a failure raises :class:`StackError` carrying the script's output.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Mapping, Sequence
from contextlib import ExitStack
from pathlib import Path
from types import TracebackType
from typing import Self
from urllib.parse import quote

__all__ = [
    "NativeKafka",
    "NativePostgres",
    "StackError",
    "free_port",
    "free_ports",
    "repo_root",
]

_KAFKA_SCRIPT = ("deploy", "local", "kafka.sh")
_POSTGRES_SCRIPT = ("deploy", "local", "postgres.sh")


class StackError(RuntimeError):
    """A native service could not be fetched, started, queried or stopped."""


def repo_root() -> Path:
    """The checkout that holds ``deploy/local/kafka.sh``.

    ``$DDR_REPO_ROOT`` when set, else the first folder above this file, then above the working directory.
    """
    override = os.environ.get("DDR_REPO_ROOT")
    if override:
        return Path(override).resolve()
    here = Path(__file__).resolve()
    cwd = Path.cwd().resolve()
    for candidate in (*here.parents, cwd, *cwd.parents):
        if candidate.joinpath(*_KAFKA_SCRIPT).is_file():
            return candidate
    raise StackError(
        "cannot find deploy/local/kafka.sh above this package or the working directory; set DDR_REPO_ROOT"
    )


def free_ports(count: int) -> list[int]:
    """``count`` distinct TCP ports free on 127.0.0.1 right now (all held while chosen, so they differ)."""
    with ExitStack() as stack:
        sockets = [
            stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) for _ in range(count)
        ]
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [int(sock.getsockname()[1]) for sock in sockets]


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    return free_ports(1)[0]


def _run_script(
    script: Path, args: Sequence[str], env: Mapping[str, str], *, echo: bool
) -> subprocess.CompletedProcess[str]:
    """Run ``bash script args`` with ``env`` added to ours; a failure raises :class:`StackError`.

    With ``echo`` the script's output goes to our terminal, else it is captured and put in the error.
    """
    command = ["bash", str(script), *args]
    try:
        return subprocess.run(
            command,
            env={**os.environ, **env},
            check=True,
            text=True,
            stdin=subprocess.DEVNULL,
            capture_output=not echo,
        )
    except subprocess.CalledProcessError as error:
        output = "".join(part for part in (error.stdout, error.stderr) if part)
        raise StackError(
            f"`{' '.join(command)}` exited with {error.returncode}\n{output}".rstrip()
        ) from error


def _exit_code(script: Path, args: Sequence[str], env: Mapping[str, str]) -> int:
    """Run a query subcommand (``status``) whose exit code is the answer."""
    completed = subprocess.run(
        ["bash", str(script), *args],
        env={**os.environ, **env},
        check=False,
        stdin=subprocess.DEVNULL,
        capture_output=True,
    )
    return completed.returncode


class NativeKafka:
    """A single-node Kafka broker (KRaft, broker and controller in one JVM) on 127.0.0.1.

    ``home_dir`` holds its data, config, pid file and logs (default ``<repo>/var/kafka``). The jars are
    fetched once with Maven into ``libs_dir`` (default ``<repo>/.cache/kafka-<version>/libs``) and reused.
    """

    def __init__(
        self,
        port: int = 9092,
        controller_port: int = 9093,
        home_dir: Path | None = None,
        *,
        version: str | None = None,
        libs_dir: Path | None = None,
        heap: str | None = None,
        start_timeout: float | None = None,
        echo: bool = False,
    ) -> None:
        self.port = port
        self.controller_port = controller_port
        self.home_dir = (home_dir or repo_root() / "var" / "kafka").resolve()
        self.version = version
        self.libs_dir = libs_dir
        self.heap = heap
        self.start_timeout = start_timeout
        self.echo = echo
        self.script = repo_root().joinpath(*_KAFKA_SCRIPT)

    @property
    def bootstrap_servers(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def log_file(self) -> Path:
        """The broker's own log (log4j2); ``kafka.out`` beside it has the JVM's stdout and stderr."""
        return self.home_dir / "kafka.log"

    @property
    def env(self) -> dict[str, str]:
        """The environment the script is run with (on top of ours)."""
        env = {
            "KAFKA_PORT": str(self.port),
            "KAFKA_CONTROLLER_PORT": str(self.controller_port),
            "KAFKA_HOME_DIR": str(self.home_dir),
            # This interpreter has kafka-python: the script asks it whether the broker answers.
            "KAFKA_PROBE_PYTHON": sys.executable,
        }
        if self.version is not None:
            env["KAFKA_VERSION"] = self.version
        if self.libs_dir is not None:
            env["KAFKA_LIBS_DIR"] = str(self.libs_dir)
        if self.heap is not None:
            env["KAFKA_HEAP"] = self.heap
        if self.start_timeout is not None:
            env["KAFKA_START_TIMEOUT"] = str(round(self.start_timeout))
        return env

    def fetch(self) -> None:
        """Download the broker's jars unless they are cached already."""
        _run_script(self.script, ["fetch"], self.env, echo=self.echo)

    def start(self) -> None:
        """Start the broker and return once it answers (no-op when it already runs)."""
        _run_script(self.script, ["start"], self.env, echo=self.echo)

    def stop(self) -> None:
        """Stop the broker cleanly (SIGKILL after 30 s); no-op when it is not running."""
        _run_script(self.script, ["stop"], self.env, echo=self.echo)

    def is_running(self) -> bool:
        return _exit_code(self.script, ["status"], self.env) == 0

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


class NativePostgres:
    """A private PostgreSQL server on 127.0.0.1:``port`` with a superuser login role ``user``/``password``.

    ``home_dir`` holds ``data/``, the unix socket and ``postgres.log`` (default ``<repo>/var/postgres``; the
    script moves it to ``/var/tmp/ddr-postgres-<hash>`` when the OS user ``postgres`` cannot reach it).
    """

    def __init__(
        self,
        port: int = 55432,
        home_dir: Path | None = None,
        *,
        user: str = "ddr",
        password: str = "ddr",  # noqa: S107 - a local development server
        echo: bool = False,
    ) -> None:
        self.port = port
        self.home_dir = (home_dir or repo_root() / "var" / "postgres").resolve()
        self.user = user
        self.password = password
        self.echo = echo
        self.script = repo_root().joinpath(*_POSTGRES_SCRIPT)

    @property
    def log_file(self) -> Path:
        return self.home_dir / "postgres.log"

    @property
    def env(self) -> dict[str, str]:
        """The environment the script is run with (on top of ours)."""
        return {
            "PGPORT": str(self.port),
            "PG_HOME_DIR": str(self.home_dir),
            "PG_USER": self.user,
            "PG_PASSWORD": self.password,
        }

    def url(self, database: str = "postgres", *, driver: str | None = None) -> str:
        """``postgresql://user:password@127.0.0.1:port/database``, ``postgresql+driver://`` with a driver."""
        scheme = f"postgresql+{driver}" if driver else "postgresql"
        credentials = f"{quote(self.user, safe='')}:{quote(self.password, safe='')}"
        return f"{scheme}://{credentials}@127.0.0.1:{self.port}/{quote(database, safe='')}"

    def install(self) -> None:
        """Install PostgreSQL from Debian's packages unless some version is there."""
        _run_script(self.script, ["install"], self.env, echo=self.echo)

    def start(self) -> None:
        """Install if needed, initialise once, start, wait until it accepts connections; no-op if running."""
        _run_script(self.script, ["start"], self.env, echo=self.echo)

    def stop(self) -> None:
        """``pg_ctl stop -m fast``; no-op when it is not running."""
        _run_script(self.script, ["stop"], self.env, echo=self.echo)

    def is_running(self) -> bool:
        return _exit_code(self.script, ["status"], self.env) == 0

    def create_databases(self, *names: str) -> None:
        """Create each database that does not exist yet, owned by ``user``."""
        if names:
            _run_script(self.script, ["createdb", *names], self.env, echo=self.echo)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
