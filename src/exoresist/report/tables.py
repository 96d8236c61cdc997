"""The tables of a finished trial as data: what ``trial run`` prints and the web pages show.

They read the JSON summary of a run (:meth:`~exoresist.cohort.runner.TrialRun.to_json_dict`, as
written to ``trial.json``), so a finished run can be shown again from its file alone. Each table
is ``{"name", "title", "columns", "rows", "data"}``: ``rows`` are the formatted cells (the report's
number format; NR: not reached), ``data`` the unformatted records behind them (for downloads).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from exoresist.report.formatting import hazard_ratio, median_ci, number, percent_ci

TOP_ATTRIBUTION = 3
"""Mechanisms shown per arm in the attribution table."""


def _not_reached(value: Mapping[str, Any] | None) -> Mapping[str, Any]:
    """A median from JSON (``None`` when not reached) as the formatter expects it."""
    if value is None:
        return {"median": None, "ci_low": None, "ci_high": None}
    return value


def _p(p: Any) -> str:
    return "–" if p is None else f"{p:.3g}"


def trial_tables(summary: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The response and survival table per arm, the comparisons with the reference arm, and the
    mechanisms carrying resistance at progression (top :data:`TOP_ATTRIBUTION` per arm)."""
    config = summary["config"]
    arms = summary["arms"]
    tables: list[dict[str, Any]] = [
        {
            "name": "arms",
            "title": f"{config['population']} trial, {config['patients']} patients per arm, {config['months']:g} months"
            + (f", {config['replicates']} virtual trials pooled" if config.get("replicates", 1) > 1 else ""),
            "columns": ["arm", "n", "ORR % (95% CI)", "DCR % (95% CI)", "CR/PR/SD/PD/NE %", "median PFS mo", "median OS mo"],
            "rows": [
                [
                    a["arm"],
                    str(a["n"]),
                    percent_ci(a["orr"]),
                    percent_ci(a["dcr"]),
                    "/".join(f"{100 * (a[k] or 0):.0f}" for k in ("cr", "pr", "sd", "pd", "ne")),
                    median_ci(_not_reached(a["pfs_median_month"])),
                    median_ci(_not_reached(a["os_median_month"])),
                ]
                for a in arms
            ],
            "data": list(arms),
        }
    ]
    comparisons = summary.get("comparisons") or []
    if comparisons:
        tables.append(
            {
                "name": "comparisons",
                "title": f"versus {comparisons[0]['reference']}",
                "columns": ["arm", "OS HR (95% CI)", "OS log-rank p", "PFS HR (95% CI)", "PFS log-rank p"],
                "rows": [
                    [c["arm"], hazard_ratio(c["os_hr"]), _p(c["os_logrank_p"]), hazard_ratio(c["pfs_hr"]), _p(c["pfs_logrank_p"])]
                    for c in comparisons
                ],
                "data": list(comparisons),
            }
        )
    knockouts = bool(config.get("knockouts"))
    key = "ko_share" if knockouts else "share"
    attribution = sorted(summary.get("attribution") or [], key=lambda r: -(r.get(key) or 0))
    top: list[Mapping[str, Any]] = []
    for r in attribution:
        if sum(1 for t in top if t["arm"] == r["arm"]) < TOP_ATTRIBUTION:
            top.append(r)
    if top:
        columns = ["arm", "record", "largest effect at progression"]
        if knockouts:
            columns += ["knockout delays progression >= 1 scan", "mean delay (months)"]
        rows = []
        for r in top:
            cells = [r["arm"], r["record_id"], f"{100 * (r['share'] or 0):.0f}% of {r['n_progressing']}"]
            if knockouts:
                cells += [f"{100 * (r['ko_share'] or 0):.0f}%", number(r["ko_mean_delay_month"], 2)]
            rows.append(cells)
        tables.append(
            {
                "name": "attribution",
                "title": f"mechanisms carrying resistance at progression (top {TOP_ATTRIBUTION} per arm)",
                "columns": columns,
                "rows": rows,
                "data": list(summary.get("attribution") or []),
            }
        )
    return tables
