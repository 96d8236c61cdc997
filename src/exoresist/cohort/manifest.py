"""The run folder of a trial: its manifest, verified chunk files and the completion marker.

``OUT/chunks/<key>/`` holds

- ``manifest.json``: the run's header (configuration, model version, KB hash, number of chunks and
  the inclusion probabilities of the pilot), with a SHA-256 of its own content; written atomically.
- ``commits.jsonl``: the commit log. After a chunk file is written (atomically and durably), one
  line commits it: chunk number, (arm, patient) range, row count, size and SHA-256 of the file.
  Each line is appended with a single ``write`` and synced to disk; a line cut short by a crash is
  not a commit (its chunk is recomputed). Rewriting one JSON file per chunk would cost
  O(chunks^2) bytes on a long run; the log costs one line and one ``fsync`` per chunk.
- ``chunk-NNNNN.parquet``: Parquet with page checksums.

On resume every chunk is verified against its commit (size, hash, readable with page checksums
verified, and every value against the patient-row schema of :mod:`exoresist.cohort.schema`); a
chunk that fails is named in a warning and recomputed, never used. A lock (``flock`` on
``.lock``) keeps a second process out of a run folder while one is writing it, which is also what
makes removing stale temporary files there safe.

``OUT/complete.json`` is written last, after ``patients.parquet`` and ``trial.json``, with the
hash of both: :func:`read_finished` accepts a pair only when the marker vouches for it.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import io
import json
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from exoresist.atomic import disk_full_error, fsync_dir, is_disk_full, remove_stale_temps, write_bytes, write_group
from exoresist.cohort.arms import TrialError
from exoresist.cohort.schema import RowContext, check_rows

HEADER = "manifest.json"
COMMITS = "commits.jsonl"
LOCK = ".lock"
COMPLETE = "complete.json"
PATIENTS = "patients.parquet"
SUMMARY = "trial.json"
MANIFEST_FORMAT = 2
_LEGACY_TEMP = re.compile(r"^\.chunk-[0-9]{5}\.parquet\.[a-z0-9_]{8}\.tmp$")


def chunk_name(i: int) -> str:
    return f"chunk-{i:05d}.parquet"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def parquet_bytes(frame: pd.DataFrame) -> bytes:
    """``frame`` as Parquet bytes (no index), with a CRC checksum on every data page."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    buf = io.BytesIO()
    pq.write_table(table, buf, write_page_checksum=True)
    return buf.getvalue()


def read_parquet_bytes(data: bytes) -> pd.DataFrame:
    """Parse Parquet ``data`` verifying every page checksum (``OSError``/``ArrowException`` if bad)."""
    frame: pd.DataFrame = pq.read_table(pa.BufferReader(data), page_checksum_verification=True).to_pandas()
    return frame


def canonical(data: Any) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":")).encode()


@dataclass(frozen=True)
class Commit:
    """A committed chunk: which patients it holds and the size and hash of its file."""

    chunk: int
    start: int
    stop: int
    rows: int
    size: int
    sha256: str

    def line(self) -> bytes:
        return canonical(self.__dict__) + b"\n"


