"""Death, new lesions and later lines on hand-made tumour trajectories, against closed-form answers."""

from __future__ import annotations

import math

import numpy as np
import pytest

from exoresist.cohort.disease import (
    ALBI_LOG_HR_PER_POINT,
    BASELINE_SIZE_POWER,
    COVARIATE_HAZARD_RATIOS,
    DAYS_PER_MONTH,
    GROWTH_LOG_HR,
    GROWTH_WINDOW_DAY,
    NEW_LESION_HAZARD_RATIOS,
    REFERENCE_SLD_MM,
    Deaths,
    DiseaseParameters,
    death_day,
    new_lesion_day,
    trailing_growth_per_month,
    tumour_growth_per_month,
    tumour_linear_predictor,
)
from exoresist.cohort.population import CohortParameters
from tests.cohort.synthetic import covariates, disease

DAILY = np.arange(0.0, 3650.0 + 1.0, 1.0)  # ten years, every day


def _deaths(
    threshold: np.ndarray,
    *,
    times: np.ndarray = DAILY,
    cov_levels: dict[str, str] | None = None,
    sld_ratio: float = 1.0,
    volume: np.ndarray | None = None,
    baseline_sld_mm: float = REFERENCE_SLD_MM,
    albi: float = -2.60,
    progression_day: float = math.nan,
    later_line: bool = False,
    **params: float,
) -> Deaths:
    """Death of ``threshold.size`` identical patients (one threshold each) on a still tumour unless
    ``volume`` is given."""
    n = threshold.size
    cov = covariates(n, albi=albi, **(cov_levels or {}))
    vol = np.ones((n, times.size)) if volume is None else np.broadcast_to(volume, (n, times.size))
    return death_day(
        times,
        np.full((n, times.size), sld_ratio),
        vol,
        np.full(n, baseline_sld_mm),
        cov,
        np.full(n, progression_day),
        np.full(n, later_line),
        threshold,
        disease(**params),
    )


def test_constant_liver_hazard_gives_the_exponential_threshold() -> None:
    """With only the liver hazard (ALBI at the reference), death comes when the threshold equals
    hazard x time; a threshold beyond the follow-up means alive."""
    e = np.array([0.5, 1.0, 100.0])
    got = _deaths(e, death_liver_per_month=0.1)
    assert got.day[:2] == pytest.approx(e[:2] / 0.1 * DAYS_PER_MONTH, rel=1e-9)
    assert math.isnan(got.day[2])
    assert got.tumour_share[:2] == pytest.approx([0.0, 0.0], abs=1e-9)  # liver failure, not the tumour
    # a worse liver (ALBI one point higher) raises the hazard by exp(1): death exp(1) times sooner
    worse = _deaths(e[:2], death_liver_per_month=0.1, albi=-1.60)
    assert worse.day == pytest.approx(got.day[:2] / math.exp(ALBI_LOG_HR_PER_POINT), rel=1e-9)


@pytest.mark.parametrize(("scale", "shape"), [(15.0, 1.0), (20.0, 1.5), (8.0, 2.5)])
def test_weibull_baseline_alone_inverts_exactly(scale: float, shape: float) -> None:
    """Reference patient, unchanged tumour: cumulative hazard (t / scale) ** shape, so the threshold
    e is reached at scale * e ** (1 / shape) months."""
    e = np.array([0.05, math.log(2), 1.0, 2.0])
    got = _deaths(e, death_tumour_scale_month=scale, death_tumour_shape=shape)
    assert got.day / DAYS_PER_MONTH == pytest.approx(scale * e ** (1 / shape), rel=2e-3)
    assert got.tumour_share == pytest.approx(np.ones(e.size))


def test_weibull_baseline_gives_the_analytic_median_survival() -> None:
    """Unit-exponential thresholds of a large cohort: median survival scale * ln(2) ** (1 / shape)."""
    scale, shape = 20.0, 1.5
    rng = np.random.default_rng(11)
    e = rng.exponential(size=4000)
    weekly = np.arange(0.0, 3650.0, 7.0)
    days = _deaths(e, times=weekly, death_tumour_scale_month=scale, death_tumour_shape=shape).day
    months = np.where(np.isfinite(days), days / DAYS_PER_MONTH, np.inf)
    analytic = scale * math.log(2) ** (1 / shape)
    assert np.median(months) == pytest.approx(analytic, rel=0.04)  # sampling error of a median of 4000 about 1 %
    # and the whole survival curve: S(12 months) = exp(-(12 / scale) ** shape)
    assert np.mean(months > 12.0) == pytest.approx(math.exp(-((12 / scale) ** shape)), abs=0.025)


