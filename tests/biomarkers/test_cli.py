"""The commands end to end on a small virtual trial (serial, a few patients)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from exoresist.cli.main import app


def test_evaluate_json(tmp_path: Path) -> None:
    args = ["biomarker", "evaluate", "--arm", "sorafenib", "--arm", "sorafenib+secretion-blockade", "--marker", "pIgR"]
    args += ["--marker", "hsa-miR-4669", "--patients", "24", "--months", "12", "--scheduler", "serial", "--bootstrap", "5"]
    args += ["--endpoint", "os", "--out", str(tmp_path / "run"), "--format", "json"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    names = {m["marker"] for m in data["markers"]}
    assert {"pIgR", "miR-4669", "pIgR change (week 4)"} <= names
    assert data["meta"]["observation_parameters"]["assay_cv"] == 0.15
    assert json.loads((tmp_path / "run" / "biomarkers.json").read_text()) == data


def test_unmeasurable_marker_is_a_clear_error(tmp_path: Path) -> None:
    args = ["biomarker", "evaluate", "--arm", "sorafenib", "--marker", "post-radiotherapy exosomes", "--out", str(tmp_path)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 1 and "cannot be measured" in result.output
    assert not any(tmp_path.iterdir())


def test_trial_run_stratify(tmp_path: Path) -> None:
    args = ["trial", "run", "--arm", "sorafenib", "--arm", "atezolizumab+bevacizumab", "--patients", "20", "--months", "6"]
    args += ["--scheduler", "serial", "--out", str(tmp_path), "--stratify", "circCCAR1:q50", "--format", "json"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    strata = json.loads(result.stdout)["stratified"]
    assert strata["marker"] == "circCCAR1" and strata["share_positive"] == 0.5
    (row,) = strata["strata"]
    assert row["n_positive"] + row["n_negative"] == 20 and row["os_hr_positive"]["hr"] is not None


def test_design_arguments_are_checked_before_any_trial(tmp_path: Path) -> None:
    base = ["biomarker", "design", "--marker", "pIgR", "--out", str(tmp_path / "d")]
    one_arm = CliRunner().invoke(app, [*base, "--arm", "sorafenib"])
    assert one_arm.exit_code != 0 and "exactly two arms" in one_arm.output
    bad_sizes = CliRunner().invoke(app, [*base, "--arm", "sorafenib", "--arm", "placebo", "--sizes", "200,lots"])
    assert bad_sizes.exit_code != 0 and "--sizes" in bad_sizes.output
    assert not (tmp_path / "d").exists()
