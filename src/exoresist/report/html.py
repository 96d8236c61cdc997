"""The HTML report of a virtual clinical trial: one self-contained file, figures embedded as PNG."""

from __future__ import annotations

import base64
import io
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
import pandas as pd
from matplotlib.figure import Figure

from exoresist.atomic import write_text as atomic_write_text
from exoresist.report import _captions as captions
from exoresist.report import biomarker_section
from exoresist.report import formatting as fmt
from exoresist.report._validate import (
    validate_arms,
    validate_attribution,
    validate_calibration,
    validate_comparisons,
    validate_patients,
    validate_sensitivity,
)
from exoresist.report.figures import (
    TOP_RECORDS,
    arm_colours,
    arm_order,
    attribution_figure,
    attribution_measure,
    calibration_figure,
    fit_km,
    km_figure,
    sensitivity_figure,
    top_records,
    waterfall_figure,
)

FIGURE_DPI = 110
"""Resolution of the embedded PNGs (dots per inch)."""

_META_LABELS = {
    "population": "Population",
    "patients_per_arm": "Patients per arm (one trial)",
    "replicates": "Virtual trials",
    "months": "Follow-up (months)",
    "reference_arm": "Reference arm",
    "later_line_share": "Share given a later line after progression",
    "withdrawal_shares": "Share leaving before the first scan, by arm",
    "seed": "Random seed",
    "model_version": "Model version",
    "date": "Date",
    "wall_time_s": "Wall time",
}
"""Run settings shown at the top, in this order; the other keys of ``meta`` go to the appendix."""
_META_APART = ("command", "limitations")


@dataclass(frozen=True)
class EmbeddedFigure:
    """A figure ready for the template: anchor, heading, PNG data URI, alternative text, caption."""

    number: int
    anchor: str
    heading: str
    src: str
    alt: str
    caption: str


def png_data_uri(fig: Figure, *, dpi: int = FIGURE_DPI) -> str:
    """``fig`` as a ``data:image/png;base64,...`` URI (cropped to its content, white background)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight", pad_inches=0.08, facecolor="white")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _embed(figures: dict[str, EmbeddedFigure], key: str, anchor: str, heading: str, fig: Figure, caption: str) -> None:
    """Add ``fig`` to ``figures`` under ``key``, numbered in the order figures are added."""
    figures[key] = EmbeddedFigure(len(figures) + 1, anchor, heading, png_data_uri(fig), f"{heading}: {caption}", caption)


def _meta_rows(meta: Mapping[str, Any]) -> list[tuple[str, str]]:
    rows = []
    for key, label in _META_LABELS.items():
        if key in meta:
            value = meta[key]
            if key == "wall_time_s":
                text = fmt.duration(value)
            elif isinstance(value, Mapping):
                text = "; ".join(f"{k} {fmt.percent(v)}" for k, v in value.items())
            else:
                text = str(value)
            rows.append((label, text))
    return rows


def _appendix_rows(meta: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Run metadata for the appendix: run key, chunks, inclusion probabilities, scheduler, ..."""
    return [
        (str(key).replace("_", " ").capitalize(), str(value))
        for key, value in meta.items()
        if key not in _META_LABELS and key not in _META_APART
    ]


def _response_rows(arms: Sequence[Mapping[str, Any]], colours: Mapping[str, str]) -> list[dict[str, str]]:
    return [
        {
            "arm": str(a["arm"]),
            "colour": colours.get(str(a["arm"]), "#444444"),
            "n": str(a["n"]),
            "orr": fmt.percent_ci(a["orr"]),
            "dcr": fmt.percent_ci(a["dcr"]),
            **{key: fmt.percent(a[key]) for key in ("cr", "pr", "sd", "pd", "ne")},
            "pfs": fmt.median_ci(a["pfs_median_month"]),
            "os": fmt.median_ci(a["os_median_month"]),
            "os12": fmt.percent_ci(a["os_12_month"]) if "os_12_month" in a else "–",
            "dor": fmt.median_ci(a["dor_median_month"]) if "dor_median_month" in a else "–",
        }
        for a in arms
    ]


def _comparison_rows(comparisons: Sequence[Mapping[str, Any]]) -> list[dict[str, str]]:
    return [
        {
            "arm": str(c["arm"]),
            "reference": str(c["reference"]),
            "os_hr": fmt.hazard_ratio(c["os_hr"]),
            "os_p": fmt.p_value(c["os_logrank_p"]),
            "pfs_hr": fmt.hazard_ratio(c["pfs_hr"]),
            "pfs_p": fmt.p_value(c["pfs_logrank_p"]),
        }
        for c in comparisons
    ]


