"""Prognostic and predictive statistics of one marker, on plain arrays.

Every function takes numpy arrays (times in months, events 0/1, a risk score where higher means
higher hazard) and returns plain numbers, so it works on any cohort, virtual or real. Which
estimator each number is (the packages differ, time-dependent AUCs especially):

- :func:`harrell_c`: Harrell's C as scikit-survival's ``concordance_index_censored`` computes it
  (ties in risk count 1/2; an event is comparable with every later time and with a censoring at
  its own time). Its 95 % interval is normal, from the infinitesimal-jackknife standard error (the
  variance R's ``survival::concordance`` reports), computed from the same pairs.
- :func:`time_dependent_auc`: cumulative/dynamic AUC at fixed times with inverse-probability-of-
  censoring weights (Uno et al. 2007; scikit-survival ``cumulative_dynamic_auc``): cases have the
  event by ``t``, controls are event-free at ``t``.
- :func:`integrated_brier`: the integrated Brier score (IPCW, Graf et al. 1999; scikit-survival
  ``integrated_brier_score``) of Kaplan-Meier curves within marker tertiles, next to that of one
  Kaplan-Meier curve for everyone (the reference a marker must beat). In-sample: three groups fitted
  on hundreds of patients.
- :func:`response_auc`: ROC AUC (scikit-learn ``roc_auc_score``) of the risk score for *not*
  responding, with a percentile-bootstrap interval.
- :func:`interaction`: Cox model (lifelines ``CoxPHFitter``, Efron ties) with treatment, the
  standardised marker and their product; robust (sandwich) errors clustered by patient, because in
  a virtual trial the same patient is in every arm.
- :func:`hr_by_quantile`: the treatment hazard ratio within marker quantiles, as the one-step
  (Peto) log-rank estimate with its 95 % interval.
- :func:`logrank_scan`: the two-group log-rank statistic (the hypergeometric variance of lifelines'
  ``logrank_test``) and the one-step (Peto) log hazard ratio ``(O - E) / V`` at many cut-points in
  one vectorised pass, for the bootstrap loops of the cut-point search; a test checks it against
  lifelines at every cut.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import numpy.typing as npt
import pandas as pd

FloatArray = npt.NDArray[np.float64]
Z95 = 1.959963984540054
TIED_TOL = 1e-8  # scikit-survival's tolerance for tied risk scores


class Estimate(NamedTuple):
    """A point estimate with its 95 % interval (and standard error where one is computed)."""

    estimate: float
    ci_low: float
    ci_high: float
    se: float = math.nan

    def as_dict(self) -> dict[str, float]:
        return {"estimate": self.estimate, "ci_low": self.ci_low, "ci_high": self.ci_high}


def _arrays(
    time: npt.ArrayLike, event: npt.ArrayLike, risk: npt.ArrayLike
) -> tuple[FloatArray, npt.NDArray[np.bool_], FloatArray]:
    t = np.asarray(time, dtype=float)
    e = np.asarray(event, dtype=bool)
    r = np.asarray(risk, dtype=float)
    if not (t.shape == e.shape == r.shape) or t.ndim != 1:
        raise ValueError(f"time, event and risk must be 1-D of one length, got {t.shape}, {e.shape}, {r.shape}")
    if not (np.all(np.isfinite(t)) and np.all(np.isfinite(r))):
        raise ValueError("time and risk must be finite (drop missing values first)")
    return t, e, r


def concordance_ij(time: npt.ArrayLike, event: npt.ArrayLike, risk: npt.ArrayLike) -> tuple[float, float]:
    """Harrell's C and its infinitesimal-jackknife standard error, from the comparable pairs.

    The pair rules are scikit-survival's (see the module docstring); a test checks that the C equals
    ``concordance_index_censored``. With ``N_k`` and ``D_k`` the concordance score and the number of
    comparable pairs that involve patient ``k``, ``se^2 = sum_k (N_k - C D_k)^2 / D^2``. Memory:
    blocks of 256 rows times ``n`` booleans.
    """
    t, e, r = _arrays(time, event, risk)
    n = t.size
    nk = np.zeros(n)
    dk = np.zeros(n)
    rs = np.sort(r)
    has_ties = n > 1 and bool(np.min(np.diff(rs)) <= TIED_TOL)
    for start in range(0, n, 256):
        sl = slice(start, min(start + 256, n))
        ti, ei, ri = t[sl, None], e[sl, None], r[sl, None]
        comparable = ei & ((t[None, :] > ti) | ((t[None, :] == ti) & ~e[None, :]))
        concordant = comparable & (r[None, :] < ri - TIED_TOL)
        nk[sl] += np.count_nonzero(concordant, axis=1)
        nk += np.count_nonzero(concordant, axis=0)
        if has_ties:
            tied = comparable & (np.abs(ri - r[None, :]) <= TIED_TOL)
            nk[sl] += 0.5 * np.count_nonzero(tied, axis=1)
            nk += 0.5 * np.count_nonzero(tied, axis=0)
        dk[sl] += np.count_nonzero(comparable, axis=1)
        dk += np.count_nonzero(comparable, axis=0)
    d = dk.sum() / 2
    if d == 0:
        return math.nan, math.nan
    c = nk.sum() / 2 / d
    return float(c), float(math.sqrt(np.sum((nk - c * dk) ** 2)) / d)


def harrell_c(time: npt.ArrayLike, event: npt.ArrayLike, risk: npt.ArrayLike) -> Estimate:
    """Harrell's C of ``risk`` (scikit-survival) with a 95 % infinitesimal-jackknife interval.

    >>> harrell_c([1.0, 2.0, 3.0, 4.0], [1, 1, 1, 0], [4.0, 3.0, 2.0, 1.0]).estimate
    1.0
    """
    from sksurv.metrics import concordance_index_censored

    t, e, r = _arrays(time, event, risk)
    if not e.any():
        return Estimate(math.nan, math.nan, math.nan)
    c = float(concordance_index_censored(e, t, r, tied_tol=TIED_TOL)[0])
    _, se = concordance_ij(t, e, r)
    return Estimate(c, max(0.0, c - Z95 * se), min(1.0, c + Z95 * se), se)


def _surv(time: FloatArray, event: npt.NDArray[np.bool_]) -> npt.NDArray[np.void]:
    from sksurv.util import Surv

    out: npt.NDArray[np.void] = Surv.from_arrays(event=event, time=time)
    return out


def time_dependent_auc(
    time: npt.ArrayLike, event: npt.ArrayLike, risk: npt.ArrayLike, times: Sequence[float]
) -> dict[float, float]:
    """Cumulative/dynamic AUC (scikit-survival, IPCW) of ``risk`` at each of ``times`` (months).

    A time outside the follow-up (at or after the last observed time), or with no case or no
    control, gives NaN.
    """
    from sksurv.metrics import cumulative_dynamic_auc

    t, e, r = _arrays(time, event, risk)
    out = {float(x): math.nan for x in times}
    valid = [float(x) for x in times if t.min() <= x < t.max() and np.any(e & (t <= x)) and np.any(t > x)]
    if not valid:
        return out
    y = _surv(t, e)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            auc, _ = cumulative_dynamic_auc(y, y, r, valid)
    except ValueError:
        return out
    out.update({x: float(a) for x, a in zip(valid, np.atleast_1d(auc), strict=True)})
    return out


def _km_at(time: FloatArray, event: npt.NDArray[np.bool_], grid: FloatArray) -> FloatArray:
    from sksurv.nonparametric import kaplan_meier_estimator

    x, y = kaplan_meier_estimator(event, time)
    idx = np.searchsorted(x, grid, side="right") - 1
    out: FloatArray = np.where(idx < 0, 1.0, y[np.clip(idx, 0, None)])
    return out


def integrated_brier(time: npt.ArrayLike, event: npt.ArrayLike, risk: npt.ArrayLike, *, groups: int = 3) -> tuple[float, float]:
    """Integrated Brier score (scikit-survival, IPCW) of Kaplan-Meier curves within ``groups``
    quantile groups of ``risk``, and of one Kaplan-Meier curve for all (the reference).

    Integrated over a grid from the 5th to the 90th percentile of the observed times (months).
    Lower is better; a marker that carries no information scores about the reference.
    """
    from sksurv.metrics import integrated_brier_score

    t, e, r = _arrays(time, event, risk)
    if e.sum() < 2 or t.size < 3 * groups:
        return math.nan, math.nan
    grid = np.linspace(np.quantile(t, 0.05), np.quantile(t, 0.90), 40)
    grid = np.unique(grid[(grid >= t.min()) & (grid < t.max())])
    if grid.size < 2:
        return math.nan, math.nan
    cuts = np.quantile(r, np.linspace(0, 1, groups + 1)[1:-1])
    g = np.digitize(r, cuts)
    est = np.empty((t.size, grid.size))
    for k in np.unique(g):
        rows = g == k
        est[rows] = _km_at(t[rows], e[rows], grid) if e[rows].any() else 1.0
    ref = np.tile(_km_at(t, e, grid), (t.size, 1))
    y = _surv(t, e)
    try:
        return float(integrated_brier_score(y, y, est, grid)), float(integrated_brier_score(y, y, ref, grid))
    except ValueError:
        return math.nan, math.nan


def rank_auc(y: npt.NDArray[np.bool_], score: npt.NDArray[np.float64]) -> float:
    """ROC AUC of ``score`` for ``y`` by the Mann-Whitney statistic with mid-ranks (equal to
    scikit-learn's ``roc_auc_score``, tested); used inside bootstrap loops, where it is 50x faster."""
    from scipy.stats import rankdata

    n1 = int(y.sum())
    n0 = y.size - n1
    if n1 == 0 or n0 == 0:
        return math.nan
    ranks = rankdata(score)
    return float((ranks[y].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def response_auc(
    responded: npt.ArrayLike, risk: npt.ArrayLike, *, bootstrap: int = 200, rng: np.random.Generator | None = None
) -> Estimate | None:
    """ROC AUC (scikit-learn) of ``risk`` for not responding, with a percentile-bootstrap 95 % interval;
    ``None`` when every patient responded or none did."""
    from sklearn.metrics import roc_auc_score

    y = ~np.asarray(responded, dtype=bool)
    r = np.asarray(risk, dtype=float)
    if y.all() or not y.any():
        return None
    auc = float(roc_auc_score(y, r))
    rng = rng or np.random.default_rng(0)
    boot = [rank_auc(y[idx], r[idx]) for idx in rng.integers(0, y.size, (bootstrap, y.size))]
    boot = [b for b in boot if math.isfinite(b)]
    if len(boot) < 10:
        return Estimate(auc, math.nan, math.nan)
    lo, hi = np.quantile(boot, [0.025, 0.975])
    return Estimate(auc, float(lo), float(hi), float(np.std(boot, ddof=1)))


class Interaction(NamedTuple):
    """Cox model with treatment x marker: the interaction HR per SD of the marker, and the main effects."""

    hr: float
    ci_low: float
    ci_high: float
    p: float
    marker_hr: float  # per SD, in the reference arm
    treatment_hr: float  # at the mean marker level
    n: int


def interaction(
    time: npt.ArrayLike, event: npt.ArrayLike, treated: npt.ArrayLike, marker: npt.ArrayLike, cluster: npt.ArrayLike
) -> Interaction:
    """Treatment x marker interaction from a Cox model (lifelines), robust errors clustered by patient.

    ``marker`` is standardised (mean 0, SD 1 over both arms) before fitting, so HRs are per SD.
    An interaction HR below 1 means the treated arm's benefit grows with the marker.
    """
    from lifelines import CoxPHFitter

    t, e, x = _arrays(time, event, marker)
    z = (x - x.mean()) / (x.std() or 1.0)
    a = np.asarray(treated, dtype=float)
    frame = pd.DataFrame(
        {"t": t, "e": e.astype(float), "treat": a, "marker": z, "treat_x_marker": a * z, "id": np.asarray(cluster)}
    )
    fit = CoxPHFitter().fit(frame, duration_col="t", event_col="e", cluster_col="id")
    s = fit.summary
    row = s.loc["treat_x_marker"]
    return Interaction(
        float(row["exp(coef)"]),
        float(row["exp(coef) lower 95%"]),
        float(row["exp(coef) upper 95%"]),
        float(row["p"]),
        float(s.loc["marker", "exp(coef)"]),
        float(s.loc["treat", "exp(coef)"]),
        int(t.size),
    )


def hr_by_quantile(
    time: npt.ArrayLike, event: npt.ArrayLike, treated: npt.ArrayLike, marker: npt.ArrayLike, *, quantiles: int = 4
) -> list[dict[str, float]]:
    """Treatment HR within each marker quantile group (cut on the pooled marker): the one-step (Peto)
    estimate ``exp((O - E) / V)`` of the treated group's log-rank statistic, 95 % CI from ``1/sqrt(V)``
    (close to a Cox HR while the HR is moderate; fast enough for every marker and arm)."""
    t, e, x = _arrays(time, event, marker)
    a = np.asarray(treated, dtype=bool)
    edges = np.quantile(x, np.linspace(0, 1, quantiles + 1))
    g = np.clip(np.searchsorted(edges[1:-1], x, side="right"), 0, quantiles - 1)
    out = []
    for k in range(quantiles):
        rows = g == k
        hr = {"hr": math.nan, "ci_low": math.nan, "ci_high": math.nan}
        if e[rows].sum() >= 2 and 0 < a[rows].sum() < rows.sum():
            chi2, log_hr = logrank_scan(t[rows], e[rows], a[rows][None, :])
            if chi2[0] > 0:
                se = abs(log_hr[0]) / math.sqrt(chi2[0])  # V = (O-E)^2 / chi2, se = 1 / sqrt(V)
                hr = {
                    "hr": math.exp(log_hr[0]),
                    "ci_low": math.exp(log_hr[0] - Z95 * se),
                    "ci_high": math.exp(log_hr[0] + Z95 * se),
                }
            elif log_hr[0] == 0:
                hr = {"hr": 1.0, "ci_low": math.nan, "ci_high": math.nan}
        out.append(
            {"quantile": k + 1, "marker_low": float(edges[k]), "marker_high": float(edges[k + 1]), "n": int(rows.sum()), **hr}
        )
    return out


def logrank_scan(time: npt.ArrayLike, event: npt.ArrayLike, high: npt.NDArray[np.bool_]) -> tuple[FloatArray, FloatArray]:
    """Log-rank chi-square and one-step log HR of group ``high`` vs the rest, for each row of ``high``.

    ``high``: ``(n_cuts, n)`` booleans (one grouping per row). Returns two ``(n_cuts,)`` arrays; a
    grouping with an empty group gives chi-square 0 and log HR 0.
    """
    t = np.asarray(time, dtype=float)
    e = np.asarray(event, dtype=bool)
    g = np.atleast_2d(np.asarray(high, dtype=bool))
    order = np.argsort(t, kind="stable")
    ts, es, gs = t[order], e[order], g[:, order].astype(float)
    tau = np.unique(ts[es])
    lo = np.searchsorted(ts, tau, side="left")
    hi = np.searchsorted(ts, tau, side="right")
    n_at = ts.size - lo
    ecum = np.concatenate([[0.0], np.cumsum(es)])
    d = ecum[hi] - ecum[lo]
    gcum = np.concatenate([np.zeros((g.shape[0], 1)), np.cumsum(gs, axis=1)], axis=1)
    gecum = np.concatenate([np.zeros((g.shape[0], 1)), np.cumsum(gs * es, axis=1)], axis=1)
    n1 = gcum[:, -1:] - gcum[:, lo]
    d1 = gecum[:, hi] - gecum[:, lo]
    frac = n1 / n_at
    o_minus_e = np.sum(d1 - d * frac, axis=1)
    var = np.sum(d * frac * (1 - frac) * (n_at - d) / np.maximum(n_at - 1, 1), axis=1)
    ok = var > 0
    chi2 = np.where(ok, o_minus_e**2 / np.where(ok, var, 1.0), 0.0)
    log_hr = np.where(ok, o_minus_e / np.where(ok, var, 1.0), 0.0)
    return chi2, log_hr
