"""How the disease ends a patient's course: new lesions, death linked to tumour dynamics, death from
liver failure, and a later line of therapy after progression. Pure functions of a simulated tumour
trajectory, the patient's covariates and random numbers, and the cohort parameters: a trial is
simulated once, and these outcomes can be recomputed for other cohort parameters (calibration)
without simulating again.

**Death.** Two competing causes, integrated along the simulated trajectory against one
unit-exponential threshold per patient:

- tumour-related: ``h_T(t) = dH0(t) * exp(lp + b g(t)) * (SLD(t) / SLD0) ** p * (SLD0 / 80 mm) ** q * later``,
  with ``g(t)`` the tumour's growth over the preceding 6 weeks (:data:`GROWTH_LOG_HR`),
  a Weibull baseline ``H0(t) = (t / scale) ** shape`` (a parametric time-to-death model of the
  kind used to link tumour dynamics to survival, with the current tumour burden as the link, as in
  the joint model of tumour burden and survival under sorafenib of Kolamunnage-Dona et al., J
  Hepatol 2021); ``lp`` sums published log hazard ratios of the baseline factors
  (:data:`COVARIATE_HAZARD_RATIOS`); ``later`` is :data:`post_progression_hr` after progression for
  the patients who receive a later line of therapy.
- liver failure and other causes: a constant hazard rising with the ALBI score
  (:data:`ALBI_LOG_HR_PER_POINT`), independent of treatment.

Before the first scan the tumour has barely changed, so survival then follows the covariates
alone. Treatment acts on survival only through the simulated tumour and the later line; no arm has
a constant of its own, which is what lets the model predict drugs it was not fitted on.

**New lesions and non-target progression.** A hazard proportional to the net growth rate of the
simulated tumour (occult lesions grow like the measured ones: a tumour held still by a drug makes
fewer new lesions, a shrinking one none), raised by macrovascular invasion and extrahepatic
spread; the event is seen at the next scan and counts as RECIST progression.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from exoresist.cohort.covariates import Covariates

ITALIAN_COHORT = "multivariable hazard ratio, 215 sorafenib-treated patients (Cancers 2024;16:1080, PMC10968777, Table 3A)"
COVARIATE_HAZARD_RATIOS: dict[tuple[str, str], tuple[float, str]] = {
    ("ecog", "1"): (1.18, "ECOG (per category): " + ITALIAN_COHORT),
    ("mvi", "yes"): (1.29, "macrovascular invasion: " + ITALIAN_COHORT),
    ("afp_ge_400", "yes"): (1.42, "AFP > 25 ng/mL (applied to AFP >= 400): " + ITALIAN_COHORT),
    ("ehs", "yes"): (1.07, "extrahepatic metastasis, univariable hazard ratio, same cohort (Table 3A)"),
}
"""Hazard ratios of tumour-related death by baseline factor (published; the AFP cut-off differs)."""

BASELINE_SIZE_POWER = 0.5
"""Power ``q`` of the baseline sum of diameters (relative to 80 mm) in the tumour-related hazard
(assumed: a higher baseline burden carries a higher risk of death, Kolamunnage-Dona et al. 2021,
who give no coefficient in their abstract)."""
REFERENCE_SLD_MM = 80.0
GROWTH_WINDOW_DAY = 42.0
GROWTH_LOG_HR = 2.0
"""Log hazard ratio of tumour-related death per unit of on-treatment growth (log volume per month,
over the preceding 6 weeks). Derived: median OS 234 against 384 days for tumour burden growing
faster against slower than 0.12 mm/day on sorafenib (Kolamunnage-Dona et al., J Hepatol 2021) is a
hazard ratio of about 1.64; taking the two groups about 0.22 mm/day apart on an 80 mm sum (0.25 log
volume per month), ln 1.64 / 0.25 = 2.0. The growth rate is the tumour-dynamics metric that
predicts survival best across tumour types (Claret et al., Clin Cancer Res 2018; Chan et al.,
CPT Pharmacometrics Syst Pharmacol 2021)."""
ALBI_LOG_HR_PER_POINT = 1.0
"""Log hazard ratio of non-tumour death per ALBI point (assumed; informed by median survival after
sorafenib of 17.5, 7.5 and 1.9 months by ALBI grade 1, 2 and 3, Pinato et al., Aliment Pharmacol
Ther 2017;45:714)."""
ALBI_REFERENCE = -2.60
NEW_LESION_HAZARD_RATIOS: dict[tuple[str, str], float] = {("mvi", "yes"): 1.5, ("ehs", "yes"): 1.5}
"""Hazard ratios of a new lesion by baseline factor (assumed)."""
LATER_LINE_SHARES: dict[str, tuple[float, str]] = {
    "modern": (
        0.36,
        "trial share of patients given systemic therapy after leaving a first-line phase III trial: 32.6 % "
        "and 38.7 % of the two arms of REFLECT (Kudo et al., Lancet 2018), as tabulated by Merle et al., "
        "Hepatoma Res 2020;6:60, Table 3 (mean 36 %; a share of all patients, taken as the share of those "
        "progressing); real-world shares are lower, 19-21 % (Singal et al., Cancers 2023;15:5532; Lau-Min et "
        "al., JAMA Netw Open 2025). Only this conduct figure is taken from REFLECT, none of its outcomes",
    ),
    "pre-2017": (0.0, "assumed: no second-line therapy was approved for HCC before 2017 (SHARP enrolled in 2005-2006)"),
}
"""Share of progressing patients who receive a later line of systemic therapy, by era."""


@dataclass(frozen=True)
class DiseaseParameters:
    """The cohort parameters of a patient's course after the simulation: this module's, and the two of
    its reading (measurement error and the complete-response threshold, used by
    :mod:`exoresist.cohort.endpoints`); see :data:`exoresist.cohort.population.COHORT_PARAMETERS`."""

    new_lesion_per_month: float
    new_lesion_frailty_sd: float
    death_tumour_scale_month: float
    death_tumour_shape: float
    death_tumour_size_power: float
    death_liver_per_month: float
    post_progression_hr: float
    measurement_sd: float = 0.0
    cr_lesion_mm: float = 5.0
    new_lesion_base_per_month: float = 0.0

    @staticmethod
    def from_cohort(values: Mapping[str, float]) -> DiseaseParameters:
        return DiseaseParameters(
            new_lesion_per_month=values["new_lesion_per_month"],
            new_lesion_frailty_sd=values["new_lesion_frailty_sd"],
            death_tumour_scale_month=values["death_tumour_scale_month"],
            death_tumour_shape=values["death_tumour_shape"],
            death_tumour_size_power=values["death_tumour_size_power"],
            death_liver_per_month=values["death_liver_per_month"],
            post_progression_hr=values["post_progression_hr"],
            measurement_sd=values["measurement_sd"],
            cr_lesion_mm=values["cr_lesion_mm"],
            new_lesion_base_per_month=values.get("new_lesion_base_per_month", 0.0),
        )


DAYS_PER_MONTH = 365.25 / 12


def tumour_linear_predictor(cov: Covariates) -> np.ndarray:
    """``lp`` of tumour-related death: the sum of log hazard ratios of the patient's factors."""
    lp = np.zeros(cov.n)
    for (factor, level), (hr, _) in COVARIATE_HAZARD_RATIOS.items():
        lp = lp + math.log(hr) * cov.flag(factor, level)
    return lp


