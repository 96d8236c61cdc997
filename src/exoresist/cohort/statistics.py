"""Trial statistics: per-arm response and survival, comparisons with the reference arm, figures over
replicate trials with 90 % prediction intervals, and the attribution of progression to records.

Conventions of the field: ORR and DCR with Wilson 95 % intervals; Kaplan–Meier medians with 95 %
intervals; Cox hazard ratios (Efron ties) and log-rank p (lifelines).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from exoresist.cohort.arms import TrialError
from exoresist.cohort.population import DAYS_PER_MONTH, SCAN_INTERVAL_DAY, mechanism_records
from exoresist.cohort.result import ArmSummary, AttributionRow, Comparison, Estimate, HazardRatio, Median, ReplicateFigure
from exoresist.cohort.simulate import record_label
from exoresist.cohort.survival import cox_hazard_ratio, km_median, km_survival_at, logrank_p, proportion_ci
from exoresist.kb import KnowledgeBase

NAN = float("nan")


def _estimate(k: int, n: int) -> Estimate:
    p = proportion_ci(k, n)
    return {"estimate": float(p.estimate), "ci_low": float(p.ci_low), "ci_high": float(p.ci_high)}


def _median(t: np.ndarray, e: np.ndarray) -> Median:
    if t.size == 0:
        return {"median": NAN, "ci_low": NAN, "ci_high": NAN}
    m = km_median(t, e)
    return {"median": float(m.median), "ci_low": float(m.ci_low), "ci_high": float(m.ci_high)}


def arm_summary(label: str, g: pd.DataFrame, n_failed: int) -> ArmSummary:
    """Statistics of one arm's successfully simulated patients ``g``."""
    n = len(g)
    if n == 0:
        raise TrialError(f"arm '{label}' has no successfully simulated patient")
    counts = g["bor"].value_counts()
    k = {r: int(counts.get(r, 0)) for r in ("CR", "PR", "SD", "PD", "NE")}
    responders = g[g["bor"].isin(["CR", "PR"])]
    os_t, os_e = g["os_month"].to_numpy(), g["os_event"].to_numpy()
    s12 = km_survival_at(os_t, os_e, 12.0)
    progressed = g["progressed"].to_numpy()
    died = g["os_event"].to_numpy()
    return {
        "arm": label,
        "n": n,
        "n_failed": n_failed,
        "orr": _estimate(k["CR"] + k["PR"], n),
        "dcr": _estimate(k["CR"] + k["PR"] + k["SD"], n),
        "cr": k["CR"] / n,
        "pr": k["PR"] / n,
        "sd": k["SD"] / n,
        "pd": k["PD"] / n,
        "ne": k["NE"] / n,
        "pfs_median_month": _median(g["pfs_month"].to_numpy(), g["pfs_event"].to_numpy()),
        "ttp_median_month": _median(g["ttp_month"].to_numpy(), g["ttp_event"].to_numpy()),
        "os_median_month": _median(os_t, os_e),
        "dor_median_month": _median(responders["dor_month"].to_numpy(), responders["dor_event"].to_numpy()),
        "os_12_month": {"estimate": s12.estimate, "ci_low": s12.ci_low, "ci_high": s12.ci_high},
        "progression_by_new_lesion": float(g["progression_by_new_lesion"].sum() / max(progressed.sum(), 1)),
        "later_line": float(g["later_line"].sum() / max(progressed.sum(), 1)),
        "liver_death": float((1.0 - g.loc[died, "death_tumour_share"]).sum() / max(died.sum(), 1)),
    }


