"""The shared atomic write: whole file or nothing, and ordinary permissions."""

from __future__ import annotations

import os
import stat
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
