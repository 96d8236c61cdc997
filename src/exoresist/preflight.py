"""Checks of output paths, database URLs and scheduler addresses, made before any work starts.

Every command (and the web layer) calls these on what the user gave, so that a bad path or URL
fails at once with one line saying what is wrong and how to fix it - never with a traceback
after a long run. Each function returns the value to use or raises :class:`PreflightError`.

>>> output_file("results.csv", "--output").name
'results.csv'
>>> db_url("kb.sqlite", "--db", write=True)
Traceback (most recent call last):
...
exoresist.preflight.PreflightError: --db 'kb.sqlite' is a plain path, not a database URL: write sqlite:///kb.sqlite
"""

from __future__ import annotations

import os
import re
import sqlite3
import tempfile
from pathlib import Path

SQLITE_HEADER = b"SQLite format 3\x00"
_SCHEDULER = re.compile(r"^(?:(?:tcp|tls|inproc|ucx|ws|wss)://)?(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9][A-Za-z0-9._-]*):(\d{1,5})$")


class PreflightError(ValueError):
    """A path, URL or address given by the user that cannot work; the message is one line."""


def _printable(text: str) -> str:
    return text.encode("unicode_escape").decode("ascii") if not text.isprintable() else text


def _plain(text: str, option: str, what: str) -> str:
    if text == "":
        raise PreflightError(f"{option} is empty: give {what}")
    if not text.isprintable():
        raise PreflightError(f"{option} '{_printable(text)}' contains a control character: give {what} on one line")
    return text


def _check_names(path: Path, option: str) -> None:
    """No part of ``path`` is longer than the file system allows (checked before any look-up,
    which would fail on such a name)."""
    try:
        limit = os.pathconf(Path.cwd().anchor or "/", "PC_NAME_MAX")
    except (OSError, ValueError):
        limit = 255
    for part in path.parts:
        size = len(os.fsencode(part))
        if size > limit:
            raise PreflightError(
                f"{option}: the name '{part[:24]}...' is {size} bytes long, over the file system's limit of {limit}: "
                "choose a shorter name"
            )


def _is(path: Path, test: str) -> bool:
    try:
        return bool(getattr(path, test)())
    except OSError:
        return False


def _nearest_existing(path: Path) -> Path:
    p = path if path.is_absolute() else Path.cwd() / path
    while not _is(p, "exists"):
        if p.parent == p:
            break
        p = p.parent
    return p


def _check_writable_location(path: Path, option: str) -> None:
    """The folders that ``path`` needs exist or can be made, and files can be created where it
    will be written (probed with a temporary file, then removed)."""
    anchor = _nearest_existing(path.parent)
    if not _is(anchor, "is_dir"):
        raise PreflightError(f"{option} '{path}': '{anchor}' is a file, not a folder: choose another path")
    try:
        fd, probe = tempfile.mkstemp(prefix=".exoresist-probe-", dir=anchor)
    except OSError as exc:
        raise PreflightError(
            f"{option} '{path}': cannot create files in '{anchor}' ({exc.strerror or exc}): choose a writable folder"
        ) from None
    os.close(fd)
    os.unlink(probe)


def output_file(text: str | os.PathLike[str], option: str = "--output") -> Path:
    """A file the command will write (atomically): not empty, not a folder, in a writable place."""
    raw = _plain(os.fspath(text), option, "a file name")
    path = Path(raw)
    _check_names(path, option)
    if raw.endswith(os.sep) or _is(path, "is_dir"):
        raise PreflightError(f"{option} '{raw}' is a folder: give a file name, e.g. {Path(raw) / 'out.txt'}")
    _check_writable_location(path, option)
    return path


def output_dir(text: str | os.PathLike[str], option: str = "--out") -> Path:
    """A folder the command will write into (made if missing): not empty, not an existing file,
    in a writable place. ``--out ""`` is an error, not the working folder."""
    raw = _plain(os.fspath(text), option, "a folder")
    path = Path(raw)
    _check_names(path, option)
    if _is(path, "exists") and not _is(path, "is_dir"):
        raise PreflightError(f"{option} '{raw}' names an existing file: give a folder (it is created if missing)")
    if _is(path, "is_dir"):
        _check_writable_location(path / ".probe", option)
    else:
        _check_writable_location(path, option)
    return path


