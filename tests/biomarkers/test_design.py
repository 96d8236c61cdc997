"""Stratified designs on paired (digital-twin) outcomes with a known marker effect and a noisy assay."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from exoresist.biomarkers import BiomarkerError
from exoresist.biomarkers.design import _cut_value, design_table
from tests.biomarkers.synthetic import survival


def paired(n: int, seed: int, noise_sd: float) -> pd.DataFrame:
    """The experimental arm halves the hazard only when the true level is above its median."""
    rng = np.random.default_rng(seed)
    true = rng.lognormal(0.0, 1.0, n)
    t_con, e_con = survival(rng, np.zeros(n))
    t_exp, e_exp = survival(rng, np.where(true > np.median(true), np.log(0.5), 0.0))
    measured = true * rng.lognormal(0.0, noise_sd, n)
    return pd.DataFrame({"t_con": t_con, "e_con": e_con, "t_exp": t_exp, "e_exp": e_exp, "measured": measured, "true": true})


def test_designs_see_the_benefit_where_it_is() -> None:
    rows, overall = design_table(paired(800, 3, 0.05), sizes=[200, 600], quantiles=(0.5,))
    (mid,) = rows
    assert mid["hr_positive"]["hr"] < 0.65 < 0.85 < mid["hr_negative"]["hr"]
    assert mid["sensitivity"] > 0.9 and mid["specificity"] > 0.9
    d = mid["designs"]
    assert d["enrichment"]["power"]["200"] > d["all-comers"]["power"]["200"]  # enrichment needs fewer patients
    assert d["enrichment"]["screen_failure"] == pytest.approx(0.5, abs=0.01)
    assert d["enrichment"]["power"]["600"] >= d["enrichment"]["power"]["200"]
    assert 0.6 < overall["hr"] < 0.9


def test_assay_noise_blurs_the_strata() -> None:
    (clean,) = design_table(paired(800, 4, 0.05), sizes=[200], quantiles=(0.5,))[0]
    (noisy,) = design_table(paired(800, 4, 1.5), sizes=[200], quantiles=(0.5,))[0]
    assert noisy["sensitivity"] < clean["sensitivity"]
    assert noisy["hr_positive"]["hr"] > clean["hr_positive"]["hr"]  # misclassified patients dilute the effect
    assert noisy["hr_positive_true"]["hr"] < noisy["hr_positive"]["hr"]


@pytest.mark.parametrize(("text", "expected"), [(None, 2.5), ("q50", 2.5), ("median", 2.5), ("25%", 1.75), ("3.2", 3.2)])
def test_cut_values(text: str | None, expected: float) -> None:
    assert _cut_value(text, np.array([1.0, 2.0, 3.0, 4.0])) == pytest.approx(expected)


@pytest.mark.parametrize("text", ["q0", "q100", "high", "-1"])
def test_bad_cut_values(text: str) -> None:
    with pytest.raises(BiomarkerError, match="cut-point"):
        _cut_value(text, np.array([1.0, 2.0]))
