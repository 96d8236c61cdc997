"""Figures: the expected panels, curves and bars, drawn without touching pyplot's state."""

from __future__ import annotations

import doctest

import matplotlib
import numpy as np
import pandas as pd
import pytest
from matplotlib.axes import Axes
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure

from exoresist.report import (
    ReportInputError,
    attribution_figure,
    calibration_figure,
    formatting,
    km_figure,
    sensitivity_figure,
    waterfall_figure,
)
from exoresist.report.figures import MEDIAN_LINE, WATERFALL_BARS, risk_ticks
from tests.report.synthetic import ARMS, TrialData


def _curves(ax: Axes) -> list[str]:
    return [str(line.get_label()) for line in ax.get_lines() if not str(line.get_label()).startswith("_")]


def _bars(ax: Axes) -> int:
    return sum(len(c.get_paths()) for c in ax.collections if isinstance(c, PolyCollection) and c.get_gid() == WATERFALL_BARS)


@pytest.mark.parametrize("endpoint", ["pfs", "os"])
def test_km_one_curve_and_one_risk_row_per_arm(trial: TrialData, endpoint: str) -> None:
    fig = km_figure(trial.patients, endpoint, arms=list(ARMS))  # type: ignore[arg-type]
    assert isinstance(fig, Figure)
    plot, table = fig.axes
    curves = _curves(plot)
    assert len(curves) == len(ARMS)
    assert [c.split(":")[0] for c in curves] == list(ARMS)
    assert all("median" in c and "95% CI" in c for c in curves)
    assert len([line for line in plot.get_lines() if line.get_label() == MEDIAN_LINE]) == len(ARMS)
    legend = plot.get_legend()
    assert legend is not None and "censored" in [t.get_text() for t in legend.get_texts()]
    ticks = risk_ticks(float(trial.patients[f"{endpoint}_month"].max()))
    at_risk = [t.get_text() for t in table.texts]
    assert len(at_risk) == len(ARMS) * len(ticks)
    assert at_risk.count("70") >= len(ARMS)  # everyone is at risk at month 0
    assert plot.get_ylabel() == ("probability alive" if endpoint == "os" else "probability free of progression or death")


def test_km_median_not_reached() -> None:
    patients = pd.DataFrame(
        {
            "arm": ["a"] * 20 + ["b"] * 20,
            "os_month": np.r_[np.linspace(1, 20, 20), np.linspace(1, 20, 20)],
            "os_event": [True] * 20 + [True, True] + [False] * 18,
        }
    )
    fig = km_figure(patients, "os")
    curves = _curves(fig.axes[0])
    assert "not reached" in curves[1] and "not reached" not in curves[0]
    assert len([line for line in fig.axes[0].get_lines() if line.get_label() == MEDIAN_LINE]) == 1


def test_km_rejects_unknown_endpoint(trial: TrialData) -> None:
    with pytest.raises(ValueError, match="endpoint"):
        km_figure(trial.patients, "dfs")  # type: ignore[arg-type]


def test_risk_ticks() -> None:
    assert risk_ticks(24.0) == [0, 6, 12, 18, 24]
    assert risk_ticks(20.5) == [0, 6, 12, 18]
    assert risk_ticks(7.0) == [0, 3, 6]


def test_waterfall_one_bar_per_measured_patient(trial: TrialData) -> None:
    patients = trial.patients.copy()
    patients.loc[patients.index[0], "best_change_pct"] = 250.0  # beyond the axis: cut and marked
    fig = waterfall_figure(patients, arms=list(ARMS))
    assert len(fig.axes) == len(ARMS)
    finite = patients["best_change_pct"].notna()
    assert sum(_bars(ax) for ax in fig.axes) == int(finite.sum())
    for ax, arm in zip(fig.axes, ARMS, strict=True):
        assert _bars(ax) == int((finite & (patients["arm"] == arm)).sum())
        assert arm in ax.get_title()
        assert ax.get_ylim() == pytest.approx(fig.axes[0].get_ylim())  # shared y axis
    heights = [
        float(np.asarray(p.vertices)[:, 1].max())
        for c in fig.axes[0].collections
        if c.get_gid() == WATERFALL_BARS
        for p in c.get_paths()
    ]
    assert max(heights) == 100.0
    assert any(line.get_marker() == "^" for line in fig.axes[0].get_lines())
    texts = [t.get_text() for ax in fig.axes for t in ax.texts]
    assert any("+20 %" in t for t in texts) and any("−30 %" in t for t in texts)


def test_attribution_top_twelve_records_per_arm(trial: TrialData) -> None:
    fig = attribution_figure(trial.attribution, arms=list(ARMS))
    (ax,) = fig.axes
    assert len(ax.get_yticklabels()) == 12
    assert len(ax.containers) == len(ARMS)
    assert all(len(c) == 12 for c in ax.containers)
    best = trial.attribution.groupby("label")["share"].max().sort_values(ascending=False)
    rows = sorted(zip(ax.get_yticks(), ax.get_yticklabels(), strict=True), key=lambda t: t[0])
    top_label = rows[-1][1].get_text().replace("\n", " ")  # the highest row
    assert top_label == best.index[0]


