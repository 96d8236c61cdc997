"""Atomic, durable file writes shared by every stage: a reader sees the old file or the whole new one.

The content goes to a temporary file in the target's folder (same file system) named
``.<name>.<pid>.<random>.tmp``; the file is flushed to disk (``fsync``), moved over the target
with ``os.replace``, and the folder is synced so that the rename itself survives a power loss. On
any error the temporary file is removed and the target is left as it was. A full disk raises
:class:`DiskFullError`, one line naming the path, the bytes needed when known and the bytes free.

A process killed while writing leaves its temporary file behind; :func:`remove_stale_temps`
removes those whose process is gone (the pid in the name), never one of a live process.
"""

from __future__ import annotations

import errno
import os
import re
import secrets
import shutil
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

TEMP_SUFFIX = ".tmp"
_TEMP_RE = re.compile(r"^\.(?P<name>.+)\.(?P<pid>[0-9]+)\.[0-9a-f]{8}\.tmp$")
_DISK_FULL = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)


class DiskFullError(OSError):
    """No room left to write a file: the message names the path and the bytes needed and free."""


def temp_path(path: Path) -> Path:
    """A fresh temporary name beside ``path`` that carries this process's pid."""
    return path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}{TEMP_SUFFIX}")


def fsync_file(path: Path) -> None:
    """Flush ``path``'s content to the disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(folder: Path) -> None:
    """Flush ``folder``'s entries (a rename or a new file in it) to the disk."""
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:  # pragma: no cover - a platform that cannot open folders
        return
    try:
        os.fsync(fd)
    except OSError as exc:  # pragma: no cover - some file systems refuse fsync on a folder
        if exc.errno not in (errno.EINVAL, errno.ENOTSUP, errno.EBADF):
            raise
    finally:
        os.close(fd)


def disk_full_error(path: Path, needed: int | None = None) -> DiskFullError:
    """The one-line error for a full disk while writing ``path`` (``needed`` bytes, if known)."""
    try:
        free: int | None = shutil.disk_usage(path.parent if path.parent.exists() else Path.cwd()).free
    except OSError:
        free = None
    parts = [f"disk full: cannot write {path}"]
    if needed is not None:
        parts.append(f"it needs {format_bytes(needed)}")
    if free is not None:
        parts.append(f"{format_bytes(free)} free on that file system")
    return DiskFullError(errno.ENOSPC, "; ".join(parts) + "; nothing was changed there")


def format_bytes(n: float) -> str:
    """``1536`` -> ``'1.5 KB'`` (powers of 1024)."""
    for unit in ("bytes", "KB", "MB", "GB", "TB"):
        if abs(n) < 1024 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    raise AssertionError("unreachable")  # pragma: no cover


def is_disk_full(exc: BaseException) -> bool:
    return isinstance(exc, OSError) and exc.errno in _DISK_FULL


def _mode_for(path: Path) -> int:
    # a plain open() would give 0o666 & ~umask; keep the mode of a file being replaced
    return path.stat().st_mode & 0o777 if path.exists() else 0o666 & ~_umask()


def write_group(
    items: Sequence[tuple[Path, Callable[[Path], object]]],
    *,
    needed: Sequence[int | None] | None = None,
    before_replace: Callable[[], object] | None = None,
) -> None:
    """Write several files so that none is replaced unless all were written: each
    ``writer(tmp_path)`` writes its temporary file (synced to disk), then ``before_replace()`` runs,
    and only then are they moved over their targets, in order, and their folders synced. A failure
    (disk full included) before the moves leaves every target as it was."""
    paths = [Path(p) for p, _ in items]
    temps: list[Path] = []
    try:
        for k, (path, writer) in enumerate(zip(paths, [w for _, w in items], strict=True)):
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = temp_path(path)
            temps.append(tmp)
            try:
                writer(tmp)
                fsync_file(tmp)
            except OSError as exc:
                if is_disk_full(exc):
                    for t in temps:  # free their room first, so the message tells what is free
                        t.unlink(missing_ok=True)
                    raise disk_full_error(path, needed[k] if needed else None) from None
                raise
            os.chmod(tmp, _mode_for(path))
        if before_replace is not None:
            before_replace()
        for path, tmp in zip(paths, temps, strict=True):
            os.replace(tmp, path)
        for folder in dict.fromkeys(p.parent for p in paths):
            fsync_dir(folder)
    finally:
        for tmp in temps:
            tmp.unlink(missing_ok=True)


def write_via(path: Path, writer: Callable[[Path], object]) -> None:
    """Let ``writer(tmp_path)`` write the file, then move it over ``path`` (durably)."""
    write_group([(Path(path), writer)])


def write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically and durably."""
    write_group([(Path(path), lambda tmp: tmp.write_bytes(data))], needed=[len(data)])


def write_text(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    write_bytes(path, text.encode("utf-8"))


def pid_alive(pid: int) -> bool:
    """Whether a process ``pid`` exists (on this machine); this process counts as alive."""
    if pid <= 0:
        return False
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, owned by someone else
        return True
    return True


def remove_stale_temps(folder: Path, names: Iterable[str] | None = None) -> list[Path]:
    """Remove the temporary files of :func:`write_via` in ``folder`` whose writing process is
    gone; ``names`` limits it to the temporaries of those target names. Returns what was removed.
    Nothing but regular files matching ``.<name>.<pid>.<8 hex>.tmp`` is ever touched."""
    wanted = set(names) if names is not None else None
    removed: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except FileNotFoundError:
        return removed
    for entry in entries:
        m = _TEMP_RE.match(entry.name)
        if m is None or (wanted is not None and m["name"] not in wanted):
            continue
        if not entry.is_file(follow_symlinks=False) or pid_alive(int(m["pid"])):
            continue
        Path(entry.path).unlink(missing_ok=True)
        removed.append(Path(entry.path))
    return removed


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