def _attribution_rows(attribution: pd.DataFrame, order: Sequence[str]) -> list[dict[str, Any]]:
    """One group per top record (label, id), one row per arm: share, patients carried, contribution."""
    groups = []
    for rec in top_records(attribution, TOP_RECORDS, attribution_measure(attribution)).itertuples(index=False):
        by_arm = {str(r["arm"]): r for r in attribution[attribution["record_id"] == rec.record_id].to_dict("records")}
        lines = []
        for arm in order:
            if arm not in by_arm:
                continue
            r = by_arm[arm]
            n_prog = int(r["n_progressing"])
            share = float(r["share"])
            carried = round(share * n_prog) if math.isfinite(share) else None
            lines.append(
                {
                    "arm": arm,
                    "share": fmt.percent(share),
                    "carried": "–" if carried is None else f"{carried} of {n_prog}",
                    "contribution": fmt.number(r["mean_contribution"], 2),
                    "ko_share": fmt.percent(r.get("ko_share", math.nan)),
                    "ko_delay": fmt.number(r.get("ko_mean_delay_month", math.nan), 2),
                }
            )
        groups.append({"record_id": str(rec.record_id), "label": str(rec.label), "rows": lines})
    return groups


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
"""Human labels of the figures a published trial reports."""


def _yes(value: Any) -> str:
    return "yes" if bool(value) else "no"


def _calibration_rows(calibration: pd.DataFrame) -> list[dict[str, str]]:
    digits = {"months": 1, "percent": 1, "ratio": 2}
    rows = []
    for k, (_, r) in enumerate(calibration.iterrows(), start=1):
        d = digits[str(r["unit"])]
        has_pi = "pi_low" in r and math.isfinite(float(r["pi_low"]))
        rows.append(
            {
                "number": str(k),
                "trial": str(r["trial"]),
                "arm": str(r["arm"]) + (f" vs {r['reference']}" if r.get("reference") else ""),
                "endpoint": FIGURE_LABELS.get(str(r["endpoint"]), str(r["endpoint"])),
                "unit": str(r["unit"]),
                "published": fmt.number(r["published"], d),
                "simulated": fmt.number(r["simulated"], d),
                "pi": f"{fmt.number(r['pi_low'], d)} – {fmt.number(r['pi_high'], d)}" if has_pi else "–",
                "tolerance": _yes(r["within_tolerance"]) if "within_tolerance" in r else "–",
                "inside": _yes(r["inside_pi"]) if "inside_pi" in r and has_pi else "–",
            }
        )
    return rows


def _replicate_rows(replicates: Sequence[Mapping[str, Any]]) -> list[dict[str, str]]:
    digits = {"months": 1, "percent": 1, "ratio": 2}
    rows = []
    for r in replicates:
        d = digits.get(str(r["unit"]), 2)
        rows.append(
            {
                "figure": str(r["label"]),
                "arm": str(r["arm"]) + (f" vs {r['reference']}" if r.get("reference") else ""),
                "unit": str(r["unit"]),
                "median": fmt.number(r["median"], d),
                "pi": f"{fmt.number(r['pi_low'], d)} – {fmt.number(r['pi_high'], d)}",
            }
        )
    return rows


def _baseline_rows(baseline: Sequence[Mapping[str, Any]]) -> list[dict[str, str]]:
    def show(value: Any, kind: str) -> str:
        if value is None or not math.isfinite(float(value)):
            return "–"
        return fmt.percent(float(value)) if kind == "share" else fmt.number(float(value), 1)

    return [
        {
            "factor": str(r["label"]),
            "level": str(r["level"]).replace("_", " "),
            "simulated": show(r["simulated"], str(r["kind"])),
            "target": show(r["target"], str(r["kind"])),
            "source": str(r["source"]),
        }
        for r in baseline
    ]


