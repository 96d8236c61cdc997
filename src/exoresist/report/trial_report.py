"""The HTML report of a finished virtual trial (what ``exoresist demo`` writes)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd

from exoresist.report.html import FIGURE_LABELS, render_report

LIMITATIONS = (
    "Every virtual patient is simulated in every arm (the same patients, a 'digital twin' design); "
    "confidence intervals and p-values treat the arms as independent samples, which is conservative. Over "
    "replicate trials the arms of each trial are different patients, so prediction intervals have a real "
    "trial's spread.",
    "Each scan reads the sum of diameters with a radiologist's measurement error (log-SD fitted within the 3-7 % "
    "that published limits of agreement imply); a few stable tumours are therefore called progressing, or "
    "responding, by chance, as in real trials.",
    "The target lesions are equal spheres sharing the simulated tumour volume; new lesions and non-target "
    "progression come from a hazard that follows the tumour's net growth plus a small constant part (both "
    "documented in docs/trials.md), not from simulated lesions.",
    "Death has two causes: a tumour-related hazard linked to the simulated tumour's size and growth and to the "
    "baseline factors (published hazard ratios), and liver failure driven by the ALBI score. Treatment acts on "
    "survival only through the tumour and a later line of therapy after progression; treatment continues after "
    "progression in the simulation.",
    "Most exosome parameters and several drug parameters have no published value: they are marked 'assumed' in "
    "docs/parameters.md, carry prior ranges and enter the sensitivity analysis. Cohort-level disease parameters "
    "were calibrated on SHARP and IMbrave150 only (docs/calibration.md); both are simulated on IMbrave150's "
    "baseline table (SHARP's was not found).",
)
NO_WITHDRAWAL_LIMITATION = (
    "No patient withdraws or misses a scan in this trial: 'not evaluable' counts only deaths before the first "
    "assessment. Published response rates count patients without an on-study assessment as failures "
    "(IMbrave150's open-label sorafenib arm: 20 % had no on-study response category), so they are lower than "
    "these when such withdrawals are frequent; a trial table can give each arm's share (no_assessment_percent)."
)
WITHDRAWAL_LIMITATION = (
    "Withdrawal before the first scan: the share of each arm given in the run settings leaves before the first "
    "assessment (not evaluable; PFS and TTP censored at baseline; survival followed)."
)
ATTRIBUTION_LIMITATION = (
    "Mechanism attribution reads each record's effect term at the progression scan; it says which "
    "exosomal signal was strongest in the model, not what removing it would have changed."
)
KNOCKOUT_LIMITATION = (
    "Mechanism attribution: the figure and the share columns read each record's effect term at the progression "
    "scan (the strongest exosomal signal in the model). The knockout columns say what removing a record would have "
    "changed: each progressing patient was simulated again without it. Both are results of the model, whose "
    "exosome parameters are mostly assumed."
)
CALIBRATION_ARMS = {"placebo", "sorafenib", "atezolizumab+bevacizumab"}


def misfit_lines(calibration: pd.DataFrame) -> list[str]:
    """The calibration figures outside tolerance or outside their prediction interval, in numbers."""
    out = []
    for _, r in calibration.iterrows():
        within = bool(r.get("within_tolerance", True))
        inside = bool(r.get("inside_pi", True)) if math.isfinite(float(r.get("pi_low", math.nan))) else True
        if within and inside:
            continue
        ref = f" vs {r['reference']}" if r.get("reference") else ""
        sim = "not reached" if not math.isfinite(float(r["simulated"])) else f"{float(r['simulated']):.3g}"
        why = "outside tolerance" if not within else "outside the 90 % prediction interval"
        out.append(
            f"{r['trial']} {r['arm']}{ref}, {FIGURE_LABELS.get(str(r['endpoint']), str(r['endpoint']))}: simulated {sim} "
            f"{r['unit']} against {float(r['published']):g} published ({why})"
        )
    return out


def run_limitations(config: Any) -> list[str]:
    """The model's limitations as they apply to a run of ``config`` (a :class:`~exoresist.cohort.config.TrialConfig`)."""
    withdrawal = WITHDRAWAL_LIMITATION if config.withdrawal_shares is not None else NO_WITHDRAWAL_LIMITATION
    return [*LIMITATIONS, withdrawal, KNOCKOUT_LIMITATION if config.knockouts else ATTRIBUTION_LIMITATION]


def _check_size(calibration: pd.DataFrame) -> str:
    """How many virtual trials the check behind the misfits ran (a small check moves more)."""
    from exoresist.cohort.calibration import DEFAULT_REPLICATES

    if "replicates" not in calibration or calibration.empty:
        return ""
    n = int(calibration["replicates"].max())
    shipped = f"docs/calibration.md gives the shipped {DEFAULT_REPLICATES}-trial check, whose medians and intervals can differ"
    return (
        f" ({n} virtual trials per published trial; {shipped})"
        if n != DEFAULT_REPLICATES
        else f" ({n} virtual trials per published trial)"
    )


def published_medians(population: str, arms: Sequence[str]) -> dict[str, dict[str, list[tuple[str, float]]]]:
    """Published medians (months) of the calibration trials' arms that match an arm of this trial."""
    if population != "first-line":
        return {}
    frame = pd.read_csv(resources.files("exoresist.cohort").joinpath("data/calibration_trials.csv").open())
    from exoresist.cohort.calibration import ARM_LABELS

    out: dict[str, dict[str, list[tuple[str, float]]]] = {"os": {}, "pfs": {}}
    for _, r in frame.iterrows():
        arm = ARM_LABELS.get(str(r["arm"]))
        if arm not in arms or arm not in CALIBRATION_ARMS:
            continue
        if pd.notna(r["os_median_months"]):
            out["os"].setdefault(arm, []).append((str(r["trial"]), float(r["os_median_months"])))
        if pd.notna(r["pfs_or_ttp_median_months"]) and str(r["pfs_measure"]).strip().upper() == "PFS":
            out["pfs"].setdefault(arm, []).append((str(r["trial"]), float(r["pfs_or_ttp_median_months"])))
    return out


def write_report(
    run: Any,
    path: Path,
    *,
    calibration: pd.DataFrame | None = None,
    sensitivity: pd.DataFrame | None = None,
    title: str | None = None,
    biomarkers: dict[str, Any] | None = None,
) -> Path:
    """Write the report of ``run`` (a :class:`~exoresist.cohort.runner.TrialRun`) to ``path``; with
    ``biomarkers`` (a biomarker evaluation's JSON dictionary) it has a biomarker section."""
    meta: dict[str, Any] = dict(run.meta)
    meta.setdefault("date", date.today().isoformat())
    limitations = run_limitations(run.config)
    if calibration is not None:
        misses = misfit_lines(calibration)
        if misses:
            limitations.append(f"Measured misfits of the calibration check{_check_size(calibration)}: " + "; ".join(misses) + ".")
    meta["limitations"] = limitations
    patients = run.patients[run.patients["ok"]]
    labels = [a["arm"] for a in run.arms]
    return render_report(
        title=title or f"Virtual {run.config.population} HCC trial: {', '.join(labels)}",
        meta=meta,
        patients=patients,
        arms=run.arms,
        comparisons=run.comparisons,
        attribution=run.attribution,
        calibration=calibration,
        sensitivity=sensitivity,
        out_path=path,
        warnings=run.warnings,
        baseline=run.baseline,
        replicates=run.replicates,
        published_medians=published_medians(run.config.population, labels),
        biomarkers=biomarkers,
    )
