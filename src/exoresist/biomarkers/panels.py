"""Marker panels: penalised models over several markers, judged by nested cross-validation.

- Survival: elastic-net Cox (scikit-survival ``CoxnetSurvivalAnalysis``, ``l1_ratio`` 0.9) over a
  fixed path of penalties. The inner 3-fold cross-validation chooses the penalty by Harrell's C; the
  outer 5-fold cross-validation reports the C of the whole procedure on patients it never saw. The
  apparent C (the procedure run on all patients and judged on them) minus the cross-validated C is
  the optimism.
- Response: L1-penalised logistic regression (scikit-learn ``LogisticRegressionCV`` chooses the
  penalty by an inner 3-fold AUC), judged by an outer 5-fold ROC AUC for not responding.

Features are standardised on each training fold. The selected markers and coefficients are those of
the procedure run on all patients.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from exoresist.biomarkers.metrics import concordance_ij, harrell_c

L1_RATIO = 0.9
N_ALPHAS = 12


def _standardise(
    train: npt.NDArray[np.float64], test: npt.NDArray[np.float64]
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    mu, sd = train.mean(axis=0), train.std(axis=0)
    sd = np.where(sd > 0, sd, 1.0)
    return (train - mu) / sd, (test - mu) / sd


def _coxnet(alphas: npt.NDArray[np.float64] | None) -> Any:
    from sksurv.linear_model import CoxnetSurvivalAnalysis

    if alphas is None:
        return CoxnetSurvivalAnalysis(l1_ratio=L1_RATIO, n_alphas=N_ALPHAS, alpha_min_ratio=0.01)
    return CoxnetSurvivalAnalysis(l1_ratio=L1_RATIO, alphas=alphas)


def _fit(x: npt.NDArray[np.float64], y: Any, alphas: npt.NDArray[np.float64] | None) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _coxnet(alphas).fit(x, y)


def _choose_alpha(
    x: npt.NDArray[np.float64], t: npt.NDArray[np.float64], e: npt.NDArray[np.bool_], alphas: npt.NDArray[np.float64], rng: int
) -> float:
    from sklearn.model_selection import KFold
    from sksurv.util import Surv

    scores = np.zeros(alphas.size)
    for tr, te in KFold(3, shuffle=True, random_state=rng).split(x):
        xs, xt = _standardise(x[tr], x[te])
        model = _fit(xs, Surv.from_arrays(e[tr], t[tr]), alphas)
        for k, a in enumerate(model.alphas_):
            risk = model.predict(xt, alpha=a)
            c, _ = concordance_ij(t[te], e[te], risk) if e[te].any() else (math.nan, math.nan)
            scores[k] += np.nan_to_num(c, nan=0.5)
    return float(alphas[int(np.argmax(scores))])


def cox_panel(
    features: npt.ArrayLike, names: Sequence[str], time: npt.ArrayLike, event: npt.ArrayLike, *, seed: int = 0
) -> dict[str, Any] | None:
    """Nested cross-validated elastic-net Cox panel over the columns of ``features`` (``n x p``)."""
    from sklearn.model_selection import KFold
    from sksurv.util import Surv

    x = np.asarray(features, dtype=float)
    t = np.asarray(time, dtype=float)
    e = np.asarray(event, dtype=bool)
    if x.shape[1] < 2 or e.sum() < 20:
        return None
    xs_all, _ = _standardise(x, x)
    alphas = _fit(xs_all, Surv.from_arrays(e, t), None).alphas_
    outer = []
    for tr, te in KFold(5, shuffle=True, random_state=seed).split(x):
        a = _choose_alpha(x[tr], t[tr], e[tr], alphas, seed)
        xs, xt = _standardise(x[tr], x[te])
        model = _fit(xs, Surv.from_arrays(e[tr], t[tr]), alphas)
        if e[te].any():
            outer.append(harrell_c(t[te], e[te], model.predict(xt, alpha=a)).estimate)
    a_all = _choose_alpha(x, t, e, alphas, seed)
    model = _fit(xs_all, Surv.from_arrays(e, t), alphas)
    apparent = harrell_c(t, e, model.predict(xs_all, alpha=a_all)).estimate
    k = int(np.argmin(np.abs(model.alphas_ - a_all)))
    coef = model.coef_[:, k]
    cv = float(np.mean(outer))
    return {
        "model": f"elastic-net Cox (scikit-survival CoxnetSurvivalAnalysis, l1_ratio {L1_RATIO}), penalty by inner 3-fold CV",
        "performance": "Harrell's C",
        "features": list(names),
        "selected": {n: float(c) for n, c in zip(names, coef, strict=True) if abs(c) > 1e-10},
        "alpha": a_all,
        "apparent": apparent,
        "cross_validated": cv,
        "cross_validated_sd": float(np.std(outer, ddof=1)) if len(outer) > 1 else math.nan,
        "optimism": apparent - cv,
        "outer_folds": len(outer),
    }


def logistic_panel(
    features: npt.ArrayLike, names: Sequence[str], responded: npt.ArrayLike, *, seed: int = 0
) -> dict[str, Any] | None:
    """Nested cross-validated L1-logistic panel for not responding; ``None`` with fewer than 10 of either class."""
    from sklearn.linear_model import LogisticRegressionCV
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    x = np.asarray(features, dtype=float)
    y = ~np.asarray(responded, dtype=bool)
    if x.shape[1] < 2 or min(int(y.sum()), int((~y).sum())) < 10:
        return None

    def model() -> Any:
        return make_pipeline(
            StandardScaler(),
            LogisticRegressionCV(
                Cs=10,
                l1_ratios=(1.0,),
                solver="liblinear",
                scoring="roc_auc",
                cv=3,
                random_state=seed,
                use_legacy_attributes=False,
            ),
        )

    outer = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for tr, te in StratifiedKFold(5, shuffle=True, random_state=seed).split(x, y):
            m = model().fit(x[tr], y[tr])
            outer.append(roc_auc_score(y[te], m.predict_proba(x[te])[:, 1]))
        full = model().fit(x, y)
    apparent = float(roc_auc_score(y, full.predict_proba(x)[:, 1]))
    coef = full[-1].coef_.ravel()
    cv = float(np.mean(outer))
    return {
        "model": "L1-penalised logistic regression (scikit-learn LogisticRegressionCV, liblinear), penalty by inner 3-fold AUC",
        "performance": "ROC AUC for not responding",
        "features": list(names),
        "selected": {n: float(c) for n, c in zip(names, coef, strict=True) if abs(c) > 1e-10},
        "C": float(np.atleast_1d(full[-1].C_)[0]),
        "apparent": apparent,
        "cross_validated": cv,
        "cross_validated_sd": float(np.std(outer, ddof=1)),
        "optimism": apparent - cv,
        "outer_folds": len(outer),
    }
