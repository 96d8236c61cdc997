"""Figures of a virtual clinical trial: survival curves, waterfalls, attribution, calibration, sensitivity.

Every function takes a plain table (the report's data contract, see :mod:`exoresist.report`) and
returns a :class:`matplotlib.figure.Figure` drawn on the Agg canvas, without pyplot, so nothing
stays behind in global state. Arms keep one colour across figures: pass the same ``arms`` order.
"""

from __future__ import annotations

import dataclasses
import math
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
from lifelines import KaplanMeierFitter
from lifelines.utils import median_survival_times
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure
from matplotlib.layout_engine import ConstrainedLayoutEngine
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.transforms import blended_transform_factory

from exoresist.report._validate import (
    ATTRIBUTION_COLUMNS,
    RESPONSES,
    ReportInputError,
    require_columns,
    validate_calibration,
    validate_patients,
    validate_sensitivity,
)
from exoresist.report.formatting import median_ci

Endpoint = Literal["pfs", "os"]

ARM_COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#7F7F7F", "#000000")
"""Colour per arm, by position (Okabe–Ito, readable with colour-vision deficiency)."""

BOR_COLOURS = {"CR": "#08306b", "PR": "#4a90c8", "SD": "#b8b8b8", "PD": "#d7301f", "NE": "#f2b447"}
"""Colour per best overall response (RECIST 1.1)."""

BOR_NAMES = {
    "CR": "complete response",
    "PR": "partial response",
    "SD": "stable disease",
    "PD": "progressive disease",
    "NE": "not evaluable",
}
ENDPOINT_NAMES = {"pfs": "Progression-free survival", "os": "Overall survival"}
ENDPOINT_YLABELS = {"pfs": "probability free of progression or death", "os": "probability alive"}
UNIT_TITLES = {"months": "Medians (months)", "percent": "Rates (%)", "ratio": "Hazard ratios"}
UNIT_MARKERS = {"months": "o", "percent": "s", "ratio": "D"}
CLIP_PCT = 100.0
PD_THRESHOLD_PCT = 20.0
PR_THRESHOLD_PCT = -30.0
TOP_RECORDS = 12
WATERFALL_BARS = "waterfall-bars"
"""gid of the collection holding one bar per patient in each waterfall panel."""
MEDIAN_LINE = "_median"
"""Label of the dashed median lines (a leading underscore keeps them out of legends)."""

_DPI = 110
_FONT = 10.0


@dataclass(frozen=True)
class KmArm:
    """The Kaplan–Meier fit of one arm for one endpoint; times in months."""

    arm: str
    n: int
    events: int
    median: dict[str, float]
    fitter: KaplanMeierFitter
    times: npt.NDArray[np.float64]
    observed: npt.NDArray[np.bool_]


def arm_order(patients: pd.DataFrame, arms: Sequence[str] | None = None) -> list[str]:
    """Arms in the order figures show them: ``arms`` first (if given), then any other arm of
    ``patients`` in order of first appearance."""
    seen = [str(a) for a in pd.unique(patients["arm"])]
    first = [str(a) for a in arms] if arms is not None else []
    return first + [a for a in seen if a not in first]


def arm_colours(order: Sequence[str]) -> dict[str, str]:
    """Colour of each arm of ``order``, by position."""
    return {arm: ARM_COLOURS[i % len(ARM_COLOURS)] for i, arm in enumerate(order)}


def _new_figure(width_in: float, height_in: float, *, wspace: float | None = None, hspace: float | None = None) -> Figure:
    fig = Figure(figsize=(width_in, height_in), dpi=_DPI, layout=ConstrainedLayoutEngine(wspace=wspace, hspace=hspace))
    FigureCanvasAgg(fig)
    return fig


