"""Trial statistics against lifelines and hand computations: per-arm summaries, comparisons,
replicate figures with prediction intervals, attribution; the fast numpy statistics of the calibration."""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np
import pandas as pd
import pytest
from lifelines import CoxPHFitter, KaplanMeierFitter
from lifelines.statistics import logrank_test

from exoresist.cohort import faststats
from exoresist.cohort.arms import TrialError
from exoresist.cohort.population import DAYS_PER_MONTH, mechanism_records
from exoresist.cohort.statistics import (
    ATTRIBUTION_COLUMNS,
    FIGURES,
    attribution,
    figure_value,
    replicate_figures,
    summarise,
)
from exoresist.kb import KnowledgeBase
from tests.cohort.synthetic import patient_table


def _wilson(k: int, n: int) -> tuple[float, float]:
    z = NormalDist().inv_cdf(0.975)
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return centre - half, centre + half


def _km(t: pd.Series, e: pd.Series) -> KaplanMeierFitter:
    return KaplanMeierFitter().fit(t.to_numpy(), e.to_numpy())


def _cox(a: pd.DataFrame, ref: pd.DataFrame, ep: str) -> float:
    frame = pd.DataFrame(
        {
            "t": np.r_[ref[f"{ep}_month"], a[f"{ep}_month"]],
            "e": np.r_[ref[f"{ep}_event"], a[f"{ep}_event"]].astype(float),
            "g": np.r_[np.zeros(len(ref)), np.ones(len(a))],
        }
    )
    return float(CoxPHFitter().fit(frame, "t", "e").hazard_ratios_["g"])


def test_summarise_counts_and_compares() -> None:
    frame = patient_table()
    arms, comparisons = summarise(frame, ["A", "B"])
    assert [a["arm"] for a in arms] == ["A", "B"]
    a = arms[0]
    g = frame[frame["arm"] == "A"]
    assert a["n"] == 200 and a["n_failed"] == 0
    assert a["pr"] == pytest.approx(0.1) and a["orr"]["estimate"] == pytest.approx(0.1)
    assert (a["orr"]["ci_low"], a["orr"]["ci_high"]) == pytest.approx(_wilson(20, 200))
    assert a["dcr"]["estimate"] == pytest.approx(0.6) and a["sd"] == pytest.approx(0.5) and a["pd"] == pytest.approx(0.4)
    assert a["cr"] + a["pr"] + a["sd"] + a["pd"] + a["ne"] == pytest.approx(1.0)
    assert a["pfs_median_month"]["median"] == pytest.approx(_km(g["pfs_month"], g["pfs_event"]).median_survival_time_)
    assert a["os_median_month"]["median"] == pytest.approx(_km(g["os_month"], g["os_event"]).median_survival_time_)
    responders = g[g["bor"] == "PR"]
    dor = _km(responders["dor_month"], responders["dor_event"]).median_survival_time_
    assert a["dor_median_month"]["median"] == pytest.approx(dor)
    s12 = float(_km(g["os_month"], g["os_event"]).survival_function_at_times(12.0).iloc[0])
    assert a["os_12_month"]["estimate"] == pytest.approx(s12)
    prog = g["progressed"]
    assert a["progression_by_new_lesion"] == pytest.approx(g["progression_by_new_lesion"].sum() / prog.sum())
    assert a["later_line"] == pytest.approx(g["later_line"].sum() / prog.sum())
    assert a["liver_death"] == pytest.approx(0.25)  # every death 75 % tumour-related
    assert arms[0]["pfs_median_month"]["median"] < arms[1]["pfs_median_month"]["median"]
    (c,) = comparisons
    assert c["arm"] == "B" and c["reference"] == "A"
    b = frame[frame["arm"] == "B"]
    assert c["pfs_hr"]["hr"] == pytest.approx(_cox(b, g, "pfs"), rel=1e-6) and c["pfs_hr"]["hr"] < 0.75
    assert c["pfs_hr"]["ci_low"] < c["pfs_hr"]["hr"] < c["pfs_hr"]["ci_high"]
    lr = logrank_test(b["pfs_month"], g["pfs_month"], b["pfs_event"], g["pfs_event"]).p_value
    assert c["pfs_logrank_p"] == pytest.approx(lr) and c["pfs_logrank_p"] < 0.01
    assert c["os_hr"]["hr"] == pytest.approx(_cox(b, g, "os"), rel=1e-6)


def test_summarise_against_another_reference_and_counts_failures() -> None:
    frame = patient_table()
    frame.loc[frame.index[:5], "ok"] = False  # five failed simulations in arm A
    arms, comparisons = summarise(frame, ["A", "B"], reference="B")
    assert arms[0]["n"] == 195 and arms[0]["n_failed"] == 5 and arms[1]["n_failed"] == 0
    (c,) = comparisons
    assert c["arm"] == "A" and c["reference"] == "B" and c["pfs_hr"]["hr"] > 1.3
    with pytest.raises(TrialError, match="arm 'A' has no successfully simulated patient"):
        summarise(frame.assign(ok=frame["arm"] != "A"), ["A", "B"])


