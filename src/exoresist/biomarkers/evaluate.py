"""Evaluate markers in a (virtual or real) trial: prognostic within arms, predictive across arms.

:func:`analysis_frame` turns observed plasma levels into analysis columns (log10 level at
baseline; log2 change from baseline to week 4); :func:`evaluate_frame` computes, for each marker,
arm and endpoint, the statistics of :mod:`exoresist.biomarkers.metrics` and the cut-points of
:mod:`exoresist.biomarkers.cutpoints`, calls each marker prognostic, predictive or neither, and
fits the panels of :mod:`exoresist.biomarkers.panels`. Everything works on a plain DataFrame with the
columns ``arm``, ``patient``, ``<endpoint>_month``, ``<endpoint>_event``, ``bor`` (or
``responded``) and one column per marker, so the same code runs on any cohort.

Classification, per marker, arm and endpoint (Benjamini-Hochberg over the markers of that arm and
endpoint, scipy ``false_discovery_control``, at ``alpha``):

- *predictive*: the treatment x marker interaction of this arm against the reference arm is
  significant and at least :data:`MIN_INTERACTION_HR` per SD (or its inverse);
- *prognostic*: otherwise, when the C-index differs from 0.5 (normal test with the jackknife SE)
  by at least :data:`MIN_C_DIFFERENCE`;
- *none*: neither.

A week-4 change is measured after randomisation and moved by the treatment itself (secretion
blockade lowers every cargo), so it is never called predictive; its interaction is still reported.
The size thresholds are assumed: with a thousand virtual patients per arm (and, in the digital-twin
design, every patient in both arms, which the clustered errors exploit) effects far too small to
matter reach small q-values.

Times are analysed in whole days (rounded up), as trial data record them. The week-4 change is a
landmark analysis: only patients event-free at week 4 enter, and time is counted from week 4 (no
patient is credited with survival before the marker existed).
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Literal

import numpy as np
import pandas as pd

from exoresist.biomarkers import cutpoints, metrics, panels
from exoresist.biomarkers.markers import MarkerSpec
from exoresist.biomarkers.observation import DAYS_PER_MONTH, Observations, level_column
from exoresist.biomarkers.parameters import WEEK4_DAY

Endpoint = Literal["os", "pfs"]
ENDPOINTS: tuple[Endpoint, ...] = ("os", "pfs")
AUC_TIMES_MONTH = (3.0, 6.0, 12.0)
REFERENCE_NAME = "tumour burden (baseline sum of diameters, reference)"
MIN_INTERACTION_HR = 1.1
"""Smallest interaction (treatment HR ratio per SD of the marker, either way) called predictive; assumed."""
MIN_C_DIFFERENCE = 0.05
"""Smallest distance of the C-index from 0.5 called prognostic; assumed."""
ESTIMATORS = {
    "c_index": "Harrell's C (scikit-survival concordance_index_censored) of the marker in its prespecified direction; "
    "95 % CI from the infinitesimal-jackknife standard error",
    "auc_t": "cumulative/dynamic time-dependent AUC with IPCW (Uno et al. 2007; scikit-survival cumulative_dynamic_auc)",
    "ibs": "integrated Brier score (IPCW; scikit-survival integrated_brier_score) of Kaplan-Meier curves within "
    "marker tertiles; 'reference' is one Kaplan-Meier curve for the whole arm",
    "response_auc": "ROC AUC for not responding (no CR/PR; scikit-learn roc_auc_score), percentile-bootstrap 95 % CI",
    "interaction_hr": "Cox model (lifelines CoxPHFitter, Efron ties) with treatment, marker (per SD of the analysis "
    "value) and their product, robust SE clustered by patient; HR of the product term",
    "hr_by_quartile": "treatment HR within quartiles of the pooled marker: one-step (Peto) log-rank estimate, 95 % CI "
    "from 1/sqrt(V)",
    "cutpoint.survival": "maximally selected log-rank statistic over cuts at the 10th-90th percentiles, one-step (Peto) "
    "HR of the high group, bootstrap optimism-corrected; permutation p-value of the maximum",
    "cutpoint.response": "largest Youden index for not responding over the ROC thresholds (those of scikit-learn roc_curve), "
    "bootstrap optimism-corrected",
    "multiplicity": "Benjamini-Hochberg (scipy false_discovery_control) over the markers of one arm and endpoint",
}


@dataclass(frozen=True)
class MarkerColumn:
    """One analysed marker: its column in the analysis frame and how to read it.

    ``kind``: ``baseline`` (log10 level at the baseline sample), ``change`` (log2 of week 4 over
    baseline, landmark at week 4) or ``reference`` (baseline RECIST sum of diameters in mm, for comparison).
    ``direction``: +1 when a higher value is expected to mean a higher hazard.
    """

    name: str
    column: str
    kind: Literal["baseline", "change", "reference"]
    direction: int
    landmark_month: float = 0.0
    measured_from: str = ""
    dynamic: bool = True
    unit: str = "log10 cu/mL"


def responded_of(frame: pd.DataFrame) -> np.ndarray:
    """Objective response (CR or PR) per row, from ``responded`` or RECIST ``bor``."""
    if "responded" in frame:
        out: np.ndarray = frame["responded"].to_numpy(dtype=bool)
        return out
    return frame["bor"].isin(["CR", "PR"]).to_numpy()


def analysis_frame(patients: pd.DataFrame, obs: Observations) -> tuple[pd.DataFrame, list[MarkerColumn]]:
    """Outcomes plus one column per analysed marker (baseline log10 level; week-4 log2 change for
    dynamic markers; the baseline sum of diameters as a reference)."""
    keep = [
        c for c in ("arm", "patient", "os_month", "os_event", "pfs_month", "pfs_event", "bor", "baseline_sld_mm") if c in patients
    ]
    frame = patients[keep].copy()
    for endpoint in ENDPOINTS:  # whole days, as trial data record them (and lifelines' Cox is faster on them)
        if f"{endpoint}_month" in frame:
            frame[f"{endpoint}_month"] = (
                np.ceil(frame[f"{endpoint}_month"].to_numpy(dtype=float) * DAYS_PER_MONTH - 1e-9) / DAYS_PER_MONTH
            )
    cols: list[MarkerColumn] = []
    for m in obs.markers:
        base = obs.frame[level_column(m.name, 0.0)].to_numpy(dtype=float)
        frame[m.name] = np.log10(base)
        cols.append(MarkerColumn(m.name, m.name, "baseline", m.direction, 0.0, m.measured_from, m.dynamic))
        if m.dynamic and WEEK4_DAY in obs.days:
            week4 = obs.frame[level_column(m.name, WEEK4_DAY)].to_numpy(dtype=float)
            name = f"{m.name} change (week 4)"
            frame[name] = np.log2(week4 / base)
            cols.append(
                MarkerColumn(
                    name, name, "change", m.direction, WEEK4_DAY / DAYS_PER_MONTH, m.measured_from, True, "log2 fold change"
                )
            )
    if "baseline_sld_mm" in frame:
        frame[REFERENCE_NAME] = frame["baseline_sld_mm"]
        cols.append(
            MarkerColumn(
                REFERENCE_NAME, REFERENCE_NAME, "reference", 1, 0.0, "RECIST sum of diameters at the baseline scan", True, "mm"
            )
        )
    return frame, cols


@dataclass
class Evaluation:
    """The result of :func:`evaluate_frame`: entries per marker, arm and endpoint; panels; metadata."""

    markers: list[dict[str, Any]]
    panels: list[dict[str, Any]]
    meta: dict[str, Any] = field(default_factory=dict)

    def to_json_dict(self) -> dict[str, Any]:
        from exoresist.cohort.runner import finite_or_none

        out: dict[str, Any] = finite_or_none({"markers": self.markers, "panels": self.panels, "meta": self.meta})
        return out

    def table(self) -> pd.DataFrame:
        """One row per entry with the headline numbers (for printing)."""
        rows = []
        for m in self.markers:
            inter = m["interaction_hr"]
            surv = (m["cutpoint"] or {}).get("survival") or {}
            rows.append(
                {
                    "marker": m["marker"],
                    "arm": m["arm"],
                    "endpoint": m["endpoint"],
                    "kind": m["kind"],
                    "n": m["n"],
                    "c_index": m["c_index"]["estimate"],
                    "c_low": m["c_index"]["ci_low"],
                    "c_high": m["c_index"]["ci_high"],
                    **{f"auc_{k}": v for k, v in m["auc_t"].items()},
                    "ibs": m["ibs"]["marker"],
                    "ibs_reference": m["ibs"]["reference"],
                    "response_auc": (m["response_auc"] or {}).get("estimate", math.nan),
                    "interaction_hr": inter["hr"] if inter else math.nan,
                    "interaction_q": inter["q"] if inter else math.nan,
                    "cut_hr_corrected": surv.get("hr_corrected", math.nan),
                }
            )
        return pd.DataFrame(rows)


def _landmark(frame: pd.DataFrame, endpoint: str, landmark: float) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    t = frame[f"{endpoint}_month"].to_numpy(dtype=float)
    e = frame[f"{endpoint}_event"].to_numpy(dtype=bool)
    if landmark <= 0:
        return frame, t, e
    keep = t > landmark
    return frame[keep], t[keep] - landmark, e[keep]


def _level_of(col: MarkerColumn, cut: float) -> float:
    """A cut on the risk scale back in the marker's own unit (level, fold change or mm)."""
    x = cut * col.direction
    if col.kind == "baseline":
        return float(10**x)
    if col.kind == "change":
        return float(2**x)
    return float(x)