def compare(label: str, reference: str, g: pd.DataFrame, r: pd.DataFrame) -> Comparison:
    from lifelines.exceptions import ConvergenceError

    both = pd.concat([r, g])
    group = np.concatenate([np.zeros(len(r)), np.ones(len(g))])
    out: dict[str, Any] = {"arm": label, "reference": reference}
    for ep in ("os", "pfs"):
        t, e = both[f"{ep}_month"].to_numpy(), both[f"{ep}_event"].to_numpy()
        hr: HazardRatio = {"hr": NAN, "ci_low": NAN, "ci_high": NAN, "p": NAN}
        out[f"{ep}_logrank_p"] = NAN
        if e.sum() > 0:
            try:
                fit = cox_hazard_ratio(t, e, group)
                hr = {"hr": fit.hr, "ci_low": fit.ci_low, "ci_high": fit.ci_high, "p": fit.p}
            except ConvergenceError:  # e.g. complete separation in a tiny trial: reported as undefined
                pass
            out[f"{ep}_logrank_p"] = logrank_p(t, e, group)
        out[f"{ep}_hr"] = hr
    return out  # type: ignore[return-value]


def summarise(
    patients: pd.DataFrame, arm_order: Sequence[str], reference: str | None = None
) -> tuple[list[ArmSummary], list[Comparison]]:
    """Per-arm statistics, and every other arm compared with ``reference`` (default: the first arm)."""
    ref = reference or arm_order[0]
    ok = patients[patients["ok"]]
    by_arm = {label: ok[ok["arm"] == label] for label in arm_order}
    arms = [arm_summary(label, by_arm[label], int(((patients["arm"] == label) & ~patients["ok"]).sum())) for label in arm_order]
    comparisons = [compare(label, ref, by_arm[label], by_arm[ref]) for label in arm_order if label != ref]
    return arms, comparisons


FIGURES: dict[str, tuple[str, str]] = {
    "orr": ("objective response rate", "percent"),
    "cr": ("complete response", "percent"),
    "dcr": ("disease control rate", "percent"),
    "ne": ("not evaluable", "percent"),
    "pfs_median": ("median PFS", "months"),
    "ttp_median": ("median TTP", "months"),
    "os_median": ("median OS", "months"),
    "os_12": ("OS at 12 months", "percent"),
    "dor_median": ("median duration of response", "months"),
    "os_hr": ("OS hazard ratio", "ratio"),
    "pfs_hr": ("PFS hazard ratio", "ratio"),
}
"""Every figure a trial reports: human label and unit."""


def figure_value(arm: ArmSummary | None, comparison: Comparison | None, figure: str) -> float:
    """The value of ``figure`` (see :data:`FIGURES`) in percent, months or ratio."""
    if comparison is not None:
        hr = comparison["os_hr"] if figure == "os_hr" else comparison["pfs_hr"]
        return float(hr["hr"])
    assert arm is not None
    data: dict[str, Any] = dict(arm)
    if figure in ("orr", "dcr"):
        return 100.0 * float(data[figure]["estimate"])
    if figure in ("cr", "ne"):
        return 100.0 * float(data[figure])
    if figure == "os_12":
        return 100.0 * float(arm["os_12_month"]["estimate"])
    return float(data[f"{figure}_month"]["median"])


