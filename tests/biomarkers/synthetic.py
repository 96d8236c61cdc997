"""Simulated cohorts with known answers: a prognostic marker, a predictive marker and noise."""

from __future__ import annotations

import numpy as np
import pandas as pd


def survival(rng: np.random.Generator, log_hazard: np.ndarray, follow_up: float = 24.0) -> tuple[np.ndarray, np.ndarray]:
    """Exponential event times (baseline median 8 months) with administrative and random censoring."""
    t = rng.exponential(8.0 / np.log(2) * np.exp(-log_hazard))
    c = np.minimum(rng.uniform(6.0, 40.0, t.size), follow_up)
    return np.minimum(t, c), t <= c


def two_arm_cohort(n: int, seed: int) -> pd.DataFrame:
    """Two independent arms of ``n`` patients. ``prognostic`` raises the hazard equally in both arms
    (HR 2 per SD); ``predictive`` only changes the treatment effect (treatment HR 0.4 at +1 SD, 1.6
    at -1 SD, no effect without treatment); ``noise`` does nothing."""
    rng = np.random.default_rng(seed)
    rows = []
    for arm, treated in (("control", 0.0), ("treated", 1.0)):
        prog, pred, noise = rng.standard_normal((3, n))
        log_h = np.log(2.0) * prog + treated * (np.log(0.8) - 0.7 * pred)
        t, e = survival(rng, log_h)
        responded = rng.random(n) < 1 / (1 + np.exp(1.0 + 1.2 * prog))
        rows.append(
            pd.DataFrame(
                {
                    "arm": arm,
                    "patient": np.arange(n) + (0 if treated == 0 else n),
                    "os_month": t,
                    "os_event": e,
                    "responded": responded,
                    "prognostic": prog,
                    "predictive": pred,
                    "noise": noise,
                }
            )
        )
    return pd.concat(rows, ignore_index=True)
