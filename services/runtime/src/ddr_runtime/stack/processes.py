"""Background processes of the native stack: started detached, tracked by pid file, stopped by pid."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import psutil


def pid_file(run_dir: Path, name: str) -> Path:
    return run_dir / f"{name}.pid"


def running_pid(run_dir: Path, name: str) -> int | None:
    """The pid recorded for ``name`` if that process is still alive."""
    path = pid_file(run_dir, name)
    if not path.exists():
        return None
    try:
        pid = int(path.read_text().strip())
    except ValueError:
        return None
    if psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
        return pid
    return None


def start(
    name: str, argv: Sequence[str], *, env: Mapping[str, str], run_dir: Path, log_file: Path, cwd: Path
) -> int:
    """Start ``argv`` in its own session with output to ``log_file``; record and return its pid."""
    run_dir.mkdir(parents=True, exist_ok=True)
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("ab") as log:
        process = subprocess.Popen(
            list(argv),
            env=dict(env),
            cwd=cwd,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    pid_file(run_dir, name).write_text(str(process.pid))
    return process.pid


def stop(name: str, *, run_dir: Path, grace_seconds: float = 20.0) -> bool:
    """SIGTERM the recorded process, SIGKILL it after ``grace_seconds``; False when it was not running."""
    pid = running_pid(run_dir, name)
    pid_file(run_dir, name).unlink(missing_ok=True)
    if pid is None:
        return False
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace_seconds
    while time.monotonic() < deadline:
        if not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
            return True
        time.sleep(0.2)
    os.kill(pid, signal.SIGKILL)
    return True
