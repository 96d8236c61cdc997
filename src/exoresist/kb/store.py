"""The compiled store: SQLite by default, any SQLAlchemy URL (e.g. PostgreSQL) on request.

SQLite is storage, not the model: each record is stored as its canonical JSON, next to index
tables (therapies, phenotypes, cells, identifiers) that SQL users can join. Reading a store
re-validates every record into the same pydantic models the YAML gives.

A build is atomic. For a SQLite file the store is written to a temporary file beside the target
and moved over it only when complete; for other databases everything happens in one transaction.
A failed or interrupted build leaves the previous store as it was.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from pydantic import TypeAdapter
from sqlalchemy import Column, Integer, MetaData, String, Table, Text, create_engine, insert, inspect, select
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError, OperationalError, SQLAlchemyError

import exoresist
from exoresist import preflight
from exoresist.atomic import disk_full_error, fsync_dir, fsync_file, is_disk_full, pid_alive
from exoresist.kb.base import KB_VERSION, KnowledgeBase, load_kb
from exoresist.kb.errors import StoreError
from exoresist.kb.models import ID_MAX_LENGTH, Mechanism, Record
from exoresist.kb.xrefs import Unresolved, Xref, resolve

STORE_SCHEMA_VERSION = "1"
DEFAULT_DB_ENV = "EXORESIST_DB"

metadata = MetaData()
meta_t = Table("meta", metadata, Column("key", String(64), primary_key=True), Column("value", Text, nullable=False))
records_t = Table(
    "records",
    metadata,
    Column("id", String(ID_MAX_LENGTH), primary_key=True),
    Column("kind", String(32), nullable=False, index=True),
    Column("source_file", Text, nullable=False),
    Column("position", Integer, nullable=False),
    Column("data", Text, nullable=False),
)
therapies_t = Table(
    "mechanism_therapies",
    metadata,
    Column("record_id", String(ID_MAX_LENGTH), nullable=False, index=True),
    Column("therapy", String(ID_MAX_LENGTH), nullable=False, index=True),
    Column("direction", String(32), nullable=False),
)
phenotypes_t = Table(
    "mechanism_phenotypes",
    metadata,
    Column("record_id", String(ID_MAX_LENGTH), nullable=False, index=True),
    Column("phenotype", String(64), nullable=False, index=True),
)
cells_t = Table(
    "mechanism_cells",
    metadata,
    Column("record_id", String(ID_MAX_LENGTH), nullable=False, index=True),
    Column("role", String(16), nullable=False),
    Column("cell_type", String(64), nullable=False, index=True),
)
xrefs_t = Table(
    "xrefs",
    metadata,
    Column("record_id", String(ID_MAX_LENGTH), nullable=False, index=True),
    Column("name", String(200), nullable=False),
    Column("namespace", String(32), nullable=False),
    Column("identifier", String(64), nullable=False),
    Column("label", Text, nullable=False),
    Column("matched_via", String(32), nullable=False),
)
unresolved_t = Table(
    "unresolved",
    metadata,
    Column("record_id", String(ID_MAX_LENGTH), nullable=False),
    Column("name", String(200), nullable=False),
    Column("wanted", String(32), nullable=False),
    Column("reason", Text, nullable=False),
)

_RECORD = TypeAdapter(Record)


@dataclass(frozen=True)
class StoreInfo:
    url: str
    kb_version: str
    content_hash: str
    n_records: int
    built_at: str


def default_db_url() -> str:
    """``$EXORESIST_DB`` if set, else ``sqlite:///exoresist-kb.sqlite`` in the working folder."""
    return os.environ.get(DEFAULT_DB_ENV) or "sqlite:///exoresist-kb.sqlite"


def _parse(url: str, *, write: bool = False) -> URL:
    """The SQLAlchemy URL, checked first (:mod:`exoresist.preflight`); a plain ``postgresql://`` URL
    uses the psycopg (3) driver that ships with exoresist (SQLAlchemy would otherwise look for
    psycopg2)."""
    try:
        preflight.db_url(url, "--db", write=write)
        u = make_url(url)
    except preflight.PreflightError as exc:
        raise StoreError(str(exc)) from None
    except ArgumentError as exc:
        raise StoreError(f"invalid database URL '{url}': {exc}") from None
    if u.drivername in ("postgresql", "postgres"):
        u = u.set(drivername="postgresql+psycopg")
    return u


def backend_name(url: str) -> str:
    """The database behind ``url`` (``sqlite``, ``postgresql``, ...), without host or credentials."""
    return _parse(url).get_backend_name()