def fit_km(patients: pd.DataFrame, endpoint: Endpoint, *, arms: Sequence[str] | None = None) -> list[KmArm]:
    """Kaplan–Meier fits per arm for ``endpoint`` (``pfs`` or ``os``), in figure order."""
    if endpoint not in ENDPOINT_NAMES:
        raise ReportInputError(f"endpoint must be 'pfs' or 'os', not {endpoint!r}")
    time_col, event_col = f"{endpoint}_month", f"{endpoint}_event"
    validate_patients(patients, ("arm", time_col, event_col))
    fits = []
    for arm in arm_order(patients, arms):
        rows = patients[patients["arm"] == arm]
        if rows.empty:
            continue
        times = rows[time_col].to_numpy(dtype=float)
        observed = rows[event_col].to_numpy(dtype=bool)
        if not np.isfinite(times).all() or (times < 0).any():
            raise ReportInputError(f"patients[{time_col!r}] of arm {arm!r} must be finite and non-negative")
        kmf = KaplanMeierFitter(label=arm).fit(times, observed)
        ci = median_survival_times(kmf.confidence_interval_)
        median = {
            "median": float(kmf.median_survival_time_),
            "ci_low": float(np.asarray(ci)[0, 0]),
            "ci_high": float(np.asarray(ci)[0, 1]),
        }
        fits.append(KmArm(arm, len(rows), int(observed.sum()), median, kmf, times, observed))
    return fits


def risk_ticks(horizon_month: float) -> list[float]:
    """Times (months) of the number-at-risk table: every 6 months up to the follow-up (every 3
    for short follow-up, every 12 for long)."""
    step = 3.0 if horizon_month < 12 else 6.0 if horizon_month <= 48 else 12.0
    return [step * i for i in range(math.floor(horizon_month / step + 1e-9) + 1)]


def _hide_top_right(ax: Axes) -> None:
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def _style_bar_axis(ax: Axes, xlabel: str) -> None:
    """Horizontal-bar axes: x label, light vertical grid behind the bars, open top and right."""
    ax.set_xlabel(xlabel, fontsize=_FONT)
    ax.tick_params(axis="x", labelsize=_FONT - 1)
    ax.grid(axis="x", alpha=0.3, lw=0.6)
    ax.set_axisbelow(True)
    _hide_top_right(ax)