@pytest.mark.parametrize(
    "levels",
    [{"ecog": "1"}, {"mvi": "yes"}, {"afp_ge_400": "yes"}, {"ehs": "yes"}, {"ecog": "1", "mvi": "yes", "afp_ge_400": "yes"}],
)
def test_covariate_hazard_ratios_shift_death_times_as_proportional_hazards(levels: dict[str, str]) -> None:
    """Cumulative hazard times HR: with shape k the death time is divided by HR ** (1 / k)."""
    hr = math.prod(COVARIATE_HAZARD_RATIOS[(f, lv)][0] for f, lv in levels.items())
    shape = 1.5
    e = np.array([0.3, 1.0, 2.5])
    ref = _deaths(e, death_tumour_scale_month=15.0, death_tumour_shape=shape).day
    got = _deaths(e, cov_levels=levels, death_tumour_scale_month=15.0, death_tumour_shape=shape).day
    assert got == pytest.approx(ref * hr ** (-1 / shape), rel=3e-3)
    assert tumour_linear_predictor(covariates(1, **levels))[0] == pytest.approx(math.log(hr))


def test_tumour_burden_raises_the_hazard() -> None:
    """Twice the reference baseline sum: HR 2 ** q; the sum doubled relative to baseline with power
    p = 1: HR 2. Constant hazard (shape 1) so death time = threshold / hazard."""
    e = np.array([0.5, 1.5])
    ref = _deaths(e, death_tumour_scale_month=10.0).day
    assert ref / DAYS_PER_MONTH == pytest.approx(10.0 * e, rel=1e-6)
    big = _deaths(e, baseline_sld_mm=2 * REFERENCE_SLD_MM, death_tumour_scale_month=10.0).day
    assert big == pytest.approx(ref / 2**BASELINE_SIZE_POWER, rel=1e-6)
    doubled = _deaths(e, sld_ratio=2.0, death_tumour_scale_month=10.0, death_tumour_size_power=1.0).day
    assert doubled == pytest.approx(ref / 2.0, rel=1e-6)
    unchanged_power = _deaths(e, sld_ratio=2.0, death_tumour_scale_month=10.0, death_tumour_size_power=0.0).day
    assert unchanged_power == pytest.approx(ref, rel=1e-9)


def test_growing_tumour_raises_the_hazard_by_its_trailing_growth() -> None:
    """A tumour growing at r (log volume per month) from day 0: after the first week the hazard is
    multiplied by exp(GROWTH_LOG_HR * r); before it the growth term is 0."""
    r = 0.3
    volume = np.exp(r * DAILY / DAYS_PER_MONTH)[None, :]
    growth = trailing_growth_per_month(DAILY, volume)[0]
    assert growth[DAILY < 7.0] == pytest.approx(0.0)
    assert growth[DAILY >= 7.0] == pytest.approx(r, rel=1e-9)
    assert tumour_growth_per_month(DAILY, volume)[0] == pytest.approx(r, rel=1e-9)
    # the window is the preceding six weeks: a tumour that grew, then stopped, loses its growth term
    stop = np.exp(r * np.minimum(DAILY, 100.0) / DAYS_PER_MONTH)[None, :]
    held = trailing_growth_per_month(DAILY, stop)[0]
    assert held[DAILY >= 100.0 + GROWTH_WINDOW_DAY] == pytest.approx(0.0, abs=1e-12)
    # constant tumour hazard 1 / scale per month: threshold e with growth from day 7 on
    scale = 10.0
    e = np.array([1.0, 2.0])
    got = _deaths(e, volume=volume, death_tumour_scale_month=scale).day / DAYS_PER_MONTH
    week = 7.0 / DAYS_PER_MONTH
    expected = week + (e * scale - week) / math.exp(GROWTH_LOG_HR * r)
    assert got == pytest.approx(expected, rel=2e-3)


def test_later_line_delays_death_only_after_progression() -> None:
    """Constant tumour hazard 1/scale; progression at day P; after it a later line multiplies the
    hazard by h < 1. Deaths before P are unchanged; later ones move to P + (e scale - P) / h."""
    scale, h, p_day = 10.0, 0.5, 100.0
    p_month = p_day / DAYS_PER_MONTH
    e = np.array([0.2, 0.5, 1.0, 2.0])  # e * scale < p_month for the first: death before progression
    assert e[0] * scale < p_month < e[1] * scale
    common = {"death_tumour_scale_month": scale, "post_progression_hr": h, "progression_day": p_day}
    without = _deaths(e, later_line=False, **common).day / DAYS_PER_MONTH
    with_line = _deaths(e, later_line=True, **common).day / DAYS_PER_MONTH
    assert without == pytest.approx(e * scale, rel=1e-6)
    assert with_line[0] == pytest.approx(without[0], rel=1e-9)
    assert with_line[1:] == pytest.approx(p_month + (e[1:] * scale - p_month) / h, rel=1e-6)
    # no progression: a later line changes nothing
    no_pd = _deaths(e, later_line=True, death_tumour_scale_month=scale, post_progression_hr=h).day
    assert no_pd / DAYS_PER_MONTH == pytest.approx(without, rel=1e-9)


