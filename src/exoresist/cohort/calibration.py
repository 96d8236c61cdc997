"""Calibration of cohort-level parameters on published first-line HCC trials (SHARP, IMbrave150).

Targets come from ``data/calibration_trials.csv`` (a copy of the project's shared calibration table,
shipped so that no run depends on files outside the package). One virtual first-line population is
simulated under placebo, sorafenib and atezolizumab + bevacizumab; its statistics are compared with
every published number (medians of OS and PFS/TTP, ORR, CR, DCR, hazard ratios).

Method: Nelder–Mead (scipy) on the log of the calibrated cohort parameters, minimising the sum of
squared errors on a common scale (log ratio for months and hazard ratios; percentage points / 10 for
rates), with common random numbers (one seed, the same virtual patients at every evaluation). Only
cohort-level parameters move; no patient is edited by hand. The fitted values are shipped in
``data/calibrated.json`` and used by every trial unless the user overrides them.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from exoresist.cohort.population import COHORT_PARAMETERS, CohortParameters
from exoresist.cohort.runner import TrialRun, run_trial, write_json
from exoresist.cohort.trial import TrialConfig
from exoresist.kb import KnowledgeBase

ARM_LABELS = {
    "placebo": "placebo",
    "sorafenib 400 mg bid": "sorafenib",
    "atezolizumab 1200 mg + bevacizumab 15 mg/kg q3w": "atezolizumab+bevacizumab",
}
CALIBRATION_ARMS = ("placebo", "sorafenib", "atezolizumab+bevacizumab")
FITTED = (
    "growth_median_per_day",
    "growth_sigma",
    "death_background_per_month",
    "death_tumour_per_month",
    "sorafenib_kmax_scale",
    "t_kill_scale",
)
DEFAULT_PATIENTS = 300
DEFAULT_SEED = 2020
DEFAULT_MONTHS = 24.0


@dataclass(frozen=True)
class Target:
    trial: str
    arm: str  # our arm label
    endpoint: str  # os_median | pfs_median | ttp_median | orr | cr | dcr | os_hr | pfs_hr
    unit: str  # months | percent | ratio
    published: float
    reference: str | None = None  # comparator arm of a hazard ratio
    source: str = ""


def _csv() -> pd.DataFrame:
    return pd.read_csv(resources.files("exoresist.cohort").joinpath("data/calibration_trials.csv").open())


def targets() -> list[Target]:
    """Every published number of the calibration table as a target."""
    frame = _csv()
    out: list[Target] = []
    for trial, rows in frame.groupby("trial", sort=False):
        control = rows[rows["os_hr_vs_control"].isna() & rows["pfs_hr_vs_control"].isna()]
        ref = ARM_LABELS[str(control.iloc[-1]["arm"])] if len(control) else None
        for _, r in rows.iterrows():
            arm = ARM_LABELS.get(str(r["arm"]))
            if arm is None:
                raise ValueError(f"calibration table: arm '{r['arm']}' of {trial} has no model arm")
            src = str(r["source"])

            def add(
                endpoint: str,
                unit: str,
                value: Any,
                reference: str | None = None,
                trial: str = str(trial),
                arm: str = arm,
                src: str = src,
            ) -> None:
                if pd.notna(value):
                    out.append(Target(trial, arm, endpoint, unit, float(value), reference, src))

            add("os_median", "months", r["os_median_months"])
            measure = str(r["pfs_measure"]).strip().lower()
            add(f"{measure}_median", "months", r["pfs_or_ttp_median_months"])
            add("orr", "percent", r["orr_percent"])
            add("cr", "percent", r["cr_percent"])
            add("dcr", "percent", r["dcr_percent"])
            if arm != ref:
                add("os_hr", "ratio", r["os_hr_vs_control"], ref)
                add("pfs_hr", "ratio", r["pfs_hr_vs_control"], ref)
    return out


def simulated_value(run: TrialRun, t: Target) -> float:
    arms = {a["arm"]: a for a in run.arms}
    a = arms[t.arm]
    if t.endpoint.endswith("_median"):
        return float(a[f"{t.endpoint.removesuffix('_median')}_median_month"]["median"])
    if t.endpoint in ("orr", "dcr"):
        return 100.0 * float(a[t.endpoint]["estimate"])
    if t.endpoint == "cr":
        return 100.0 * float(a["cr"])
    if t.endpoint in ("os_hr", "pfs_hr"):
        # summarise() compared every arm with the first one (SHARP: sorafenib vs placebo): reuse that fit
        for c in run.comparisons:
            if c["arm"] == t.arm and c["reference"] == t.reference:
                return float(c[t.endpoint]["hr"])
        from exoresist.cohort.survival import cox_hazard_ratio

        # a comparison summarise() does not make (IMbrave150: atezolizumab+bevacizumab vs sorafenib)
        p = run.patients[run.patients["ok"] & run.patients["arm"].isin([t.arm, t.reference])]
        ep = t.endpoint.removesuffix("_hr")
        group = (p["arm"] == t.arm).to_numpy().astype(float)
        return float(cox_hazard_ratio(p[f"{ep}_month"].to_numpy(), p[f"{ep}_event"].to_numpy(), group).hr)
    raise ValueError(f"unknown endpoint {t.endpoint}")


def error_term(t: Target, simulated: float) -> float:
    """The target's contribution to the loss: log ratio (months, ratios) or points / 10 (percent)."""
    if not math.isfinite(simulated):
        return 3.0  # a median not reached within follow-up: a large, finite penalty
    if t.unit == "percent":
        return (simulated - t.published) / 10.0
    return math.log(max(simulated, 1e-3) / t.published)