def km_figure(
    patients: pd.DataFrame,
    endpoint: Endpoint,
    *,
    arms: Sequence[str] | None = None,
    medians: Mapping[str, Mapping[str, Any]] | None = None,
    published: Mapping[str, Sequence[tuple[str, float]]] | None = None,
) -> Figure:
    """Kaplan–Meier curves per arm for progression-free (``"pfs"``) or overall (``"os"``) survival.

    Times are read from ``{endpoint}_month`` (months) and events from ``{endpoint}_event``. Each
    arm gets its curve (one labelled line, the arm name), a lightly shaded 95 % confidence band,
    ``|`` ticks where patients are censored and dashed lines to its median when reached; the
    legend gives the median with its 95 % CI; a number-at-risk row per arm sits under the plot.
    ``medians`` (arm -> the trial summary's median, months) replaces the medians refitted here, so the
    figure shows the numbers of the result tables; ``published`` (arm -> (label, median in months))
    marks published medians of matching trial arms on the 50 % line (open triangles).
    """
    fits = fit_km(patients, endpoint, arms=arms)
    if medians is not None:
        fits = [dataclasses.replace(f, median=dict(medians.get(f.arm, f.median))) for f in fits]
    colours = arm_colours([f.arm for f in fits])
    horizon = max(float(f.times.max()) for f in fits) if fits else 1.0
    horizon = max(horizon, 1e-6)
    ticks = risk_ticks(horizon)
    fig = _new_figure(9.0, 6.0 + 0.55 * len(fits))
    grid = fig.add_gridspec(2, 1, height_ratios=[5.0, 0.45 + 0.3 * len(fits)])
    ax = fig.add_subplot(grid[0])
    table = fig.add_subplot(grid[1], sharex=ax)
    n_marks = 0  # published medians marked so far
    for f in fits:
        colour = colours[f.arm]
        sf = f.fitter.survival_function_
        t = sf.index.to_numpy(dtype=float)
        s = sf.iloc[:, 0].to_numpy(dtype=float)
        ci = f.fitter.confidence_interval_
        ax.fill_between(
            t,
            ci.iloc[:, 0].to_numpy(dtype=float),
            ci.iloc[:, 1].to_numpy(dtype=float),
            step="post",
            color=colour,
            alpha=0.13,
            lw=0,
        )
        label = f"{f.arm}: median {median_ci(f.median).replace(' (', ' mo (95% CI ')}"
        ax.step(t, s, where="post", color=colour, lw=1.8, label=label)
        censored = np.sort(f.times[~f.observed])
        if censored.size:
            at = f.fitter.survival_function_at_times(censored).to_numpy(dtype=float)
            ax.plot(censored, at, ls="none", marker="|", ms=7, mew=1.0, color=colour, label="_censored")
        m = f.median["median"]
        if m is not None and math.isfinite(m):
            ax.plot([0.0, m, m], [0.5, 0.5, 0.0], ls="--", lw=0.9, color=colour, label=MEDIAN_LINE)
        for label, value in (published or {}).get(f.arm, []):
            ax.plot([value], [0.5], ls="none", marker="v", ms=9, mfc="white", mec=colour, mew=1.5, label="_published")
            above = n_marks % 2 == 0  # alternate above and below the 50 % line, so neighbours do not overlap
            ax.annotate(
                label,
                (value, 0.5),
                xytext=(0, 9 if above else -10),
                textcoords="offset points",
                ha="center",
                va="bottom" if above else "top",
                fontsize=_FONT - 2,
                color=colour,
            )
            n_marks += 1
    ax.set_xlim(0.0, horizon * 1.02)
    ax.set_ylim(0.0, 1.03)
    ax.set_yticks(np.linspace(0.0, 1.0, 6))
    ax.set_ylabel(ENDPOINT_YLABELS[endpoint], fontsize=_FONT)
    fig.suptitle(f"{ENDPOINT_NAMES[endpoint]} ({sum(f.n for f in fits)} virtual patients)", fontsize=_FONT + 2, x=0.02, ha="left")
    ax.grid(alpha=0.25, lw=0.6)
    ax.tick_params(labelsize=_FONT - 1)
    ax.set_xlabel("months since start of treatment", fontsize=_FONT)
    _hide_top_right(ax)
    handles: list[Artist] = [h for h in ax.get_lines() if not str(h.get_label()).startswith("_")]
    handles.append(Line2D([], [], ls="none", marker="|", ms=7, color="#444444", label="censored"))
    if published and any(published.get(f.arm) for f in fits):
        handles.append(
            Line2D([], [], ls="none", marker="v", ms=8, mfc="white", mec="#444444", label="published median (trial, arm)")
        )
    # above the plot, where it cannot hide a curve whatever their shape
    ax.legend(
        handles=handles,
        loc="lower left",
        bbox_to_anchor=(0.0, 1.01),
        ncol=1,
        fontsize=_FONT - 1,
        frameon=False,
        title="median survival per arm (shaded band: 95% confidence interval)",
        title_fontsize=_FONT - 1,
        alignment="left",
    )

    # number at risk: patients still followed and free of the event at each tick
    for row, f in enumerate(fits):
        y = len(fits) - 1 - row
        for tick in ticks:
            table.text(
                tick, y, str(int((f.times >= tick).sum())), ha="center", va="center", fontsize=_FONT - 1, color=colours[f.arm]
            )
    table.set_ylim(-0.6, len(fits) - 0.4)
    table.set_yticks([len(fits) - 1 - i for i in range(len(fits))], [f.arm for f in fits], fontsize=_FONT - 1)
    for tick_label, f in zip(table.get_yticklabels(), fits, strict=True):
        tick_label.set_color(colours[f.arm])
    table.set_xticks(ticks)
    table.tick_params(axis="x", length=0, labelbottom=False)
    table.tick_params(axis="y", length=0, pad=22, labelsize=_FONT - 1)
    table.set_title("number at risk", fontsize=_FONT - 1, loc="left", color="#444444")
    for side in ("top", "right", "left", "bottom"):
        table.spines[side].set_visible(False)
    return fig


