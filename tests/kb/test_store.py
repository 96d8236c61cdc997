"""YAML -> store -> records is identical; builds are atomic; a missing store is a clear error."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from exoresist.kb import KnowledgeBase, load_kb
from exoresist.kb.base import KB_VERSION
from exoresist.kb.store import StoreError, build_store, read_store
from exoresist.kb.xrefs import resolve


def test_round_trip_is_identical(kb: KnowledgeBase, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'kb.sqlite'}"
    xrefs, unresolved = resolve(kb)
    info = build_store(kb, url, xrefs=xrefs, unresolved=unresolved)
    stored = read_store(url)
    assert stored.kb.records == kb.records  # same typed records, same order
    assert stored.kb.content_hash == kb.content_hash == info.content_hash
    assert stored.meta["kb_version"] == KB_VERSION
    assert stored.meta["content_hash"] == kb.content_hash
    assert sorted(map(repr, stored.xrefs)) == sorted(map(repr, xrefs))
    assert sorted(map(repr, stored.unresolved)) == sorted(map(repr, unresolved))


def test_index_tables_are_queryable_with_sql(kb: KnowledgeBase, tmp_path: Path) -> None:
    db = tmp_path / "kb.sqlite"
    build_store(kb, f"sqlite:///{db}", xrefs=[], unresolved=[])
    with sqlite3.connect(db) as conn:
        n = conn.execute("select count(*) from records").fetchone()[0]
        n_mech_therapies = conn.execute("select count(*) from mechanism_therapies").fetchone()[0]
    assert n == len(kb)
    assert n_mech_therapies == sum(len(m.therapies) for m in kb.mechanisms)


def test_failed_build_leaves_previous_store_intact(mini_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    mini = load_kb([mini_dir])
    db = tmp_path / "kb.sqlite"
    url = f"sqlite:///{db}"
    build_store(mini, url, xrefs=[], unresolved=[])
    before = db.read_bytes()

    import exoresist.kb.store as store

    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("interrupted mid-build")

    monkeypatch.setattr(store, "_write", boom)
    with pytest.raises(RuntimeError, match="interrupted"):
        build_store(mini, url, xrefs=[], unresolved=[])
    assert db.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []
    assert read_store(url).kb.records == mini.records


def test_missing_store_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="run 'exoresist kb build"):
        read_store(f"sqlite:///{tmp_path / 'absent.sqlite'}")


def test_foreign_database_is_rejected(tmp_path: Path) -> None:
    db = tmp_path / "other.sqlite"
    with sqlite3.connect(db) as conn:
        conn.execute("create table t (x int)")
    with pytest.raises(StoreError, match="not an exoresist KB store"):
        read_store(f"sqlite:///{db}")


def test_invalid_url() -> None:
    with pytest.raises(StoreError, match="not a database URL"):
        read_store("not a url at all")
