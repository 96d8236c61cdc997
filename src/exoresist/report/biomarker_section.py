"""The biomarker section of the trial report: a table, three figures and a REMARK-style profile.

Input is the evaluation's JSON dictionary (``Evaluation.to_json_dict()`` of
:mod:`exoresist.biomarkers.evaluate`, with the observation metadata added by
:func:`exoresist.biomarkers.evaluate.evaluation_meta`). The REMARK items (McShane et al., J Natl
Cancer Inst 2005; the reporting recommendations for tumour marker prognostic studies) are filled
from the run: how the markers were measured, the patients, the statistical methods, cut-points and
missing values.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from matplotlib.figure import Figure

from exoresist.report import biomarker_figures as bf
from exoresist.report.formatting import number, p_value

REQUIRED_KEYS = ("markers", "panels", "meta")


def _ci(value: Mapping[str, Any] | None, digits: int = 2) -> str:
    if not value:
        return "–"
    est = number(value.get("estimate"), digits)
    if est == "–":
        return est
    return f"{est} ({number(value.get('ci_low'), digits)}–{number(value.get('ci_high'), digits)})"


def table_rows(evaluation: Mapping[str, Any], endpoint: str) -> list[dict[str, str]]:
    """One row per marker and arm for ``endpoint``."""
    rows = []
    for m in evaluation["markers"]:
        if m["endpoint"] != endpoint:
            continue
        inter = m["interaction_hr"]
        surv = (m.get("cutpoint") or {}).get("survival") or {}
        rows.append(
            {
                "marker": str(m["marker"]),
                "arm": str(m["arm"]),
                "kind": str(m["kind"]),
                "static": "" if m.get("dynamic", True) else "static",
                "n": str(m["n"]),
                "c": _ci(m["c_index"]),
                "auc": " / ".join(number(m["auc_t"].get(k), 2) for k in ("3", "6", "12")),
                "ibs": f"{number(m['ibs']['marker'], 3)} ({number(m['ibs']['reference'], 3)})",
                "response_auc": _ci(m.get("response_auc")),
                "interaction": "–"
                if not inter
                else f"{number(inter.get('hr'), 2)} ({number(inter.get('ci_low'), 2)}–{number(inter.get('ci_high'), 2)}), "
                f"q {p_value(inter.get('q'))}",
                "cut": "–"
                if not surv
                else f"HR {number(surv.get('hr_apparent'), 2)} → {number(surv.get('hr_corrected'), 2)} at "
                f"{100 * float(surv.get('share_positive') or math.nan):.0f}% positive",
            }
        )
    return rows


def panel_rows(evaluation: Mapping[str, Any]) -> list[dict[str, str]]:
    return [
        {
            "arm": str(p["arm"]),
            "endpoint": str(p["endpoint"]),
            "model": str(p["model"]),
            "selected": ", ".join(f"{k} ({v:+.2f})" for k, v in p["selected"].items()) or "none",
            "apparent": number(p["apparent"], 3),
            "cv": f"{number(p['cross_validated'], 3)} ± {number(p['cross_validated_sd'], 3)}",
            "optimism": number(p["optimism"], 3),
        }
        for p in evaluation["panels"]
    ]


def remark_rows(evaluation: Mapping[str, Any]) -> list[tuple[str, str]]:
    """REMARK-style profile of the run: (item, what this evaluation did)."""
    meta = evaluation["meta"]
    obs = meta.get("observation_parameters", {})
    trial = meta.get("trial", {})
    static = meta.get("static_markers", {})
    unmeasurable = meta.get("unmeasurable", [])
    lloq = meta.get("missing_and_below_lloq", {})
    below = sum(v for d in lloq.values() for k, v in d.items() if k.startswith("below_lloq@0"))
    days = ", ".join(f"{d:g}" for d in meta.get("sample_days", []))
    rows = [
        (
            "Markers",
            f"{len({m['marker'] for m in evaluation['markers']})} analysed (baseline levels, week-4 changes, and the baseline "
            "tumour burden (sum of diameters) as a reference). Static, with no mechanism in the model making them dynamic: "
            + (", ".join(static) or "none")
            + ". Not measurable: "
            + (", ".join(f"{u['marker']} ({u['reason']})" for u in unmeasurable) or "none")
            + ".",
        ),
        (
            "Specimen and assay",
            "Plasma; level = release of the cargo pool into blood over clearance plus a non-tumour background; "
            f"assay CV {100 * obs.get('assay_cv', math.nan):.0f} %, "
            f"pre-analytical CV {100 * obs.get('preanalytical_cv', math.nan):.0f} %, "
            f"LLOQ {obs.get('lloq_fraction_of_background', math.nan):g} x the median non-tumour level (all assumed; "
            "docs/biomarkers.md lists every parameter with its prior and source).",
        ),
        ("Sampling", f"Days after the baseline scan: {days}. Baseline is before treatment: one value per patient in every arm."),
        (
            "Patients",
            f"Virtual first-line patients, {trial.get('patients_per_arm', '?')} per arm, every patient in every arm "
            f"(digital twins), seed {trial.get('seed', '?')}, follow-up {trial.get('months', '?')} months.",
        ),
        (
            "Outcomes",
            "OS and PFS as in the trial (RECIST 1.1 progression or death), times in whole days; response = CR or PR.",
        ),
        ("Statistical methods", "; ".join(f"{k}: {v}" for k, v in meta.get("estimators", {}).items())),
        ("Classification", str(meta.get("classification", ""))),
        (
            "Cut-points",
            "Data-driven (Youden for response, maximally selected log-rank for survival), each with bootstrap optimism "
            f"correction ({meta.get('bootstrap', '?')} resamples). {meta.get('cutpoint_warning', '')}",
        ),
        (
            "Missing values",
            f"{meta.get('missing_handling', '')}; {meta.get('below_lloq_handling', '')}. Baseline samples below the LLOQ, "
            f"all markers and arms: {below}.",
        ),
        (
            "What this is not",
            "Model results: the marker levels and outcomes come from the same mechanistic model, whose exosome parameters are "
            "mostly assumed, so a marker can only be as prognostic as the model makes it. Validate in patients.",
        ),
    ]
    return rows


def figures(evaluation: Mapping[str, Any], endpoint: str) -> list[tuple[str, str, Figure, str]]:
    """``(anchor, heading, figure, caption)`` of the section's figures."""
    words = bf.ENDPOINT_WORDS.get(endpoint, endpoint)
    ref = evaluation["meta"]["reference_arm"]
    out = [
        (
            "biomarker-c",
            "Prognostic value of each marker",
            bf.c_index_figure(evaluation, endpoint),
            f"Harrell's C of each marker for {words} within each arm, with 95% confidence intervals (infinitesimal "
            "jackknife). Each marker is read in its prespecified direction (a resistance cargo: higher level, higher risk); "
            "0.5 means no information and values below it mean the opposite direction. The baseline tumour burden "
            "(sum of diameters) is the reference a plasma marker has to beat.",
        ),
        (
            "biomarker-auc",
            "Time-dependent AUC",
            bf.auc_curve_figure(evaluation, endpoint),
            f"Cumulative/dynamic AUC for {words} at each month (IPCW, Uno et al. 2007, scikit-survival): how well the "
            "marker separates patients with the event by that time from those without. Dashed: change from baseline to "
            "week 4 (landmark at week 4); dotted: tumour burden (sum of diameters).",
        ),
    ]
    if any(m["interaction_hr"] for m in evaluation["markers"] if m["endpoint"] == endpoint):
        out.append(
            (
                "biomarker-interaction",
                "Treatment effect by marker level",
                bf.interaction_figure(evaluation, endpoint),
                f"Hazard ratio for {words} of each arm against {ref} within quartiles of the pooled marker (one-step "
                "log-rank estimate with 95% CI). A predictive marker makes the hazard ratio change across quartiles; the "
                "interaction HR (per SD, Cox model with robust errors clustered by patient) and its BH q-value are printed "
                "in each panel.",
            )
        )
    return out


def validate(evaluation: Mapping[str, Any]) -> None:
    from exoresist.report._validate import require_keys

    require_keys(evaluation, "biomarkers", REQUIRED_KEYS)
    require_keys(evaluation["meta"], "biomarkers['meta']", ("arms", "reference_arm", "endpoints"))
