"""Synthetic trial results in the report's data contract, drawn from a seeded generator.

Shapes only, no biology: exponential times, responses drawn from the best change in diameter.
Used by the tests and to render an example report.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

ARMS = ("sorafenib", "sorafenib+secretion-blockade", "atezolizumab+bevacizumab")
REFERENCE = ARMS[0]
# median PFS and OS (months) per arm, and the mean log shrinkage of the tumour
_MEDIANS = {ARMS[0]: (4.1, 13.0, 0.02), ARMS[1]: (6.0, 17.5, -0.12), ARMS[2]: (6.8, 19.2, -0.18)}


@dataclass(frozen=True)
class TrialData:
    """Everything :func:`exoresist.report.render_report` takes, apart from the title and path."""

    meta: dict[str, Any]
    patients: pd.DataFrame
    arms: list[dict[str, Any]]
    comparisons: list[dict[str, Any]]
    attribution: pd.DataFrame
    calibration: pd.DataFrame
    sensitivity: pd.DataFrame


def _bor(change: float, rng: np.random.Generator) -> str:
    if not math.isfinite(change):
        return "NE"
    if change <= -99.5:
        return "CR"
    if change <= -30:
        return "PR" if rng.random() > 0.1 else "SD"  # some responses are never confirmed
    if change >= 20:
        return "PD"
    return "SD"


def patients_table(n_per_arm: int, seed: int, follow_up_month: float = 24.0) -> pd.DataFrame:
    """``n_per_arm`` virtual patients per arm with exponential PFS and OS, censored at follow-up."""
    rng = np.random.default_rng(seed)
    rows = []
    for arm in ARMS:
        pfs_med, os_med, shrink = _MEDIANS[arm]
        for i in range(n_per_arm):
            os_t = rng.exponential(os_med / math.log(2))
            pfs_t = min(rng.exponential(pfs_med / math.log(2)), os_t)
            change = 100.0 * (math.exp(rng.normal(shrink, 0.35)) - 1.0)
            if rng.random() < 0.04:
                change = -100.0
            if rng.random() < 0.03:
                change = math.nan
            bor = _bor(change, rng)
            dropout = rng.uniform(8.0, 60.0)
            end = min(follow_up_month, dropout)
            rows.append(
                {
                    "arm": arm,
                    "patient": i,
                    "baseline_sld_mm": float(rng.uniform(20, 120)),
                    "best_change_pct": change,
                    "bor": bor,
                    "pfs_month": min(pfs_t, end),
                    "pfs_event": pfs_t <= end,
                    "os_month": min(os_t, end),
                    "os_event": os_t <= end,
                }
            )
    return pd.DataFrame(rows)


def _wilson(k: int, n: int) -> dict[str, float]:
    z = 1.959964
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return {"estimate": p, "ci_low": centre - half, "ci_high": centre + half}


def _median(times: np.ndarray, events: np.ndarray) -> dict[str, float]:
    from lifelines import KaplanMeierFitter
    from lifelines.utils import median_survival_times

    kmf = KaplanMeierFitter().fit(times, events)
    ci = np.asarray(median_survival_times(kmf.confidence_interval_))
    return {"median": float(kmf.median_survival_time_), "ci_low": float(ci[0, 0]), "ci_high": float(ci[0, 1])}


def arm_summaries(patients: pd.DataFrame) -> list[dict[str, Any]]:
    """Per-arm summaries as the trial code hands them over."""
    out = []
    for arm, rows in patients.groupby("arm", sort=False):
        n = len(rows)
        counts = rows["bor"].value_counts()
        k = {r: int(counts.get(r, 0)) for r in ("CR", "PR", "SD", "PD", "NE")}
        out.append(
            {
                "arm": arm,
                "n": n,
                "orr": _wilson(k["CR"] + k["PR"], n),
                "dcr": _wilson(k["CR"] + k["PR"] + k["SD"], n),
                **{r.lower(): k[r] / n for r in k},
                "pfs_median_month": _median(rows["pfs_month"].to_numpy(), rows["pfs_event"].to_numpy()),
                "os_median_month": _median(rows["os_month"].to_numpy(), rows["os_event"].to_numpy()),
            }
        )
    return out


def comparisons_for(patients: pd.DataFrame) -> list[dict[str, Any]]:
    """HR and log-rank p of each arm against the reference arm (numbers made up but plausible)."""
    from lifelines.statistics import logrank_test

    out = []
    ref = patients[patients["arm"] == REFERENCE]
    for arm in ARMS[1:]:
        rows = patients[patients["arm"] == arm]
        comp: dict[str, Any] = {"arm": arm, "reference": REFERENCE}
        for ep in ("os", "pfs"):
            test = logrank_test(rows[f"{ep}_month"], ref[f"{ep}_month"], rows[f"{ep}_event"], ref[f"{ep}_event"])
            hr = (rows[f"{ep}_event"].sum() / rows[f"{ep}_month"].sum()) / (ref[f"{ep}_event"].sum() / ref[f"{ep}_month"].sum())
            se = math.sqrt(1 / rows[f"{ep}_event"].sum() + 1 / ref[f"{ep}_event"].sum())
            comp[f"{ep}_hr"] = {
                "hr": hr,
                "ci_low": hr * math.exp(-1.96 * se),
                "ci_high": hr * math.exp(1.96 * se),
                "p": float(test.p_value),
            }
            comp[f"{ep}_logrank_p"] = float(test.p_value)
        out.append(comp)
    return out


_MECHANISMS = [
    ("mech:0001", "HCC-cell exosomal circRNA-100338 → angiogenesis"),
    ("mech:0002", "CAF exosomal miR-1247-3p → stemness via β1-integrin/NF-κB"),
    ("mech:0003", "TAM exosomal miR-21-5p → PTEN loss, AKT activation"),
    ("mech:0004", "HCC-cell exosomal PD-L1 → T-cell exhaustion"),
    ("mech:0005", "Hypoxic HCC exosomal miR-23a → VEGF signalling"),
    ("mech:0006", "exosomal lncRNA H19 → sorafenib efflux"),
    ("mech:0007", "exosomal circUHRF1 → NK-cell exhaustion (TIM-3)"),
    ("mech:0008", "MSC exosomal miR-122 loss → IGF1R signalling"),
    ("mech:0009", "exosomal 14-3-3ζ → T-cell dysfunction"),
    ("mech:0010", "exosomal miR-32-5p → PTEN/PI3K/AKT, EMT"),
    ("mech:0011", "exosomal lncRNA ROR → TGF-β–dependent chemoresistance"),
    ("mech:0012", "exosomal miR-375 loss → autophagy"),
    ("mech:0013", "exosomal SMAD3 → adhesion of circulating cells"),
    ("mech:0014", "exosomal HMGB1 → TIM-1+ regulatory B cells"),
    ("mech:0015", "exosomal miR-4669 → immune escape of transplanted cells"),
]


def attribution_table(patients: pd.DataFrame, seed: int) -> pd.DataFrame:
    """Share of progressing patients per arm whose progression each mechanism carried."""
    rng = np.random.default_rng(seed + 1)
    rows = []
    for arm in ARMS:
        n_prog = int(patients.loc[patients["arm"] == arm, "pfs_event"].sum())
        for i, (rid, label) in enumerate(_MECHANISMS):
            share = float(np.clip(rng.beta(2, 8) * (1.6 if i < 4 else 0.7) * (0.6 if "blockade" in arm else 1.0), 0, 1))
            rows.append(
                {
                    "arm": arm,
                    "record_id": rid,
                    "label": label,
                    "n_progressing": n_prog,
                    "share": share,
                    "mean_contribution": float(rng.uniform(0.05, 0.6)),
                }
            )
    return pd.DataFrame(rows)


def calibration_table() -> pd.DataFrame:
    """Published targets (values of the kind trials report) and simulated values near them."""
    rows = [
        ("SHARP", "sorafenib", "median OS", "months", 10.7, 11.4),
        ("SHARP", "sorafenib", "median PFS", "months", 5.5, 4.3),
        ("IMbrave150", "atezolizumab+bevacizumab", "median OS", "months", 19.2, 18.1),
        ("IMbrave150", "atezolizumab+bevacizumab", "median PFS", "months", 6.9, 6.6),
        ("IMbrave150", "sorafenib", "median PFS", "months", 4.3, 4.2),
        ("IMbrave150", "atezolizumab+bevacizumab", "ORR", "percent", 30.0, 24.5),
        ("IMbrave150", "sorafenib", "ORR", "percent", 11.0, 8.9),
        ("SHARP", "sorafenib", "DCR", "percent", 43.0, 51.0),
        ("IMbrave150", "atezolizumab+bevacizumab", "HR OS", "ratio", 0.66, 0.71),
        ("IMbrave150", "atezolizumab+bevacizumab", "HR PFS", "ratio", 0.65, 0.74),
    ]
    df = pd.DataFrame(rows, columns=["trial", "arm", "endpoint", "unit", "published", "simulated"])
    df["error"] = df["simulated"] - df["published"]
    return df


def sensitivity_table(seed: int) -> pd.DataFrame:
    """Sobol indices of a handful of parameters for two outputs."""
    rng = np.random.default_rng(seed + 2)
    params = [
        ("k_secretion_per_day", "exosome secretion rate"),
        ("uptake_rate_per_day", "exosome uptake by recipient cells"),
        ("tumour_doubling_day", "tumour volume doubling time"),
        ("drug_ic50_um", "drug IC50"),
        ("mir21_half_life_h", "miR-21 half-life"),
        ("caf_fraction", "CAF fraction of the stroma"),
        ("tcell_kill_per_day", "T-cell killing rate"),
        ("pdl1_copies", "exosomal PD-L1 copies per vesicle"),
    ]
    rows = []
    for output in ("PFS", "response"):
        weights = rng.dirichlet(np.full(len(params), 0.6))
        for (name, label), w in zip(params, weights, strict=True):
            st = float(w * 1.1)
            rows.append(
                {
                    "output": output,
                    "parameter": name,
                    "label": label,
                    "S1": st * rng.uniform(0.5, 0.9),
                    "S1_conf": 0.02 + 0.05 * rng.random(),
                    "ST": st,
                    "ST_conf": 0.02 + 0.06 * rng.random(),
                }
            )
    return pd.DataFrame(rows)


def trial_data(n_per_arm: int = 200, seed: int = 7) -> TrialData:
    """A complete synthetic trial with ``n_per_arm`` patients per arm."""
    patients = patients_table(n_per_arm, seed)
    meta = {
        "population": "synthetic BCLC-C HCC, Child–Pugh A",
        "patients_per_arm": n_per_arm,
        "follow_up_months": 24,
        "seed": seed,
        "model_version": "0.1.0+synthetic",
        "date": "2026-11-24",
        "wall_time_s": 754.2,
        "command": f"exoresist trial run --arms sorafenib,sorafenib+secretion-blockade --n {n_per_arm} --seed {seed}",
        "limitations": [
            "Virtual patients are drawn from priors calibrated on a few published trials; they are not real patients.",
            "Confidence intervals reflect sampling of virtual patients only, not uncertainty in the model structure.",
            "Exosome secretion blockade has no clinical trial to calibrate against.",
        ],
    }
    return TrialData(
        meta=meta,
        patients=patients,
        arms=arm_summaries(patients),
        comparisons=comparisons_for(patients),
        attribution=attribution_table(patients, seed),
        calibration=calibration_table(),
        sensitivity=sensitivity_table(seed),
    )