def test_no_event_gives_undefined_ratios() -> None:
    frame = patient_table(n=20)
    frame["os_event"] = False
    _, (c,) = summarise(frame, ["A", "B"])
    assert math.isnan(c["os_hr"]["hr"]) and math.isnan(c["os_logrank_p"])
    assert not math.isnan(c["pfs_hr"]["hr"])


def test_figure_value_units() -> None:
    arms, (c,) = summarise(patient_table(), ["A", "B"])
    a = arms[0]
    assert figure_value(a, None, "orr") == pytest.approx(10.0)
    assert figure_value(a, None, "dcr") == pytest.approx(60.0)
    assert figure_value(a, None, "cr") == 0.0 and figure_value(a, None, "ne") == 0.0
    assert figure_value(a, None, "os_12") == pytest.approx(100 * a["os_12_month"]["estimate"])
    assert figure_value(a, None, "pfs_median") == a["pfs_median_month"]["median"]
    assert figure_value(a, None, "dor_median") == a["dor_median_month"]["median"]
    assert figure_value(None, c, "os_hr") == c["os_hr"]["hr"] and figure_value(None, c, "pfs_hr") == c["pfs_hr"]["hr"]


def _replicated(replicates: int, n: int) -> pd.DataFrame:
    """``replicates`` trials of ``n`` patients per arm: patient slots r n .. (r + 1) n - 1."""
    parts = []
    for r in range(replicates):
        t = patient_table(seed=100 + r, n=n)
        parts.append(t.assign(patient=t["patient"] + r * n))
    return pd.concat(parts, ignore_index=True)


def test_replicate_figures_are_the_median_and_90_percent_interval_of_the_trials() -> None:
    """Each figure recomputed per replicate by hand (counts, lifelines KM and Cox), then its median
    and 5th-95th percentiles. Arm B of trial r takes block r + 1 (different patients from arm A)."""
    replicates, n, size_b = 5, 40, 25
    frame = _replicated(replicates, n)
    figures = replicate_figures(frame, ["A", "B"], None, n, replicates, {"A": n, "B": size_b})
    by_key = {(f["figure"], f["arm"]): f for f in figures}
    assert {f["figure"] for f in figures} == set(FIGURES)
    assert by_key[("pfs_hr", "B")]["reference"] == "A" and by_key[("orr", "A")]["reference"] is None
    orr: dict[str, list[float]] = {"A": [], "B": []}
    pfs: dict[str, list[float]] = {"A": [], "B": []}
    hr = []
    for r in range(replicates):
        block = frame[(frame["patient"] >= r * n) & (frame["patient"] < (r + 1) * n)]
        rb = (r + 1) % replicates
        a = block[block["arm"] == "A"]
        b = frame[(frame["arm"] == "B") & (frame["patient"] >= rb * n) & (frame["patient"] < rb * n + size_b)]
        assert len(b) == size_b and not set(a["patient"]) & set(b["patient"])  # arm B: the first 25 of its block
        for label, g in (("A", a), ("B", b)):
            orr[label].append(100.0 * g["bor"].isin(["CR", "PR"]).mean())
            pfs[label].append(_km(g["pfs_month"], g["pfs_event"]).median_survival_time_)
        hr.append(_cox(b, a, "pfs"))
    for label in ("A", "B"):
        f = by_key[("orr", label)]
        assert (f["median"], f["pi_low"], f["pi_high"]) == pytest.approx(tuple(np.quantile(orr[label], [0.5, 0.05, 0.95])))
        f = by_key[("pfs_median", label)]
        assert f["median"] == pytest.approx(np.median(pfs[label]))
        assert f["pi_low"] <= f["median"] <= f["pi_high"] and f["replicates"] == replicates
    f = by_key[("pfs_hr", "B")]
    assert (f["median"], f["pi_low"], f["pi_high"]) == pytest.approx(tuple(np.quantile(hr, [0.5, 0.05, 0.95])), rel=1e-5)
    assert by_key[("orr", "A")]["unit"] == "percent" and by_key[("pfs_median", "A")]["unit"] == "months"


def test_replicate_medians_mostly_not_reached_are_not_reached() -> None:
    frame = _replicated(4, 30)
    frame["os_event"] = frame["patient"] % 30 < 5  # a sixth of the patients die: no median in any trial
    figures = replicate_figures(frame, ["A", "B"], None, 30, 4)
    f = next(f for f in figures if f["figure"] == "os_median" and f["arm"] == "A")
    assert math.isinf(f["median"]) and math.isinf(f["pi_high"])


def _progression_frame(kb: KnowledgeBase) -> tuple[pd.DataFrame, str]:
    rid = mechanism_records(kb)[0]
    frame = patient_table()
    frame[f"contrib:{rid}"] = np.where(frame["progressed"], 0.5, np.nan)
    return frame, rid


