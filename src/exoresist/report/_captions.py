"""Figure captions written from the data: what is plotted, what the marks mean, how many patients."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from exoresist.report._validate import RESPONSES
from exoresist.report.figures import (
    BOR_NAMES,
    CLIP_PCT,
    ENDPOINT_NAMES,
    UNIT_TITLES,
    Endpoint,
    KmArm,
    arm_order,
    attribution_measure,
    short_target_label,
    top_records,
)
from exoresist.report.formatting import median_ci, number

_COLOUR_WORDS = {"CR": "dark blue", "PR": "light blue", "SD": "grey", "PD": "red", "NE": "amber"}
_EVENT_WORDS = {"pfs": "radiological progression (RECIST 1.1) or death", "os": "death from any cause"}


def _join(parts: Sequence[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def _median_words(f: KmArm) -> str:
    text = median_ci(f.median)
    if text == "not reached":
        return f"{f.arm}: median not reached"
    value, ci = text.split(" ", 1)
    return f"{f.arm}: {value} months (95% CI {ci.strip('()')})"


def km_caption(
    fits: Sequence[KmArm], endpoint: Endpoint, *, published: Mapping[str, Sequence[tuple[str, float]]] | None = None
) -> str:
    """Caption of a Kaplan–Meier figure: patients and events per arm, the medians, how to read it."""
    total = sum(f.n for f in fits)
    horizon = max((float(f.times.max()) for f in fits), default=0.0)
    per_arm = _join([f"{f.arm} {f.n} patients, {f.events} events ({100 * f.events / max(f.n, 1):.0f} %)" for f in fits])
    what = "being alive" if endpoint == "os" else f"being free of {_EVENT_WORDS[endpoint]}"
    return (
        f"Kaplan–Meier estimate of the probability of {what} over time "
        f"({ENDPOINT_NAMES[endpoint].lower()}), for {total} virtual patients followed up to {horizon:.0f} months "
        f"({per_arm}). One coloured line per arm; the shaded band around it is the 95 % confidence interval and the "
        f"small vertical ticks are patients censored (event-free when last seen). Dashed lines mark where each curve "
        f"crosses 50 %, the median: {_join([_median_words(f) for f in fits])}. "
        f"The rows under the plot give the number of patients still at risk at each time."
        + (
            " Open triangles on the 50 % line: published medians of the matching arms of "
            + _join([f"{label} ({value:g} months)" for marks in published.values() for label, value in marks])
            + " (the simulation was calibrated on these trials; see the calibration section)."
            if published and any(published.values())
            else ""
        )
        + (
            " Progression is seen only at assessments (every 6 weeks, each within a week of its scheduled day), so "
            "PFS times cluster near the assessment days: the median and its confidence interval move in steps of about "
            "one assessment (1.4 months), however many patients are simulated."
            if endpoint == "pfs"
            else ""
        )
    )


def waterfall_caption(patients: pd.DataFrame, arms: Sequence[str] | None = None) -> str:
    """Caption of the waterfall: bars per arm, patients without a measurement, bars cut at ±100 %."""
    change = patients["best_change_pct"].to_numpy(dtype=float)
    finite = np.isfinite(change)
    parts = []
    for arm in arm_order(patients, arms):
        in_arm = (patients["arm"] == arm).to_numpy()
        if not in_arm.any():
            continue
        measured = int((finite & in_arm).sum())
        shrank = int((finite & in_arm & (change <= -30)).sum())
        parts.append(f"{arm} {measured} of {int(in_arm.sum())} patients ({shrank} shrank by 30 % or more)")
    cut = int((np.abs(change[finite]) > CLIP_PCT).sum())
    bars = patients.loc[finite, "bor"]
    colours = [f"{_COLOUR_WORDS[r]} {BOR_NAMES[r]}" for r in RESPONSES if (bars == r).any()]
    cut_words = (
        f" {cut} bars exceed ±{CLIP_PCT:.0f} % and are cut at the edge of the plot, marked with a triangle."
        if cut
        else f" No patient exceeds ±{CLIP_PCT:.0f} %."
    )
    return (
        "Waterfall plot: each bar is one virtual patient, its height the best (most favourable) percentage change in "
        "tumour diameter from baseline, sorted from the largest growth on the left to the largest shrinkage on the right. "
        f"Colours give the best overall response by RECIST 1.1 ({_join(colours)}). Dashed lines: +20 %, the growth that defines "
        "progression, and −30 %, the shrinkage that defines a partial response. "
        f"Patients with a post-baseline measurement: {_join(parts)}.{cut_words}"
    )


def attribution_caption(attribution: pd.DataFrame, arms: Sequence[str] | None = None, top: int = 12) -> str:
    """Caption of the attribution figure: progressing patients per arm, the leading mechanism (by
    the knockout share when the trial ran the knockouts)."""
    measure = attribution_measure(attribution)
    records = top_records(attribution, top, measure)
    n_records = int(attribution["record_id"].nunique())
    progressing = attribution.groupby("arm", sort=False)["n_progressing"].max()
    order = [a for a in arm_order(attribution, arms) if a in progressing.index]
    counts = _join([f"{arm} {int(progressing[arm])}" for arm in order])
    lead = ""
    if not records.empty and math.isfinite(float(records["max_share"].iloc[0])):
        rid = str(records["record_id"].iloc[0])
        rows = attribution[attribution["record_id"] == rid]
        best = rows.iloc[int(np.nanargmax(rows[measure].to_numpy(dtype=float)))]
        if measure == "ko_share":
            lead = (
                f" Switching off “{records['label'].iloc[0]}” ({rid}) delays progression most often: "
                f"{100 * float(best[measure]):.0f} % of progressing patients in the {best['arm']} arm."
            )
        else:
            lead = (
                f" The mechanism carrying the most progression is “{records['label'].iloc[0]}” ({rid}): "
                f"{100 * float(best[measure]):.0f} % of progressing patients in the {best['arm']} arm."
            )
    if measure == "ko_share":
        what = (
            "Which exosome-mediated resistance mechanisms drove progression: each patient who progressed was simulated "
            "again without each mechanism it expresses; for each mechanism record, the percentage of the patients who "
            f"progressed in each arm whose progression then came at least one scan (6 weeks) later (progressing patients: "
            f"{counts}). "
        )
    else:
        what = (
            "Which exosome-mediated resistance mechanisms carried progression: for each mechanism record, the percentage of "
            f"the patients who progressed in each arm whose progression it carried (progressing patients: {counts}). "
        )
    return (
        f"{what}Bars are coloured by arm; the {min(top, n_records)} records with the largest share in any arm are shown, "
        f"out of {n_records}.{lead}"
    )


def calibration_caption(calibration: pd.DataFrame) -> str:
    """Caption of the calibration figure: targets per unit and the furthest one from its trial."""
    n_trials = int(calibration["trial"].nunique())
    per_unit = _join(
        [
            f"{int((calibration['unit'] == u).sum())} {UNIT_TITLES[u].lower()}"
            for u in UNIT_TITLES
            if (calibration["unit"] == u).any()
        ]
    )
    rel = (calibration["simulated"] - calibration["published"]).abs() / calibration["published"].abs().replace(0, np.nan)
    worst = ""
    if rel.notna().any():
        row = calibration.iloc[int(np.nanargmax(rel.to_numpy(dtype=float)))]
        digits = 2 if row["unit"] == "ratio" else 1
        worst = (
            f" Furthest from its published value: {short_target_label(row)} "
            f"(published {number(row['published'], digits)}, simulated {number(row['simulated'], digits)}, "
            f"{100 * float(rel.max()):.0f} % off)."
        )
    pi = ""
    if {"pi_low", "pi_high", "inside_pi", "within_tolerance"} <= set(calibration.columns):
        pi = (
            " Vertical bars: the 90 % prediction interval of the virtual trials of the published size. "
            f"{int(calibration['within_tolerance'].sum())} of {len(calibration)} figures are within tolerance (months "
            f"and hazard ratios within 20 %, rates within 5 points) and {int(calibration['inside_pi'].sum())} published "
            "values lie inside their interval."
        )
    return (
        f"Each point is one published result from {n_trials} trial{'s' if n_trials != 1 else ''} "
        f"({per_unit}), numbered as in the table below, placed at its published value (x) and the value the simulated "
        f"trials give (y). Points on the grey diagonal agree exactly; above it the simulation is higher than the trial, "
        f"below it lower.{pi}{worst}"
    )


def sensitivity_caption(sensitivity: pd.DataFrame) -> str:
    """Caption of the sensitivity figure: the most influential parameter per output."""
    leads = []
    for output, rows in sensitivity.groupby("output", sort=False):
        if rows["ST"].notna().any():
            best = rows.iloc[int(np.nanargmax(rows["ST"].to_numpy(dtype=float)))]
            leads.append(f"for {output}, {best['label']} (ST {number(best['ST'], 2)})")
    n_params = int(sensitivity["parameter"].nunique())
    lead = f" Most influential: {_join(leads)}." if leads else ""
    return (
        f"Global sensitivity of the simulated outcomes to {n_params} model parameters (Sobol indices, 0 to 1: the share "
        "of the variation in an outcome across virtual patients that a parameter explains). Dark bars: total-order index "
        "ST, the parameter's effect including its interactions with the others, with its confidence interval; light bars: "
        "first-order index S1, its effect alone. A large gap between ST and S1 means the parameter acts through "
        f"interactions.{lead}"
    )
