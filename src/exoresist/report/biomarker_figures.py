"""Figures of a biomarker evaluation: C-index forest, time-dependent AUC curves, HR by marker quartile, design power.

Each function takes the evaluation's JSON dictionary (``Evaluation.to_json_dict()`` of
:mod:`exoresist.biomarkers.evaluate`; ``design`` output for :func:`power_figure`) and returns a
matplotlib Figure on the Agg canvas. Arms keep the colours of the trial report's figures.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from exoresist.report.figures import _FONT, _hide_top_right, _new_figure, arm_colours

ENDPOINT_WORDS = {"os": "overall survival", "pfs": "progression-free survival"}


def _num(x: Any) -> float:
    return float(x) if isinstance(x, (int, float)) and x is not None and math.isfinite(float(x)) else math.nan


def _entries(evaluation: Mapping[str, Any], endpoint: str) -> list[dict[str, Any]]:
    return [m for m in evaluation["markers"] if m["endpoint"] == endpoint]


def marker_order(evaluation: Mapping[str, Any], endpoint: str) -> list[str]:
    """Markers in the order the figures show them: the evaluation's order."""
    return list(dict.fromkeys(m["marker"] for m in _entries(evaluation, endpoint)))


def c_index_figure(evaluation: Mapping[str, Any], endpoint: str = "os") -> Figure:
    """Forest plot: Harrell's C with its 95 % CI per marker (rows) and arm (colours); 0.5 dashed."""
    arms = list(evaluation["meta"]["arms"])
    colours = arm_colours(arms)
    names = marker_order(evaluation, endpoint)
    fig = _new_figure(8.6, 1.2 + 0.36 * len(names) * max(1, len(arms)) / 1.6)
    ax = fig.add_subplot()
    step = 0.8 / max(1, len(arms))
    for k, arm in enumerate(arms):
        rows = {m["marker"]: m for m in _entries(evaluation, endpoint) if m["arm"] == arm}
        y = np.arange(len(names)) + (k - (len(arms) - 1) / 2) * step
        est = np.array([_num(rows[n]["c_index"]["estimate"]) if n in rows else math.nan for n in names])
        lo = np.array([_num(rows[n]["c_index"]["ci_low"]) if n in rows else math.nan for n in names])
        hi = np.array([_num(rows[n]["c_index"]["ci_high"]) if n in rows else math.nan for n in names])
        ax.errorbar(est, y, xerr=[est - lo, hi - est], fmt="o", ms=4, lw=1.1, color=colours[arm], label=arm)
    ax.axvline(0.5, ls="--", lw=0.9, color="#555555")
    ax.set_yticks(np.arange(len(names)), names, fontsize=_FONT - 1)
    ax.invert_yaxis()
    ax.set_xlabel(f"Harrell's C for {ENDPOINT_WORDS.get(endpoint, endpoint)} (95% CI); 0.5 = no information", fontsize=_FONT)
    ax.grid(axis="x", alpha=0.3, lw=0.6)
    _hide_top_right(ax)
    fig.legend(*ax.get_legend_handles_labels(), loc="outside lower center", ncol=len(arms), fontsize=_FONT - 1, frameon=False)
    return fig


def _log_hr_axis(ax: Any) -> None:
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

    ax.set_yscale("log")
    lo, hi = ax.get_ylim()
    ticks = [v for v in (0.125, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 4.0, 8.0) if lo <= v <= hi] or [1.0]
    ax.yaxis.set_major_locator(FixedLocator(ticks))
    ax.yaxis.set_minor_locator(NullLocator())
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))


def auc_curve_figure(evaluation: Mapping[str, Any], endpoint: str = "os", *, markers: Sequence[str] | None = None) -> Figure:
    """Time-dependent AUC (cumulative/dynamic, IPCW) against months, one panel per arm, one line per marker."""
    arms = list(evaluation["meta"]["arms"])
    names = list(markers) if markers is not None else marker_order(evaluation, endpoint)
    fig = _new_figure(4.0 * len(arms), 3.9)
    axes = fig.subplots(1, len(arms), sharey=True, squeeze=False)[0]
    cmap = _marker_colours(names)
    for ax, arm in zip(axes, arms, strict=True):
        for m in _entries(evaluation, endpoint):
            if m["arm"] != arm or m["marker"] not in names:
                continue
            month = np.array(m["auc_curve"]["month"], dtype=float)
            auc = np.array([_num(a) for a in m["auc_curve"]["auc"]], dtype=float)
            ls = "--" if m.get("marker_kind") == "change" else ":" if m.get("marker_kind") == "reference" else "-"
            ax.plot(month, auc, ls=ls, lw=1.5, color=cmap[m["marker"]], label=m["marker"])
        ax.axhline(0.5, lw=0.8, color="#777777")
        ax.set_title(arm, fontsize=_FONT)
        ax.set_xlabel("months from baseline", fontsize=_FONT)
        ax.set_ylim(0.3, 1.0)
        _hide_top_right(ax)
    axes[0].set_ylabel(f"AUC(t), {ENDPOINT_WORDS.get(endpoint, endpoint)}", fontsize=_FONT)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=min(4, max(1, len(labels))), fontsize=_FONT - 1, frameon=False)
    return fig