def _breakable(name: object) -> str:
    """An arm name that may wrap after ``+`` and ``/`` (zero-width spaces), for narrow columns."""
    return str(name).replace("+", "+\u200b").replace("/", "/\u200b")


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("exoresist.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["breakable"] = _breakable
    return env


def render_report(
    *,
    title: str,
    meta: dict[str, Any],
    patients: pd.DataFrame,
    arms: list[dict[str, Any]],
    comparisons: list[dict[str, Any]],
    attribution: pd.DataFrame,
    calibration: pd.DataFrame | None,
    sensitivity: pd.DataFrame | None,
    out_path: Path,
    warnings: Sequence[str] = (),
    baseline: Sequence[Mapping[str, Any]] = (),
    replicates: Sequence[Mapping[str, Any]] = (),
    published_medians: Mapping[str, Mapping[str, Sequence[tuple[str, float]]]] | None = None,
    biomarkers: Mapping[str, Any] | None = None,
) -> Path:
    """Write the HTML report of a virtual trial to ``out_path`` (atomically) and return the path.

    The file is self-contained: figures are base64 PNGs, the style sheet is inline, no script.
    Sections: run settings (``meta``), how to read it and model limitations (``meta["limitations"]``,
    a list of strings, when present), response table per arm, comparisons with the reference arm,
    Kaplan–Meier curves of PFS and OS, waterfall, mechanism attribution (figure and table), and
    calibration and sensitivity when those tables are given (``None`` leaves the section out), and the
    biomarker section when ``biomarkers`` (a biomarker evaluation's JSON dictionary) is given.
    The tables follow the data contract documented in :mod:`exoresist.report`; a missing column or
    key raises :class:`~exoresist.report.ReportInputError` (a ``ValueError``) naming it, before
    anything is drawn or written.
    """
    validate_patients(patients)
    validate_arms(arms)
    validate_comparisons(comparisons)
    validate_attribution(attribution)
    if calibration is not None:
        validate_calibration(calibration)
    if sensitivity is not None:
        validate_sensitivity(sensitivity)
    if biomarkers is not None:
        biomarker_section.validate(biomarkers)

    order = arm_order(patients, [str(a["arm"]) for a in arms])
    colours = arm_colours(order)
    figures: dict[str, EmbeddedFigure] = {}
    for endpoint in ("pfs", "os"):
        medians = {str(a["arm"]): a[f"{endpoint}_median_month"] for a in arms}
        fits = fit_km(patients, endpoint, arms=order)
        heading = "Progression-free survival" if endpoint == "pfs" else "Overall survival"
        marks = (published_medians or {}).get(endpoint)
        _embed(
            figures,
            endpoint,
            f"km-{endpoint}",
            heading,
            km_figure(patients, endpoint, arms=order, medians=medians, published=marks),
            captions.km_caption(fits, endpoint, published=marks),
        )
    _embed(
        figures,
        "waterfall",
        "waterfall",
        "Best change in tumour size",
        waterfall_figure(patients, arms=order),
        captions.waterfall_caption(patients, order),
    )
    _embed(
        figures,
        "attribution",
        "attribution",
        "Mechanisms carrying progression",
        attribution_figure(attribution, arms=order),
        captions.attribution_caption(attribution, order),
    )
    if calibration is not None:
        _embed(
            figures,
            "calibration",
            "calibration",
            "Calibration against published trials",
            calibration_figure(calibration),
            captions.calibration_caption(calibration),
        )
    if sensitivity is not None:
        _embed(
            figures,
            "sensitivity",
            "sensitivity",
            "Sensitivity to model parameters",
            sensitivity_figure(sensitivity),
            captions.sensitivity_caption(sensitivity),
        )

    biomarker_context = None
    if biomarkers is not None:
        endpoint = str(biomarkers["meta"]["endpoints"][0])
        keys = []
        for anchor, heading, fig, caption in biomarker_section.figures(biomarkers, endpoint):
            _embed(figures, anchor, anchor, heading, fig, caption)
            keys.append(anchor)
        biomarker_context = {
            "endpoint": endpoint.upper(),
            "rows": biomarker_section.table_rows(biomarkers, endpoint),
            "panels": biomarker_section.panel_rows(biomarkers),
            "remark": biomarker_section.remark_rows(biomarkers),
            "figures": keys,
        }

    limitations = meta.get("limitations") or []
    if isinstance(limitations, str):
        limitations = [limitations]
    html = (
        _environment()
        .get_template("report.html.j2")
        .render(
            title=title,
            meta_rows=_meta_rows(meta),
            appendix_rows=_appendix_rows(meta),
            warnings=[str(w) for w in warnings],
            baseline_rows=_baseline_rows(baseline),
            replicate_rows=_replicate_rows(replicates),
            command=meta.get("command"),
            limitations=[str(x) for x in limitations],
            n_patients=len(patients),
            n_arms=len(order),
            reference=str(comparisons[0]["reference"]) if comparisons else None,
            response_rows=_response_rows(arms, colours),
            comparison_rows=_comparison_rows(comparisons),
            figures=figures,
            attribution_groups=_attribution_rows(attribution, order),
            has_knockouts=attribution_measure(attribution) == "ko_share",
            calibration_rows=_calibration_rows(calibration) if calibration is not None else None,
            has_sensitivity=sensitivity is not None,
            biomarkers=biomarker_context,
        )
    )
    out = Path(out_path)
    atomic_write_text(out, html)
    return out
