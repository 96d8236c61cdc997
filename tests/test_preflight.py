"""exoresist.preflight: output paths, database URLs and scheduler addresses are checked before any work."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from exoresist import preflight
from exoresist.preflight import PreflightError, db_url, output_dir, output_file, scheduler_address


def _no_probe_left(folder: Path) -> None:
    assert not list(folder.glob(".exoresist-probe-*"))


def test_output_file(tmp_path: Path) -> None:
    assert output_file(str(tmp_path / "new" / "x.csv")) == tmp_path / "new" / "x.csv"
    assert not (tmp_path / "new").exists()  # checking creates nothing
    _no_probe_left(tmp_path)
    for bad, message in (
        ("", "is empty"),
        (str(tmp_path), "is a folder"),
        ("/proc/x.csv", "cannot create files in '/proc'"),
        (str(tmp_path / ("n" * 300)), "over the file system's limit"),
        ("a\nb.csv", "control character"),
    ):
        with pytest.raises(PreflightError, match=message):
            output_file(bad, "-o")
    (tmp_path / "plain").write_text("x", encoding="utf-8")
    with pytest.raises(PreflightError, match="is a file, not a folder"):
        output_file(str(tmp_path / "plain" / "x.csv"))


def test_output_dir(tmp_path: Path) -> None:
    assert output_dir(str(tmp_path / "run")) == tmp_path / "run"
    assert output_dir(str(tmp_path)) == tmp_path
    _no_probe_left(tmp_path)
    (tmp_path / "f").write_text("x", encoding="utf-8")
    for bad, message in (("", "is empty"), (str(tmp_path / "f"), "names an existing file"), ("/proc/run", "cannot create")):
        with pytest.raises(PreflightError, match=message):
            output_dir(bad, "--out")


def test_db_url_read_and_write(tmp_path: Path) -> None:
    target = tmp_path / "kb.sqlite"
    assert db_url(f"sqlite:///{target}", write=True) == f"sqlite:///{target}"
    with pytest.raises(PreflightError, match=f"plain path, not a database URL: write sqlite:///{target}"):
        db_url(str(target), write=False)
    with pytest.raises(PreflightError, match="not a database URL"):
        db_url("not a url", write=False)
    with pytest.raises(PreflightError, match="not a valid database URL"):
        db_url("nosuchdb://x/y", write=False)
    with pytest.raises(PreflightError, match="names a folder"):
        db_url(f"sqlite:///{tmp_path}", write=True)


def test_writing_never_replaces_a_file_that_is_not_a_store(tmp_path: Path) -> None:
    text = tmp_path / "passwd"
    text.write_text("root:x:0:0:root:/root:/bin/bash\n", encoding="utf-8")
    with pytest.raises(PreflightError, match="is not a SQLite database; refusing to replace it"):
        db_url(f"sqlite:///{text}", write=True)
    other = tmp_path / "other.sqlite"
    with sqlite3.connect(other) as con:
        con.execute("CREATE TABLE t (x)")
    with pytest.raises(PreflightError, match="not an exoresist KB store; refusing to replace it"):
        db_url(f"sqlite:///{other}", write=True)
    assert db_url(f"sqlite:///{other}", write=False)  # reading reports the problem itself
    assert text.read_text(encoding="utf-8").startswith("root:")


def test_an_existing_store_may_be_rebuilt(tmp_path: Path) -> None:
    from exoresist.kb import load_kb
    from exoresist.kb.store import build_store

    url = f"sqlite:///{tmp_path / 'kb.sqlite'}"
    build_store(load_kb(), url, xrefs=[], unresolved=[])
    assert db_url(url, write=True) == url


def test_a_missing_driver_names_the_package(monkeypatch: pytest.MonkeyPatch) -> None:
    from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg

    def missing() -> None:
        raise ModuleNotFoundError("No module named 'psycopg'", name="psycopg")

    monkeypatch.setattr(PGDialect_psycopg, "import_dbapi", staticmethod(missing))
    with pytest.raises(PreflightError, match=r"driver 'psycopg' is not installed: pip install 'psycopg\[binary\]'"):
        db_url("postgresql://user@localhost/kb", write=False)


def test_store_errors_are_one_line(tmp_path: Path) -> None:
    from sqlalchemy.exc import OperationalError

    from exoresist.kb.store import _one_line

    exc = OperationalError("connect", {}, Exception('connection to server at "localhost" failed\n\tIs the server running?'))
    assert _one_line(exc) == 'connection to server at "localhost" failed Is the server running?'


@pytest.mark.parametrize("good", ["serial", "tcp://127.0.0.1:8786", "localhost:8786", "tls://scheduler.example:8786"])
def test_scheduler_good(good: str) -> None:
    assert scheduler_address(good) == good


@pytest.mark.parametrize("bad", ["", "not a url", "tcp://h:99999", "tcp://h", "http://h:80/x"])
def test_scheduler_bad(bad: str) -> None:
    with pytest.raises(PreflightError, match="--scheduler"):
        scheduler_address(bad)


def test_every_message_is_one_line() -> None:
    for call in (lambda: output_file(""), lambda: db_url("x y", write=True), lambda: scheduler_address("a\nb")):
        with pytest.raises(PreflightError) as info:
            call()
        assert "\n" not in str(info.value)
    assert preflight.SQLITE_HEADER.startswith(b"SQLite")