def waterfall_figure(patients: pd.DataFrame, *, arms: Sequence[str] | None = None) -> Figure:
    """Waterfall of the best % change in tumour diameter from baseline, one panel per arm.

    One bar per patient with a finite ``best_change_pct``, sorted from the largest increase to the
    largest decrease, coloured by best overall response (``bor``); dashed reference lines at +20 %
    (progression) and −30 % (partial response). The shared y axis is clipped to ±100 %; bars beyond
    it are cut and marked with a triangle.
    """
    validate_patients(patients, ("arm", "best_change_pct", "bor"))
    order = arm_order(patients, arms)
    order = [a for a in order if (patients["arm"] == a).any()]
    fig = _new_figure(max(9.0, 3.4 * len(order)), 5.2)
    axes: list[Axes] = list(np.atleast_1d(fig.subplots(1, len(order), sharey=True, squeeze=False)[0]))
    for ax, arm in zip(axes, order, strict=True):
        rows = patients[patients["arm"] == arm]
        change = rows["best_change_pct"].to_numpy(dtype=float)
        finite = np.isfinite(change)
        measured = rows[finite].assign(_c=change[finite]).sort_values("_c", ascending=False, kind="stable")
        y = measured["_c"].to_numpy(dtype=float)
        x = np.arange(y.size, dtype=float)
        _bars(ax, x, np.clip(y, -CLIP_PCT, CLIP_PCT), [BOR_COLOURS[str(b)] for b in measured["bor"]])
        over, under = y > CLIP_PCT, y < -CLIP_PCT
        if over.any():
            ax.plot(x[over], np.full(int(over.sum()), CLIP_PCT + 3), ls="none", marker="^", ms=4, color="#222222", clip_on=False)
        if under.any():
            ax.plot(
                x[under], np.full(int(under.sum()), -CLIP_PCT - 3), ls="none", marker="v", ms=4, color="#222222", clip_on=False
            )
        ax.axhline(0.0, color="#222222", lw=0.7)
        ax.axhline(PD_THRESHOLD_PCT, color="#7a1a10", lw=0.9, ls="--")
        ax.axhline(PR_THRESHOLD_PCT, color="#08306b", lw=0.9, ls="--")
        ax.set_xlim(-0.5, max(y.size, 1) - 0.5)
        ax.set_xticks([])
        not_measured = int((~finite).sum())
        sub = f"{y.size} patients" + (f", {not_measured} without a measurement" if not_measured else "")
        ax.set_title(f"{arm}\n{sub}", fontsize=_FONT, loc="center")
        ax.set_xlabel("patients, sorted by best change", fontsize=_FONT - 1)
        if y.size == 0:
            ax.text(0.5, 0.5, "no measured patients", transform=ax.transAxes, ha="center", va="center", fontsize=_FONT - 1)
        _hide_top_right(ax)
    # labels where the bars leave room: +20 on the right (shrinking tumours), −30 on the left (growing)
    right = blended_transform_factory(axes[-1].transAxes, axes[-1].transData)
    axes[-1].text(0.99, PD_THRESHOLD_PCT + 2, "+20 %: progression", transform=right, ha="right", va="bottom", fontsize=_FONT - 1)
    left = blended_transform_factory(axes[0].transAxes, axes[0].transData)
    axes[0].text(0.01, PR_THRESHOLD_PCT - 2, "−30 %: partial response", transform=left, ha="left", va="top", fontsize=_FONT - 1)
    axes[0].set_ylim(-CLIP_PCT - 6, CLIP_PCT + 6)
    axes[0].set_yticks(np.arange(-100, 101, 20))
    axes[0].set_ylabel("best change in tumour diameter from baseline (%)", fontsize=_FONT)
    for ax in axes:
        ax.tick_params(labelsize=_FONT - 1)
    with_bars = patients[np.isfinite(patients["best_change_pct"].to_numpy(dtype=float))]
    present = [r for r in RESPONSES if (with_bars["bor"] == r).any()]
    handles: list[Artist] = [Patch(color=BOR_COLOURS[r], label=f"{r} {BOR_NAMES[r]}") for r in present]
    if (np.abs(patients["best_change_pct"].to_numpy(dtype=float)) > CLIP_PCT).any():
        handles.append(Line2D([], [], ls="none", marker="^", ms=5, color="#222222", label="beyond ±100 %, cut"))
    fig.legend(handles=handles, loc="outside lower center", ncol=len(handles), fontsize=_FONT - 1, frameon=False)
    return fig