def liver_hazard_per_month(cov: Covariates, p: DiseaseParameters) -> np.ndarray:
    return p.death_liver_per_month * np.exp(ALBI_LOG_HR_PER_POINT * (cov.values["albi_score"] - ALBI_REFERENCE))


def _first_crossing(cum: np.ndarray, threshold: np.ndarray, times: np.ndarray) -> np.ndarray:
    """Per row, the time at which ``cum`` (non-decreasing, shape (n, n_t)) first reaches
    ``threshold``, interpolated linearly inside a step; NaN if it never does."""
    n = cum.shape[0]
    reached = cum >= threshold[:, None]
    k = np.argmax(reached, axis=1)
    hit = reached[np.arange(n), k]
    out = np.full(n, np.nan)
    at_start = hit & (k == 0)
    out[at_start] = times[0]
    inner = hit & (k > 0)
    i = np.flatnonzero(inner)
    c0, c1 = cum[i, k[i] - 1], cum[i, k[i]]
    frac = (threshold[i] - c0) / np.maximum(c1 - c0, 1e-300)
    out[i] = times[k[i] - 1] + frac * (times[k[i]] - times[k[i] - 1])
    return out


def tumour_growth_per_month(times_day: np.ndarray, volume: np.ndarray) -> np.ndarray:
    """Net growth rate of the tumour volume (log volume per month) on ``times_day``, from the
    simulated trajectory (central differences; one-sided at the ends)."""
    log_v = np.log(np.maximum(volume, 1e-12))
    out: np.ndarray = np.gradient(log_v, times_day, axis=1) * DAYS_PER_MONTH
    return out


