"""Biomarker-stratified trial designs on a virtual trial, with the assay's misclassification.

Every virtual patient is simulated under both arms, so each design can be read off the same
patients. For each candidate cut-point (deciles of the *measured* baseline level):

- **all-comers with marker strata**: everyone randomised; the HR (lifelines Cox, experimental vs
  control) in the marker-positive and marker-negative strata, by measured status and by true
  (noise-free) status at the same cut, and the assay's sensitivity and specificity for the true
  status. Power is for the overall comparison.
- **enrichment**: only measured marker-positive patients are randomised; the screen-failure rate is
  the share measured negative, and the screened patients per randomised one its inverse.
- **marker-strategy**: randomised between a strategy arm (positive: experimental; negative:
  control) and control for all; the strategy arm's outcomes are each patient's outcome under the
  treatment the strategy gives.

Power: lifelines ``power_under_cph`` (Schoenfeld's approximation for the log-rank/Cox test) at each
total sample size, 1:1 randomisation, with each group's event probability within follow-up and the
design's HR taken from the simulation. Misclassification is carried through because every design
selects on the measured level, as a real assay would.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from exoresist.biomarkers.errors import BiomarkerError
from exoresist.biomarkers.markers import MarkerSpec, markers_by_name
from exoresist.biomarkers.observation import Observations, level_column
from exoresist.kb import KnowledgeBase

DESIGNS = ("enrichment", "all-comers", "marker-strategy")
CUT_QUANTILES = tuple(round(q, 1) for q in np.linspace(0.1, 0.9, 9))


def _hr(t: np.ndarray, e: np.ndarray, group: np.ndarray) -> dict[str, float]:
    from exoresist.cohort.survival import cox_hazard_ratio

    nan = {"hr": math.nan, "ci_low": math.nan, "ci_high": math.nan, "p": math.nan}
    if e.sum() < 2 or group.all() or not group.any():
        return nan
    try:
        h = cox_hazard_ratio(t, e.astype(float), group.astype(float))
    except Exception:  # lifelines convergence failure in a small stratum: undefined, not hidden
        return nan
    return {"hr": h.hr, "ci_low": h.ci_low, "ci_high": h.ci_high, "p": h.p}


def _power(n_total: int, p_exp: float, p_con: float, hr: float, alpha: float) -> float:
    from lifelines.statistics import power_under_cph

    if not (math.isfinite(hr) and hr > 0) or abs(hr - 1) < 1e-9 or n_total < 2:
        return math.nan
    half = n_total // 2
    return float(power_under_cph(half, n_total - half, p_exp, p_con, hr, alpha=alpha))


def paired_outcomes(
    patients: pd.DataFrame, obs: Observations, marker: str, control: str, experimental: str, endpoint: str
) -> pd.DataFrame:
    """One row per patient: measured and true baseline level, and the outcome under each arm."""
    rows = {}
    for arm in (control, experimental):
        sel = (patients["arm"] == arm).to_numpy()
        rows[arm] = pd.DataFrame(
            {
                "patient": patients["patient"].to_numpy()[sel],
                "t": patients[f"{endpoint}_month"].to_numpy(dtype=float)[sel],
                "e": patients[f"{endpoint}_event"].to_numpy(dtype=bool)[sel],
                "measured": obs.frame[level_column(marker, 0.0)].to_numpy(dtype=float)[sel],
                "true": obs.frame[level_column(marker, 0.0, "true")].to_numpy(dtype=float)[sel],
            }
        ).set_index("patient")
    both = rows[control].join(rows[experimental][["t", "e"]], rsuffix="_exp", how="inner")
    if both.empty:
        raise BiomarkerError(f"no patient has outcomes in both {control!r} and {experimental!r}")
    return both.rename(columns={"t": "t_con", "e": "e_con"})


def design_table(
    paired: pd.DataFrame, *, sizes: Sequence[int], alpha: float = 0.05, quantiles: Sequence[float] = CUT_QUANTILES
) -> tuple[list[dict[str, Any]], dict[str, float]]:
    """The per-cut-point rows of :func:`design_trial` from :func:`paired_outcomes` (plain frame in, plain rows out)."""
    tc, ec, te, ee = (paired[c].to_numpy() for c in ("t_con", "e_con", "t_exp", "e_exp"))
    ec, ee = ec.astype(bool), ee.astype(bool)
    measured, true = paired["measured"].to_numpy(), paired["true"].to_numpy()

    def compare(sel: np.ndarray) -> dict[str, float]:
        return _hr(np.r_[tc[sel], te[sel]], np.r_[ec[sel], ee[sel]], np.r_[np.zeros(sel.sum(), bool), np.ones(sel.sum(), bool)])

    everyone = np.ones(len(paired), bool)
    overall = compare(everyone)
    rows = []
    for q in quantiles:
        cut = float(np.quantile(measured, q))
        pos = measured >= cut
        tpos = true >= cut
        strat_t = np.where(pos, te, tc)
        strat_e = np.where(pos, ee, ec)
        strategy = _hr(np.r_[tc, strat_t], np.r_[ec, strat_e], np.r_[np.zeros(len(tc), bool), np.ones(len(tc), bool)])
        hr_pos = compare(pos)
        designs: dict[str, Any] = {
            "enrichment": {
                "hr": hr_pos["hr"],
                "p_events": (float(ec[pos].mean()) if pos.any() else math.nan, float(ee[pos].mean()) if pos.any() else math.nan),
            },
            "all-comers": {"hr": overall["hr"], "p_events": (float(ec.mean()), float(ee.mean()))},
            "marker-strategy": {"hr": strategy["hr"], "p_events": (float(ec.mean()), float(strat_e.mean()))},
        }
        for d in designs.values():
            p_con, p_exp = d.pop("p_events")
            d["power"] = {str(n): _power(n, p_exp, p_con, d["hr"], alpha) for n in sizes}
        share = float(pos.mean())
        designs["enrichment"]["screen_failure"] = 1 - share
        designs["enrichment"]["screened_per_randomised"] = 1 / share if share > 0 else math.inf
        designs["marker-strategy"]["hr_ci"] = strategy
        rows.append(
            {
                "quantile": q,
                "cut_value": cut,
                "share_positive": share,
                "share_positive_true": float(tpos.mean()),
                "sensitivity": float(pos[tpos].mean()) if tpos.any() else math.nan,
                "specificity": float((~pos[~tpos]).mean()) if (~tpos).any() else math.nan,
                "hr_positive": hr_pos,
                "hr_negative": compare(~pos),
                "hr_positive_true": compare(tpos),
                "hr_negative_true": compare(~tpos),
                "designs": designs,
            }
        )
    return rows, overall


def design_trial(
    kb: KnowledgeBase,
    arms: Sequence[str],
    marker: str,
    out: Path,
    *,
    patients: int = 500,
    months: float = 24.0,
    seed: int = 0,
    endpoint: str = "os",
    sizes: Sequence[int] = (200, 400, 800),
    scheduler: str | None = None,
    alpha: float = 0.05,
) -> dict[str, Any]:
    """Run a two-arm virtual trial that samples ``marker`` and compare the designs over cut-points."""
    from exoresist.biomarkers.run import observe_run, trial_samples
    from exoresist.cohort.calibration import calibrated_cohort
    from exoresist.cohort.config import TrialConfig
    from exoresist.cohort.runner import finite_or_none, run_trial

    if endpoint not in ("os", "pfs"):
        raise BiomarkerError(f"endpoint must be os or pfs, got {endpoint!r}")
    if not sizes or any(n < 2 for n in sizes):
        raise BiomarkerError(f"sample sizes must be integers >= 2, got {list(sizes)}")
    specs: list[MarkerSpec] = markers_by_name(kb, [marker])
    samples, days = trial_samples(specs, months)
    config = TrialConfig(
        tuple(arms), "first-line", patients, months, seed, 50, calibrated_cohort(), samples=samples, sample_days=days
    )
    labels = [a.label for a in config.validate(kb)]
    run = run_trial(kb, config, out, scheduler=scheduler, progress=False)
    obs, _, _ = observe_run(run, specs)
    ok = run.patients[run.patients["ok"]].reset_index(drop=True)
    paired = paired_outcomes(ok, obs, specs[0].name, labels[0], labels[1], endpoint)
    rows, overall = design_table(paired, sizes=sizes, alpha=alpha)
    out_dict = {
        "marker": specs[0].name,
        "measured_from": specs[0].measured_from,
        "control": labels[0],
        "experimental": labels[1],
        "endpoint": endpoint,
        "alpha": alpha,
        "patients": len(paired),
        "sample_sizes": list(sizes),
        "designs": list(DESIGNS),
        "overall_hr": overall,
        "cutpoints": rows,
        "lloq_cu_per_mL": obs.lloq[specs[0].name],
        "notes": "Marker status is read from the measured baseline level (assay and pre-analytical noise, LLOQ), as a real "
        "trial would; 'true' uses the noise-free level at the same cut. Power: lifelines power_under_cph, 1:1, two-sided. "
        "HRs treat the arms as independent although the same virtual patients are in both (conservative). Cut-points here "
        "are candidates, not recommendations: a chosen one must be validated.",
    }
    result: dict[str, Any] = finite_or_none(out_dict)
    return result


def stratify_run(run: Any, spec: MarkerSpec, cut: str | None) -> dict[str, Any]:
    """``trial run --stratify``: per arm against the first, the HR in marker-positive and -negative
    patients (measured baseline level at ``cut``: a level in cu/mL, or ``qNN`` for a percentile;
    default the median) for OS and PFS."""
    from exoresist.biomarkers.run import observe_run
    from exoresist.cohort.runner import finite_or_none

    obs, _, _ = observe_run(run, [spec])
    ok = run.patients[run.patients["ok"]].reset_index(drop=True)
    measured = obs.frame[level_column(spec.name, 0.0)].to_numpy(dtype=float)
    first = ok["arm"] == run.arms[0]["arm"]
    value = _cut_value(cut, measured[first.to_numpy()])
    positive = measured >= value
    strata = []
    ref = run.arms[0]["arm"]
    for a in run.arms[1:]:
        sel = ok["arm"].isin([ref, a["arm"]]).to_numpy()
        group = (ok["arm"] == a["arm"]).to_numpy()
        row: dict[str, Any] = {"arm": a["arm"], "reference": ref}
        for ep in ("os", "pfs"):
            t = ok[f"{ep}_month"].to_numpy(dtype=float)
            e = ok[f"{ep}_event"].to_numpy(dtype=bool)
            for name, mask in (("positive", positive), ("negative", ~positive)):
                m = sel & mask
                row[f"{ep}_hr_{name}"] = _hr(t[m], e[m], group[m])
                row[f"n_{name}"] = int((m & group).sum())
        strata.append(row)
    result: dict[str, Any] = finite_or_none(
        {
            "marker": spec.name,
            "cut_value": value,
            "cut": cut or "q50",
            "share_positive": float(positive[first.to_numpy()].mean()),
            "strata": strata,
        }
    )
    return result


def parse_stratify(kb: KnowledgeBase, text: str) -> tuple[MarkerSpec, str | None]:
    """``MARKER[:CUTPOINT]`` of ``trial run --stratify`` -> the marker and the cut (``None``: median)."""
    name, _, cut = text.partition(":")
    if not name.strip():
        raise BiomarkerError(f"--stratify needs a marker name, got '{text}'")
    spec = markers_by_name(kb, [name.strip()])[0]
    if cut.strip():
        _cut_value(cut, np.array([1.0, 2.0]))  # checked before the trial runs
    return spec, cut.strip() or None


def _cut_value(cut: str | None, baseline: np.ndarray) -> float:
    text = (cut or "q50").strip().lower()
    if text in ("median", ""):
        text = "q50"
    if text.startswith("q") or text.endswith("%"):
        try:
            q = float(text.strip("q%")) / 100
        except ValueError:
            raise BiomarkerError(f"cut-point '{cut}': give a level in cu/mL or a percentile such as q50") from None
        if not 0 < q < 1:
            raise BiomarkerError(f"cut-point percentile must be between 0 and 100, got '{cut}'")
        return float(np.quantile(baseline, q))
    try:
        value = float(text)
    except ValueError:
        raise BiomarkerError(f"cut-point '{cut}': give a level in cu/mL or a percentile such as q50") from None
    if not (math.isfinite(value) and value > 0):
        raise BiomarkerError(f"cut-point level must be a positive number, got '{cut}'")
    return value
