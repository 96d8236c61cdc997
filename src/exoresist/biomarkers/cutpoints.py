"""Data-driven cut-points with bootstrap optimism correction.

A cut-point chosen on the same data it is judged on looks better than it is. Both searches here
therefore report the apparent performance, the bootstrap optimism (Harrell's method: choose the
cut again in each bootstrap sample, judge it in that sample and in the original, average the
difference) and the corrected performance, with :data:`CUTPOINT_WARNING`.

- :func:`youden_cutpoint` (response): the threshold of the largest Youden index (sensitivity +
  specificity - 1 for *not* responding) among the thresholds of scikit-learn's ``roc_curve``.
- :func:`maxstat_cutpoint` (survival): the maximally selected log-rank statistic over candidate
  cuts between the 10th and 90th percentile (:func:`~exoresist.biomarkers.metrics.logrank_scan`),
  the one-step log HR of the high group as its performance, and a permutation p-value for the
  maximum (the naive log-rank p of a selected cut is far too small).

Cut-points are on the risk scale the caller gives (the analysis uses sign x log10 level).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt

from exoresist.biomarkers.metrics import logrank_scan

CUTPOINT_WARNING = (
    "Data-driven cut-point: chosen on this cohort, it overstates the separation it gives; the corrected value "
    "is the bootstrap estimate for new patients from the same population. Validate it in an independent cohort "
    "before using it to select patients."
)
CANDIDATE_QUANTILES = np.linspace(0.10, 0.90, 17)


def _youden_best(y: npt.NDArray[np.bool_], r: npt.NDArray[np.float64]) -> tuple[float, float]:
    """Threshold (``r >= cut`` is positive) of the largest Youden index and that index; the same
    thresholds as scikit-learn's ``roc_curve`` (tested), by one sort."""
    order = np.argsort(-r, kind="stable")
    rs, ys = r[order], y[order]
    last = np.r_[np.flatnonzero(np.diff(rs) != 0), rs.size - 1]  # last index of each distinct score
    tpr = np.cumsum(ys)[last] / max(int(y.sum()), 1)
    fpr = np.cumsum(~ys)[last] / max(int((~y).sum()), 1)
    j = tpr - fpr
    k = int(np.argmax(j))
    return float(rs[last[k]]), float(j[k])


def _youden_at(y: npt.NDArray[np.bool_], r: npt.NDArray[np.float64], cut: float) -> float:
    pos = r >= cut
    sens = float(np.mean(pos[y])) if y.any() else math.nan
    spec = float(np.mean(~pos[~y])) if (~y).any() else math.nan
    return sens + spec - 1


def youden_cutpoint(
    responded: npt.ArrayLike, risk: npt.ArrayLike, *, bootstrap: int, rng: np.random.Generator
) -> dict[str, Any] | None:
    """Youden cut-point of ``risk`` for not responding; ``None`` when one class is empty.

    A patient is marker-positive when ``risk >= cut``.
    """
    y = ~np.asarray(responded, dtype=bool)
    r = np.asarray(risk, dtype=float)
    if y.all() or not y.any():
        return None
    cut, j = _youden_best(y, r)
    optimism = []
    for _ in range(bootstrap):
        idx = rng.integers(0, y.size, y.size)
        if y[idx].all() or not y[idx].any():
            continue
        c_b, j_b = _youden_best(y[idx], r[idx])
        optimism.append(j_b - _youden_at(y, r, c_b))
    opt = float(np.mean(optimism)) if optimism else math.nan
    pos = r >= cut
    return {
        "method": "largest Youden index for non-response over the ROC thresholds, bootstrap optimism-corrected",
        "cut": cut,
        "share_positive": float(pos.mean()),
        "sensitivity": float(np.mean(pos[y])),
        "specificity": float(np.mean(~pos[~y])),
        "youden_apparent": j,
        "optimism": opt,
        "youden_corrected": j - opt if math.isfinite(opt) else math.nan,
        "n_bootstrap": len(optimism),
        "warning": CUTPOINT_WARNING,
    }


def _scan(
    t: npt.NDArray[np.float64], e: npt.NDArray[np.bool_], r: npt.NDArray[np.float64]
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    cuts = np.unique(np.quantile(r, CANDIDATE_QUANTILES))
    chi2, log_hr = logrank_scan(t, e, r[None, :] > cuts[:, None])
    return cuts, chi2, log_hr


def maxstat_cutpoint(
    time: npt.ArrayLike, event: npt.ArrayLike, risk: npt.ArrayLike, *, bootstrap: int, rng: np.random.Generator
) -> dict[str, Any] | None:
    """Maximally selected log-rank cut-point of ``risk`` (marker-positive: ``risk > cut``), with the
    bootstrap optimism of its log HR and a permutation p-value of the maximum; ``None`` without events."""
    t = np.asarray(time, dtype=float)
    e = np.asarray(event, dtype=bool)
    r = np.asarray(risk, dtype=float)
    if e.sum() < 2 or np.unique(r).size < 3:
        return None
    cuts, chi2, log_hr = _scan(t, e, r)
    k = int(np.argmax(chi2))
    cut, best, apparent = float(cuts[k]), float(chi2[k]), float(log_hr[k])
    sign = 1.0 if apparent >= 0 else -1.0
    optimism = []
    exceed = 0
    for _ in range(bootstrap):
        idx = rng.integers(0, t.size, t.size)
        c_b, x_b, l_b = _scan(t[idx], e[idx], r[idx])
        kb = int(np.argmax(x_b))
        _, l_orig = logrank_scan(t, e, (r > c_b[kb])[None, :])
        s_b = 1.0 if l_b[kb] >= 0 else -1.0
        optimism.append(s_b * (l_b[kb] - l_orig[0]))
        perm = rng.permutation(r)
        exceed += int(np.max(_scan(t, e, perm)[1]) >= best)
    opt = float(np.mean(optimism)) if optimism else math.nan
    corrected = sign * (abs(apparent) - opt) if math.isfinite(opt) else math.nan
    return {
        "method": "maximally selected log-rank statistic (cuts at the 10th-90th percentiles), one-step (Peto) HR, "
        "bootstrap optimism-corrected; permutation p-value of the maximum",
        "cut": cut,
        "share_positive": float(np.mean(r > cut)),
        "chi2": best,
        "p_permutation": (1 + exceed) / (1 + bootstrap) if bootstrap else math.nan,
        "hr_apparent": math.exp(apparent),
        "optimism_log_hr": opt,
        "hr_corrected": math.exp(corrected) if math.isfinite(corrected) else math.nan,
        "n_bootstrap": len(optimism),
        "warning": CUTPOINT_WARNING,
    }