def new_lesion_day(
    times_day: np.ndarray,
    volume: np.ndarray,
    cov: Covariates,
    threshold: np.ndarray,
    frailty_z: np.ndarray,
    p: DiseaseParameters,
) -> np.ndarray:
    """Day (relative to baseline) of the first new lesion or non-target progression; NaN if none by
    the last time. The hazard has a part proportional to the net growth rate of the tumour (occult
    lesions grow like the measured ones, so a tumour that stops growing makes fewer new lesions) and
    a small constant part (``new_lesion_base_per_month``: occult clones that escape whatever the
    measured lesions do, as in the mixed responses seen under immunotherapy), both times
    :data:`NEW_LESION_HAZARD_RATIOS` and a log-normal frailty (``frailty_z``: the patient's standard
    normal)."""
    sd = p.new_lesion_frailty_sd
    factor = np.exp(sd * frailty_z - sd * sd / 2)  # log-normal frailty with mean 1
    for (f, level), hr in NEW_LESION_HAZARD_RATIOS.items():
        factor = factor * np.where(cov.flag(f, level) > 0, hr, 1.0)
    growth = np.maximum(tumour_growth_per_month(times_day, volume), 0.0)
    rate = (p.new_lesion_base_per_month + p.new_lesion_per_month * growth) / DAYS_PER_MONTH * factor[:, None]
    steps = 0.5 * (rate[:, 1:] + rate[:, :-1]) * np.diff(times_day)[None, :]
    cum = np.concatenate([np.zeros((cov.n, 1)), np.cumsum(steps, axis=1)], axis=1)
    return _first_crossing(cum, threshold, times_day)


@dataclass(frozen=True)
class Deaths:
    """Day of death (relative to baseline; NaN if alive at the last time) and the share of the
    hazard at that time that was tumour-related (1 = tumour, 0 = liver failure)."""

    day: np.ndarray
    tumour_share: np.ndarray


def trailing_growth_per_month(times_day: np.ndarray, volume: np.ndarray) -> np.ndarray:
    """Growth of the tumour volume over the preceding :data:`GROWTH_WINDOW_DAY` (log volume per
    month; since baseline while less time has passed; 0 in the first week)."""
    log_v = np.log(np.maximum(volume, 1e-12))
    k = np.searchsorted(times_day, times_day - GROWTH_WINDOW_DAY - 1e-9)
    span = times_day - times_day[k]
    rate = (log_v - log_v[:, k]) / np.maximum(span, 1e-9)[None, :] * DAYS_PER_MONTH
    out: np.ndarray = np.where(span[None, :] >= 7.0, rate, 0.0)
    return out


def death_day(
    times_day: np.ndarray,
    sld_ratio: np.ndarray,
    volume: np.ndarray,
    baseline_sld_mm: np.ndarray,
    cov: Covariates,
    progression_day: np.ndarray,
    later_line: np.ndarray,
    threshold: np.ndarray,
    p: DiseaseParameters,
) -> Deaths:
    """Time of death from the cumulative tumour-related and liver hazards along ``times_day``
    (days from baseline, starting at 0). ``sld_ratio``: sum of diameters over its baseline value;
    ``progression_day``: NaN when the patient does not progress; ``later_line``: bool per patient."""
    t_month = times_day / DAYS_PER_MONTH
    h0 = (t_month / p.death_tumour_scale_month) ** p.death_tumour_shape  # cumulative baseline hazard
    d_h0 = np.diff(h0)
    lp = tumour_linear_predictor(cov) + BASELINE_SIZE_POWER * np.log(baseline_sld_mm / REFERENCE_SLD_MM)
    growth = trailing_growth_per_month(times_day, volume)
    size = np.power(np.maximum(sld_ratio, 1e-6), p.death_tumour_size_power) * np.exp(GROWTH_LOG_HR * growth)
    mid_size = 0.5 * (size[:, 1:] + size[:, :-1])
    mid_day = 0.5 * (times_day[1:] + times_day[:-1])
    after = (later_line[:, None]) & (mid_day[None, :] > np.nan_to_num(progression_day, nan=np.inf)[:, None])
    factor = np.where(after, p.post_progression_hr, 1.0)
    tumour_steps = d_h0[None, :] * np.exp(lp)[:, None] * mid_size * factor
    liver = liver_hazard_per_month(cov, p)
    liver_steps = liver[:, None] * np.diff(t_month)[None, :]
    cum = np.concatenate([np.zeros((cov.n, 1)), np.cumsum(tumour_steps + liver_steps, axis=1)], axis=1)
    day = _first_crossing(cum, threshold, times_day)
    # share of the instantaneous hazard that is tumour-related, in the step where death occurs
    step = np.clip(np.searchsorted(times_day, np.nan_to_num(day, nan=times_day[-1]), side="left") - 1, 0, len(d_h0) - 1)
    rows = np.arange(cov.n)
    t_part = tumour_steps[rows, step]
    l_part = liver_steps[rows, step]
    share = np.where(np.isfinite(day), t_part / np.maximum(t_part + l_part, 1e-300), np.nan)
    return Deaths(day, share)
