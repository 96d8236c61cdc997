"""Fast numpy versions of the trial statistics for the calibration loop, where lifelines' general
fitters would dominate the run time. They compute the same estimators (tests compare them with
lifelines): the Kaplan–Meier median and survival at a time, and the Cox hazard ratio of a binary
group (Breslow ties here, Efron in lifelines: equal without tied event times, close with few).
Reported trial statistics come from :mod:`exoresist.cohort.survival` (lifelines, and its exact Efron
Cox estimator); this Breslow fit stays because the shipped calibration was fitted with it.
"""

from __future__ import annotations

import math

import numpy as np


def _km_curve(t: np.ndarray, e: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct event times and the Kaplan–Meier survival just after each."""
    order = np.argsort(t, kind="stable")
    t, e = t[order], e[order].astype(bool)
    times, idx = np.unique(t, return_index=True)
    n = t.size
    at_risk = n - idx
    deaths = np.add.reduceat(e.astype(float), idx)
    keep = deaths > 0
    surv = np.cumprod(1.0 - deaths[keep] / at_risk[keep])
    return times[keep], surv


def km_median(t: np.ndarray, e: np.ndarray) -> float:
    """First time the Kaplan–Meier estimate is at or below 0.5; ``inf`` when it never is."""
    times, surv = _km_curve(np.asarray(t, float), np.asarray(e))
    hit = np.flatnonzero(surv <= 0.5)
    return float(times[hit[0]]) if hit.size else math.inf


def km_survival_at(t: np.ndarray, e: np.ndarray, at: float) -> float:
    times, surv = _km_curve(np.asarray(t, float), np.asarray(e))
    k = np.searchsorted(times, at, side="right")
    return 1.0 if k == 0 else float(surv[k - 1])


def cox_hr(t: np.ndarray, e: np.ndarray, group: np.ndarray, iterations: int = 25) -> float:
    """Hazard ratio of group 1 against group 0 (one-covariate Cox model, Breslow ties, Newton)."""
    t = np.asarray(t, float)
    e = np.asarray(e, bool)
    x = np.asarray(group, float)
    if not e.any() or x.min() == x.max():
        return math.nan
    order = np.argsort(-t, kind="stable")  # descending time: risk sets are prefixes
    t, e, x = t[order], e[order], x[order]
    beta = 0.0
    for _ in range(iterations):
        w = np.exp(beta * x)
        s0 = np.cumsum(w)
        s1 = np.cumsum(w * x)
        # with ties, the risk set of an event time includes every subject with that time
        last = np.searchsorted(-t, -t, side="right") - 1
        r0, r1 = s0[last][e], s1[last][e]
        mean = r1 / r0
        grad = float(np.sum(x[e] - mean))
        info = float(np.sum(mean - mean**2))  # x is binary: E[x^2] = E[x]
        if info <= 0:
            return math.nan
        step = grad / info
        beta += step
        if abs(step) < 1e-9:
            break
    return math.exp(beta) if math.isfinite(beta) and abs(beta) < 20 else math.nan
