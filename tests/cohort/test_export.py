"""A finished trial as spreadsheet tables: the per-arm CSV and the Excel workbook (atomic)."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from exoresist.cohort.config import TrialConfig
from exoresist.cohort.covariates import IMBRAVE150, N_FACTORS, baseline_comparison, draw_covariates
from exoresist.cohort.export import summary_csv, summary_frames, write_xlsx
from exoresist.cohort.runner import TrialRun
from exoresist.cohort.statistics import ATTRIBUTION_COLUMNS, replicate_figures, summarise
from tests.cohort.synthetic import patient_table


@pytest.fixture(scope="module")
def run() -> TrialRun:
    patients = patient_table(n=40)
    arms, comparisons = summarise(patients, ["A", "B"])
    attribution = pd.DataFrame(
        [{"arm": "A", "record_id": "mech:x", "label": "x (y)", "n_progressing": 30, "share": 0.5, "mean_contribution": 0.2,
          "ko_share": float("nan"), "ko_mean_delay_month": float("nan")}],
        columns=list(ATTRIBUTION_COLUMNS),
    )  # fmt: skip
    baseline = baseline_comparison(draw_covariates(np.random.default_rng(0).standard_normal((40, N_FACTORS))), IMBRAVE150)
    reps = replicate_figures(patients, ["A", "B"], None, 20, 2)  # two trials of 20 per arm
    config = TrialConfig(("A", "B"), patients=20, replicates=2)
    return TrialRun(config, patients, arms, comparisons, attribution, baseline, reps, ["arm 'B': a warning"], {"seed": 0})


def _summary(run: TrialRun) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(json.dumps(run.to_json_dict()))  # as trial.json holds it
    return data


def test_json_summary_is_valid_json(run: TrialRun) -> None:
    text = json.dumps(run.to_json_dict(), allow_nan=False)  # no NaN or inf: undefined values are null
    data = json.loads(text)
    assert data["attribution"][0]["ko_share"] is None and data["warnings"] == ["arm 'B': a warning"]
    assert data["config"]["replicates"] == 2


def test_summary_csv_round_trips_the_arm_summary(run: TrialRun) -> None:
    frame = pd.read_csv(io.StringIO(summary_csv(_summary(run))))
    assert frame["arm"].tolist() == ["A", "B"]
    for row, arm in zip(frame.to_dict(orient="records"), run.arms, strict=True):
        assert row["n"] == arm["n"]
        assert row["orr.estimate"] == pytest.approx(arm["orr"]["estimate"])
        assert row["orr.ci_high"] == pytest.approx(arm["orr"]["ci_high"])
        assert row["pfs_median_month.median"] == pytest.approx(arm["pfs_median_month"]["median"])
        assert row["os_12_month.estimate"] == pytest.approx(arm["os_12_month"]["estimate"])
    assert "orr" not in frame.columns  # nested values are spread into a.b columns


def test_summary_frames_flatten_every_table(run: TrialRun) -> None:
    frames = summary_frames(_summary(run))
    assert set(frames) == {"arms", "comparisons", "replicates", "baseline", "attribution"}
    assert len(frames["comparisons"]) == 1 and "pfs_hr.hr" in frames["comparisons"].columns
    assert len(frames["replicates"]) == len(run.replicates) and len(frames["baseline"]) == len(run.baseline)
    assert summary_frames({})["arms"].empty  # a summary without a table gives an empty sheet


def test_xlsx_round_trips_the_summary_and_every_patient(run: TrialRun, tmp_path: Path) -> None:
    path = tmp_path / "trial.xlsx"
    summary = _summary(run)
    write_xlsx(summary, run.patients, path)
    sheets = pd.read_excel(path, sheet_name=None, engine="openpyxl")
    assert list(sheets) == ["arms", "comparisons", "replicates", "baseline", "attribution", "config", "patients"]
    arms = sheets["arms"]
    assert arms["arm"].tolist() == ["A", "B"]
    assert arms["orr.estimate"].tolist() == pytest.approx([a["orr"]["estimate"] for a in run.arms])
    assert sheets["comparisons"]["pfs_hr.hr"].iloc[0] == pytest.approx(run.comparisons[0]["pfs_hr"]["hr"])
    config = dict(zip(sheets["config"]["setting"], sheets["config"]["value"], strict=True))
    assert config["replicates"] == 2 and config["cohort.growth_sigma"] == pytest.approx(
        summary["config"]["cohort"]["growth_sigma"]
    )
    patients = sheets["patients"]
    assert len(patients) == len(run.patients) and list(patients.columns) == list(run.patients.columns)
    # Excel has no empty text: empty cells come back as missing
    pd.testing.assert_frame_equal(patients.fillna(""), run.patients.fillna(""), check_dtype=False)


def test_xlsx_write_is_atomic(run: TrialRun, tmp_path: Path) -> None:
    """A write that fails half-way leaves no file (or the previous file) and no temporary file."""
    path = tmp_path / "trial.xlsx"
    summary = _summary(run)
    # the patients sheet is written last and fails: Excel has no time zones
    unwritable = run.patients.assign(seen=pd.Timestamp("2020-01-01", tz="UTC"))
    with pytest.raises(ValueError, match="Excel does not support datetimes with timezones"):
        write_xlsx(summary, unwritable, path)
    assert list(tmp_path.iterdir()) == []
    write_xlsx(summary, run.patients, path)
    before = path.read_bytes()
    with pytest.raises(ValueError):
        write_xlsx(summary, unwritable, path)
    assert path.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == ["trial.xlsx"]
