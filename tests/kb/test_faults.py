"""Fault injection on the knowledge base: hostile record files and a full disk give one clear
message naming the file (and line), never a traceback, never a silent acceptance; killed builds'
leftovers are removed only when their process is gone."""

from __future__ import annotations

import errno
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from exoresist.kb import KnowledgeBase
from tests.conftest import fill_to, small_filesystem, write_mini

MEMORY_CAP = 1536 * 2**20  # address space of the validating process: a bomb that expands cannot fit


def _validate(*paths: Path) -> subprocess.CompletedProcess[str]:
    """``exoresist kb validate PATHS`` in a process capped at :data:`MEMORY_CAP` and 120 s."""

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))

    cmd = [sys.executable, "-m", "exoresist.cli.main", "kb", "validate", "--standalone", *map(str, paths)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, preexec_fn=cap)


def _one_problem(done: subprocess.CompletedProcess[str]) -> str:
    """The single problem line of a refused validation (and that it was refused cleanly)."""
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr, done.stderr[-2000:]
    lines = done.stderr.strip().splitlines()
    assert lines[0] == "error: 1 problem(s) found in the records", done.stderr[-2000:]
    assert len(lines) == 2, done.stderr[-2000:]
    assert len(lines[1]) < 400, lines[1][:400]
    return lines[1]


def alias_bomb(field: str) -> str:
    """A record whose ``field`` is 9 levels of 9 aliases of the previous level: 9**9 (387 million)
    strings once expanded, from a file of under 1 KB."""
    levels = [f"  x0: &a0 [{', '.join(['lol'] * 9)}]"]
    levels += [f"  x{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 9)]
    return "- kind: entity\n  name: Bomb\n  entity_type: gene\n" + "\n".join(levels) + f"\n  {field}: *a8\n"


@pytest.mark.parametrize("field", ["id", "kind"])
def test_alias_bomb_is_refused_with_file_and_line(tmp_path: Path, field: str) -> None:
    path = tmp_path / "bomb.yaml"
    path.write_text(alias_bomb(field))
    line = _one_problem(_validate(path))
    assert line == f"  - {path}: at line 4, column 7: YAML anchor '&a0' is not allowed in records: write the value out"


def test_deep_nesting_is_refused_without_recursion_error(tmp_path: Path) -> None:
    path = tmp_path / "deep.yaml"
    path.write_text("- kind: entity\n  id: ent:deep\n  name: " + "[" * 500 + "]" * 500 + "\n")
    line = _one_problem(_validate(path))
    assert line.startswith(f"  - {path}: at line 3, column ") and line.endswith("nested more than 12 levels deep")


def test_duplicate_key_is_refused(tmp_path: Path) -> None:
    text = "- kind: entity\n  id: ent:dup\n  name: First\n  entity_type: gene\n  name: Second\n"
    write_mini(tmp_path, extra_yaml=text)
    line = _one_problem(_validate(tmp_path))
    assert line == f"  - {tmp_path / 'extra.yaml'}: at line 5, column 3: duplicate key 'name' (first at line 3)"


def test_huge_id_is_refused(tmp_path: Path) -> None:
    write_mini(tmp_path, extra_yaml=f"- kind: entity\n  id: ent:{'a' * 100_000}\n  name: Long\n  entity_type: gene\n")
    line = _one_problem(_validate(tmp_path))
    assert line == f"  - {tmp_path / 'extra.yaml'}: at line 2, column 7: a text value of 100,004 characters (at most 20,000)"


def test_id_beyond_the_store_limit_is_refused(tmp_path: Path) -> None:
    write_mini(tmp_path, extra_yaml=f"- kind: entity\n  id: ent:{'a' * 200}\n  name: Long\n  entity_type: gene\n")
    line = _one_problem(_validate(tmp_path))
    assert line == f"  - {tmp_path / 'extra.yaml'} [entry 1] id: id of 204 characters (at most 160)"


def test_large_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "large.yaml"
    path.write_text("# padding\n" * 500_000)  # 5 MB of comments: no record at all
    line = _one_problem(_validate(path))
    assert line == f"  - {path}: file of 5,000,000 bytes, larger than the 4,194,304 a record file may be"


def test_messages_never_print_a_large_value(tmp_path: Path) -> None:
    huge = "x" * 15_000
    text = f"- kind: [{', '.join(['k'] * 2000)}]\n  id: ent:listkind\n- kind: mechanism\n  id: mech:big\n  phenotypes: [{huge}]\n"
    write_mini(tmp_path, extra_yaml=text)
    done = _validate(tmp_path)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()[1:]
    assert f"  - {tmp_path / 'extra.yaml'} [ent:listkind] kind: must be text, got <a list>" in lines
    assert all(len(line) < 400 for line in lines), max(lines, key=len)[:400]
    assert any("mech:big" in line and "(15,000 characters)" in line for line in lines), lines


# --- kb build on a full disk, killed builds ---------------------------------------------------------


def _build(db: Path) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "exoresist.cli.main", "kb", "build", "--db", f"sqlite:///{db}"]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300)


def test_kb_build_on_a_full_disk_is_one_line_and_keeps_the_old_store(
    kb: KnowledgeBase, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from exoresist.kb.store import read_store

    fs = tmp_path / "fs"
    with small_filesystem(fs, 1024) as mounted:
        db = fs / "kb.sqlite"
        first = _build(db)
        assert first.returncode == 0, first.stderr
        before = db.read_bytes()
        if mounted:
            fill_to(fs, 16 * 1024)
            done = _build(db)
            err = done.stderr
        else:  # no tmpfs (not root): the fault injected where the finished file is synced
            from typer.testing import CliRunner

            import exoresist.kb.store
            from exoresist.cli.main import app

            def full(path: Path) -> None:
                raise OSError(errno.ENOSPC, "No space left on device", str(path))

            monkeypatch.setattr(exoresist.kb.store, "fsync_file", full)
            res = CliRunner().invoke(app, ["kb", "build", "--db", f"sqlite:///{db}"])
            done = subprocess.CompletedProcess([], res.exit_code, res.stdout, res.stderr)
            err = res.stderr + ("" if res.exception is None or isinstance(res.exception, SystemExit) else repr(res.exception))
        assert done.returncode == 1, err
        assert "Traceback" not in err
        (line,) = err.strip().splitlines()
        assert line.startswith(f"error: disk full: cannot write {db};") and "free on that file system" in line, line
        assert db.read_bytes() == before  # the previous store, whole
        assert sorted(p.name for p in fs.iterdir() if p.name != "filler.bin") == ["kb.sqlite"]  # no temporary left
        assert read_store(f"sqlite:///{db}").kb.content_hash == kb.content_hash


def test_kb_build_removes_only_leftovers_of_dead_builds(kb: KnowledgeBase, tmp_path: Path) -> None:
    from exoresist.kb.store import build_resolved_store

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    try:
        stale = [tmp_path / f".kb.sqlite.{dead.pid}.tmp", tmp_path / f".kb.sqlite.{dead.pid}.tmp-journal"]
        kept = [tmp_path / f".kb.sqlite.{live.pid}.tmp", tmp_path / f".kb.sqlite.{live.pid}.tmp-journal"]
        kept += [tmp_path / f".other.sqlite.{dead.pid}.tmp", tmp_path / "kb.sqlite.bak"]
        for p in stale + kept:
            p.write_bytes(b"left by a killed build")
        build_resolved_store(kb, f"sqlite:///{tmp_path / 'kb.sqlite'}")
        assert [p.name for p in stale if p.exists()] == []
        assert [p.name for p in kept if not p.exists()] == []
    finally:
        live.kill()
        live.wait()
