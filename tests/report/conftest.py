"""A small synthetic trial, and its report rendered once per module."""

from __future__ import annotations

from pathlib import Path

import pytest

from exoresist.report import render_report
from tests.report.synthetic import TrialData, trial_data


@pytest.fixture(scope="module")
def trial() -> TrialData:
    """Three arms of 70 virtual patients."""
    return trial_data(n_per_arm=70, seed=11)


def render(trial: TrialData, out: Path, **overrides: object) -> Path:
    """Render ``trial`` to ``out``; keyword arguments replace those of :func:`render_report`."""
    kwargs: dict[str, object] = {
        "title": "Synthetic trial",
        "meta": trial.meta,
        "patients": trial.patients,
        "arms": trial.arms,
        "comparisons": trial.comparisons,
        "attribution": trial.attribution,
        "calibration": trial.calibration,
        "sensitivity": trial.sensitivity,
        "out_path": out,
    }
    kwargs.update(overrides)
    return render_report(**kwargs)  # type: ignore[arg-type]