class RunFolder:
    """One run's chunk folder (see the module docstring). Use :meth:`open` as a context manager."""

    def __init__(self, path: Path, header: dict[str, Any], ctx: RowContext) -> None:
        self.path = path
        self.header = header
        self.ctx = ctx
        self.commits: dict[int, Commit] = {}
        self.torn_lines = 0

    # --- lock and header ---------------------------------------------------------------------

    @classmethod
    @contextmanager
    def open(cls, path: Path, header: dict[str, Any], ctx: RowContext) -> Iterator[RunFolder]:
        """Lock ``path`` (``TrialError`` if another live process holds it), remove stale temporary
        files left in it by killed runs, and read its commit log."""
        try:
            path.mkdir(parents=True, exist_ok=True)
            fd = os.open(path / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            if is_disk_full(exc):
                raise disk_full_error(path / LOCK) from None
            raise TrialError(f"cannot use the run folder {path}: {exc.strerror}") from None
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                owner = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
                raise TrialError(
                    f"another exoresist process (pid {owner}) is writing {path}: wait for it to finish or stop it"
                ) from None
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
            remove_stale_temps(path)  # temporaries of killed runs (their pid is gone)
            for entry in path.iterdir():  # older exoresist named no pid in them: we hold the lock
                if _LEGACY_TEMP.match(entry.name) and entry.is_file():
                    entry.unlink(missing_ok=True)
            folder = cls(path, header, ctx)
            folder._read_commits()
            yield folder
        finally:
            os.close(fd)  # releases the lock

    def read_header(self) -> tuple[dict[str, Any] | None, str | None]:
        """The stored header if it is intact and of this run; else ``(None, why)``."""
        p = self.path / HEADER
        if not p.exists():
            return None, None
        try:
            stored = json.loads(p.read_bytes())
        except (OSError, ValueError) as exc:
            return None, f"{p} is unreadable ({exc.__class__.__name__}); rewritten"
        if not isinstance(stored, dict):
            return None, f"{p} is not a manifest; rewritten"
        if stored.get("key") != self.header["key"]:
            raise TrialError(f"{p} belongs to another run; remove the folder or choose another --out")
        if stored.get("format") != MANIFEST_FORMAT:
            return None, f"{p} was written by an older exoresist; rewritten"
        body = {k: v for k, v in stored.items() if k != "sha256"}
        if stored.get("sha256") != sha256(canonical(body)):
            return None, f"{p} does not match its own checksum (damaged); rewritten"
        return stored, None

    def write_header(self, header: dict[str, Any]) -> None:
        body = {k: v for k, v in header.items() if k != "sha256"}
        data = json.dumps({**body, "sha256": sha256(canonical(body))}, indent=2, sort_keys=True) + "\n"
        write_bytes(self.path / HEADER, data.encode())

    # --- commits -----------------------------------------------------------------------------

    def _read_commits(self) -> None:
        p = self.path / COMMITS
        if not p.exists():
            return
        *lines, tail = p.read_bytes().split(b"\n")
        if tail:  # no newline at the end: a line cut short by a crash is not a commit
            self.torn_lines += 1
        for raw in lines:
            try:
                c = Commit(**json.loads(raw))
                if not all(isinstance(v, int) for v in (c.chunk, c.start, c.stop, c.rows, c.size)):
                    raise TypeError
            except (ValueError, TypeError):
                self.torn_lines += 1
                continue
            self.commits[c.chunk] = c  # a later commit of the same chunk replaces an earlier one

    def write_chunk(self, i: int, patients: range, frame: pd.DataFrame) -> None:
        """Write chunk ``i`` (atomically, synced), then commit it in the log (appended, synced)."""
        data = parquet_bytes(frame)
        path = self.path / chunk_name(i)
        if path.is_dir() and not any(path.iterdir()):
            path.rmdir()
        write_bytes(path, data)
        commit = Commit(i, patients.start, patients.stop, len(frame), len(data), sha256(data))
        line = commit.line()
        try:
            fd = os.open(self.path / COMMITS, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                if os.write(fd, line) != len(line):
                    raise OSError(errno.ENOSPC, "short write")
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as exc:
            path.unlink(missing_ok=True)  # not committed: it would be recomputed; give its room back
            if is_disk_full(exc):
                raise disk_full_error(self.path / COMMITS, len(line)) from None
            raise
        self.commits[i] = commit

    # --- verification ------------------------------------------------------------------------

    def load_chunk(self, i: int, patients: range) -> tuple[pd.DataFrame | None, str | None]:
        """Chunk ``i`` if it verifies against its commit; else ``(None, why)`` (``why`` is ``None``
        for a chunk never written). Never returns data that failed a check."""
        path = self.path / chunk_name(i)
        commit = self.commits.get(i)
        exists = path.exists() or path.is_symlink()
        if commit is None:
            return None, (f"{path} has no commit in the manifest" if exists else None)
        if not exists:
            return None, f"{path} is committed but missing"
        if path.is_symlink() or not path.is_file():
            if path.is_dir() and not any(path.iterdir()):
                return None, f"{path} is an empty folder, not a chunk file"
            if path.is_dir():
                raise TrialError(f"{path} is a folder with files in it, not a chunk file: move it away and run again")
            return None, f"{path} is not a regular file"
        if (commit.start, commit.stop) != (patients.start, patients.stop):
            return None, (
                f"{path}: the manifest commits patients {commit.start}-{commit.stop - 1} to it, "
                f"chunk {i} holds {patients.start}-{patients.stop - 1}"
            )
        try:
            data = path.read_bytes()
        except OSError as exc:
            return None, f"{path} cannot be read ({exc.strerror})"
        if len(data) != commit.size:
            return None, f"{path} has {len(data)} bytes, the manifest committed {commit.size}"
        if sha256(data) != commit.sha256:
            return None, f"{path} differs from the committed content (hash mismatch: damaged or replaced)"
        try:
            frame = read_parquet_bytes(data)
        except (OSError, pa.ArrowException) as exc:
            return None, f"{path} is not a readable Parquet file ({str(exc).splitlines()[0][:120]})"
        problems = check_rows(frame, self.ctx, patients)
        if problems:
            return None, f"{path}: {'; '.join(problems[:3])}"
        if len(frame) != commit.rows:
            return None, f"{path} has {len(frame)} rows, the manifest committed {commit.rows}"
        return frame, None


# --- the finished run ------------------------------------------------------------------------------


def write_finished(out_dir: Path, patients: bytes, summary: bytes, key: str) -> None:
    """Write ``patients.parquet`` and ``trial.json`` so that neither is replaced unless both were
    written, then the completion marker (last). The earlier marker is removed once both new files
    are on disk and before they replace the old pair, so a crash in between leaves no marker (the
    pair is then not final), and a failure before it (a full disk) leaves the old pair and marker."""
    marker = out_dir / COMPLETE
    remove_stale_temps(out_dir, [PATIENTS, SUMMARY, COMPLETE])

    def drop_marker() -> None:
        if marker.exists():
            marker.unlink()
            fsync_dir(out_dir)

    write_group(
        [
            (out_dir / PATIENTS, lambda tmp: tmp.write_bytes(patients)),
            (out_dir / SUMMARY, lambda tmp: tmp.write_bytes(summary)),
        ],
        needed=[len(patients), len(summary)],
        before_replace=drop_marker,
    )
    files = {
        PATIENTS: {"bytes": len(patients), "sha256": sha256(patients)},
        SUMMARY: {"bytes": len(summary), "sha256": sha256(summary)},
    }
    write_bytes(marker, (json.dumps({"run_key": key, "files": files}, indent=2) + "\n").encode())


def read_finished(out_dir: Path) -> tuple[pd.DataFrame, dict[str, Any]]:
    """``patients.parquet`` and ``trial.json`` of a finished run in ``out_dir``; ``TrialError`` if
    the completion marker is missing or does not vouch for both files (a partial run)."""
    marker = out_dir / COMPLETE
    if not marker.is_file():
        raise TrialError(f"{out_dir} holds no finished trial (no {COMPLETE}): run or resume it with 'exoresist trial run'")
    try:
        files = json.loads(marker.read_bytes())["files"]
        data = {name: (out_dir / name).read_bytes() for name in (PATIENTS, SUMMARY)}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise TrialError(f"{out_dir} holds a partial or damaged trial ({exc.__class__.__name__}): run it again") from None
    for name, blob in data.items():
        if sha256(blob) != files.get(name, {}).get("sha256"):
            raise TrialError(f"{out_dir / name} is not the file {COMPLETE} vouches for: run the trial again")
    return read_parquet_bytes(data[PATIENTS]), json.loads(data[SUMMARY])
