"""Hand-made inputs of the trial layer: covariates, outcome random numbers, trajectories and patient tables."""

from __future__ import annotations

import numpy as np
import pandas as pd

from exoresist.cohort.covariates import CATEGORICAL, Covariates
from exoresist.cohort.disease import DiseaseParameters
from exoresist.cohort.endpoints import Trajectories
from exoresist.cohort.population import MAX_SCANS

REFERENCE_LEVELS = {
    "ecog": "0",
    "child_pugh": "A5",
    "mvi": "no",
    "ehs": "no",
    "afp_ge_400": "no",
    "aetiology": "hbv",
    "region": "rest_of_world",
    "sex": "male",
    "n_target_lesions": "1",
}
"""The reference patient of the death model: every hazard-ratio factor at its reference level."""


def covariates(n: int, *, albi: float = -2.60, sld_mm: float = 80.0, **levels: str | list[str]) -> Covariates:
    """``n`` patients at the reference levels, with ``levels`` (one value or one per patient) on top."""
    assert set(levels) <= set(CATEGORICAL), set(levels) - set(CATEGORICAL)
    out = {}
    for factor, default in REFERENCE_LEVELS.items():
        value = levels.get(factor, default)
        out[factor] = np.array([value] * n if isinstance(value, str) else value, dtype=str)
        assert out[factor].shape == (n,)
    values = {"albi_score": np.full(n, albi), "age_years": np.full(n, 64.0), "baseline_sld_mm": np.full(n, sld_mm)}
    return Covariates(out, values)


def randoms(
    n: int,
    *,
    death_e: float = np.inf,
    lesion_e: float = np.inf,
    later_line_u: float = 1.0,
    lesion_z: float = 0.0,
    withdrawal_u: float = 1.0,
) -> dict[str, np.ndarray]:
    """Outcome random numbers: by default no death, no new lesion, no later line, no scan jitter, no
    measurement error, no withdrawal."""
    return {
        "inclusion_u": np.zeros(n),
        "death_e": np.full(n, death_e),
        "lesion_e": np.full(n, lesion_e),
        "later_line_u": np.full(n, later_line_u),
        "scan_jitter_day": np.zeros((n, MAX_SCANS)),
        "lesion_z": np.full(n, lesion_z),
        "measurement_z": np.zeros((n, MAX_SCANS)),
        "withdrawal_u": np.full(n, withdrawal_u),
    }


def disease(**values: float) -> DiseaseParameters:
    """Disease parameters with every hazard off unless given (frailty 0: the new-lesion hazard is exact;
    no measurement error; lesions gone below 5 mm)."""
    base = {
        "new_lesion_per_month": 0.0,
        "new_lesion_frailty_sd": 0.0,
        "death_tumour_scale_month": 1e12,
        "death_tumour_shape": 1.0,
        "death_tumour_size_power": 0.0,
        "death_liver_per_month": 0.0,
        "post_progression_hr": 1.0,
        "measurement_sd": 0.0,
        "cr_lesion_mm": 5.0,
    }
    base.update(values)
    return DiseaseParameters.from_cohort(base)


def trajectories(
    times_day: np.ndarray, diameter_mm: np.ndarray, cov: Covariates | None = None, **random_values: float
) -> Trajectories:
    """Trajectories of hand-made diameters (one row per patient) on ``times_day`` (days from baseline)."""
    dia = np.atleast_2d(np.asarray(diameter_mm, dtype=float))
    n = dia.shape[0]
    return Trajectories(
        np.asarray(times_day, dtype=float),
        dia,
        cov if cov is not None else covariates(n),
        randoms(n, **random_values),
        np.ones(n, dtype=bool),
        ("",) * n,
    )


def piecewise(times_day: np.ndarray, knots: list[tuple[float, float]]) -> np.ndarray:
    """Diameters linear between ``(day, mm)`` knots, constant after the last."""
    days, mm = zip(*knots, strict=True)
    return np.interp(times_day, days, mm)


def patient_table(seed: int = 0, n: int = 200, scales: tuple[tuple[str, float], ...] = (("A", 4.0), ("B", 8.0))) -> pd.DataFrame:
    """A patient table as a trial writes it, with exponential PFS (scale in months per arm),
    OS twice PFS, censoring at 24 months, and responses PR every 10th, SD every other, PD the rest."""
    rng = np.random.default_rng(seed)
    rows = []
    for arm, scale in scales:
        for j in range(n):
            pfs = rng.exponential(scale)
            progressed = pfs < 24.0
            bor = "PR" if j % 10 == 0 else ("SD" if j % 2 else "PD")
            rows.append(
                {
                    "arm": arm,
                    "patient": j,
                    "bor": bor,
                    "pfs_month": min(pfs, 24.0),
                    "pfs_event": progressed,
                    "ttp_month": min(pfs, 24.0),
                    "ttp_event": progressed,
                    "os_month": min(2 * pfs, 24.0),
                    "os_event": 2 * pfs < 24.0,
                    "dor_month": max(pfs - 1.5, 0.1) if bor == "PR" else np.nan,
                    "dor_event": progressed if bor == "PR" else False,
                    "ok": True,
                    "progressed": progressed,
                    "progression_by_new_lesion": progressed and j % 3 == 0,
                    "later_line": progressed and j % 5 == 0,
                    "death_tumour_share": 0.75 if 2 * pfs < 24.0 else np.nan,
                    "top_mechanism": "",
                }
            )
    return pd.DataFrame(rows)