def _one_line(exc: BaseException) -> str:
    """A database error as one line (drivers put hints on extra lines)."""
    orig = getattr(exc, "orig", None) or exc
    return " ".join(str(orig).split())


def _sqlite_file(u: URL) -> Path | None:
    if u.get_backend_name() == "sqlite" and u.database not in (None, "", ":memory:"):
        return Path(str(u.database))
    return None


def build_store(kb: KnowledgeBase, url: str | None = None, *, xrefs: list[Xref], unresolved: list[Unresolved]) -> StoreInfo:
    """Write ``kb`` with its identifier cross-references to the store at ``url``, atomically."""
    url = url or default_db_url()
    u = _parse(url, write=True)
    built_at = datetime.now(UTC).isoformat(timespec="seconds")
    target = _sqlite_file(u)
    if target is not None:
        target.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_builds(target)
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        _remove_sqlite_files(tmp)
        engine = create_engine(u.set(database=str(tmp)))
        try:
            _write(engine, kb, xrefs, unresolved, built_at)
            engine.dispose()
            fsync_file(tmp)
            os.replace(tmp, target)
            fsync_dir(target.parent)
        except OperationalError as exc:
            engine.dispose()
            _remove_sqlite_files(tmp)
            if "full" in str(exc.orig):
                raise StoreError(disk_full_error(target).strerror) from None
            raise StoreError(f"cannot write the store at '{url}': {_one_line(exc)}") from None
        except SQLAlchemyError as exc:
            engine.dispose()
            _remove_sqlite_files(tmp)
            raise StoreError(f"cannot write the store at '{url}': {_one_line(exc)}") from None
        except OSError as exc:
            engine.dispose()
            _remove_sqlite_files(tmp)
            if is_disk_full(exc):
                raise StoreError(disk_full_error(target).strerror) from None
            raise StoreError(f"cannot write the store at '{url}': {exc.strerror or exc}") from None
        except BaseException:
            engine.dispose()
            _remove_sqlite_files(tmp)
            raise
    else:
        engine = create_engine(u)
        try:
            _write(engine, kb, xrefs, unresolved, built_at)
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot write the store at '{url}': {_one_line(exc)}") from None
        finally:
            engine.dispose()
    return StoreInfo(url, KB_VERSION, kb.content_hash, len(kb), built_at)


_SQLITE_SIDE_FILES = ("", "-journal", "-wal", "-shm")


def _remove_sqlite_files(db: Path) -> None:
    for suffix in _SQLITE_SIDE_FILES:
        db.with_name(db.name + suffix).unlink(missing_ok=True)


def remove_stale_builds(target: Path) -> list[Path]:
    """Remove what killed builds of ``target`` left beside it: ``.<name>.<pid>.tmp`` and its
    SQLite journals, only where process ``pid`` is gone. The target's own journal is never
    touched (SQLite needs a hot journal to roll an interrupted write back)."""
    pattern = re.compile(rf"^\.{re.escape(target.name)}\.([0-9]+)\.tmp(-journal|-wal|-shm)?$")
    removed = []
    try:
        entries = list(os.scandir(target.parent))
    except FileNotFoundError:
        return []
    for entry in entries:
        m = pattern.match(entry.name)
        if m and entry.is_file(follow_symlinks=False) and not pid_alive(int(m[1])):
            Path(entry.path).unlink(missing_ok=True)
            removed.append(Path(entry.path))
    return removed


def build_resolved_store(kb: KnowledgeBase, url: str | None = None) -> tuple[StoreInfo, list[Xref], list[Unresolved]]:
    """Resolve ``kb``'s names with the shipped identifier tables, then :func:`build_store` it at ``url``.

    Returns the store's info with the identifiers found and the names left unresolved."""
    xrefs, unresolved = resolve(kb)
    return build_store(kb, url, xrefs=xrefs, unresolved=unresolved), xrefs, unresolved