def db_url(text: str, option: str = "--db", *, write: bool) -> str:
    """A SQLAlchemy URL of a KB store. A plain path, a malformed URL, a database driver that is
    not installed, and (to write) a SQLite target that is an existing non-store file, are errors."""
    raw = _plain(text, option, "a database URL such as sqlite:///kb.sqlite")
    if "://" not in raw:
        if any(ch.isspace() for ch in raw):
            raise PreflightError(f"{option} '{raw}' is not a database URL: write sqlite:///PATH for a SQLite file")
        raise PreflightError(f"{option} '{raw}' is a plain path, not a database URL: write sqlite:///{raw}")
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    try:
        url = make_url(raw)
        if url.drivername in ("postgresql", "postgres"):
            url = url.set(drivername="postgresql+psycopg")  # the driver exoresist ships (kb.store does the same)
        dialect = url.get_dialect()
    except (ArgumentError, ValueError) as exc:
        raise PreflightError(f"{option} '{raw}' is not a valid database URL ({exc}): e.g. sqlite:///kb.sqlite") from None
    except NoSuchModuleError:
        raise PreflightError(
            f"{option} '{raw}': unknown database kind '{url.drivername}': use sqlite:///PATH or postgresql+psycopg://..."
        ) from None
    try:
        dialect.import_dbapi()
    except ImportError as exc:
        module = str(getattr(exc, "name", None) or exc)
        package = {"psycopg": "psycopg[binary]", "psycopg2": "psycopg2-binary", "MySQLdb": "mysqlclient"}.get(module)
        how = f"pip install '{package}'" if package else f"install the Python driver for {url.get_backend_name()}"
        raise PreflightError(f"{option} '{raw}': the database driver '{module}' is not installed: {how}") from None
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        path = Path(str(url.database))
        _check_names(path, option)
        if write:
            _check_sqlite_target(path, option, raw)
        elif _is(path, "is_dir"):
            raise PreflightError(f"{option} '{raw}' names a folder, not a store file")
    return raw


def _check_sqlite_target(path: Path, option: str, raw: str) -> None:
    """Writing replaces the file: it must be absent, empty, or an exoresist KB store."""
    if _is(path, "is_dir"):
        raise PreflightError(f"{option} '{raw}' names a folder: give a file, e.g. sqlite:///{path / 'kb.sqlite'}")
    if _is(path, "exists") and path.stat().st_size > 0:
        try:
            with path.open("rb") as fh:
                header = fh.read(len(SQLITE_HEADER))
        except OSError as exc:
            raise PreflightError(
                f"{option} '{raw}': cannot read the existing file ({exc.strerror}); refusing to replace it"
            ) from None
        if header != SQLITE_HEADER:
            raise PreflightError(
                f"{option} '{raw}': '{path}' exists and is not a SQLite database; refusing to replace it: choose another file"
            )
        if not _is_store(path):
            raise PreflightError(
                f"{option} '{raw}': '{path}' is a SQLite database but not an exoresist KB store; refusing to replace it"
            )
    _check_writable_location(path, option)


def _is_store(path: Path) -> bool:
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            row = con.execute("SELECT value FROM meta WHERE key = 'store_schema_version'").fetchone()
        finally:
            con.close()
    except sqlite3.Error:
        return False
    return row is not None


def serve_scheduler(text: str, option: str = "--scheduler") -> str:
    """``local`` (a Dask cluster the server starts), ``serial``, or a scheduler address (``exoresist serve``)."""
    if text.strip() == "local":
        return "local"
    return scheduler_address(text, option)


def scheduler_address(text: str, option: str = "--scheduler") -> str:
    """``serial``, or a Dask scheduler address ``[tcp://]host:port``."""
    raw = _plain(text, option, "a Dask scheduler address such as tcp://127.0.0.1:8786, or 'serial'")
    if raw == "serial":
        return raw
    m = _SCHEDULER.match(raw)
    if m is None or not 0 < int(m.group(1)) < 65536:
        raise PreflightError(
            f"{option} '{raw}' is not a scheduler address: give tcp://HOST:PORT (e.g. tcp://127.0.0.1:8786), "
            "'serial', or leave it out for a local cluster"
        )
    return raw
