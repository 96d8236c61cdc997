"""Trial execution: chunk files, resume after a kill, reproducibility, Dask equals serial."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from exoresist.cohort.calibration import calibrated_cohort
from exoresist.cohort.runner import TrialError, connect, run_trial
from exoresist.cohort.trial import TrialConfig
from exoresist.kb import KnowledgeBase

ARMS = ("sorafenib", "sorafenib+secretion-blockade")
COHORT = calibrated_cohort()  # what the CLI uses


def _config(**kw: object) -> TrialConfig:
    base: dict[str, object] = {"arms": ARMS, "patients": 6, "months": 4.0, "seed": 3, "chunk_size": 2, "cohort": COHORT}
    base.update(kw)
    return TrialConfig(**base)  # type: ignore[arg-type]


class _Stop(Exception):
    pass


@pytest.fixture(scope="module")
def reference(kb: KnowledgeBase, tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    out = tmp_path_factory.mktemp("reference")
    run = run_trial(kb, _config(), out, scheduler="serial", progress=False)
    assert (out / "patients.parquet").is_file() and (out / "trial.json").is_file()
    return run.patients


def test_one_row_per_arm_and_patient(reference: pd.DataFrame) -> None:
    assert len(reference) == 12
    assert sorted(reference.groupby("arm").size().to_dict().items()) == [(ARMS[0], 6), (ARMS[1], 6)]
    assert reference.groupby("arm")["patient"].apply(list).map(sorted).tolist() == [list(range(6))] * 2
    assert reference["ok"].all()
    # the same virtual patients in both arms (equal before treatment, up to the integration tolerance)
    by_arm = reference.set_index(["arm", "patient"])["baseline_diameter_mm"].unstack(0)
    assert ((by_arm[ARMS[0]] / by_arm[ARMS[1]] - 1).abs() < 1e-4).all()


def test_same_seed_same_numbers(kb: KnowledgeBase, tmp_path: Path, reference: pd.DataFrame) -> None:
    again = run_trial(kb, _config(), tmp_path, scheduler="serial", progress=False).patients
    pd.testing.assert_frame_equal(again, reference)
    other = run_trial(kb, _config(seed=4), tmp_path / "other", scheduler="serial", progress=False).patients
    assert not other["baseline_diameter_mm"].equals(reference["baseline_diameter_mm"])


def test_chunking_does_not_change_patients(kb: KnowledgeBase, tmp_path: Path, reference: pd.DataFrame) -> None:
    whole = run_trial(kb, _config(chunk_size=6), tmp_path, scheduler="serial", progress=False).patients
    pd.testing.assert_frame_equal(whole, reference)


def test_resume_recomputes_only_missing_chunks(kb: KnowledgeBase, tmp_path: Path, reference: pd.DataFrame) -> None:
    def stop_after_first(i: int) -> None:
        raise _Stop

    with pytest.raises(_Stop):
        run_trial(kb, _config(), tmp_path, scheduler="serial", progress=False, on_chunk=stop_after_first)
    (chunk_dir,) = (tmp_path / "chunks").iterdir()
    written = sorted(p.name for p in chunk_dir.glob("chunk-*.parquet"))
    assert written == ["chunk-00000.parquet"]
    first_mtime = (chunk_dir / written[0]).stat().st_mtime_ns
    seen: list[int] = []
    run = run_trial(kb, _config(), tmp_path, scheduler="serial", progress=False, on_chunk=seen.append)
    assert seen == [1, 2] and run.meta["chunks_resumed"] == 1
    assert (chunk_dir / written[0]).stat().st_mtime_ns == first_mtime
    pd.testing.assert_frame_equal(run.patients, reference)


@pytest.mark.slow
def test_killed_cli_run_resumes_to_identical_parquet(tmp_path: Path, reference: pd.DataFrame) -> None:
    out = tmp_path / "killed"
    cmd = [sys.executable, "-m", "exoresist.cli.main", "trial", "run", *[x for a in ARMS for x in ("--arm", a)]]
    cmd += ["--patients", "6", "--months", "4", "--seed", "3", "--chunk-size", "2", "--scheduler", "serial", "--out", str(out)]
    cmd += ["--format", "json"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline and not list(out.glob("chunks/*/chunk-00000.parquet")):
        if proc.poll() is not None:
            pytest.fail("the run ended before it could be killed")
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (out / "patients.parquet").exists()
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr
    pd.testing.assert_frame_equal(pd.read_parquet(out / "patients.parquet"), reference)


@pytest.mark.slow
def test_dask_local_cluster_equals_serial(kb: KnowledgeBase, tmp_path: Path, reference: pd.DataFrame) -> None:
    run = run_trial(kb, _config(), tmp_path, scheduler=None, progress=False)
    pd.testing.assert_frame_equal(run.patients, reference)
    assert run.meta["scheduler"] == "local cluster"


@pytest.mark.slow
def test_existing_cluster_by_address_equals_serial(kb: KnowledgeBase, tmp_path: Path, reference: pd.DataFrame) -> None:
    from distributed import LocalCluster

    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster:
        run = run_trial(kb, _config(), tmp_path, scheduler=cluster.scheduler_address, progress=False)
    pd.testing.assert_frame_equal(run.patients, reference)
    assert run.meta["scheduler"].startswith("tcp://")


def test_unreachable_scheduler_is_a_clear_error() -> None:
    with pytest.raises(TrialError, match=re.escape("no Dask scheduler answers at 'tcp://127.0.0.1:9'")):
        connect("tcp://127.0.0.1:9")


def test_bad_arguments_fail_before_any_file_is_written(kb: KnowledgeBase, tmp_path: Path) -> None:
    with pytest.raises(TrialError):
        run_trial(kb, _config(patients=-1), tmp_path, scheduler="serial", progress=False)
    with pytest.raises(TrialError):
        run_trial(kb, _config(arms=("sorafenib+nothing",)), tmp_path, scheduler="tcp://127.0.0.1:9", progress=False)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_post_sorafenib_patients_carry_their_acquired_state(kb: KnowledgeBase, tmp_path: Path) -> None:
    from exoresist.cohort.trial import _post_sorafenib

    draws, attempts, at_progression = _post_sorafenib(kb, COHORT, 5, [0, 1, 2], (1.0, 1.0, 1.0))
    assert len(draws) == 3 and attempts.shape == (3,)
    resistant = at_progression["R_sorafenib"]
    assert (resistant > 0).all()  # progressed on sorafenib: sorafenib-resistant cells at the start
    run = run_trial(
        kb, _config(population="post-sorafenib", patients=3, chunk_size=3), tmp_path, scheduler="serial", progress=False
    )
    assert len(run.patients) == 6 and run.patients["ok"].all()
    assert run.patients["tvdt_day"].isna().all()  # no screening window in second line


def test_estimate_asks_for_confirmation_only_for_large_runs(kb: KnowledgeBase) -> None:
    from exoresist.cohort.runner import estimate

    small = estimate(kb, _config(patients=1000), 2)
    large = estimate(kb, _config(patients=1_000_000, months=24.0), 2)
    assert not small.needs_confirmation and large.needs_confirmation
    assert large.seconds > 100 * small.seconds and large.memory_bytes > small.memory_bytes
    assert large.describe().startswith("1,000,000 patients x 2 arm(s) on 2 worker(s): about ")


def test_more_patients_than_the_limit_is_refused_before_anything(kb: KnowledgeBase, tmp_path: Path) -> None:
    with pytest.raises(TrialError, match="at most 1,000,000 patients per arm"):
        run_trial(kb, _config(patients=10**20), tmp_path, scheduler="serial", progress=False)
    assert list(tmp_path.iterdir()) == []