def _p_from_c(c: metrics.Estimate) -> float:
    from scipy.stats import norm

    if not (math.isfinite(c.estimate) and math.isfinite(c.se)) or c.se <= 0:
        return math.nan
    return float(2 * norm.sf(abs(c.estimate - 0.5) / c.se))


def _bh(p: Sequence[float]) -> list[float]:
    from scipy.stats import false_discovery_control

    arr = np.asarray(p, dtype=float)
    out = np.full(arr.size, np.nan)
    ok = np.isfinite(arr)
    if ok.any():
        out[ok] = false_discovery_control(arr[ok], method="bh")
    return out.tolist()


Mapper = Callable[[Callable[[Any], list[dict[str, Any]]], list[Any]], Iterable[list[dict[str, Any]]]]
"""``map``-like: applies a function to every marker column and every arm's panel data (the builtin
``map`` by default; a Dask client's map, see :func:`dask_mapper`, spreads them over workers)."""


def evaluate_frame(
    frame: pd.DataFrame,
    columns: Sequence[MarkerColumn],
    arms: Sequence[str],
    *,
    endpoints: Sequence[Endpoint] = ENDPOINTS,
    times: Sequence[float] = AUC_TIMES_MONTH,
    bootstrap: int = 200,
    seed: int = 0,
    alpha: float = 0.05,
    with_panels: bool = True,
    mapper: Mapper | None = None,
) -> Evaluation:
    """Evaluate every marker column in every arm (``arms[0]`` is the reference of the interactions).

    Each marker's random numbers (bootstrap, permutations) derive from ``seed`` and its name only,
    so the result does not depend on the order or the worker markers run on.
    """
    follow_up = float(frame[[f"{ep}_month" for ep in endpoints]].to_numpy().max())
    curve = tuple(sorted({*(float(x) for x in range(1, int(follow_up))), *map(float, times)}))
    needed = ["arm", "patient", "bor", "responded", *(f"{ep}_{x}" for ep in endpoints for x in ("month", "event"))]
    work = partial(
        evaluate_column,
        frame[[c for c in dict.fromkeys([*needed, *(c.column for c in columns)]) if c in frame]],
        arms=tuple(arms),
        endpoints=tuple(endpoints),
        times=tuple(times),
        curve=curve,
        bootstrap=bootstrap,
        seed=seed,
    )
    entries = [e for part in (mapper or map)(work, list(columns)) for e in part]
    _classify(entries, alpha)
    panel_list = _panels(frame, columns, arms, endpoints, seed, mapper) if with_panels else []
    meta = {
        "arms": list(arms),
        "reference_arm": arms[0],
        "endpoints": list(endpoints),
        "auc_times_month": list(times),
        "bootstrap": bootstrap,
        "seed": seed,
        "alpha": alpha,
        "estimators": ESTIMATORS,
        "classification": f"predictive: BH-adjusted interaction q < alpha and interaction HR per SD >= {MIN_INTERACTION_HR} or "
        f"<= 1/{MIN_INTERACTION_HR}; prognostic: otherwise BH-adjusted C-index q < alpha and |C - 0.5| >= {MIN_C_DIFFERENCE};"
        " none: neither (the reference arm has no interaction); size thresholds assumed; a week-4 change (on treatment) is"
        " never called predictive",
        "cutpoint_warning": cutpoints.CUTPOINT_WARNING,
        "n_by_arm": {arm: int((frame["arm"] == arm).sum()) for arm in arms},
    }
    return Evaluation(entries, panel_list, meta)


