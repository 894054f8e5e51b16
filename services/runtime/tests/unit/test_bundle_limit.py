"""A bundle archive is refused, before anything is unpacked, when its files add up to more than the limit
(issue 14, finding 15: the bundle import had no size limit)."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

from ddr_runtime.audit.sources import MAX_BUNDLE_BYTES_ENV, BundleTooLarge, opened_bundle


def archive(tmp_path: Path, *sizes: int) -> Path:
    path = tmp_path / "bundle.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        for number, size in enumerate(sizes):
            info = tarfile.TarInfo(f"bundle/events/s{number}.events")
            info.size = size
            tar.addfile(info, io.BytesIO(b"\n" * size))
    return path


def test_an_archive_unpacking_beyond_the_limit_is_refused_and_nothing_is_unpacked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bomb = archive(tmp_path, 600_000, 600_000)  # 1.2 MB of newlines, a few KB compressed
    unpacked: list[str] = []
    monkeypatch.setattr(tarfile.TarFile, "extractall", lambda self, *a, **k: unpacked.append(str(a)))

    limit = 1_000_000
    with (
        pytest.raises(BundleTooLarge, match="more than 1,000,000") as refused,
        opened_bundle(bomb, max_bytes=limit),
    ):
        pass

    assert refused.value.status == 413
    assert unpacked == []


def test_an_archive_within_the_limit_is_unpacked(tmp_path: Path) -> None:
    with opened_bundle(archive(tmp_path, 1000, 1000), max_bytes=1_000_000) as folder:
        assert sorted(p.name for p in (folder / "events").iterdir()) == ["s0.events", "s1.events"]


def test_the_limit_is_read_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(MAX_BUNDLE_BYTES_ENV, "1500")

    with pytest.raises(BundleTooLarge), opened_bundle(archive(tmp_path, 1000, 1000)):
        pass