def _marker_colours(names: Sequence[str]) -> dict[str, Any]:
    from matplotlib import colormaps

    cmap = colormaps["tab10" if len(names) <= 10 else "tab20"]
    return {n: cmap(i % cmap.N) for i, n in enumerate(names)}


def interaction_figure(evaluation: Mapping[str, Any], endpoint: str = "os", *, markers: Sequence[str] | None = None) -> Figure:
    """Treatment HR (each arm vs the reference) by quartile of the marker, one panel per marker; log scale."""
    arms = list(evaluation["meta"]["arms"])
    colours = arm_colours(arms)
    entries = [m for m in _entries(evaluation, endpoint) if m["interaction_hr"]]
    names = list(markers) if markers is not None else list(dict.fromkeys(m["marker"] for m in entries))
    cols = min(4, max(1, len(names)))
    rows = max(1, math.ceil(len(names) / cols))
    fig = _new_figure(3.2 * cols, 2.9 * rows + 0.6)
    axes = fig.subplots(rows, cols, sharey=True, squeeze=False).ravel()
    for ax, name in zip(axes, names, strict=False):
        for k, m in enumerate(e for e in entries if e["marker"] == name):
            q = m["interaction_hr"]["by_quartile"]
            x = np.array([b["quantile"] for b in q], dtype=float) + (k - 0.5) * 0.12
            hr = np.array([_num(b["hr"]) for b in q])
            lo = np.array([_num(b["ci_low"]) for b in q])
            hi = np.array([_num(b["ci_high"]) for b in q])
            inter = m["interaction_hr"]
            ax.errorbar(
                x, hr, yerr=[hr - lo, hi - hr], fmt="o-", ms=4, lw=1.2, capsize=2, color=colours[m["arm"]], label=m["arm"]
            )
            ax.text(
                0.02,
                0.98 - 0.09 * k,
                f"interaction HR {_num(inter['hr']):.2f}, q {_num(inter.get('q')):.2g}",
                transform=ax.transAxes,
                fontsize=_FONT - 3,
                color=colours[m["arm"]],
                va="top",
            )
        ax.axhline(1.0, lw=0.8, color="#555555")
        ax.set_xticks([1, 2, 3, 4], ["Q1\nlow", "Q2", "Q3", "Q4\nhigh"], fontsize=_FONT - 1)
        ax.set_xlim(0.6, 4.4)
        ax.set_title(name, fontsize=_FONT)
        _hide_top_right(ax)
    for ax in axes[len(names) :]:
        ax.set_visible(False)
    for ax in axes[::cols]:
        ax.set_ylabel(f"HR vs {evaluation['meta']['reference_arm']}", fontsize=_FONT - 1)
    if names:
        _log_hr_axis(axes[0])
        top, bottom = axes[0].get_ylim()
        axes[0].set_ylim(top, bottom * 1.25)  # room for the interaction text
        handles, labels = axes[0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="outside lower center", ncol=len(labels), fontsize=_FONT - 1, frameon=False)
    return fig


