"""Trial execution: chunk files, resume after a kill, reproducibility, Dask equals serial, the
run's summary (replicates, reference, baseline, warnings)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from exoresist.cohort.calibration import calibrated_cohort
from exoresist.cohort.config import TrialConfig
from exoresist.cohort.population import draw_candidates
from exoresist.cohort.runner import TrialError, connect, finite_or_none, run_key, run_trial
from exoresist.cohort.simulate import _post_sorafenib
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
    pd.testing.assert_frame_equal(pd.read_parquet(out / "patients.parquet"), run.patients)
    return run.patients


def test_one_row_per_arm_and_patient(reference: pd.DataFrame) -> None:
    assert len(reference) == 12
    assert sorted(reference.groupby("arm").size().to_dict().items()) == [(ARMS[0], 6), (ARMS[1], 6)]
    assert reference["arm"].tolist() == [ARMS[0]] * 6 + [ARMS[1]] * 6  # arms as given, then patients
    assert reference.groupby("arm")["patient"].apply(list).map(sorted).tolist() == [list(range(6))] * 2
    assert reference["ok"].all()
    # the same virtual patients in both arms: the same state at the baseline scan
    by_arm = reference.set_index(["arm", "patient"])["baseline_sld_mm"].unstack(0)
    assert (by_arm[ARMS[0]] == by_arm[ARMS[1]]).all()


def test_same_seed_same_numbers(kb: KnowledgeBase, tmp_path: Path, reference: pd.DataFrame) -> None:
    again = run_trial(kb, _config(), tmp_path, scheduler="serial", progress=False).patients
    pd.testing.assert_frame_equal(again, reference)
    other = run_trial(kb, _config(seed=4), tmp_path / "other", scheduler="serial", progress=False).patients
    assert not other["baseline_sld_mm"].equals(reference["baseline_sld_mm"])


def test_chunking_does_not_change_patients(kb: KnowledgeBase, tmp_path: Path, reference: pd.DataFrame) -> None:
    whole = run_trial(kb, _config(chunk_size=6), tmp_path, scheduler="serial", progress=False).patients
    pd.testing.assert_frame_equal(whole, reference)
    odd = run_trial(kb, _config(chunk_size=4), tmp_path / "odd", scheduler="serial", progress=False).patients
    pd.testing.assert_frame_equal(odd, reference)


def test_resume_recomputes_only_missing_chunks(kb: KnowledgeBase, tmp_path: Path, reference: pd.DataFrame) -> None:
    def stop_after_first(i: int) -> None:
        raise _Stop

    with pytest.raises(_Stop):
        run_trial(kb, _config(), tmp_path, scheduler="serial", progress=False, on_chunk=stop_after_first)
    (chunk_dir,) = (tmp_path / "chunks").iterdir()
    assert chunk_dir.name == run_key(kb, _config())
    written = sorted(p.name for p in chunk_dir.glob("chunk-*.parquet"))
    assert written == ["chunk-00000.parquet"]
    assert not (tmp_path / "patients.parquet").exists()
    first_mtime = (chunk_dir / written[0]).stat().st_mtime_ns
    seen: list[int] = []
    run = run_trial(kb, _config(), tmp_path, scheduler="serial", progress=False, on_chunk=seen.append)
    assert seen == [1, 2] and run.meta["chunks_resumed"] == 1 and run.meta["chunks"] == 3
    assert (chunk_dir / written[0]).stat().st_mtime_ns == first_mtime
    pd.testing.assert_frame_equal(run.patients, reference)


def test_a_folder_of_another_run_is_refused(kb: KnowledgeBase, tmp_path: Path) -> None:
    run_dir = tmp_path / "chunks" / run_key(kb, _config())
    run_dir.mkdir(parents=True)
    (run_dir / "manifest.json").write_text(json.dumps({"key": "something else"}))
    with pytest.raises(TrialError, match="belongs to another run"):
        run_trial(kb, _config(), tmp_path, scheduler="serial", progress=False)


@pytest.mark.slow
def test_killed_cli_run_resumes_to_identical_parquet(tmp_path: Path, reference: pd.DataFrame) -> None:
    """Killed (SIGKILL) after its first chunk, the same command finishes the run; chunks of one
    patient each, so the kill lands mid-run, and the patients equal the reference (chunking-invariant)."""
    out = tmp_path / "killed"
    cmd = [sys.executable, "-m", "exoresist.cli.main", "trial", "run", *[x for a in ARMS for x in ("--arm", a)]]
    cmd += ["--patients", "6", "--months", "4", "--seed", "3", "--chunk-size", "1", "--scheduler", "serial", "--out", str(out)]
    cmd += ["--format", "json"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline and not list(out.glob("chunks/*/chunk-00000.parquet")):
        if proc.poll() is not None:
            pytest.fail("the run ended before it could be killed")
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (out / "patients.parquet").exists()
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert 1 <= summary["meta"]["chunks_resumed"] < 6
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


@pytest.mark.slow  # the client waits for its 10 s timeout
def test_unreachable_scheduler_is_a_clear_error() -> None:
    with pytest.raises(TrialError, match=re.escape("no Dask scheduler answers at 'tcp://127.0.0.1:9'")):
        connect("tcp://127.0.0.1:9")


def test_bad_arguments_fail_before_any_file_is_written(kb: KnowledgeBase, tmp_path: Path) -> None:
    out = tmp_path / "out"
    with pytest.raises(TrialError, match="at least 1"):
        run_trial(kb, _config(patients=-1), out, scheduler="serial", progress=False)
    with pytest.raises(TrialError, match="'nothing'"):  # checked before the scheduler is contacted
        run_trial(kb, _config(arms=("sorafenib+nothing",)), out, scheduler="tcp://127.0.0.1:9", progress=False)
    assert not out.exists()


def test_replicates_reference_baseline_and_warnings_in_the_summary(kb: KnowledgeBase, tmp_path: Path) -> None:
    config = _config(patients=3, replicates=2, chunk_size=3, reference=ARMS[1], later_line_share=0.5)
    run = run_trial(kb, config, tmp_path, scheduler="serial", progress=False)
    assert len(run.patients) == 2 * 6 and run.patients["patient"].max() == 5
    assert run.meta["replicates"] == 2 and run.meta["reference_arm"] == ARMS[1] and run.meta["later_line_share"] == 0.5
    (c,) = run.comparisons
    assert c["arm"] == ARMS[0] and c["reference"] == ARMS[1]
    assert run.replicates and {r["replicates"] for r in run.replicates} == {2}
    assert {r["reference"] for r in run.replicates if r["figure"].endswith("_hr")} == {ARMS[1]}
    assert [a["n"] for a in run.arms] == [6, 6]  # the arm summaries pool every replicate
    factors = {row["factor"] for row in run.baseline}
    assert {"ecog", "mvi", "albi_score", "bclc_c"} <= factors
    ecog0 = next(row for row in run.baseline if (row["factor"], row["level"]) == ("ecog", "0"))
    first = run.patients[run.patients["arm"] == ARMS[0]]
    assert ecog0["simulated"] == pytest.approx((first["cov:ecog"] == "0").mean())
    assert any("hypothetical" in w and ARMS[1] in w for w in run.warnings)
    text = (tmp_path / "trial.json").read_text()
    data = json.loads(text, parse_constant=lambda c: pytest.fail(f"{c} in trial.json"))
    assert data["config"]["replicates"] == 2 and data["config"]["reference"] == ARMS[1]
    assert len(data["replicates"]) == len(run.replicates) and data["warnings"] == run.warnings


def test_finite_or_none_makes_valid_json() -> None:
    value = {"a": [1.0, float("inf"), np.float64("nan"), np.int64(3)], "b": (float("-inf"),), "c": "text"}
    assert finite_or_none(value) == {"a": [1.0, None, None, 3], "b": [None], "c": "text"}


def test_post_sorafenib_patients_carry_their_acquired_state(kb: KnowledgeBase, tmp_path: Path) -> None:
    config = _config(population="post-sorafenib", patients=3, chunk_size=3, arms=("sorafenib", "placebo"))
    patients, states = _post_sorafenib(kb, config, [0, 1, 2], (1.0, 1.0, 1.0))
    assert patients.n == 3 and patients.slots.tolist() == [0, 1, 2]
    resistant = states["R_sorafenib"]
    assert (resistant > 0).all()  # progressed on sorafenib: sorafenib-resistant cells at the start
    # fresh outcome random numbers for the second line, not those of the first-line course
    first_line = draw_candidates(kb, COHORT, 3, patients.slots, patients.attempts)
    assert not np.array_equal(first_line.randoms["death_e"], patients.randoms["death_e"])
    assert np.array_equal(first_line.params["k_growth_patient_per_day"], patients.params["k_growth_patient_per_day"])
    run = run_trial(kb, config, tmp_path, scheduler="serial", progress=False)
    assert len(run.patients) == 6 and run.patients["ok"].all()
    assert run.patients["tvdt_day"].isna().all()  # no screening window in second line
    by_arm = run.patients.set_index(["arm", "patient"])["baseline_sld_mm"].unstack(0)
    # the same tumour at the start of both arms: without sorafenib its resistant cells count as sensitive
    assert np.allclose(by_arm["sorafenib"], by_arm["placebo"], rtol=1e-9)


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