def test_attribution_shares(kb: KnowledgeBase) -> None:
    frame, rid = _progression_frame(kb)
    frame["top_mechanism"] = np.where(frame["progressed"], rid, "")
    table = attribution(kb, frame, ["A", "B"])
    assert list(table.columns) == list(ATTRIBUTION_COLUMNS)
    assert set(table["record_id"]) == {rid}  # records without a contribution column do not act
    row = table[(table["arm"] == "A") & (table["record_id"] == rid)].iloc[0]
    assert row["share"] == 1.0 and row["mean_contribution"] == 0.5
    assert row["n_progressing"] == int(frame[(frame["arm"] == "A") & frame["progressed"]].shape[0])
    assert math.isnan(row["ko_share"]) and math.isnan(row["ko_mean_delay_month"])  # the trial ran no knockouts
    # half the progressing patients led by another record: half the share
    other = mechanism_records(kb)[1]
    progressing = frame["progressed"].to_numpy()
    frame["top_mechanism"] = np.where(progressing, np.where(np.cumsum(progressing) % 2 == 0, rid, other), "")
    row = attribution(kb, frame, ["A", "B"]).set_index(["arm", "record_id"]).loc[("A", rid)]
    g = frame[(frame["arm"] == "A") & frame["progressed"]]
    assert row["share"] == pytest.approx((g["top_mechanism"] == rid).mean())


def test_attribution_knockout_share_counts_delays_of_at_least_one_scan(kb: KnowledgeBase) -> None:
    frame, rid = _progression_frame(kb)
    progressing = frame["progressed"].to_numpy()
    # alternate progressing patients: a delay of 2 months (> one 6-week scan), then of 0.5 months
    delays = np.where(np.cumsum(progressing) % 2 == 0, 2.0, 0.5)
    frame[f"ko_delay:{rid}"] = np.where(progressing, delays, np.nan)
    row = attribution(kb, frame, ["A", "B"]).set_index(["arm", "record_id"]).loc[("A", rid)]
    g = frame[(frame["arm"] == "A") & frame["progressed"]]
    assert row["ko_share"] == pytest.approx((g[f"ko_delay:{rid}"] >= 42 / DAYS_PER_MONTH).mean())
    assert row["ko_mean_delay_month"] == pytest.approx(g[f"ko_delay:{rid}"].mean())


# --- the fast statistics of the calibration loop, against lifelines ---------------------------------


def _random_survival(seed: int, n: int = 200, ties: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    group = (rng.random(n) < 0.5).astype(float)
    t = rng.exponential(5.0, n) * np.where(group > 0, 1.6, 1.0)
    censor = rng.uniform(0, 15, n)
    e = t < censor
    t = np.minimum(t, censor)
    return (np.round(t) if ties else t), e, group


@pytest.mark.parametrize("seed", range(6))
def test_fast_km_agrees_with_lifelines(seed: int) -> None:
    for ties in (False, True):
        t, e, _ = _random_survival(seed, ties=ties)
        fitter = KaplanMeierFitter().fit(t, e)
        assert faststats.km_median(t, e) == pytest.approx(fitter.median_survival_time_)
        for at in (0.5, 2.0, 4.0, 9.5):
            assert faststats.km_survival_at(t, e, at) == pytest.approx(float(fitter.survival_function_at_times(at).iloc[0]))


def test_fast_km_median_not_reached() -> None:
    t = np.array([1.0, 2.0, 3.0, 4.0])
    e = np.array([True, False, False, False])
    assert math.isinf(faststats.km_median(t, e))
    assert math.isinf(KaplanMeierFitter().fit(t, e).median_survival_time_)
    assert faststats.km_survival_at(t, e, 0.5) == 1.0


@pytest.mark.parametrize("seed", range(6))
def test_fast_cox_hazard_ratio_agrees_with_lifelines(seed: int) -> None:
    t, e, g = _random_survival(seed)
    lifelines_hr = float(CoxPHFitter().fit(pd.DataFrame({"t": t, "e": e, "g": g}), "t", "e").hazard_ratios_["g"])
    assert faststats.cox_hr(t, e, g) == pytest.approx(lifelines_hr, rel=1e-4)  # no ties: the same estimator
    t, e, g = _random_survival(seed, ties=True)  # whole months: many ties, Breslow against Efron
    lifelines_hr = float(CoxPHFitter().fit(pd.DataFrame({"t": t, "e": e, "g": g}), "t", "e").hazard_ratios_["g"])
    assert faststats.cox_hr(t, e, g) == pytest.approx(lifelines_hr, rel=0.06)


def test_fast_cox_undefined_cases() -> None:
    t = np.array([1.0, 2.0, 3.0])
    assert math.isnan(faststats.cox_hr(t, np.zeros(3, bool), np.array([0.0, 1.0, 1.0])))  # no event
    assert math.isnan(faststats.cox_hr(t, np.ones(3, bool), np.ones(3)))  # one arm only
