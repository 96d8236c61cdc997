"""Calibration targets, loss and report; Sobol sensitivity on a tiny design."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from exoresist.cohort import calibration as cal
from exoresist.cohort.sensitivity import factors, run_sensitivity
from exoresist.cohort.trial import parse_arm
from exoresist.kb import KnowledgeBase

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data" / "calibration_trials.csv"


def test_every_published_number_is_a_target() -> None:
    ts = cal.targets()
    frame = pd.read_csv(Path(cal.__file__).parent / "data" / "calibration_trials.csv")
    numeric = [
        "os_median_months",
        "os_hr_vs_control",
        "pfs_or_ttp_median_months",
        "pfs_hr_vs_control",
        "orr_percent",
        "cr_percent",
    ]
    numeric.append("dcr_percent")
    assert len(ts) == int(frame[numeric].notna().sum().sum())
    by_key = {(t.trial, t.arm, t.endpoint): t for t in ts}
    assert by_key[("SHARP", "sorafenib", "ttp_median")].published == 5.5
    assert by_key[("SHARP", "sorafenib", "os_hr")].reference == "placebo"
    assert by_key[("IMbrave150", "atezolizumab+bevacizumab", "pfs_hr")].reference == "sorafenib"
    assert by_key[("IMbrave150", "atezolizumab+bevacizumab", "orr")].unit == "percent"


@pytest.mark.skipif(not SHARED.is_file(), reason="the project's shared data folder is not beside the repository")
def test_shipped_table_is_the_shared_one() -> None:
    assert (Path(cal.__file__).parent / "data" / "calibration_trials.csv").read_bytes() == SHARED.read_bytes()


def test_error_terms() -> None:
    months = cal.Target("T", "sorafenib", "os_median", "months", 10.0)
    rate = cal.Target("T", "sorafenib", "orr", "percent", 20.0)
    assert cal.error_term(months, 10.0) == 0.0
    assert cal.error_term(months, 20.0) == pytest.approx(math.log(2))
    assert cal.error_term(rate, 30.0) == pytest.approx(1.0)
    assert cal.error_term(months, float("inf")) == 3.0


def test_markdown_lists_every_target() -> None:
    ts = cal.targets()
    table = pd.DataFrame(
        [
            {
                "trial": t.trial,
                "arm": t.arm,
                "endpoint": t.endpoint,
                "unit": t.unit,
                "published": t.published,
                "simulated": t.published * 1.1,
                "error": t.published * 0.1,
                "reference": t.reference or "",
            }
            for t in ts
        ]
    )
    text = cal.markdown(table, None)
    assert text.count("\n| SHARP |") + text.count("\n| IMbrave150 |") == len(ts)
    assert "No fit has been made" in text


def test_sensitivity_factors_follow_the_arm(kb: KnowledgeBase) -> None:
    sor = {f[0] for f in factors(kb, parse_arm(kb, "sorafenib"), 3.0)}
    assert "strength_mir21_pten_akt_autophagy_sorafenib" in sor
    assert "strength_mir135a_5p_vamp2_doxorubicin" not in sor  # a doxorubicin-only record
    assert "k_exosome_uptake_per_day" in sor


@pytest.mark.slow
def test_sobol_run_on_a_tiny_design(kb: KnowledgeBase) -> None:
    result = run_sensitivity(kb, "sorafenib", cal.calibrated_cohort(), patients=2, samples=4, months=2.0, seed=1)
    n_factors = len(factors(kb, parse_arm(kb, "sorafenib"), 2.0))
    assert len(result.table) == 2 * n_factors and set(result.table["output"]) == {"PFS", "response"}
    assert result.n_samples == 4 * (n_factors + 2)
    assert np.isfinite(result.table[["S1", "ST"]].to_numpy()).all()
    ranking = result.ranking()
    assert [r["ST"] for r in ranking] == sorted((r["ST"] for r in ranking), reverse=True)


def test_shipped_fit_is_documented() -> None:
    record = cal.fit_record()
    assert record is not None, "no calibration has been shipped (src/exoresist/cohort/data/calibrated.json)"
    assert set(record["values"]) == set(cal.FITTED)
    assert cal.calibrated_cohort().as_dict() | record["values"] == cal.calibrated_cohort().as_dict()
    doc = (Path(__file__).resolve().parents[2] / "docs" / "calibration.md").read_text()
    for name, value in record["values"].items():
        assert f"| `{name}` | {record['start'][name]:.4g} | {value:.4g} |" in doc, f"docs/calibration.md is stale for {name}"