def _bars(ax: Axes, x: npt.NDArray[np.float64], height: npt.NDArray[np.float64], colours: Sequence[str]) -> PolyCollection:
    """Adjacent vertical bars of width 1 centred on ``x``, drawn as one collection (thousands of
    separate patches are slow to draw) with gid :data:`WATERFALL_BARS`; no edges, no antialiasing,
    so that neighbouring bars leave no hairline gaps."""
    verts = [((xi - 0.5, 0.0), (xi - 0.5, hi), (xi + 0.5, hi), (xi + 0.5, 0.0)) for xi, hi in zip(x, height, strict=True)]
    bars = PolyCollection(verts, facecolors=list(colours), linewidths=0, antialiaseds=False)
    bars.set_gid(WATERFALL_BARS)
    ax.add_collection(bars)
    return bars


def attribution_measure(attribution: pd.DataFrame) -> str:
    """The attribution column figures and captions rank by: the knockout share (``ko_share``) when
    the trial ran the knockouts, otherwise the share led at progression (``share``)."""
    if "ko_share" in attribution and bool(attribution["ko_share"].notna().any()):
        return "ko_share"
    return "share"


def top_records(attribution: pd.DataFrame, top: int = TOP_RECORDS, measure: str = "share") -> pd.DataFrame:
    """The ``top`` mechanism records by their largest ``measure`` (a share column) in any arm:
    columns ``record_id``, ``label``, ``max_share``, largest first (ties by record id)."""
    require_columns(attribution, "attribution", (*ATTRIBUTION_COLUMNS, measure))
    best = attribution.groupby("record_id", sort=True).agg(label=("label", "first"), max_share=(measure, "max")).reset_index()
    best = best.sort_values(["max_share", "record_id"], ascending=[False, True], kind="stable")
    return best.head(top).reset_index(drop=True)


def attribution_figure(
    attribution: pd.DataFrame, *, arms: Sequence[str] | None = None, top: int = TOP_RECORDS, measure: str | None = None
) -> Figure:
    """Horizontal grouped bars: for each of the ``top`` mechanism records, the share (in %) of
    progressing patients in each arm whose progression it carried (``measure="share"``) or whose
    progression its knockout delayed by at least one scan (``"ko_share"``; the default when the
    trial ran the knockouts); largest share at the top."""
    measure = measure or attribution_measure(attribution)
    records = top_records(attribution, top, measure)
    order = arm_order(attribution, arms)
    order = [a for a in order if (attribution["arm"] == a).any()]
    colours = arm_colours(order)
    n_rec, n_arms = len(records), max(len(order), 1)
    fig = _new_figure(9.0, 1.4 + n_rec * (0.13 * n_arms + 0.2))
    ax = fig.add_subplot()
    height = 0.8 / n_arms
    share = attribution.set_index(["record_id", "arm"])[measure]
    for j, arm in enumerate(order):
        values = [100.0 * float(share.get((rec, arm), np.nan)) for rec in records["record_id"]]
        y = [n_rec - 1 - i + 0.4 - height * (j + 0.5) for i in range(n_rec)]
        ax.barh(y, np.nan_to_num(values), height=height, color=colours[arm], lw=0, label=arm)
    ax.set_yticks(
        [n_rec - 1 - i for i in range(n_rec)],
        [textwrap.fill(str(lbl), 46) for lbl in records["label"]],
        fontsize=_FONT - 1,
    )
    ax.set_ylim(-0.6, n_rec - 0.4)
    top_share = float(records["max_share"].max()) if n_rec else 0.0
    ax.set_xlim(0.0, min(100.0, max(5.0, 100.0 * top_share * 1.1)))
    _style_bar_axis(
        ax,
        "progressing patients whose progression came at least one scan later without the mechanism (%)"
        if measure == "ko_share"
        else "progressing patients whose progression the mechanism carried (%)",
    )
    ax.legend(loc="lower right", fontsize=_FONT - 1, title="arm", title_fontsize=_FONT - 1, framealpha=0.92)
    if n_rec == 0:
        ax.text(0.5, 0.5, "no progressing patients", transform=ax.transAxes, ha="center", va="center")
    return fig


