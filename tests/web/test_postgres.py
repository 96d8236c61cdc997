"""The KB store and the web app on a real PostgreSQL server (started by .ci/run, see scripts/ci_services.sh).

Each test module gets its own database, created through the server and dropped afterwards."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from exoresist.cli.main import app as cli
from exoresist.kb import KnowledgeBase
from exoresist.kb.store import build_resolved_store, read_store
from exoresist.web import create_app

from .conftest import POSTGRES_ENV, make_settings, require

DEFAULT_URL = "postgresql://exoresist:exoresist@127.0.0.1:5432/exoresist_test"
INSTALL = f"apt-get install postgresql, then `source scripts/ci_services.sh` (it starts a server and exports {POSTGRES_ENV})"


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    import psycopg

    base = os.environ.get(POSTGRES_ENV) or DEFAULT_URL  # the server scripts/ci_services.sh starts
    u = make_url(base)
    name = f"exoresist_t_{uuid.uuid4().hex[:10]}"
    admin = dict(host=u.host, port=u.port or 5432, user=u.username, password=u.password, dbname=u.database)
    try:
        conn = psycopg.connect(**admin, autocommit=True)  # type: ignore[arg-type]
    except psycopg.OperationalError as exc:
        require(False, f"PostgreSQL at {u.host}:{u.port} ({str(exc).strip().splitlines()[0]})", INSTALL)
        raise
    with conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield u.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(**admin, autocommit=True) as conn:  # type: ignore[arg-type]
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_store_round_trip_on_postgresql(pg_url: str, kb: KnowledgeBase) -> None:
    info, xrefs, unresolved = build_resolved_store(kb, pg_url)
    assert info.n_records == len(kb) and info.content_hash == kb.content_hash
    stored = read_store(pg_url)
    assert stored.kb.content_hash == kb.content_hash
    assert [r.id for r in stored.kb.records] == [r.id for r in kb.records]
    assert len(stored.xrefs) == len(xrefs) and len(stored.unresolved) == len(unresolved)
    assert stored.kb.query(therapy="anti-PD-1") == kb.query(therapy="anti-PD-1")
    again, _, _ = build_resolved_store(kb, pg_url)  # a rebuild replaces the store in one transaction
    assert read_store(pg_url).meta["built_at"] == again.built_at


def test_cli_builds_and_queries_postgresql(pg_url: str, kb: KnowledgeBase) -> None:
    runner = CliRunner()
    built = runner.invoke(cli, ["kb", "build", "--db", pg_url])
    assert built.exit_code == 0, built.stderr
    assert f"{len(kb)} records" in built.stdout
    shown = runner.invoke(cli, ["kb", "query", "--db", pg_url, "--cargo", "circUHRF1", "--format", "json"])
    assert shown.exit_code == 0 and "mech:circuhrf1-nk-tim3" in shown.stdout


def test_serve_on_postgresql(pg_url: str, kb: KnowledgeBase, tmp_path: Path) -> None:
    build_resolved_store(kb, pg_url)
    with TestClient(create_app(make_settings(tmp_path, db=pg_url), warm_up=False)) as c:
        stats = c.get("/api/v1/stats").json()
        assert stats["provenance"]["kb_backend"] == "postgresql"
        assert stats["provenance"]["kb_source"] == "store"
        assert stats["content_hash"] == kb.content_hash == c.get("/").headers["x-kb-content-hash"]
        assert "password" not in str(stats["provenance"]) and "exoresist:" not in str(stats["provenance"])
        found = c.get("/api/v1/records", params={"therapy": "sorafenib", "limit": 500}).json()
        assert [r["id"] for r in found["items"]] == [m.id for m in kb.query(therapy="sorafenib", include_hypotheses=True)]
        explain = c.get("/api/v1/graph/explain", params={"cargo": "circUHRF1", "therapy": "anti-PD-1"})
        assert explain.status_code == 200 and explain.json()["n_routes"] >= 1
        page = c.get("/records/mech:circuhrf1-nk-tim3")
        assert page.status_code == 200 and kb.content_hash[:12] in page.text


def test_unreachable_postgresql_is_a_clear_error(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["kb", "stats", "--db", "postgresql://nobody:x@127.0.0.1:9/none"])
    assert result.exit_code == 1
    assert "cannot read the store" in result.stderr and "Traceback" not in result.stderr