def test_tumour_share_of_the_death_hazard() -> None:
    """Constant tumour hazard 1/scale and liver hazard lam: the tumour's share at death is
    (1/scale) / (1/scale + lam), and death comes at e / (1/scale + lam)."""
    scale, lam = 10.0, 0.05
    e = np.array([0.4, 1.2])
    got = _deaths(e, death_tumour_scale_month=scale, death_liver_per_month=lam)
    total = 1 / scale + lam
    assert got.day / DAYS_PER_MONTH == pytest.approx(e / total, rel=1e-6)
    assert got.tumour_share == pytest.approx(np.full(2, (1 / scale) / total), rel=1e-9)


def _lesion_day(
    volume: np.ndarray, threshold: float, *, frailty_z: float = 0.0, levels: dict[str, str] | None = None, **params: float
) -> float:
    cov = covariates(1, **(levels or {}))
    return float(new_lesion_day(DAILY, volume[None, :], cov, np.array([threshold]), np.array([frailty_z]), disease(**params))[0])


def test_shrinking_tumour_makes_no_new_lesions_without_the_constant_hazard() -> None:
    shrinking = np.exp(-0.01 * DAILY)
    assert math.isnan(_lesion_day(shrinking, 1e-9, new_lesion_per_month=2.0))
    still = np.ones_like(DAILY)
    assert math.isnan(_lesion_day(still, 1e-9, new_lesion_per_month=2.0))


def test_constant_new_lesion_hazard_acts_whatever_the_tumour_does() -> None:
    """With a constant part b per month, a shrinking tumour reaches threshold e at e / b months; a
    growing one adds its growth term to it."""
    b, e = 0.05, 0.1
    shrinking = np.exp(-0.01 * DAILY)
    got = _lesion_day(shrinking, e, new_lesion_per_month=2.0, new_lesion_base_per_month=b)
    assert got == pytest.approx(e / b * DAYS_PER_MONTH, rel=1e-6)
    r, rate = 0.01, 0.5
    growing = np.exp(r * DAILY)
    both = _lesion_day(growing, 1.0, new_lesion_per_month=rate, new_lesion_base_per_month=b)
    assert both == pytest.approx(1.0 / (rate * r + b / DAYS_PER_MONTH), rel=1e-6)


def test_new_lesion_hazard_is_proportional_to_growth() -> None:
    """Volume growing at r per day: hazard new_lesion_per_month x r per day (growth per month over
    days per month), so a threshold e is reached at e / (rate x r) days; MVI multiplies the hazard
    by its ratio, and the frailty by exp(sd z - sd ** 2 / 2)."""
    r, rate = 0.01, 0.5
    growing = np.exp(r * DAILY)
    assert _lesion_day(growing, 1.0, new_lesion_per_month=rate) == pytest.approx(1.0 / (rate * r), rel=1e-6)
    hr = NEW_LESION_HAZARD_RATIOS[("mvi", "yes")]
    assert _lesion_day(growing, 1.0, new_lesion_per_month=rate, levels={"mvi": "yes"}) == pytest.approx(
        1.0 / (rate * r * hr), rel=1e-6
    )
    sd, z = 0.8, 1.0
    frail = math.exp(sd * z - sd * sd / 2)
    got = _lesion_day(growing, 1.0, frailty_z=z, new_lesion_per_month=rate, new_lesion_frailty_sd=sd)
    assert got == pytest.approx(1.0 / (rate * r * frail), rel=1e-6)
    # growth that stops before the threshold is reached: no new lesion afterwards
    stops = np.exp(r * np.minimum(DAILY, 50.0))
    assert math.isnan(_lesion_day(stops, 1.0, new_lesion_per_month=rate))


def test_disease_parameters_come_from_the_cohort() -> None:
    cohort = CohortParameters({"death_tumour_shape": 2.0, "post_progression_hr": 0.6})
    p = DiseaseParameters.from_cohort(cohort.as_dict())
    assert p.death_tumour_shape == 2.0 and p.post_progression_hr == 0.6
    assert p.death_liver_per_month == CohortParameters()["death_liver_per_month"]