def short_target_label(row: pd.Series[Any] | dict[str, Any]) -> str:
    """``trial arm endpoint``: the label of a calibration target in figures and captions."""
    return f"{row['trial']} {row['arm']} {row['endpoint']}"


def _label_groups(
    numbers: Sequence[int], xs: np.ndarray, ys: np.ndarray, distance: float
) -> dict[tuple[float, float], list[int]]:
    """Point numbers grouped by position: points closer than ``distance`` (data units) to a group's
    first point share one label there ("3, 4, 8"), so no number is printed over another."""
    groups: dict[tuple[float, float], list[int]] = {}
    for k, x, y in zip(numbers, xs, ys, strict=True):
        if not (math.isfinite(x) and math.isfinite(y)):
            continue
        near = next((g for g in groups if math.hypot(g[0] - x, g[1] - y) < distance), None)
        groups.setdefault(near or (float(x), float(y)), []).append(int(k))
    return groups


def _label_positions(groups: Mapping[tuple[float, float], list[int]], span: float) -> list[tuple[float, float, str]]:
    """Where each group's label goes (data units): just right of and above its point, moved up a
    line at a time while its box (estimated from the text length: an axis holds about 70
    characters) overlaps a label already placed."""
    char_w, line_h = span / 70, span / 30
    placed: list[tuple[float, float, float, float]] = []
    out = []
    for (x, y), ks in sorted(groups.items()):
        text = ", ".join(map(str, ks))
        x0, y0 = x + span * 0.012, y + span * 0.006
        w = char_w * len(text)
        while any(x0 < b[1] and b[0] < x0 + w and y0 < b[3] and b[2] < y0 + line_h for b in placed):
            y0 += line_h
        placed.append((x0, x0 + w, y0, y0 + line_h))
        out.append((x0, y0, text))
    return out


def calibration_figure(calibration: pd.DataFrame) -> Figure:
    """Simulated against published value of each target, one panel per unit (months, percent,
    hazard ratio); points on the grey y = x line agree with the trial. Each point carries its number
    in the table of the report (numbers, not names; points that nearly coincide share one label, so
    no number is printed over another) and, when the
    table has them, a vertical bar for the 90 % prediction interval of the simulated trials."""
    validate_calibration(calibration)
    units = [u for u in UNIT_TITLES if (calibration["unit"] == u).any()]
    n_cols = min(max(len(units), 1), 3)
    n_rows = max(1, math.ceil(len(units) / n_cols))
    fig = _new_figure(4.2 * n_cols, 4.3 * n_rows, wspace=0.08, hspace=0.08)
    grid: list[Axes] = list(fig.subplots(n_rows, n_cols, squeeze=False).ravel())
    axes = grid[: max(len(units), 1)]
    for spare in grid[len(axes) :]:
        spare.set_axis_off()
    numbers = pd.Series(np.arange(1, len(calibration) + 1), index=calibration.index)
    has_pi = {"pi_low", "pi_high"} <= set(calibration.columns)
    for ax, unit in zip(axes, units, strict=False):
        rows = calibration[calibration["unit"] == unit]
        pub = rows["published"].to_numpy(dtype=float)
        sim = rows["simulated"].to_numpy(dtype=float)
        values = [pub, sim]
        if has_pi:
            values += [rows["pi_low"].to_numpy(dtype=float), rows["pi_high"].to_numpy(dtype=float)]
        both = np.concatenate(values)
        both = both[np.isfinite(both)]
        hi = float(both.max()) * 1.12 if both.size else 1.0
        lo = 0.0 if unit != "ratio" else (float(both.min()) * 0.88 if both.size else 0.0)
        ax.plot([lo, hi], [lo, hi], color="#9a9a9a", lw=1.0, label="_identity")
        if has_pi:
            for x, a, b in zip(pub, rows["pi_low"].to_numpy(dtype=float), rows["pi_high"].to_numpy(dtype=float), strict=True):
                if math.isfinite(a) and math.isfinite(b):
                    ax.plot([x, x], [a, b], color="#0072B2", lw=1.0, alpha=0.45)
        ax.plot(pub, sim, ls="none", marker=UNIT_MARKERS[unit], ms=7, color="#0072B2", mec="white", mew=0.6)
        groups = _label_groups(numbers[rows.index].tolist(), pub, sim, (hi - lo) / 25)
        for tx, ty, text in _label_positions(groups, hi - lo):
            ax.text(tx, ty, text, fontsize=_FONT - 2, color="#333333", va="bottom", ha="left")
        ax.set_xlim(lo, hi)
        ax.set_ylim(lo, hi)
        ax.set_aspect("equal", adjustable="box")
        ax.set_title(UNIT_TITLES[unit], fontsize=_FONT + 1)
        ax.set_xlabel("published", fontsize=_FONT)
        ax.set_ylabel("simulated (median of the virtual trials)" if has_pi else "simulated", fontsize=_FONT - 1)
        ax.tick_params(labelsize=_FONT - 1)
        ax.grid(alpha=0.25, lw=0.6)
    return fig