def evaluate_column(
    frame: pd.DataFrame,
    col: MarkerColumn,
    *,
    arms: tuple[str, ...],
    endpoints: tuple[Endpoint, ...],
    times: tuple[float, ...],
    curve: tuple[float, ...],
    bootstrap: int,
    seed: int,
) -> list[dict[str, Any]]:
    """The entries of one marker column: one per arm and endpoint (kinds are set by the caller)."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, 15, zlib.crc32(col.name.encode())]))
    reference = arms[0]
    entries: list[dict[str, Any]] = []
    response_by_arm: dict[str, Any] = {}
    for arm in arms:
        g = frame[(frame["arm"] == arm) & np.isfinite(frame[col.column])]
        for endpoint in endpoints:
            sub, t, e = _landmark(g, endpoint, col.landmark_month)
            x = sub[col.column].to_numpy(dtype=float)
            risk = col.direction * x
            c = metrics.harrell_c(t, e, risk) if t.size > 1 else metrics.Estimate(math.nan, math.nan, math.nan)
            auc_all = metrics.time_dependent_auc(t, e, risk, [v - col.landmark_month for v in curve]) if t.size > 1 else {}
            auc_t = {f"{v:g}": auc_all.get(v - col.landmark_month, math.nan) for v in times}
            ibs, ibs_ref = metrics.integrated_brier(t, e, risk) if t.size > 1 else (math.nan, math.nan)
            if arm not in response_by_arm:
                responded = responded_of(sub)
                auc = metrics.response_auc(responded, risk, bootstrap=bootstrap, rng=rng)
                youden = cutpoints.youden_cutpoint(responded, risk, bootstrap=bootstrap, rng=rng)
                if youden is not None:
                    youden["cut_value"] = _level_of(col, youden["cut"])
                response_by_arm[arm] = (auc, youden)
            auc, youden = response_by_arm[arm]
            survival_cut = cutpoints.maxstat_cutpoint(t, e, risk, bootstrap=bootstrap, rng=rng)
            if survival_cut is not None:
                survival_cut["cut_value"] = _level_of(col, survival_cut["cut"])
            inter: dict[str, Any] | None = None
            if arm != reference:
                pair = frame[frame["arm"].isin([reference, arm]) & np.isfinite(frame[col.column])]
                psub, pt, pe = _landmark(pair, endpoint, col.landmark_month)
                treated = (psub["arm"] == arm).to_numpy()
                px = psub[col.column].to_numpy(dtype=float)
                try:
                    fit = metrics.interaction(pt, pe, treated, px, psub["patient"].to_numpy())
                    inter = {"hr": fit.hr, "ci_low": fit.ci_low, "ci_high": fit.ci_high, "p": fit.p, "q": math.nan}
                    inter |= {"marker_hr_per_sd": fit.marker_hr, "treatment_hr": fit.treatment_hr, "reference": reference}
                except Exception as exc:  # lifelines convergence failure: reported, not hidden
                    inter = {"hr": math.nan, "ci_low": math.nan, "ci_high": math.nan, "p": math.nan, "q": math.nan}
                    inter |= {"reference": reference, "error": str(exc).splitlines()[0]}
                inter["by_quartile"] = metrics.hr_by_quantile(pt, pe, treated, px)
            entries.append(
                {
                    "marker": col.name,
                    "arm": arm,
                    "endpoint": endpoint,
                    "kind": "none",
                    "c_index": c.as_dict(),
                    "auc_t": auc_t,
                    "interaction_hr": inter,
                    "cutpoint": {"survival": survival_cut, "response": youden},
                    "marker_kind": col.kind,
                    "unit": col.unit,
                    "direction": "higher means higher risk" if col.direction > 0 else "higher means lower risk",
                    "dynamic": col.dynamic,
                    "measured_from": col.measured_from,
                    "landmark_month": col.landmark_month,
                    "n": int(t.size),
                    "n_events": int(e.sum()),
                    "p_prognostic": _p_from_c(c),
                    "q_prognostic": math.nan,
                    "auc_curve": {"month": list(curve), "auc": [auc_all.get(v - col.landmark_month, math.nan) for v in curve]},
                    "ibs": {"marker": ibs, "reference": ibs_ref},
                    "response_auc": None if auc is None else auc.as_dict(),
                }
            )
    return entries


def _classify(entries: list[dict[str, Any]], alpha: float) -> None:
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for m in entries:
        groups.setdefault((m["arm"], m["endpoint"]), []).append(m)
    for group in groups.values():
        for m, q in zip(group, _bh([m["p_prognostic"] for m in group]), strict=True):
            m["q_prognostic"] = q
        inter = [m for m in group if m["interaction_hr"] is not None]
        for m, q in zip(inter, _bh([m["interaction_hr"]["p"] for m in inter]), strict=True):
            m["interaction_hr"]["q"] = q
        for m in group:
            qi = m["interaction_hr"]["q"] if m["interaction_hr"] is not None else math.nan
            hr = m["interaction_hr"]["hr"] if m["interaction_hr"] is not None else math.nan
            c = m["c_index"]["estimate"]
            baseline = m["marker_kind"] != "change"  # an on-treatment change is not a predictive marker
            if baseline and math.isfinite(qi) and qi < alpha and abs(math.log(hr)) >= math.log(MIN_INTERACTION_HR):
                m["kind"] = "predictive"
            elif math.isfinite(m["q_prognostic"]) and m["q_prognostic"] < alpha and abs(c - 0.5) >= MIN_C_DIFFERENCE:
                m["kind"] = "prognostic"


def _panels(
    frame: pd.DataFrame,
    columns: Sequence[MarkerColumn],
    arms: Sequence[str],
    endpoints: Sequence[Endpoint],
    seed: int,
    mapper: Mapper | None = None,
) -> list[dict[str, Any]]:
    names = [c.column for c in columns if c.kind == "baseline"]
    if len(names) < 2:
        return []
    subsets = [frame[frame["arm"] == arm].dropna(subset=names) for arm in arms]
    work = partial(arm_panels, names=tuple(names), endpoints=tuple(endpoints), seed=seed)
    return [p for part in (mapper or map)(work, subsets) for p in part]


def arm_panels(g: pd.DataFrame, *, names: tuple[str, ...], endpoints: tuple[Endpoint, ...], seed: int) -> list[dict[str, Any]]:
    """The panels of one arm's rows: an elastic-net Cox per endpoint and an L1-logistic for response."""
    arm = str(g["arm"].iloc[0]) if len(g) else ""
    x = g[list(names)].to_numpy(dtype=float)
    out: list[dict[str, Any]] = []
    for endpoint in endpoints:
        res = panels.cox_panel(x, names, g[f"{endpoint}_month"], g[f"{endpoint}_event"], seed=seed)
        if res is not None:
            out.append({"arm": arm, "endpoint": endpoint, "n": len(g), **res})
    res = panels.logistic_panel(x, names, responded_of(g), seed=seed)
    if res is not None:
        out.append({"arm": arm, "endpoint": "response", "n": len(g), **res})
    return out


