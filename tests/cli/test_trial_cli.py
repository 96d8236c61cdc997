"""`exoresist trial run|calibrate|sensitivity` from the command line: output and bad input."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from typer.testing import CliRunner

from exoresist.cli.main import app

runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--arm", "sorafenib", "--patients", "-1"], "at least 1"),
        (["--arm", "sorafenib", "--patients", "0"], "at least 1"),
        (["--arm", "sorafenib+aspirin"], "'aspirin' is neither a therapy nor an intervention"),
        (["--arm", "sorafenib", "--months", "-3"], "months"),
        (["--arm", "sorafenib", "--scheduler", "tcp://127.0.0.1:9"], "no Dask scheduler answers"),
    ],
)
def test_trial_run_bad_arguments(tmp_path: Path, args: list[str], message: str) -> None:
    code, _, err = run("trial", "run", *args, "--out", str(tmp_path / "out"))
    assert code == 1
    assert message in " ".join(err.split())
    assert not (tmp_path / "out").exists()  # nothing written before the arguments were checked


def test_trial_run_json(tmp_path: Path) -> None:
    code, out, err = run(
        "trial", "run", "--arm", "placebo", "--arm", "sorafenib", "--patients", "4", "--months", "3",
        "--scheduler", "serial", "--chunk-size", "2", "--out", str(tmp_path), "--format", "json",
    )  # fmt: skip
    assert code == 0, err
    data = json.loads(out)
    assert [a["arm"] for a in data["arms"]] == ["placebo", "sorafenib"]
    for a in data["arms"]:
        assert a["n"] == 4
        assert {"orr", "dcr", "cr", "pr", "sd", "pd", "ne", "pfs_median_month", "os_median_month"} <= set(a)
        assert set(a["orr"]) == {"estimate", "ci_low", "ci_high"}
        assert math.isclose(a["cr"] + a["pr"] + a["sd"] + a["pd"] + a["ne"], 1.0)
    (c,) = data["comparisons"]
    assert c["arm"] == "sorafenib" and c["reference"] == "placebo"
    assert {"os_hr", "pfs_hr", "os_logrank_p", "pfs_logrank_p"} <= set(c)
    assert (tmp_path / "patients.parquet").is_file() and json.loads((tmp_path / "trial.json").read_text())["arms"]


def test_trial_run_knockouts(tmp_path: Path) -> None:
    code, out, err = run(
        "trial", "run", "--arm", "sorafenib", "--patients", "30", "--months", "12", "--scheduler", "serial",
        "--out", str(tmp_path), "--knockouts",
    )  # fmt: skip
    assert code == 0, err
    assert "knockout" in out  # the extra attribution columns are printed
    rows = json.loads((tmp_path / "trial.json").read_text())["attribution"]
    assert rows and all(r["ko_share"] is not None and 0.0 <= r["ko_share"] <= 1.0 for r in rows)


def test_calibrate_needs_a_mode() -> None:
    code, _, err = run("trial", "calibrate")
    assert code != 0 and "--check or --fit" in err


def test_sensitivity_rejects_bad_sample_size() -> None:
    code, _, err = run("trial", "sensitivity", "--arm", "sorafenib", "--samples", "6")
    assert code == 1 and "power of 2" in err