def sensitivity_figure(sensitivity: pd.DataFrame) -> Figure:
    """Sobol indices per parameter, one panel per ``output``: total-order ``ST`` (dark bars, error
    bars ``ST_conf``) and first-order ``S1`` (light bars) side by side, sorted by ``ST``."""
    validate_sensitivity(sensitivity)
    outputs = [str(o) for o in pd.unique(sensitivity["output"])]
    n_params = max((int((sensitivity["output"] == o).sum()) for o in outputs), default=1)
    fig = _new_figure(max(6.0, 5.4 * len(outputs)), 1.5 + 0.36 * n_params)
    axes: list[Axes] = list(fig.subplots(1, max(len(outputs), 1), squeeze=False)[0])
    st_colour, s1_colour = "#1f4e79", "#9ec3e6"
    for ax, output in zip(axes, outputs, strict=False):
        rows = sensitivity[sensitivity["output"] == output].sort_values(["ST", "label"], ascending=[True, False], kind="stable")
        y = np.arange(len(rows), dtype=float)
        st = rows["ST"].to_numpy(dtype=float)
        conf = np.nan_to_num(rows["ST_conf"].to_numpy(dtype=float))
        s1 = rows["S1"].to_numpy(dtype=float)
        ax.barh(y + 0.2, st, height=0.4, color=st_colour, lw=0, label="ST")
        ax.errorbar(st, y + 0.2, xerr=conf, fmt="none", ecolor="#111111", elinewidth=0.8, capsize=2)
        ax.barh(y - 0.2, s1, height=0.4, color=s1_colour, lw=0, label="S1")
        ax.set_yticks(y, [textwrap.fill(str(lbl), 34) for lbl in rows["label"]], fontsize=_FONT - 1)
        ax.set_ylim(-0.6, len(rows) - 0.4)
        right = float(np.nanmax(st + conf)) if len(rows) else 1.0
        left = min(0.0, float(np.nanmin(s1)) if len(rows) else 0.0)
        ax.set_xlim(left * 1.1, max(right * 1.08, 0.05))
        ax.axvline(0.0, color="#222222", lw=0.6)
        ax.set_title(f"output: {output}", fontsize=_FONT + 1)
        _style_bar_axis(ax, "Sobol index (share of output variance)")
    handles: list[Artist] = [
        Patch(color=st_colour, label="total-order index ST (with interactions; bar: confidence interval)"),
        Patch(color=s1_colour, label="first-order index S1 (parameter alone)"),
    ]
    fig.legend(handles=handles, loc="outside lower center", ncol=2, fontsize=_FONT - 1, frameon=False)
    return fig


__all__ = [
    "ARM_COLOURS",
    "BOR_COLOURS",
    "KmArm",
    "arm_colours",
    "arm_order",
    "attribution_figure",
    "calibration_figure",
    "fit_km",
    "km_figure",
    "risk_ticks",
    "sensitivity_figure",
    "short_target_label",
    "top_records",
    "waterfall_figure",
]