def summary_figure(evaluation: Mapping[str, Any], endpoint: str = "os") -> Figure:
    """What ``biomarker evaluate --figure`` writes: C-index forest, AUC(t) in the reference arm, and
    the HR by quartile of the marker with the strongest interaction."""
    names = marker_order(evaluation, endpoint)
    ref = evaluation["meta"]["reference_arm"]
    arms = list(evaluation["meta"]["arms"])
    colours = arm_colours(arms)
    fig = _new_figure(15.0, max(4.5, 0.3 * len(names) + 1.5))
    a, b, c = fig.subplots(1, 3, width_ratios=[1.3, 1.0, 1.0])
    step = 0.8 / max(1, len(arms))
    for k, arm in enumerate(arms):
        rows = {m["marker"]: m for m in _entries(evaluation, endpoint) if m["arm"] == arm}
        y = np.arange(len(names)) + (k - (len(arms) - 1) / 2) * step
        est = np.array([_num(rows[n]["c_index"]["estimate"]) for n in names])
        lo = np.array([_num(rows[n]["c_index"]["ci_low"]) for n in names])
        hi = np.array([_num(rows[n]["c_index"]["ci_high"]) for n in names])
        a.errorbar(est, y, xerr=[est - lo, hi - est], fmt="o", ms=3.5, lw=1.0, color=colours[arm], label=arm)
    a.axvline(0.5, ls="--", lw=0.8, color="#555555")
    a.set_yticks(np.arange(len(names)), names, fontsize=_FONT - 2)
    a.invert_yaxis()
    a.set_xlabel(f"Harrell's C, {ENDPOINT_WORDS.get(endpoint, endpoint)} (95% CI)", fontsize=_FONT)
    a.legend(fontsize=_FONT - 2, frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=len(arms))
    _hide_top_right(a)
    cmap = _marker_colours(names)
    for m in _entries(evaluation, endpoint):
        if m["arm"] != ref:
            continue
        ls = "--" if m.get("marker_kind") == "change" else ":" if m.get("marker_kind") == "reference" else "-"
        b.plot(
            m["auc_curve"]["month"],
            [_num(x) for x in m["auc_curve"]["auc"]],
            ls=ls,
            lw=1.3,
            color=cmap[m["marker"]],
            label=m["marker"],
        )
    b.axhline(0.5, lw=0.8, color="#777777")
    b.set_xlabel("months from baseline", fontsize=_FONT)
    b.set_ylabel(f"AUC(t) in {ref}", fontsize=_FONT)
    b.set_title("time-dependent AUC", fontsize=_FONT)
    b.legend(fontsize=_FONT - 3, frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=2)
    _hide_top_right(b)
    inter = [m for m in _entries(evaluation, endpoint) if m["interaction_hr"] and math.isfinite(_num(m["interaction_hr"]["p"]))]
    if inter:
        best = min(inter, key=lambda m: _num(m["interaction_hr"]["p"]))
        for k, m in enumerate(e for e in inter if e["marker"] == best["marker"]):
            q = m["interaction_hr"]["by_quartile"]
            x = np.array([v["quantile"] for v in q], dtype=float) + (k - 0.5) * 0.12
            hr = np.array([_num(v["hr"]) for v in q])
            lo = np.array([_num(v["ci_low"]) for v in q])
            hi = np.array([_num(v["ci_high"]) for v in q])
            c.errorbar(x, hr, yerr=[hr - lo, hi - hr], fmt="o-", ms=4, capsize=2, color=colours[m["arm"]], label=m["arm"])
        c.axhline(1.0, lw=0.8, color="#555555")
        _log_hr_axis(c)
        c.set_xticks([1, 2, 3, 4], ["Q1 low", "Q2", "Q3", "Q4 high"])
        c.set_title(f"HR vs {ref} by quartile of\n{best['marker']} (strongest interaction)", fontsize=_FONT - 1)
        c.legend(fontsize=_FONT - 2, frameon=False)
    _hide_top_right(c)
    return fig


def power_figure(design: Mapping[str, Any]) -> Figure:
    """Power against the cut-point (share of patients marker-positive) for each design, at each sample size."""
    rows = design["cutpoints"]
    sizes = [int(n) for n in design["sample_sizes"]]
    designs = list(design["designs"])
    fig = _new_figure(4.2 * len(designs), 3.8)
    axes = fig.subplots(1, len(designs), sharey=True, squeeze=False)[0]
    from matplotlib import colormaps

    cmap = colormaps["viridis"]
    for ax, name in zip(axes, designs, strict=True):
        x = [100 * _num(r["share_positive"]) for r in rows]
        for k, n in enumerate(sizes):
            y = [_num(r["designs"][name]["power"][str(n)]) for r in rows]
            ax.plot(x, y, "o-", ms=3, lw=1.3, color=cmap(k / max(1, len(sizes) - 1)), label=f"N = {n}")
        ax.axhline(0.8, ls="--", lw=0.8, color="#555555")
        ax.set_title(name, fontsize=_FONT)
        ax.set_xlabel("marker-positive at the cut-point, % of screened", fontsize=_FONT - 1)
        ax.set_ylim(0, 1.02)
        _hide_top_right(ax)
    axes[0].set_ylabel(f"power ({design['endpoint'].upper()}, two-sided alpha {design['alpha']:g})", fontsize=_FONT - 1)
    axes[-1].legend(fontsize=_FONT - 2, frameon=False, loc="lower right")
    return fig