def test_attribution_ranks_by_knockout_share_when_the_trial_ran_knockouts(trial: TrialData) -> None:
    from exoresist.report._captions import attribution_caption

    plain = attribution_caption(trial.attribution)
    ko = trial.attribution.assign(ko_share=trial.attribution["share"].to_numpy()[::-1], ko_mean_delay_month=1.0)
    fig = attribution_figure(ko, arms=list(ARMS))
    (ax,) = fig.axes
    best = ko.groupby("label")["ko_share"].max().sort_values(ascending=False)
    rows = sorted(zip(ax.get_yticks(), ax.get_yticklabels(), strict=True), key=lambda t: t[0])
    assert rows[-1][1].get_text().replace("\n", " ") == best.index[0]  # ranked by the knockout share
    assert "without the mechanism" in ax.get_xlabel()
    caption = attribution_caption(ko)
    assert "simulated again without" in caption and "simulated again" not in plain
    assert f"{100 * best.iloc[0]:.0f} %" in caption


def test_calibration_one_panel_per_unit(trial: TrialData) -> None:
    """One panel per unit; every point carries the number of its row in the report's table, at the
    published and simulated value of that row."""
    cal = trial.calibration.reset_index(drop=True)
    fig = calibration_figure(cal)
    panels = [ax for ax in fig.axes if ax.axison]
    units = [u for u in ("months", "percent", "ratio") if (cal["unit"] == u).any()]
    assert len(panels) == len(units)
    seen: set[int] = set()
    for ax, unit in zip(panels, units, strict=True):
        identity, *_, points = ax.get_lines()
        assert list(np.asarray(identity.get_xdata())) == list(np.asarray(identity.get_ydata()))
        rows = cal[cal["unit"] == unit]
        assert np.asarray(points.get_xdata()).size == len(rows)
        for text in ax.texts:
            ks = [int(k) for k in text.get_text().split(", ")]
            first = cal.iloc[ks[0] - 1]
            x, y = text.get_position()
            assert x > first["published"] and y > first["simulated"]  # right of and above its first point
            for k in ks:
                assert cal.iloc[k - 1]["unit"] == unit and k not in seen
                seen.add(k)
    finite = cal[np.isfinite(cal["published"].astype(float)) & np.isfinite(cal["simulated"].astype(float))]
    assert seen == {i + 1 for i in finite.index}


def test_sensitivity_one_panel_per_output_sorted_by_st(trial: TrialData) -> None:
    fig = sensitivity_figure(trial.sensitivity)
    outputs = list(trial.sensitivity["output"].unique())
    assert len(fig.axes) == len(outputs)
    for ax, output in zip(fig.axes, outputs, strict=True):
        rows = trial.sensitivity[trial.sensitivity["output"] == output]
        labels = [t.get_text() for t in ax.get_yticklabels()]
        assert len(labels) == len(rows)
        assert labels[-1] == rows.loc[rows["ST"].idxmax(), "label"]  # top row: most influential
        assert len(ax.containers) == 3  # ST bars, their error bars, S1 bars
        assert output in ax.get_title()


def test_no_pyplot_figures_left_behind(trial: TrialData) -> None:
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    km_figure(trial.patients, "pfs")
    waterfall_figure(trial.patients)
    attribution_figure(trial.attribution)
    assert plt.get_fignums() == before


def test_figure_inputs_are_checked(trial: TrialData) -> None:
    with pytest.raises(ReportInputError, match="'pfs_event'"):
        km_figure(trial.patients.drop(columns=["pfs_event"]), "pfs")
    with pytest.raises(ReportInputError, match="'bor'"):
        waterfall_figure(trial.patients.drop(columns=["bor"]))
    with pytest.raises(ReportInputError, match="'record_id'"):
        attribution_figure(trial.attribution.drop(columns=["record_id"]))
    with pytest.raises(ReportInputError, match="'S1'"):
        sensitivity_figure(trial.sensitivity.drop(columns=["S1"]))


def test_format_doctests() -> None:
    assert doctest.testmod(formatting).failed == 0


def test_calibration_labels_of_coinciding_points_are_joined() -> None:
    from exoresist.report.figures import _label_groups

    groups = _label_groups([1, 2, 3, 4], np.array([0.0, 0.5, 40.0, np.nan]), np.array([0.0, 0.3, 41.0, 1.0]), 2.0)
    assert groups == {(0.0, 0.0): [1, 2], (40.0, 41.0): [3]}


def test_calibration_labels_that_would_overlap_are_moved_up() -> None:
    from exoresist.report.figures import _label_positions

    (a, b) = _label_positions({(0.0, 0.0): [3, 4, 8, 9, 19], (10.0, 1.0): [18]}, 90.0)
    assert a[2] == "3, 4, 8, 9, 19" and b[2] == "18"
    assert b[1] > a[1] + 90.0 / 30 - 1.0  # the second would cross the first's box: a line higher
    (c,) = _label_positions({(40.0, 41.0): [11]}, 90.0)
    assert c[0] > 40.0 and c[1] > 41.0
