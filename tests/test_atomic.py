"""The shared atomic write: whole file or nothing, and ordinary permissions."""

from __future__ import annotations

import errno
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from exoresist.atomic import write_text, write_via


def test_write_replaces_whole_file_with_ordinary_mode(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "out.txt"
    write_text(target, "first")
    assert target.read_text() == "first"
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~umask
    os.chmod(target, 0o640)
    write_text(target, "second")
    assert target.read_text() == "second" and stat.S_IMODE(target.stat().st_mode) == 0o640


def test_failed_writer_leaves_old_file_and_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    write_text(target, "old")

    def boom(tmp: Path) -> None:
        tmp.write_text("half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        write_via(target, boom)
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_file_is_synced_before_the_rename_and_its_folder_after(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    events: list[str] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd: int) -> None:
        events.append("fsync folder" if stat.S_ISDIR(os.fstat(fd).st_mode) else "fsync file")
        real_fsync(fd)

    def replace(src: str | Path, dst: str | Path) -> None:
        events.append("rename")
        real_replace(src, dst)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    write_text(tmp_path / "out.txt", "durable")
    assert events == ["fsync file", "rename", "fsync folder"]


def test_temporary_name_carries_the_pid(tmp_path: Path) -> None:
    seen: list[str] = []
    write_via(tmp_path / "out.txt", lambda tmp: (seen.append(tmp.name), tmp.write_text("x")))
    (name,) = seen
    assert name.startswith(f".out.txt.{os.getpid()}.") and name.endswith(".tmp")


def test_stale_temporaries_are_removed_only_when_their_process_is_gone(tmp_path: Path) -> None:
    from exoresist.atomic import remove_stale_temps

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    try:
        stale = tmp_path / f".report.html.{dead.pid}.0a1b2c3d.tmp"
        kept = [
            tmp_path / f".report.html.{live.pid}.0a1b2c3d.tmp",  # a live writer's
            tmp_path / f".report.html.{os.getpid()}.0a1b2c3d.tmp",  # this process's own
            tmp_path / "notes.tmp",  # not this program's pattern
            tmp_path / f".report.html.{dead.pid}.tmp",
        ]
        for p in [stale, *kept]:
            p.write_text("x")
        (tmp_path / f".dir.{dead.pid}.0a1b2c3d.tmp").mkdir()  # only regular files are removed
        assert remove_stale_temps(tmp_path) == [stale]
        assert all(p.exists() for p in kept) and (tmp_path / f".dir.{dead.pid}.0a1b2c3d.tmp").is_dir()
    finally:
        live.kill()
        live.wait()


def test_group_write_replaces_nothing_unless_all_were_written(tmp_path: Path) -> None:
    from exoresist.atomic import DiskFullError, write_group

    a, b = tmp_path / "a.parquet", tmp_path / "b.json"
    a.write_text("old a")
    b.write_text("old b")

    def full(tmp: Path) -> None:
        tmp.write_text("half")
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(DiskFullError, match=r"^\[Errno 28\] disk full: cannot write .*b\.json; it needs 100 bytes; .* free"):
        write_group([(a, lambda tmp: tmp.write_text("new a")), (b, full)], needed=[5, 100])
    assert a.read_text() == "old a" and b.read_text() == "old b"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.parquet", "b.json"]
    write_group([(a, lambda tmp: tmp.write_text("new a")), (b, lambda tmp: tmp.write_text("new b"))])
    assert a.read_text() == "new a" and b.read_text() == "new b"
