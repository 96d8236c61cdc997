"""Fault injection on trial runs: every fault gives the right answer or a clear one-line error,
never a silent wrong result and never a traceback.

Faults: a killed run (SIGKILL) resumed, with temporary files of dead and live processes left
behind; each kind of damage to a finished chunk (:data:`CORRUPTIONS`), a commit forged to match a
damaged chunk, a torn commit line; a full disk (a tmpfs mounted by the test when it runs as root,
else a fault injected at the write call: see :func:`_disk_full`); a huge ``--patients``; a long run
on the local cluster stopped with Ctrl-C; a second process on the same run folder.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import signal
import struct
import subprocess
import sys
import time
import traceback
import warnings
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import psutil
import pytest

from exoresist.cohort.arms import TrialError
from exoresist.cohort.calibration import calibrated_cohort
from exoresist.cohort.config import TrialConfig
from exoresist.cohort.runner import run_trial
from exoresist.kb import KnowledgeBase
from tests.conftest import fill_to, small_filesystem

ARMS = ("sorafenib", "sorafenib+secretion-blockade")
PATIENTS, MONTHS, SEED, CHUNK = 30, 3.0, 3, 6  # 5 chunks of 6 patients = 12 rows each
CLI_ARGS = [*[x for a in ARMS for x in ("--arm", a)], "--patients", str(PATIENTS), "--months", str(MONTHS)]
CLI_ARGS += ["--seed", str(SEED), "--chunk-size", str(CHUNK), "--format", "json"]
MB = 2**20


def _config() -> TrialConfig:
    return TrialConfig(ARMS, "first-line", PATIENTS, MONTHS, SEED, CHUNK, calibrated_cohort())


def _cli(out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "exoresist.cli.main", "trial", "run", *CLI_ARGS, "--out", str(out), *extra]


def _run_dir(out: Path) -> Path:
    (run_dir,) = (out / "chunks").iterdir()
    return run_dir


@pytest.fixture(scope="module")
def finished(kb: KnowledgeBase, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An uninterrupted run: the reference every fault must come back to."""
    out = tmp_path_factory.mktemp("finished")
    run_trial(kb, _config(), out, scheduler="serial", progress=False)
    return out


def _resume(kb: KnowledgeBase, out: Path) -> tuple[pd.DataFrame, dict[str, object], list[str]]:
    """Run the reference config again in ``out``; returns the patients, meta and warnings."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run = run_trial(kb, _config(), out, scheduler="serial", progress=False)
    return run.patients, run.meta, [str(w.message) for w in caught]


# --- damage to one chunk ---------------------------------------------------------------------------


def _swap_next_over(path: Path) -> None:
    """Copy the next chunk's file over this one (chunk 4 over chunk 3)."""
    shutil.copyfile(path.with_name(f"chunk-{int(path.stem.split('-')[1]) + 1:05d}.parquet"), path)


def _flip_bit_of_a_value(path: Path) -> None:
    """Flip one bit of the stored baseline diameter of the chunk's first row (the float's bytes are
    stored verbatim in the column's page: doubles do not compress), as a bad sector would."""
    value = float(pd.read_parquet(path, columns=["baseline_sld_mm"]).iloc[0, 0])
    data = bytearray(path.read_bytes())
    offset = data.find(struct.pack("<d", value))
    assert offset >= 0, "the value's bytes are not stored verbatim"
    data[offset + 6] ^= 0x10  # the lowest exponent bit: the diameter doubles or halves, still plausible
    path.write_bytes(bytes(data))


def _truncate_to_10_rows(path: Path) -> None:
    pd.read_parquet(path).head(10).to_parquet(path, index=False)


def _drop_a_column(path: Path) -> None:
    pd.read_parquet(path).drop(columns="os_month").to_parquet(path, index=False)


def _double_values(path: Path) -> None:
    frame = pd.read_parquet(path)
    floats = frame.select_dtypes("float").columns
    frame[floats] = frame[floats] * 2
    frame.to_parquet(path, index=False)


def _empty_directory(path: Path) -> None:
    path.unlink()
    path.mkdir()


def _zero_length(path: Path) -> None:
    path.write_bytes(b"")


def _not_parquet(path: Path) -> None:
    path.write_text("patient,arm\n1,sorafenib\n" * 20)


CORRUPTIONS: dict[str, Callable[[Path], None]] = {
    "swap in the next chunk (4 over 3)": _swap_next_over,
    "flip a bit of a stored value": _flip_bit_of_a_value,
    "truncate to 10 rows": _truncate_to_10_rows,
    "drop a column": _drop_a_column,
    "double the values": _double_values,
    "empty directory": _empty_directory,
    "zero-length file": _zero_length,
    "non-Parquet file": _not_parquet,
}