def comparison_table(run: TrialRun) -> pd.DataFrame:
    """Simulated against published for every target, with the error."""
    rows = []
    for t in targets():
        sim = simulated_value(run, t)
        rows.append(
            {
                "trial": t.trial,
                "arm": t.arm,
                "endpoint": t.endpoint,
                "unit": t.unit,
                "published": t.published,
                "simulated": sim,
                "error": sim - t.published,
                "relative_error": (sim - t.published) / t.published if t.published else float("nan"),
                "reference": t.reference or "",
                "source": t.source,
            }
        )
    return pd.DataFrame(rows)


def loss(table: pd.DataFrame) -> float:
    ts = targets()
    return float(sum(error_term(t, s) ** 2 for t, s in zip(ts, table["simulated"], strict=True)))


def _calibrated_path() -> Any:
    return resources.files("exoresist.cohort").joinpath("data/calibrated.json")


def calibrated_values() -> dict[str, float]:
    """The shipped fit (empty when none has been made)."""
    path = _calibrated_path()
    if not path.is_file():
        return {}
    data = json.loads(path.read_text())
    return {k: float(v) for k, v in data["values"].items()}


def fit_record() -> dict[str, Any] | None:
    """The shipped fit record (values, method, evaluations, loss, ...) or ``None``."""
    path = _calibrated_path()
    if not path.is_file():
        return None
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def calibrated_cohort() -> CohortParameters:
    """Cohort parameters of the shipped calibration (defaults where no fit exists)."""
    return CohortParameters(calibrated_values())


def calibration_config(cohort: CohortParameters, patients: int = DEFAULT_PATIENTS, seed: int = DEFAULT_SEED) -> TrialConfig:
    return TrialConfig(CALIBRATION_ARMS, "first-line", patients, DEFAULT_MONTHS, seed, 50, cohort)


def check(
    kb: KnowledgeBase,
    cohort: CohortParameters,
    out_dir: Path,
    *,
    patients: int = DEFAULT_PATIENTS,
    seed: int = DEFAULT_SEED,
    scheduler: str | None = None,
    progress: bool = True,
) -> tuple[TrialRun, pd.DataFrame]:
    """Simulate the calibration arms with ``cohort`` and compare with every published target."""
    run = run_trial(kb, calibration_config(cohort, patients, seed), out_dir, scheduler=scheduler, progress=progress)
    return run, comparison_table(run)