def replicate_figures(
    patients: pd.DataFrame,
    arm_order: Sequence[str],
    reference: str | None,
    patients_per_trial: int,
    replicates: int,
    arm_sizes: Mapping[str, int] | None = None,
) -> list[ReplicateFigure]:
    """Each figure in each of ``replicates`` virtual trials: the median over trials and the 5th-95th
    percentile (90 % prediction interval).

    Patients are simulated in blocks of ``n = patients_per_trial`` slots (block ``b``: slots
    ``[b n, (b + 1) n)``), every block in every arm. Arm ``k`` (its position in ``arm_order``) of
    trial ``r`` takes block ``(r + k) mod replicates``, of which an arm of size ``arm_sizes[arm]``
    takes the first slots. So with at least as many replicates as arms the arms of a trial are
    different patients, as in a randomised trial, and the interval of a hazard ratio has the
    spread of one; the same patients in every arm (the single trial's digital twins) would make
    the comparisons far less variable than any real trial's."""
    ref = reference or arm_order[0]
    sizes = {a: (arm_sizes or {}).get(a, patients_per_trial) for a in arm_order}
    offset = patients["patient"].to_numpy() % patients_per_trial
    limit = patients["arm"].map(sizes).to_numpy()
    in_arm = patients[offset < limit]
    block_of = in_arm["patient"].to_numpy() // patients_per_trial
    arm_of = in_arm["arm"].to_numpy()
    values: dict[tuple[str, str, str | None], list[float]] = {}
    for r in range(replicates):
        take = np.zeros(len(in_arm), dtype=bool)
        for k, label in enumerate(arm_order):
            take |= (arm_of == label) & (block_of == (r + k) % replicates)
        arms, comparisons = summarise(in_arm[take], arm_order, ref)
        for a in arms:
            for fig in FIGURES:
                if fig.endswith("_hr"):
                    continue
                values.setdefault((fig, a["arm"], None), []).append(figure_value(a, None, fig))
        for c in comparisons:
            for fig in ("os_hr", "pfs_hr"):
                values.setdefault((fig, c["arm"], c["reference"]), []).append(figure_value(None, c, fig))
    out: list[ReplicateFigure] = []
    for (fig, arm, refarm), vals in values.items():
        v = np.asarray(vals, dtype=float)
        finite = v[np.isfinite(v)]
        label, unit = FIGURES[fig]
        if finite.size < v.size / 2:  # mostly not reached: the median is not reached either
            med, lo, hi = math.inf, math.inf, math.inf
        else:
            v = np.where(np.isfinite(v), v, np.inf)
            med, lo, hi = (float(np.quantile(v, q)) for q in (0.5, 0.05, 0.95))
        out.append(
            {
                "figure": fig,
                "label": label,
                "unit": unit,
                "arm": arm,
                "reference": refarm,
                "median": med,
                "pi_low": lo,
                "pi_high": hi,
                "replicates": replicates,
            }
        )
    return out


KNOCKOUT_DELAY_MONTH = SCAN_INTERVAL_DAY / DAYS_PER_MONTH
"""A record's knockout "delays" a patient's progression when it moves it by at least one scan."""
ATTRIBUTION_COLUMNS = (
    "arm", "record_id", "label", "n_progressing", "share", "mean_contribution", "ko_share", "ko_mean_delay_month"
)  # fmt: skip


def attribution(kb: KnowledgeBase, patients: pd.DataFrame, arm_order: Sequence[str]) -> pd.DataFrame:
    """Per arm and acting record, among progressing patients: ``share`` whose progression the
    record's effect term led at progression (instantaneous), and, when the trial ran the knockouts,
    ``ko_share`` whose progression its knockout delays by at least one scan and
    ``ko_mean_delay_month``, the mean delay among those expressing it (NaN without knockouts)."""
    rows: list[AttributionRow] = []
    for label in arm_order:
        g = patients[(patients["arm"] == label) & patients["ok"] & patients["progressed"]]
        n = len(g)
        for rid in mechanism_records(kb):
            col = f"contrib:{rid}"
            values = g[col].to_numpy(dtype=float) if col in g else np.array([])
            if n == 0 or np.all(np.isnan(values)):
                continue  # the record does not act in this arm
            ran = f"ko_delay:{rid}" in g
            delay = g[f"ko_delay:{rid}"].to_numpy(dtype=float) if ran else np.array([])
            rows.append(
                {
                    "arm": label,
                    "record_id": rid,
                    "label": record_label(kb, rid),
                    "n_progressing": n,
                    "share": float((g["top_mechanism"] == rid).sum() / n),
                    "mean_contribution": float(np.nanmean(values)),
                    "ko_share": float(np.sum(delay >= KNOCKOUT_DELAY_MONTH) / n) if ran else math.nan,
                    "ko_mean_delay_month": float(np.nanmean(delay)) if ran and np.isfinite(delay).any() else math.nan,
                }
            )
    return pd.DataFrame(rows, columns=list(ATTRIBUTION_COLUMNS))