def _write(engine: Engine, kb: KnowledgeBase, xrefs: list[Xref], unresolved: list[Unresolved], built_at: str) -> None:
    with engine.begin() as conn:  # one transaction: all or nothing
        metadata.drop_all(conn)
        metadata.create_all(conn)
        conn.execute(
            insert(meta_t),
            [
                {"key": "store_schema_version", "value": STORE_SCHEMA_VERSION},
                {"key": "kb_version", "value": KB_VERSION},
                {"key": "content_hash", "value": kb.content_hash},
                {"key": "exoresist_version", "value": exoresist.__version__},
                {"key": "built_at", "value": built_at},
                {"key": "n_records", "value": str(len(kb))},
            ],
        )
        rows = []
        for i, rec in enumerate(kb.records):
            file = kb.origins.get(rec.id, ("", i))[0]
            rows.append(
                {
                    "id": rec.id,
                    "kind": rec.kind,
                    "source_file": Path(file).name,
                    "position": i,
                    "data": json.dumps(rec.model_dump(mode="json"), ensure_ascii=False, sort_keys=True),
                }
            )
        conn.execute(insert(records_t), rows)
        mechs = [m for m in kb.records if isinstance(m, Mechanism)]
        index_rows = [
            (
                therapies_t,
                [{"record_id": m.id, "therapy": t.therapy, "direction": t.direction.value} for m in mechs for t in m.therapies],
            ),
            (phenotypes_t, [{"record_id": m.id, "phenotype": p.value} for m in mechs for p in m.phenotypes]),
            (
                cells_t,
                [{"record_id": m.id, "role": "donor", "cell_type": c.value} for m in mechs for c in m.donor_cells]
                + [{"record_id": m.id, "role": "recipient", "cell_type": c.value} for m in mechs for c in m.recipient_cells],
            ),
            (xrefs_t, [x.__dict__ for x in xrefs]),
            (unresolved_t, [x.__dict__ for x in unresolved]),
        ]
        for table, table_rows in index_rows:
            if table_rows:  # an empty executemany is an error on some drivers
                conn.execute(insert(table), table_rows)


@dataclass(frozen=True)
class StoredKB:
    """What a store holds: the records (re-validated), their identifiers, and its metadata."""

    kb: KnowledgeBase
    meta: dict[str, str]
    xrefs: list[Xref]
    unresolved: list[Unresolved]


def read_store(url: str | None = None) -> StoredKB:
    """Load a store written by :func:`build_store`. ``StoreError`` if it is missing or foreign."""
    url = url or default_db_url()
    u = _parse(url, write=False)
    target = _sqlite_file(u)
    if target is not None and not target.exists():
        raise StoreError(f"no KB store at '{url}': run 'exoresist kb build --db {url}' first")
    engine = create_engine(u)
    try:
        with engine.connect() as conn:
            if not inspect(conn).has_table("meta"):
                raise StoreError(f"'{url}' is not an exoresist KB store (no meta table): run 'exoresist kb build'")
            meta = {k: v for k, v in conn.execute(select(meta_t.c.key, meta_t.c.value))}
            if meta.get("store_schema_version") != STORE_SCHEMA_VERSION:
                raise StoreError(
                    f"store at '{url}' has schema version {meta.get('store_schema_version')}, "
                    f"this exoresist reads {STORE_SCHEMA_VERSION}: rebuild it with 'exoresist kb build'"
                )
            recs = [
                (_RECORD.validate_python(json.loads(data)), (file, pos))
                for _, data, file, pos in conn.execute(
                    select(records_t.c.id, records_t.c.data, records_t.c.source_file, records_t.c.position).order_by(
                        records_t.c.position
                    )
                )
            ]
            xrefs = [Xref(*row) for row in conn.execute(select(*xrefs_t.c))]
            unresolved = [Unresolved(*row) for row in conn.execute(select(*unresolved_t.c))]
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot read the store at '{url}': {_one_line(exc)}") from None
    finally:
        engine.dispose()
    kb = KnowledgeBase(records=tuple(r for r, _ in recs), origins={r.id: o for r, o in recs})
    return StoredKB(kb=kb, meta=meta, xrefs=xrefs, unresolved=unresolved)


def open_kb(db: str | None = None, records: Sequence[Path | str] | None = None) -> StoredKB:
    """The KB every read command works on: the built store at ``db`` when it is given, else the
    YAML ``records`` (default: the shipped ones) with their names resolved now.

    ``meta`` always has ``kb_version``, ``content_hash`` and ``source`` (``store`` or ``records``)."""
    if db is not None:
        if records:
            raise StoreError("give a database URL or record files, not both")
        stored = read_store(db)
        meta = {**stored.meta, "source": "store", "backend": backend_name(db)}
        return StoredKB(kb=stored.kb, meta=meta, xrefs=stored.xrefs, unresolved=stored.unresolved)
    kb = load_kb(records)
    xrefs, unresolved = resolve(kb)
    meta = {"kb_version": KB_VERSION, "content_hash": kb.content_hash, "source": "records", "n_records": str(len(kb))}
    return StoredKB(kb=kb, meta=meta, xrefs=xrefs, unresolved=unresolved)
