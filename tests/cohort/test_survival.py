"""Survival wrappers against lifelines itself and against hand computations."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from lifelines import CoxPHFitter, KaplanMeierFitter
from lifelines.datasets import load_rossi, load_waltons
from lifelines.statistics import logrank_test
from lifelines.utils import median_survival_times

from exoresist.cohort import cox_hazard_ratio, km_median, logrank_p, proportion_ci


def test_km_median_equals_lifelines_on_waltons() -> None:
    data = load_waltons()
    fitter = KaplanMeierFitter().fit(data["T"], data["E"])
    ci = median_survival_times(fitter.confidence_interval_)
    assert km_median(data["T"], data["E"]) == (fitter.median_survival_time_, ci.iloc[0, 0], ci.iloc[0, 1])
    assert km_median(data["T"], data["E"]) == (56.0, 53.0, 58.0)


def test_km_median_by_hand() -> None:
    # No censoring: S = 0.8, 0.6, 0.4 at t = 1, 2, 3, so the median is 3.
    assert km_median([1, 2, 3, 4, 5], [1, 1, 1, 1, 1]).median == 3.0
    # t = 2 censored: S(1) = 0.8, S(3) = 0.8 * 2/3 = 0.533, S(4) = 0.533 * 1/2 = 0.267: median 4.
    assert km_median([1, 2, 3, 4, 5], [1, 0, 1, 1, 1]).median == 4.0
    # Never falls to one half: median not reached.
    assert math.isinf(km_median([1, 2, 3, 4], [1, 0, 0, 0]).median)


def _agrees(result: tuple[float, ...], row: pd.Series) -> None:
    """The same estimator (Efron ties, Wald interval and p) as lifelines. exoresist's Newton runs to
    a zero score; lifelines stops at its own tolerance (with heavy ties a score of about 6e-5, at a
    partial log-likelihood equal to the 13th digit), so the figures agree to about 1e-6 and the
    p-value, far in the tail, to 1e-4."""
    hr, lo, hi, p = result
    assert (hr, lo, hi) == pytest.approx((row["exp(coef)"], row["exp(coef) lower 95%"], row["exp(coef) upper 95%"]), rel=1e-5)
    assert p == pytest.approx(row["p"], rel=1e-4)


def test_cox_hazard_ratio_equals_lifelines_on_rossi() -> None:
    data = load_rossi()
    fitter = CoxPHFitter().fit(data[["week", "arrest", "fin"]], duration_col="week", event_col="arrest")
    row = fitter.summary.loc["fin"]
    result = cox_hazard_ratio(data["week"], data["arrest"], data["fin"])
    _agrees(result, row)
    assert result.hr == pytest.approx(0.6914, abs=1e-4)
    # Swapping the arms inverts the hazard ratio and keeps the p-value.
    swapped = cox_hazard_ratio(data["week"], data["arrest"], 1 - data["fin"])
    assert swapped.hr == pytest.approx(1 / result.hr, rel=1e-6)
    assert swapped.p == pytest.approx(result.p, rel=1e-6)


def test_cox_alpha_changes_interval() -> None:
    data = load_rossi()
    wide = cox_hazard_ratio(data["week"], data["arrest"], data["fin"], alpha=0.01)
    narrow = cox_hazard_ratio(data["week"], data["arrest"], data["fin"])
    assert wide.ci_low < narrow.ci_low and wide.ci_high > narrow.ci_high


def test_logrank_equals_lifelines_on_waltons() -> None:
    data = load_waltons()
    arm = (data["group"] == "miR-137").to_numpy()
    t, e = data["T"].to_numpy(), data["E"].to_numpy()
    expected = logrank_test(t[arm], t[~arm], event_observed_A=e[arm], event_observed_B=e[~arm]).p_value
    assert logrank_p(t, e, arm.astype(int)) == expected


def test_proportion_ci_wilson_by_hand() -> None:
    # k = 3, n = 10, z = 1.959964: centre = (0.3 + z²/20) / (1 + z²/10), half-width from the score formula.
    z = 1.959963984540054
    centre = (0.3 + z**2 / 20) / (1 + z**2 / 10)
    half = z / (1 + z**2 / 10) * math.sqrt(0.3 * 0.7 / 10 + z**2 / 400)
    result = proportion_ci(3, 10)
    assert result.estimate == 0.3
    assert result.ci_low == pytest.approx(centre - half, abs=1e-12)
    assert result.ci_high == pytest.approx(centre + half, abs=1e-12)
    assert (round(result.ci_low, 4), round(result.ci_high, 4)) == (0.1078, 0.6032)


def test_proportion_ci_clopper_pearson_by_hand() -> None:
    # k = 0: the exact upper bound solves (1 - p)^n = alpha/2.
    assert proportion_ci(0, 10, method="clopper-pearson") == (0.0, 0.0, pytest.approx(1 - 0.025**0.1, abs=1e-12))
    result = proportion_ci(3, 10, method="clopper-pearson")
    assert (round(result.ci_low, 4), round(result.ci_high, 4)) == (0.0667, 0.6525)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: km_median([1, 2], [1]), "length mismatch"),
        (lambda: km_median([1, -2], [1, 1]), "durations must be finite and >= 0"),
        (lambda: km_median([1, 2], [1, 2]), "events must be 0"),
        (lambda: cox_hazard_ratio([1, 2], [1, 1], [1, 1]), "both arms"),
        (lambda: cox_hazard_ratio([1, 2], [1, 1], [0, 2]), "group must be binary"),
        (lambda: logrank_p([1, 2], [1, 1], [0]), "length mismatch"),
        (lambda: proportion_ci(11, 10), "0 <= k <= n"),
        (lambda: proportion_ci(1, 10, alpha=1.5), "alpha"),
    ],
)
def test_bad_input_names_the_problem(call: object, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        call()  # type: ignore[operator]


def test_proportion_ci_rejects_non_integers() -> None:
    with pytest.raises(TypeError):
        proportion_ci(1.5, 10)  # type: ignore[arg-type]
    assert np.isclose(proportion_ci(np.int64(5), np.int64(10)).estimate, 0.5)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_cox_hazard_ratio_equals_lifelines_with_heavy_ties(seed: int) -> None:
    """Durations rounded to whole units (many tied events: Efron's correction matters)."""
    rng = np.random.default_rng(seed)
    n = 400
    g = (rng.random(n) < 0.5).astype(int)
    t = np.round(rng.exponential(8.0, n) * np.where(g == 1, 1.5, 1.0))
    e = ((t < 12) & (rng.random(n) < 0.8)).astype(int)
    t = np.minimum(t, 12)
    frame = pd.DataFrame({"t": t, "e": e, "g": g})
    row = CoxPHFitter().fit(frame, duration_col="t", event_col="e").summary.loc["g"]
    _agrees(cox_hazard_ratio(t, e, g), row)


def test_cox_without_events_or_with_separation_is_a_convergence_error() -> None:
    from lifelines.exceptions import ConvergenceError

    with pytest.raises(ConvergenceError):
        cox_hazard_ratio([1.0, 2.0, 3.0, 4.0], [0, 0, 0, 0], [0, 1, 0, 1])
    with pytest.raises(ConvergenceError):  # every event in arm 1 before any in arm 0 ... and none in arm 0
        cox_hazard_ratio([1.0, 2.0, 3.0, 4.0], [1, 1, 0, 0], [1, 1, 0, 0])