def dask_mapper(client: Any) -> Mapper:
    """A :data:`Mapper` that runs each marker as one task on a Dask ``client``'s workers."""

    def run(fn: Callable[[Any], list[dict[str, Any]]], items: list[Any]) -> list[list[dict[str, Any]]]:
        out: list[list[dict[str, Any]]] = client.gather(client.map(fn, items, pure=False))
        return out

    return run


def evaluation_meta(obs: Observations, specs: Sequence[MarkerSpec], skipped: Sequence[Any]) -> dict[str, Any]:
    """The observation side of the metadata: parameters, sample days, LLOQs, missing values, notes."""
    return {
        "observation_parameters": obs.parameters.as_dict(),
        "sample_days": list(obs.days),
        "lloq_cu_per_mL": obs.lloq,
        "missing_and_below_lloq": obs.missing_counts(),
        "static_markers": obs.notes,
        "unmeasurable": [{"marker": u.name, "record": u.record_id, "reason": u.reason} for u in skipped],
        "marker_sources": {s.name: list(s.sources) for s in specs},
        "direction_basis": {s.name: s.direction_basis for s in specs},
        "below_lloq_handling": "a measurement below the LLOQ is set to LLOQ/2 (and counted in missing_and_below_lloq)",
        "missing_handling": "samples after death are missing; a patient without the marker value is left out of that "
        "marker's analysis; the week-4 change is analysed from a landmark at week 4",
    }