def damaged_copy(finished: Path, dest: Path, corrupt: Callable[[Path], None], chunk: int = 3) -> Path:
    """A copy of the finished run whose chunk ``chunk`` is damaged by ``corrupt``."""
    shutil.copytree(finished, dest)
    corrupt(_run_dir(dest) / f"chunk-{chunk:05d}.parquet")
    return dest


@pytest.mark.parametrize("kind", list(CORRUPTIONS))
def test_damaged_chunk_is_named_and_recomputed(kb: KnowledgeBase, finished: Path, tmp_path: Path, kind: str) -> None:
    out = damaged_copy(finished, tmp_path / "run", CORRUPTIONS[kind])
    patients, meta, warned = _resume(kb, out)
    assert any("chunk-00003.parquet" in w for w in warned), warned
    assert meta["chunks_resumed"] == 4  # the four intact chunks are used, the damaged one recomputed
    pd.testing.assert_frame_equal(patients, pd.read_parquet(finished / "patients.parquet"))
    assert (out / "patients.parquet").read_bytes() == (finished / "patients.parquet").read_bytes()
    assert json.loads((out / "trial.json").read_text())["arms"] == json.loads((finished / "trial.json").read_text())["arms"]


def test_chunk_matching_a_forged_commit_is_caught_by_the_row_schema(kb: KnowledgeBase, finished: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    shutil.copytree(finished, out)
    path = _run_dir(out) / "chunk-00003.parquet"
    frame = pd.read_parquet(path)
    frame.loc[0, "baseline_sld_mm"] = 3_653_263.0  # what one flipped byte made of 55.7 mm
    frame.to_parquet(path, index=False)
    data = path.read_bytes()
    commit = {
        "chunk": 3,
        "start": 18,
        "stop": 24,
        "rows": len(frame),
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
    }
    with (_run_dir(out) / "commits.jsonl").open("ab") as log:  # a later commit of a chunk wins
        log.write(json.dumps(commit, sort_keys=True, separators=(",", ":")).encode() + b"\n")
    patients, _, warned = _resume(kb, out)
    assert any("chunk-00003.parquet" in w and "baseline_sld_mm" in w for w in warned), warned
    pd.testing.assert_frame_equal(patients, pd.read_parquet(finished / "patients.parquet"))


def test_torn_commit_line_is_ignored_with_a_warning(kb: KnowledgeBase, finished: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    shutil.copytree(finished, out)
    with (_run_dir(out) / "commits.jsonl").open("ab") as log:
        log.write(b'{"chunk":3,"start":18,"st')  # a run killed in the middle of a commit
    patients, _, warned = _resume(kb, out)
    assert any("incomplete line" in w for w in warned), warned
    pd.testing.assert_frame_equal(patients, pd.read_parquet(finished / "patients.parquet"))


def test_cli_resume_of_a_zero_length_chunk_warns_in_one_line_without_traceback(finished: Path, tmp_path: Path) -> None:
    out = damaged_copy(finished, tmp_path / "run", _zero_length)
    done = subprocess.run(_cli(out, "--scheduler", "serial"), capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    lines = [ln for ln in done.stderr.splitlines() if "chunk-00003.parquet" in ln]
    assert len(lines) == 1 and lines[0].startswith("warning:"), done.stderr
    assert (out / "patients.parquet").read_bytes() == (finished / "patients.parquet").read_bytes()


# --- kill and resume, stale temporary files --------------------------------------------------------


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


@pytest.mark.slow
def test_killed_run_resumes_byte_identical_and_removes_only_dead_temporaries(finished: Path, tmp_path: Path) -> None:
    out = tmp_path / "killed"
    cmd = _cli(out, "--scheduler", "serial")
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline and not list(out.glob("chunks/*/chunk-00001.parquet")):
        if proc.poll() is not None:
            pytest.fail("the run ended before it could be killed")
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (out / "patients.parquet").exists()
    run_dir = _run_dir(out)
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    try:
        dead = _dead_pid()
        stale = [
            run_dir / f".chunk-00004.parquet.{dead}.0123abcd.tmp",  # this version's name: pid gone
            run_dir / ".chunk-00002.parquet.k3j_x9qa.tmp",  # an older version's name (no pid), under our lock
            out / f".patients.parquet.{dead}.89abcdef.tmp",
        ]
        kept = [run_dir / f".chunk-00004.parquet.{live.pid}.0123abcd.tmp", out / "notes.tmp"]
        for p in stale + kept:
            p.write_bytes(b"half a file")
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
        assert done.returncode == 0, done.stderr
        assert "Traceback" not in done.stderr
        assert (out / "patients.parquet").read_bytes() == (finished / "patients.parquet").read_bytes()
        assert [p.name for p in stale if p.exists()] == []
        assert [p.name for p in kept if not p.exists()] == []
    finally:
        live.kill()
        live.wait()


def test_finished_marker_tells_a_finished_run_from_a_partial_one(finished: Path, tmp_path: Path) -> None:
    from exoresist.cohort.manifest import read_finished

    patients, summary = read_finished(finished)
    pd.testing.assert_frame_equal(patients, pd.read_parquet(finished / "patients.parquet"))
    assert summary["meta"]["patients_sha256"]
    out = tmp_path / "run"
    shutil.copytree(finished, out)
    (out / "trial.json").write_text((out / "trial.json").read_text().replace('"n": ', '"n": 1'))
    with pytest.raises(TrialError, match=r"trial\.json is not the file"):
        read_finished(out)
    (out / "complete.json").unlink()
    with pytest.raises(TrialError, match="no finished trial"):
        read_finished(out)


def test_second_process_on_the_same_run_folder_is_refused(kb: KnowledgeBase, finished: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    shutil.copytree(finished, out)
    fd = os.open(_run_dir(out) / ".lock", os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # what a live run holds
        with pytest.raises(TrialError, match="another exoresist process"):
            run_trial(kb, _config(), out, scheduler="serial", progress=False)
    finally:
        os.close(fd)


# --- a full disk -----------------------------------------------------------------------------------


def _disk_full(
    monkeypatch: pytest.MonkeyPatch, folder: Path, mounted: bool, failing_name: str
) -> Callable[[], subprocess.CompletedProcess[str]]:
    """How to run the trial CLI into ``folder`` when its disk is full: on a real tmpfs a
    subprocess; without one (not root) in this process, with ``fsync`` of ``failing_name`` raising
    ENOSPC as a full disk does (the fault injected at the write call)."""
    if mounted:
        return lambda: subprocess.run(_cli(folder / "run", "--scheduler", "serial"), capture_output=True, text=True, timeout=600)
    import errno

    from typer.testing import CliRunner

    import exoresist.atomic
    from exoresist.cli.main import app

    real = exoresist.atomic.fsync_file

    def full(path: Path) -> None:
        if failing_name in path.name:
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        real(path)

    monkeypatch.setattr(exoresist.atomic, "fsync_file", full)

    def run() -> subprocess.CompletedProcess[str]:
        res = CliRunner().invoke(app, ["trial", "run", *CLI_ARGS, "--out", str(folder / "run"), "--scheduler", "serial"])
        err = res.stderr
        if res.exception is not None and not isinstance(res.exception, SystemExit):
            err += "".join(traceback.format_exception(res.exception))
        return subprocess.CompletedProcess([], res.exit_code, res.stdout, err)

    return run


def test_disk_full_on_a_chunk_is_one_line_and_commits_nothing(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    fs = tmp_path / "fs"
    with small_filesystem(fs, 32) as mounted:
        done = _disk_full(monkeypatch, fs, mounted, "chunk-00000")()
        assert done.returncode == 1, done.stderr
        assert "Traceback" not in done.stderr
        (line,) = done.stderr.strip().splitlines()
        assert line.startswith("error: disk full: cannot write") and "chunk-00000.parquet" in line, line
        commits = _run_dir(fs / "run") / "commits.jsonl"
        assert not commits.exists() or commits.read_bytes() == b""
        assert not (fs / "run" / "patients.parquet").exists()


def test_disk_full_at_the_end_leaves_no_half_written_pair(
    kb: KnowledgeBase, monkeypatch: pytest.MonkeyPatch, finished: Path, tmp_path: Path
) -> None:
    fs = tmp_path / "fs"
    patients_size = (finished / "patients.parquet").stat().st_size
    summary_size = (finished / "trial.json").stat().st_size
    with small_filesystem(fs, 4096) as mounted:
        out = fs / "run"
        shutil.copytree(_run_dir(finished), _run_dir_path(out, finished))  # every chunk done, nothing final
        filler = fill_to(fs, patients_size + summary_size // 2) if mounted else None  # room for one file, not both
        done = _disk_full(monkeypatch, fs, mounted, "trial.json")()
        assert done.returncode == 1, done.stderr
        assert "Traceback" not in done.stderr
        (line,) = done.stderr.strip().splitlines()
        assert line.startswith("error: disk full: cannot write") and "trial.json" in line, line
        assert sorted(p.name for p in out.iterdir()) == ["chunks"]  # no patients.parquet without trial.json
        if filler is not None:
            filler.unlink()
        monkeypatch.undo()
        again = subprocess.run(_cli(out, "--scheduler", "serial"), capture_output=True, text=True, timeout=600)
        assert again.returncode == 0, again.stderr
        assert (out / "patients.parquet").read_bytes() == (finished / "patients.parquet").read_bytes()
        assert (out / "complete.json").is_file()


def _run_dir_path(out: Path, finished: Path) -> Path:
    return out / "chunks" / _run_dir(finished).name


# --- size: a huge --patients, a long run stopped with Ctrl-C ---------------------------------------


def _tree_rss(proc: psutil.Process) -> int:
    total = 0
    for p in [proc, *proc.children(recursive=True)]:
        with contextlib.suppress(psutil.Error):
            total += p.memory_info().rss
    return total


def _watch(proc: subprocess.Popen[str], limit: int, until: Callable[[], bool], timeout: float) -> list[int]:
    """Sample the RSS of ``proc`` and its children until ``until()`` or it ends; kill it past
    ``limit`` bytes or ``timeout`` seconds (the test then fails instead of the machine)."""
    ps = psutil.Process(proc.pid)
    samples: list[int] = []
    deadline = time.monotonic() + timeout
    while proc.poll() is None and not until():
        rss = _tree_rss(ps)
        samples.append(rss)
        if rss > limit or time.monotonic() > deadline:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            pytest.fail(f"killed at {rss / MB:.0f} MB after {len(samples)} samples: unbounded work")
        time.sleep(0.1)
    return samples


def test_huge_patients_is_refused_at_once(tmp_path: Path) -> None:
    out = tmp_path / "huge"
    cmd = [sys.executable, "-m", "exoresist.cli.main", "trial", "run", "--arm", "sorafenib"]
    cmd += ["--patients", "99999999999999999999", "--scheduler", "serial", "--out", str(out)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    samples = _watch(proc, 1500 * MB, lambda: False, timeout=120)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 1, err
    assert err.strip() == (
        "error: at most 1,000,000 patients per arm, got 99,999,999,999,999,999,999: "
        "run several trials with different --seed values instead"
    )
    assert max(samples, default=0) < 1000 * MB
    assert not out.exists()


@pytest.mark.slow
def test_long_local_cluster_run_has_flat_memory_and_stops_on_ctrl_c_in_one_line(tmp_path: Path) -> None:
    out = tmp_path / "long"
    cmd = [sys.executable, "-m", "exoresist.cli.main", "trial", "run", "--arm", "sorafenib", "--arm", "placebo"]
    cmd += ["--patients", "1000000", "--months", "3", "--chunk-size", "10", "--out", str(out), "--format", "json"]
    refused = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    assert refused.stderr.startswith("estimate: 1,000,000 patients x 2 arm(s)") and "add --yes" in refused.stderr
    assert not out.exists()

    proc = subprocess.Popen([*cmd, "--yes"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)

    def written(n: int) -> Callable[[], bool]:
        return lambda: len(list(out.glob("chunks/*/chunk-*.parquet"))) >= n

    _watch(proc, 3000 * MB, written(4), timeout=300)
    samples = _watch(proc, 3000 * MB, written(24), timeout=300)
    assert proc.poll() is None, proc.communicate()[1]
    growth = max(samples) - samples[0]
    assert growth < 150 * MB, f"memory grew by {growth / MB:.0f} MB over 20 chunks"
    os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in a terminal sends: the whole process group
    _, err = proc.communicate(timeout=120)  # a hang detector only: it stops in about 4 s on an idle machine
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert lines[0].startswith("estimate: ") and len(lines) == 2, err
    assert lines[1].startswith("interrupted: ") and "chunks are written" in lines[1] and "run the same command again" in lines[1]
    run_dir = _run_dir(out)
    chunks = sorted(run_dir.glob("chunk-*.parquet"))
    commits = (run_dir / "commits.jsonl").read_bytes().splitlines()
    # Ctrl-C between a chunk's write and its commit leaves that one file uncommitted (recomputed on resume)
    assert len(commits) >= 24 and len(chunks) - 1 <= len(commits) <= len(chunks)
    assert lines[1].startswith(f"interrupted: {len(commits):,} of 100,000 chunks are written in {run_dir};")


def test_ctrl_c_ends_the_process_even_when_a_wait_never_returns(tmp_path: Path) -> None:
    """The interrupt watchdog: a process stuck after Ctrl-C (here a finally block that sleeps, as a
    Dask wait that never returned once did) prints the run's message and exits 130 after the grace."""
    script = tmp_path / "stuck.py"
    script.write_text(
        "import time\n"
        "from exoresist.cohort.workers import interrupt_watchdog\n"
        "with interrupt_watchdog(lambda: 'interrupted: 3 of 9 chunks are written', grace_s=1.0):\n"
        "    try:\n"
        "        print('ready', flush=True)\n"
        "        time.sleep(60)\n"
        "    finally:\n"
        "        time.sleep(60)  # the cleanup hangs\n",
        encoding="utf-8",
    )
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    started = time.monotonic()
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130 and time.monotonic() - started < 20
    assert err.strip() == "interrupted: 3 of 9 chunks are written (stopped after 1 s waiting for the cluster)"