def fit(
    kb: KnowledgeBase,
    out_dir: Path,
    *,
    start: CohortParameters | None = None,
    patients: int = DEFAULT_PATIENTS,
    seed: int = DEFAULT_SEED,
    max_evaluations: int = 80,
    scheduler: str | None = None,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Nelder–Mead over the log of :data:`FITTED` within their priors; returns the fit record."""
    from scipy.optimize import minimize

    base = (start or calibrated_cohort()).as_dict()
    priors = {p.name: p for p in COHORT_PARAMETERS}
    lo = np.log([priors[n].low for n in FITTED])
    hi = np.log([priors[n].high for n in FITTED])
    x0 = np.log([base[n] for n in FITTED])
    history: list[dict[str, Any]] = []
    started = time.perf_counter()

    def objective(x: np.ndarray) -> float:
        x = np.clip(x, lo, hi)
        values = {**base, **{n: float(np.exp(v)) for n, v in zip(FITTED, x, strict=True)}}
        try:
            _, table = check(
                kb, CohortParameters(values), out_dir, patients=patients, seed=seed, scheduler=scheduler, progress=False
            )
            value = loss(table)
        except ValueError as exc:  # a population that cannot be built (e.g. no plausible patient)
            log(f"  evaluation failed: {exc}")
            value = 1e3
        history.append({"values": values, "loss": value})
        log(f"  evaluation {len(history)}: loss {value:.3f} " + " ".join(f"{n}={values[n]:.4g}" for n in FITTED))
        return value

    client = None
    if scheduler is None:  # one local cluster for every evaluation, not one per evaluation
        from exoresist.cohort.runner import connect

        client = connect(None)
        scheduler = str(client.scheduler.address)
    try:
        result = minimize(
            objective,
            x0,
            method="Nelder-Mead",
            options={"maxfev": max_evaluations, "xatol": 0.02, "fatol": 0.01, "initial_simplex": _simplex(x0, lo, hi)},
        )
    finally:
        if client is not None:
            cluster = client.cluster
            client.close()
            cluster.close()
    best = min(history, key=lambda h: h["loss"])
    return {
        "values": {n: best["values"][n] for n in FITTED},
        "loss": best["loss"],
        "evaluations": len(history),
        "method": "Nelder-Mead (scipy.optimize.minimize) on log parameters, common random numbers",
        "patients_per_arm": patients,
        "seed": seed,
        "months": DEFAULT_MONTHS,
        "converged": bool(result.success),
        "wall_time_s": round(time.perf_counter() - started, 1),
        "date": date.today().isoformat(),
        "start": {n: base[n] for n in FITTED},
    }


def _simplex(x0: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Initial simplex: each vertex moves one parameter by a quarter of its log prior range."""
    step = 0.25 * (hi - lo)
    simplex = [x0]
    for i in range(x0.size):
        v = x0.copy()
        v[i] = v[i] + step[i] if v[i] + step[i] <= hi[i] else v[i] - step[i]
        simplex.append(v)
    return np.array(simplex)


def save_fit(record: dict[str, Any], path: Path) -> None:
    write_json(record, path)


def markdown(table: pd.DataFrame, fit_record: dict[str, Any] | None, figure: str | None = None) -> str:
    """``docs/calibration.md``: the method, the fitted values, and simulated vs published."""
    lines = [
        "# Calibration on SHARP and IMbrave150",
        "",
        "Generated by `exoresist trial calibrate --check -o docs/calibration.md`; do not edit by hand.",
        "",
        "One virtual first-line population (the same patients in every arm) is simulated under placebo,",
        "sorafenib and atezolizumab + bevacizumab and compared with every published number of",
        "`src/exoresist/cohort/data/calibration_trials.csv` (copied from the project's shared data).",
        "Only cohort-level parameters are fitted; after this fit nothing is tuned to other trials.",
        "",
        "Method: Nelder-Mead (scipy) on the log of the fitted parameters, within their priors; loss = sum of",
        "squared errors with log ratios for months and hazard ratios and percentage points / 10 for rates;",
        "common random numbers (one seed). Both trials share one population, although they enrolled",
        "different patients a decade apart (their sorafenib arms differ: median OS 10.7 vs 13.2 months),",
        "so the fit is a compromise between them.",
        "",
        "Note on the source table: it lists RECIST 1.1 for SHARP, but SHARP (2008) predates RECIST 1.1",
        "(Eisenhauer et al., 2009) and assessed response with the original RECIST; the model applies",
        "RECIST 1.1 to both trials.",
        "",
    ]
    if fit_record:
        lines += [
            f"Fit of {fit_record['date']}: {fit_record['evaluations']} evaluations, {fit_record['patients_per_arm']} patients",
            f"per arm, seed {fit_record['seed']}, {fit_record['months']:g} months, loss {fit_record['loss']:.3f}"
            f" ({'converged' if fit_record['converged'] else 'stopped at the evaluation limit'}),"
            f" {fit_record['wall_time_s']:g} s.",
            *([f"{fit_record['note'][0].upper()}{fit_record['note'][1:]}.", ""] if fit_record.get("note") else []),
            "",
            "| parameter | start | fitted | prior | description |",
            "|---|---:|---:|---|---|",
        ]
        priors = {p.name: p for p in COHORT_PARAMETERS}
        for n, v in fit_record["values"].items():
            p = priors[n]
            lines.append(f"| `{n}` | {fit_record['start'][n]:.4g} | {v:.4g} | {p.low:g} - {p.high:g} | {p.description} |")
        lines.append("")
    else:
        lines += ["No fit has been made: the cohort parameters are at their defaults.", ""]
    lines += [
        "| trial | arm | endpoint | published | simulated | error |",
        "|---|---|---|---:|---:|---:|",
    ]
    for _, r in table.iterrows():
        ref = f" vs {r['reference']}" if r["reference"] else ""
        lines.append(
            f"| {r['trial']} | {r['arm']}{ref} | {r['endpoint']} ({r['unit']}) | {r['published']:g} | "
            f"{_num(r['simulated'])} | {_num(r['error'])} |"
        )
    lines.append("")
    terms = [(abs(error_term(t, float(sim))), t, float(sim)) for t, sim in zip(targets(), table["simulated"], strict=True)]
    worst = sorted(terms, key=lambda x: -x[0])[:5]
    lines += ["Largest misfits (by their share of the loss):", ""]
    for share, t, sim in worst:
        ref = f" vs {t.reference}" if t.reference else ""
        lines.append(
            f"- {t.trial} {t.arm}{ref} {t.endpoint}: simulated {_num(sim)}, published {t.published:g} (loss term {share**2:.2f})"
        )
    lines.append("")
    if figure:
        lines += [f"![simulated against published]({figure})", ""]
    return "\n".join(lines)


def _num(v: float) -> str:
    return "not reached" if not math.isfinite(v) else f"{v:.3g}"


def targets_frame(ts: Sequence[Target] | None = None) -> pd.DataFrame:
    return pd.DataFrame([t.__dict__ for t in (ts or targets())])
