"""Calibration of cohort-level parameters on the two published first-line HCC trials SHARP and
IMbrave150, and the check of the shipped calibration against every published figure.

Targets come from ``data/calibration_trials.csv`` (a copy of the project's shared calibration table,
shipped so that no run depends on files outside the package). Both trials are simulated on one
virtual first-line population drawn to IMbrave150's baseline table (SHARP's table was not found,
``docs/calibration.md``); the trials differ in era: no patient of SHARP (enrolled 2005-2006)
received an approved later line, about a third of modern trial patients do (:data:`~exoresist.cohort.disease.LATER_LINE_SHARES`).

Only cohort-level disease parameters move (:data:`FITTED_DYNAMICS`, :data:`FITTED_OUTCOMES`); drug
parameters are never fitted here. Method: common random numbers (one seed, the same virtual patients
at every evaluation), loss = sum of squared errors in units of the check's tolerance (log ratios
over log 1.2 for months and hazard ratios, percentage points over 5 for rates), minimised by
Nelder–Mead (scipy) on the log of the parameters within their priors, alternating between the
parameters that need a new simulation (tumour growth and immune killing) and those that act only on
the outcomes of simulated trajectories (new lesions, death, later lines), which are recomputed
without simulating again. The fit is shipped in ``data/calibrated.json``; every trial uses it.

The check (``trial calibrate --check``) runs ``replicates`` virtual trials of each published arm's
size and says, for each figure, whether the published value lies inside the 90 % prediction
interval and whether the median of the replicates is within tolerance (months and hazard ratios
within 20 %, rates within 5 points).
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from exoresist.cohort.config import TrialConfig
from exoresist.cohort.disease import LATER_LINE_SHARES, DiseaseParameters
from exoresist.cohort.endpoints import Trajectories, endpoints
from exoresist.cohort.faststats import cox_hr, km_median
from exoresist.cohort.population import COHORT_PARAMETERS, CohortParameters, inclusion_probabilities
from exoresist.cohort.runner import TrialRun, run_trial, write_json
from exoresist.cohort.simulate import select_cohort, simulate_arm
from exoresist.kb import KnowledgeBase

ARM_LABELS = {
    "placebo": "placebo",
    "sorafenib 400 mg bid": "sorafenib",
    "atezolizumab 1200 mg + bevacizumab 15 mg/kg q3w": "atezolizumab+bevacizumab",
}
CALIBRATION_ARMS = ("placebo", "sorafenib", "atezolizumab+bevacizumab")
TRIAL_ERA = {"SHARP": "pre-2017", "IMbrave150": "modern"}
FITTED_DYNAMICS = (
    "growth_median_per_day",
    "growth_sigma",
    "t_kill_scale",
    "immune_escape_share",
    "k_adapt_per_day",
    "immune_hot_recruit_scale",
    "immune_cold_recruit_scale",
)
"""Cohort parameters that change the simulated tumours (each evaluation simulates again)."""
FITTED_OUTCOMES = (
    "new_lesion_per_month",
    "new_lesion_base_per_month",
    "new_lesion_frailty_sd",
    "death_tumour_scale_month",
    "death_tumour_size_power",
    "death_liver_per_month",
    "post_progression_hr",
    "measurement_sd",
    "cr_lesion_mm",
)
"""Cohort parameters that act only on the outcomes of simulated trajectories (their reading
included: measurement error and the complete-response threshold)."""
FITTED = FITTED_DYNAMICS + FITTED_OUTCOMES
DEFAULT_PATIENTS = 1500
"""Patients per arm of the fitting population (the shipped fit's; 400 overfitted its sample: the
check's replicate trials missed figures the fit had matched)."""
DEFAULT_SEED = 2020
DEFAULT_MONTHS = 24.0
DEFAULT_REPLICATES = 20
TOLERANCE_RELATIVE = 0.20
TOLERANCE_POINTS = 5.0


@dataclass(frozen=True)
class Target:
    trial: str
    arm: str  # our arm label
    endpoint: str  # os_median | pfs_median | ttp_median | orr | cr | dcr | os_hr | pfs_hr
    unit: str  # months | percent | ratio
    published: float
    reference: str | None = None  # comparator arm of a hazard ratio
    source: str = ""
    n: int = 0  # patients in the published arm
    line: int = 1  # 1: first line; 2: after sorafenib
    later_line_share: float | None = None  # the trial's share of progressing patients given a later line
    withdrawal_share: float = 0.0  # the arm's share of patients with no on-study response assessment

    @property
    def figure(self) -> str:
        return self.endpoint


def _csv() -> pd.DataFrame:
    return pd.read_csv(resources.files("exoresist.cohort").joinpath("data/calibration_trials.csv").open())


def targets_from_table(frame: pd.DataFrame, arm_of: Callable[[str], str] | None = None) -> list[Target]:
    """Every published number of a trial table (the columns of ``calibration_trials.csv``) as a target.

    ``arm_of`` maps the table's arm text to a model arm (default: the text as it stands). Optional
    columns: ``later_line_share`` (0-1) per trial; ``line`` (1 first line, 2 after sorafenib);
    ``no_assessment_percent`` per arm (patients with no on-study response category)."""
    out: list[Target] = []
    for trial, rows in frame.groupby("trial", sort=False):
        control = rows[rows["os_hr_vs_control"].isna() & rows["pfs_hr_vs_control"].isna()]

        def label(text: Any) -> str:
            return arm_of(str(text)) if arm_of is not None else str(text).strip()

        ref = label(control.iloc[-1]["arm"]) if len(control) else None
        for _, r in rows.iterrows():
            arm = label(r["arm"])
            fields = {
                "source": str(r.get("source", "")),
                "n": int(r["n"]) if pd.notna(r.get("n")) else 0,
                "line": int(r["line"]) if pd.notna(r.get("line")) else 1,
                "later_line_share": float(r["later_line_share"]) if pd.notna(r.get("later_line_share")) else None,
                "withdrawal_share": (
                    float(r["no_assessment_percent"]) / 100.0 if pd.notna(r.get("no_assessment_percent")) else 0.0
                ),
            }
            for endpoint, unit, value, reference in (
                ("os_median", "months", r["os_median_months"], None),
                (f"{str(r['pfs_measure']).strip().lower()}_median", "months", r["pfs_or_ttp_median_months"], None),
                ("orr", "percent", r["orr_percent"], None),
                ("cr", "percent", r["cr_percent"], None),
                ("dcr", "percent", r["dcr_percent"], None),
                ("os_hr", "ratio", r["os_hr_vs_control"], ref),
                ("pfs_hr", "ratio", r["pfs_hr_vs_control"], ref),
            ):
                if pd.notna(value) and not (reference is not None and arm == ref):
                    out.append(Target(str(trial), arm, endpoint, unit, float(value), reference, **fields))  # type: ignore[arg-type]
    return out


NO_ASSESSMENT = {("IMbrave150", "atezolizumab+bevacizumab"): 0.067, ("IMbrave150", "sorafenib"): 32 / 159}
"""Share of each published arm's patients with measurable disease who had no on-study response
category (not evaluable or missing), computed from the counts of the response table of Finn et
al., N Engl J Med 2020;382:1894 (independent review, RECIST 1.1): 6.7 % with atezolizumab +
bevacizumab, 32 of 159 with sorafenib (an open-label control arm). SHARP's figure was not found
(0: only deaths before the first scan). Used as the arm's withdrawal before the first assessment
(:func:`~exoresist.cohort.endpoints.endpoints`); kept apart from the shared calibration table."""


def targets() -> list[Target]:
    """The calibration targets (SHARP and IMbrave150)."""
    return [
        replace(t, withdrawal_share=NO_ASSESSMENT.get((t.trial, t.arm), 0.0))
        for t in targets_from_table(_csv(), lambda text: ARM_LABELS[text])
    ]


def withdrawal_share(ts: Sequence[Target], trial: str, arm: str) -> float:
    """The withdrawal before the first assessment of a trial's arm, from its targets (0 without)."""
    return next((t.withdrawal_share for t in ts if t.trial == trial and t.arm == arm), 0.0)


def within_tolerance(t: Target, simulated: float) -> bool:
    if not math.isfinite(simulated):
        return False
    if t.unit == "percent":
        return abs(simulated - t.published) <= TOLERANCE_POINTS
    return abs(simulated - t.published) <= TOLERANCE_RELATIVE * t.published


def error_term(t: Target, simulated: float) -> float:
    """The target's contribution to the loss, in units of the check's tolerance: the log ratio over
    log 1.2 (months, ratios) or the difference in points over 5 (percent), so that the fit weighs each
    figure as the check judges it (a miss of exactly the tolerance counts 1 whatever the figure)."""
    if not math.isfinite(simulated):
        return 15.0  # a median not reached within follow-up: a large, finite penalty
    if t.unit == "percent":
        return (simulated - t.published) / TOLERANCE_POINTS
    return math.log(max(simulated, 1e-3) / t.published) / math.log(1.0 + TOLERANCE_RELATIVE)


# --- the fast path: one simulated population, outcomes recomputed per evaluation -----------------


@dataclass(frozen=True)
class Population:
    """Trajectories of one virtual first-line population under each calibration arm."""

    trajectories: dict[str, Trajectories]
    months: float


def simulate_population(kb: KnowledgeBase, cohort: CohortParameters, *, patients: int, seed: int) -> Population:
    """Select ``patients`` first-line patients and simulate them under every calibration arm (serial)."""
    config = TrialConfig(CALIBRATION_ARMS, "first-line", patients, DEFAULT_MONTHS, seed, patients, cohort)
    arms = config.validate(kb)
    accept = inclusion_probabilities(kb, cohort, seed)
    chosen = select_cohort(kb, config, range(patients), accept)
    return Population({a.label: simulate_arm(kb, config, a, chosen).trajectories for a in arms}, DEFAULT_MONTHS)


def _figure(frame: pd.DataFrame, endpoint: str) -> float:
    if endpoint.endswith("_median"):
        ep = endpoint.removesuffix("_median")
        return km_median(frame[f"{ep}_month"].to_numpy(), frame[f"{ep}_event"].to_numpy())
    if endpoint in ("orr", "dcr", "cr"):
        good = {"orr": ("CR", "PR"), "dcr": ("CR", "PR", "SD"), "cr": ("CR",)}[endpoint]
        return 100.0 * float(frame["bor"].isin(good).mean())
    raise ValueError(endpoint)


def fast_table(pop: Population, cohort: CohortParameters, ts: Sequence[Target] | None = None) -> pd.DataFrame:
    """Simulated against published for every target on the population's trajectories (numpy statistics)."""
    disease = DiseaseParameters.from_cohort(cohort.as_dict())
    frames: dict[tuple[str, str], pd.DataFrame] = {}
    ts = ts or targets()

    def frame(trial: str, arm: str) -> pd.DataFrame:
        key = (trial, arm)
        if key not in frames:
            later = LATER_LINE_SHARES[TRIAL_ERA.get(trial, "modern")][0]
            f = endpoints(pop.trajectories[arm], disease, later, withdrawal_share(ts, trial, arm))
            frames[key] = f[f["ok"]]
        return frames[key]

    rows = []
    for t in ts:
        if t.endpoint.endswith("_hr"):
            a, r = frame(t.trial, t.arm), frame(t.trial, t.reference or "")
            ep = t.endpoint.removesuffix("_hr")
            both = pd.concat([r, a])
            sim = cox_hr(both[f"{ep}_month"].to_numpy(), both[f"{ep}_event"].to_numpy(), np.r_[np.zeros(len(r)), np.ones(len(a))])
        else:
            sim = _figure(frame(t.trial, t.arm), t.endpoint)
        rows.append(_row(t, sim))
    return pd.DataFrame(rows)


def _row(t: Target, sim: float, lo: float = math.nan, hi: float = math.nan) -> dict[str, Any]:
    inside = bool(math.isfinite(lo) and lo <= t.published <= hi)
    return {
        "trial": t.trial,
        "arm": t.arm,
        "endpoint": t.endpoint,
        "unit": t.unit,
        "published": t.published,
        "simulated": sim,
        "pi_low": lo,
        "pi_high": hi,
        "error": sim - t.published,
        "within_tolerance": within_tolerance(t, sim),
        "inside_pi": inside,
        "reference": t.reference or "",
        "n": t.n,
        "source": t.source,
    }


NOT_FITTED = {("IMbrave150", "sorafenib", "orr")}
"""Figures the fit leaves out (they are still checked): IMbrave150's sorafenib response rate (11.9 %)
and SHARP's (2 %) are the same drug in one simulated population, which cannot give both (the model
represents no difference between the two trials' readings of the scans); fitting both would only
pull the sorafenib dynamics between them. The arm's disease-control rate is fitted: its patients
without an on-study assessment (20 %) are simulated as withdrawals before the first scan
(:data:`NO_ASSESSMENT`)."""


def loss(table: pd.DataFrame, ts: Sequence[Target] | None = None) -> float:
    ts = ts or targets()
    return float(
        sum(
            error_term(t, s) ** 2
            for t, s in zip(ts, table["simulated"], strict=True)
            if (t.trial, t.arm, t.endpoint) not in NOT_FITTED
        )
    )


# --- the shipped fit -------------------------------------------------------------------------------


def _calibrated_path() -> Any:
    return resources.files("exoresist.cohort").joinpath("data/calibrated.json")


def fit_record() -> dict[str, Any] | None:
    """The shipped fit record (values, method, evaluations, loss, ...) or ``None``."""
    path = _calibrated_path()
    if not path.is_file():
        return None
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def calibrated_values() -> dict[str, float]:
    """The shipped fit (empty when none has been made); values of parameters no longer cohort-level are ignored."""
    record = fit_record()
    known = {p.name for p in COHORT_PARAMETERS}
    return {k: float(v) for k, v in (record or {}).get("values", {}).items() if k in known}


def calibrated_cohort() -> CohortParameters:
    """Cohort parameters of the shipped calibration (defaults where no fit exists)."""
    return CohortParameters(calibrated_values())


def save_fit(record: dict[str, Any], path: Path) -> None:
    write_json(record, path)


def _nelder_mead(
    objective: Callable[[np.ndarray], float], x0: np.ndarray, lo: np.ndarray, hi: np.ndarray, max_evaluations: int
) -> np.ndarray:
    from scipy.optimize import minimize

    step = 0.2 * (hi - lo)
    simplex = [x0]
    for i in range(x0.size):
        v = x0.copy()
        v[i] = v[i] + step[i] if v[i] + step[i] <= hi[i] else v[i] - step[i]
        simplex.append(v)
    result = minimize(
        lambda x: objective(np.clip(x, lo, hi)),
        x0,
        method="Nelder-Mead",
        options={"maxfev": max_evaluations, "xatol": 0.01, "fatol": 0.005, "initial_simplex": np.array(simplex)},
    )
    out: np.ndarray = np.clip(np.asarray(result.x), lo, hi)
    return out


def _coordinate_sweep(
    objective: Callable[[np.ndarray], float], x0: np.ndarray, lo: np.ndarray, hi: np.ndarray, points: int
) -> np.ndarray:
    """One pass over the coordinates: each tried at ``points`` values evenly spaced within its (log)
    bounds, the others held; the best value kept. Robust where Nelder-Mead stalls on the steps that
    medians of a finite cohort make."""
    x = x0.copy()
    best = objective(x)
    for i in range(x.size):
        for v in np.linspace(lo[i], hi[i], points):
            trial = x.copy()
            trial[i] = v
            value = objective(trial)
            if value < best:
                best, x = value, trial
    return x


def fit(
    kb: KnowledgeBase,
    *,
    start: CohortParameters | None = None,
    patients: int = DEFAULT_PATIENTS,
    seed: int = DEFAULT_SEED,
    rounds: int = 3,
    dynamics_evaluations: int = 30,
    outcome_evaluations: int = 400,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Alternate Nelder–Mead over :data:`FITTED_OUTCOMES` (on fixed trajectories) and over
    :data:`FITTED_DYNAMICS` (simulating the population at each evaluation); returns the fit record."""
    started = time.perf_counter()
    priors = {p.name: p for p in COHORT_PARAMETERS}
    current = (start or calibrated_cohort()).as_dict()
    first = dict(current)
    history: list[dict[str, Any]] = []

    def natural(names: Sequence[str], x: np.ndarray) -> dict[str, float]:
        """Parameter values from the optimiser's log coordinates, inside their priors (``exp`` of a
        clipped log bound can miss the bound by a rounding error)."""
        return {n: min(max(float(np.exp(v)), priors[n].low), priors[n].high) for n, v in zip(names, x, strict=True)}

    def bounds(names: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        return np.log([priors[n].low or 0.01 for n in names]), np.log([priors[n].high for n in names])

    def evaluate(values: Mapping[str, float], pop: Population, stage: str) -> float:
        table = fast_table(pop, CohortParameters(dict(values)))
        value = loss(table)
        history.append({"stage": stage, "loss": value, "values": dict(values)})
        return value

    pop = simulate_population(kb, CohortParameters(current), patients=patients, seed=seed)
    for round_ in range(1, rounds + 1):
        lo, hi = bounds(FITTED_OUTCOMES)

        def outcome_objective(x: np.ndarray, pop: Population = pop) -> float:
            values = {**current, **natural(FITTED_OUTCOMES, x)}
            return evaluate(values, pop, "outcomes")

        x0 = np.clip(np.log([max(current[n], 1e-6) for n in FITTED_OUTCOMES]), lo, hi)
        best = _nelder_mead(outcome_objective, x0, lo, hi, outcome_evaluations)
        current.update(natural(FITTED_OUTCOMES, best))
        log(f"round {round_}: outcome parameters, loss {evaluate(current, pop, 'outcomes'):.3f}")
        lo, hi = bounds(FITTED_DYNAMICS)

        def dynamics_objective(x: np.ndarray) -> float:
            values = {**current, **natural(FITTED_DYNAMICS, x)}
            try:
                trial_pop = simulate_population(kb, CohortParameters(values), patients=patients, seed=seed)
            except ValueError as exc:  # a population that cannot be built (no plausible patient)
                log(f"  evaluation failed: {exc}")
                return 1e3
            value = evaluate(values, trial_pop, "dynamics")
            log(
                f"  dynamics evaluation {len(history)}: loss {value:.3f} "
                + " ".join(f"{n}={values[n]:.4g}" for n in FITTED_DYNAMICS)
            )
            return value

        x0 = np.clip(np.log([current[n] for n in FITTED_DYNAMICS]), lo, hi)
        if round_ == 1:
            x0 = _coordinate_sweep(dynamics_objective, x0, lo, hi, 5)
        best = _nelder_mead(dynamics_objective, x0, lo, hi, dynamics_evaluations)
        current.update(natural(FITTED_DYNAMICS, best))
        pop = simulate_population(kb, CohortParameters(current), patients=patients, seed=seed)
        log(f"round {round_}: dynamics parameters, loss {evaluate(current, pop, 'dynamics'):.3f}")
    lo, hi = bounds(FITTED_OUTCOMES)

    def final_objective(x: np.ndarray) -> float:
        return evaluate({**current, **natural(FITTED_OUTCOMES, x)}, pop, "outcomes")

    x0 = np.clip(np.log([max(current[n], 1e-6) for n in FITTED_OUTCOMES]), lo, hi)
    best = _nelder_mead(final_objective, x0, lo, hi, outcome_evaluations)
    current.update(natural(FITTED_OUTCOMES, best))
    final_loss = evaluate(current, pop, "outcomes")
    return {
        "values": {n: current[n] for n in FITTED},
        "loss": final_loss,
        "evaluations": len(history),
        "method": (
            "alternating Nelder-Mead (scipy.optimize.minimize) on log parameters within their priors: outcome "
            "parameters on fixed simulated trajectories, dynamics parameters by re-simulation; common random numbers"
        ),
        "patients_per_arm": patients,
        "seed": seed,
        "months": DEFAULT_MONTHS,
        "rounds": rounds,
        "wall_time_s": round(time.perf_counter() - started, 1),
        "date": date.today().isoformat(),
        "start": {n: first[n] for n in FITTED},
    }


# --- the check ---------------------------------------------------------------------------------------


def trial_configs(
    cohort: CohortParameters, ts: Sequence[Target], *, replicates: int, seed: int, months: float = DEFAULT_MONTHS
) -> dict[str, TrialConfig]:
    """One trial configuration per published trial: its arms, each at its published size."""
    out: dict[str, TrialConfig] = {}
    for trial in dict.fromkeys(t.trial for t in ts):
        arms = list(
            dict.fromkeys([t.arm for t in ts if t.trial == trial] + [t.reference for t in ts if t.trial == trial and t.reference])
        )
        sizes = {a: max([t.n for t in ts if t.trial == trial and t.arm == a] or [0]) for a in arms}
        n = max(max(sizes.values()), 10)
        ref = next((t.reference for t in ts if t.trial == trial and t.reference), None)
        mine = [t for t in ts if t.trial == trial]
        share = next((t.later_line_share for t in mine if t.later_line_share is not None), None)
        if share is None:
            share = LATER_LINE_SHARES[TRIAL_ERA.get(trial, "modern")][0]
        out[trial] = TrialConfig(
            tuple(arms),
            "post-sorafenib" if any(t.line >= 2 for t in mine) else "first-line",
            n,
            months,
            seed,
            max(25, n // 4),
            cohort,
            replicates=replicates,
            later_line_share=share,
            reference=ref,
            arm_sizes=tuple(max(sizes[a], 10) if sizes[a] else n for a in arms),
            withdrawal_shares=tuple(withdrawal_share(mine, trial, a) for a in arms)
            if any(t.withdrawal_share for t in mine)
            else None,
        )
    return out


def compare_runs(runs: Mapping[str, TrialRun], ts: Sequence[Target]) -> pd.DataFrame:
    """Published against simulated (median over replicates, 90 % prediction interval) per target."""
    rows = []
    for t in ts:
        run = runs[t.trial]
        match = [
            r
            for r in run.replicates
            if r["figure"] == t.endpoint and r["arm"] == t.arm and (r["reference"] or None) == (t.reference or None)
        ]
        if match:
            r = match[0]
            row = _row(t, r["median"], r["pi_low"], r["pi_high"])
        else:  # one replicate: the trial's own figure, no interval
            from exoresist.cohort.statistics import figure_value

            arm = next(a for a in run.arms if a["arm"] == t.arm)
            comp = next((c for c in run.comparisons if c["arm"] == t.arm and c["reference"] == t.reference), None)
            row = _row(t, figure_value(arm, comp if t.endpoint.endswith("_hr") else None, t.endpoint))
        rows.append({**row, "replicates": run.config.replicates})
    return pd.DataFrame(rows)


def check(
    kb: KnowledgeBase,
    cohort: CohortParameters,
    out_dir: Path,
    *,
    replicates: int = DEFAULT_REPLICATES,
    seed: int = DEFAULT_SEED,
    scheduler: str | None = None,
    progress: bool = True,
    ts: Sequence[Target] | None = None,
) -> tuple[dict[str, TrialRun], pd.DataFrame]:
    """Run ``replicates`` trials of each published trial's size with ``cohort`` and compare every target."""
    ts = list(ts or targets())
    runs = {
        trial: run_trial(kb, config, out_dir / trial, scheduler=scheduler, progress=progress)
        for trial, config in trial_configs(cohort, ts, replicates=replicates, seed=seed).items()
    }
    return runs, compare_runs(runs, ts)


def markdown(table: pd.DataFrame, fit_record: dict[str, Any] | None, figure: str | None = None, replicates: int = 0) -> str:
    """``docs/calibration.md``: the method, the fitted values, and simulated vs published."""
    n_tol = int(table["within_tolerance"].sum())
    n_pi = int(table["inside_pi"].sum())
    n_both = int((table["within_tolerance"] & table["inside_pi"]).sum())
    lines = [
        "# Calibration on SHARP and IMbrave150",
        "",
        "Generated by `exoresist trial calibrate --check -o docs/calibration.md`; do not edit by hand.",
        "",
        "Both trials are simulated on one virtual first-line population drawn to IMbrave150's baseline table",
        "(SHARP's baseline table was not found; SHARP allowed ECOG 2, which the simulated population lacks).",
        "The trials differ in era: no SHARP patient (enrolled 2005-2006) received an approved later line;",
        "36 % of modern trial patients do (the share given systemic therapy after leaving REFLECT, a",
        "first-line phase III trial, as tabulated by Merle et al., Hepatoma Res 2020; the real-world share is",
        "about 20 %; no IMbrave150 figure was found). Every published number",
        "of `src/exoresist/cohort/data/calibration_trials.csv` is a target. Only cohort-level disease parameters",
        "are fitted; drug parameters are not, and nothing is fitted to any other trial.",
        "",
        "Method: common random numbers; loss = sum of squared errors in units of the tolerance below (log",
        "ratios over log 1.2 for months and hazard ratios, percentage points over 5 for rates); alternating",
        "Nelder-Mead (scipy) on log parameters within their priors: the outcome parameters (new lesions,",
        "death, later lines, and the reading of the scans: measurement error and the complete-response",
        "threshold) on fixed simulated trajectories, the dynamics parameters (growth, immune killing, immune",
        "escape, drug-induced resistance, T-cell recruitment of the two immune classes) by simulating",
        "again.",
        "",
        "Patients without an on-study assessment: in IMbrave150 6.7 % of the atezolizumab + bevacizumab arm",
        "and a fifth of the open-label sorafenib arm (32 of 159 with measurable disease) had no on-study",
        "response category, and the published response and disease-control rates count them as failures.",
        "Each simulated arm of IMbrave150 withdraws that share of its patients alive at the first scan",
        "before it (not evaluable; PFS and TTP censored at baseline; survival followed), so its simulated",
        "not-evaluable share is the published one plus its deaths before the first scan among the rest.",
        "SHARP's figure was not found (its arms withdraw no one). IMbrave150's sorafenib response rate is",
        "checked but left out of the loss: SHARP reports 2 % and IMbrave150 11.9 % for the same drug, which",
        "one simulated population cannot both give.",
        "",
        "Arms of a virtual trial are different patients (as after randomisation), so the intervals of the",
        "hazard ratios have the spread of a real trial's.",
        "",
        f"Check: {replicates} virtual trials of each published arm's size; simulated = median over them, with",
        "the 90 % prediction interval (5th-95th percentile). Tolerance: months and hazard ratios within 20 %,",
        "rates within 5 points.",
        "",
        f"**{n_tol} of {len(table)} figures within tolerance; {n_pi} of {len(table)} published figures inside the",
        f"90 % prediction interval; {n_both} both.**",
        "",
        "Note on the source table: it lists RECIST 1.1 for SHARP, but SHARP (2008) predates RECIST 1.1",
        "(Eisenhauer et al., 2009) and assessed response with the original RECIST; the model applies",
        "RECIST 1.1 to both trials.",
        "",
    ]
    if fit_record:
        lines += [
            f"Fit of {fit_record['date']}: {fit_record['evaluations']} evaluations, {fit_record['patients_per_arm']} patients",
            f"per arm, seed {fit_record['seed']}, {fit_record['months']:g} months, loss {fit_record['loss']:.3f},",
            f"{fit_record['wall_time_s']:g} s.",
            "",
            "| parameter | start | fitted | prior | description |",
            "|---|---:|---:|---|---|",
        ]
        priors = {p.name: p for p in COHORT_PARAMETERS}
        for n, v in fit_record["values"].items():
            if n not in priors:
                continue
            p = priors[n]
            lines.append(f"| `{n}` | {fit_record['start'][n]:.4g} | {v:.4g} | {p.low:g} - {p.high:g} | {p.description} |")
        lines.append("")
    else:
        lines += ["No fit has been made: the cohort parameters are at their defaults.", ""]
    lines += [
        "| trial | arm | figure | published | simulated (median) | 90 % PI | within tolerance | inside PI |",
        "|---|---|---|---:|---:|---|:---:|:---:|",
    ]
    for _, r in table.iterrows():
        ref = f" vs {r['reference']}" if r["reference"] else ""
        pi = f"{_num(r['pi_low'])} - {_num(r['pi_high'])}" if math.isfinite(r["pi_low"]) else ""
        lines.append(
            f"| {r['trial']} | {r['arm']}{ref} | {FIGURE_LABELS.get(r['endpoint'], r['endpoint'])} ({r['unit']}) | "
            f"{r['published']:g} | {_num(r['simulated'])} | {pi} | {'yes' if r['within_tolerance'] else 'no'} | "
            f"{'yes' if r['inside_pi'] else 'no'} |"
        )
    lines.append("")
    misses = table[~(table["within_tolerance"] & table["inside_pi"])]
    if len(misses):
        lines += ["Misfits, in numbers:", ""]
        for _, r in misses.iterrows():
            ref = f" vs {r['reference']}" if r["reference"] else ""
            lines.append(
                f"- {r['trial']} {r['arm']}{ref}, {FIGURE_LABELS.get(r['endpoint'], r['endpoint'])}: simulated "
                f"{_num(r['simulated'])} against {r['published']:g} published"
            )
        lines.append("")
    if figure:
        lines += [f"![simulated against published]({figure})", ""]
    return "\n".join(lines)


FIGURE_LABELS = {
    "os_median": "median OS",
    "pfs_median": "median PFS",
    "ttp_median": "median TTP",
    "orr": "objective response rate",
    "cr": "complete response",
    "dcr": "disease control rate",
    "os_hr": "OS hazard ratio",
    "pfs_hr": "PFS hazard ratio",
}


def _num(v: float) -> str:
    return "not reached" if not math.isfinite(v) else f"{v:.3g}"


def targets_frame(ts: Sequence[Target] | None = None) -> pd.DataFrame:
    return pd.DataFrame([t.__dict__ for t in (ts or targets())])
