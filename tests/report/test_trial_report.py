"""The trial report's limitations: the calibration check's misfits in numbers, with the check's size."""

from __future__ import annotations

import math

import pandas as pd

from exoresist.cohort.calibration import DEFAULT_REPLICATES
from exoresist.report.trial_report import _check_size, misfit_lines


def _table(replicates: int) -> pd.DataFrame:
    row = {"trial": "SHARP", "arm": "placebo", "unit": "percent", "reference": "", "replicates": replicates}
    return pd.DataFrame(
        [
            {**row, "endpoint": "orr", "published": 1.0, "simulated": 0.0, "pi_low": 0.0, "pi_high": 0.0,
             "within_tolerance": True, "inside_pi": False},
            {**row, "endpoint": "cr", "published": 0.0, "simulated": 0.0, "pi_low": 0.0, "pi_high": 0.0,
             "within_tolerance": True, "inside_pi": True},
            {**row, "endpoint": "ttp_median", "unit": "months", "published": 2.8, "simulated": math.nan,
             "pi_low": math.nan, "pi_high": math.nan, "within_tolerance": False, "inside_pi": False},
        ]
    )  # fmt: skip


def test_misfits_name_every_figure_outside_tolerance_or_interval_in_numbers() -> None:
    lines = misfit_lines(_table(5))
    assert len(lines) == 2
    assert "SHARP placebo" in lines[0] and "simulated 0 percent against 1 published" in lines[0]
    assert "outside the 90 % prediction interval" in lines[0]
    assert "not reached" in lines[1] and "outside tolerance" in lines[1]


def test_the_check_size_is_stated_and_a_small_check_points_to_the_shipped_one() -> None:
    small = _check_size(_table(5))
    assert small.startswith(" (5 virtual trials per published trial;") and "docs/calibration.md" in small
    assert _check_size(_table(DEFAULT_REPLICATES)) == f" ({DEFAULT_REPLICATES} virtual trials per published trial)"
    assert _check_size(_table(5).drop(columns="replicates")) == ""


def test_limitations_follow_the_run_withdrawal_and_knockouts() -> None:
    from exoresist.cohort.config import TrialConfig
    from exoresist.report.trial_report import (
        ATTRIBUTION_LIMITATION,
        KNOCKOUT_LIMITATION,
        NO_WITHDRAWAL_LIMITATION,
        WITHDRAWAL_LIMITATION,
        run_limitations,
    )

    plain = run_limitations(TrialConfig(("sorafenib",)))
    assert NO_WITHDRAWAL_LIMITATION in plain and ATTRIBUTION_LIMITATION in plain and WITHDRAWAL_LIMITATION not in plain
    withdrawn = run_limitations(TrialConfig(("sorafenib",), withdrawal_shares=(0.2,), knockouts=True))
    assert WITHDRAWAL_LIMITATION in withdrawn and KNOCKOUT_LIMITATION in withdrawn and NO_WITHDRAWAL_LIMITATION not in withdrawn
