"""Calibration targets, error terms and loss, the fast table, the check's trial configurations and
comparison, the markdown report and the shipped fit."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from exoresist.cohort import calibration as cal
from exoresist.cohort.config import TrialConfig
from exoresist.cohort.disease import LATER_LINE_SHARES, DiseaseParameters
from exoresist.cohort.endpoints import endpoints
from exoresist.cohort.faststats import cox_hr, km_median
from exoresist.cohort.population import COHORT_PARAMETERS
from exoresist.cohort.result import ReplicateFigure
from exoresist.cohort.runner import TrialRun
from exoresist.cohort.statistics import summarise
from exoresist.kb import KnowledgeBase
from tests.cohort.synthetic import patient_table

PACKAGED = Path(cal.__file__).parent / "data" / "calibration_trials.csv"
SHARED = Path(__file__).resolve().parents[3] / "shared" / "data" / "calibration_trials.csv"
DOC = Path(__file__).resolve().parents[2] / "docs" / "calibration.md"
NUMERIC = ["os_median_months", "os_hr_vs_control", "pfs_or_ttp_median_months", "pfs_hr_vs_control", "orr_percent"]
NUMERIC += ["cr_percent", "dcr_percent"]


def test_every_published_number_is_a_target() -> None:
    ts = cal.targets()
    frame = pd.read_csv(PACKAGED)
    assert len(ts) == int(frame[NUMERIC].notna().sum().sum())
    by_key = {(t.trial, t.arm, t.endpoint): t for t in ts}
    assert len(by_key) == len(ts)
    assert by_key[("SHARP", "sorafenib", "ttp_median")].published == 5.5
    assert by_key[("SHARP", "sorafenib", "os_hr")].reference == "placebo"
    assert by_key[("IMbrave150", "atezolizumab+bevacizumab", "pfs_hr")].reference == "sorafenib"
    assert by_key[("IMbrave150", "atezolizumab+bevacizumab", "orr")].unit == "percent"
    assert (
        by_key[("IMbrave150", "sorafenib", "os_median")].n == 165
        and "Finn" in by_key[("IMbrave150", "sorafenib", "os_median")].source
    )
    assert {t.arm for t in ts} == set(cal.CALIBRATION_ARMS)
    assert all(t.line == 1 and t.later_line_share is None for t in ts)


@pytest.mark.skipif(not SHARED.is_file(), reason="the project's shared data folder is not beside the repository")
def test_shipped_table_is_the_shared_one() -> None:
    assert PACKAGED.read_bytes() == SHARED.read_bytes()


def test_targets_from_a_user_table() -> None:
    frame = pd.DataFrame(
        [
            {"trial": "T", "arm": "new drug", "n": 50, "line": 2, "later_line_share": 0.3, "os_median_months": 9.0,
             "os_hr_vs_control": 0.8, "pfs_or_ttp_median_months": 3.0, "pfs_measure": "PFS", "pfs_hr_vs_control": None,
             "orr_percent": 10.0, "cr_percent": None, "dcr_percent": None, "source": "paper"},
            {"trial": "T", "arm": "old drug", "n": 40, "line": 2, "later_line_share": 0.3, "os_median_months": 7.0,
             "os_hr_vs_control": None, "pfs_or_ttp_median_months": None, "pfs_measure": "PFS", "pfs_hr_vs_control": None,
             "orr_percent": None, "cr_percent": None, "dcr_percent": None, "source": "paper"},
        ]
    )  # fmt: skip
    ts = cal.targets_from_table(frame, lambda text: text.replace(" ", "-"))
    assert [(t.arm, t.endpoint, t.published) for t in ts] == [
        ("new-drug", "os_median", 9.0),
        ("new-drug", "pfs_median", 3.0),
        ("new-drug", "orr", 10.0),
        ("new-drug", "os_hr", 0.8),
        ("old-drug", "os_median", 7.0),
    ]
    hr = ts[3]
    assert hr.reference == "old-drug" and hr.unit == "ratio" and hr.n == 50 and hr.line == 2 and hr.later_line_share == 0.3


def test_error_terms_and_tolerance() -> None:
    months = cal.Target("T", "sorafenib", "os_median", "months", 10.0)
    rate = cal.Target("T", "sorafenib", "orr", "percent", 20.0)
    assert cal.error_term(months, 10.0) == 0.0
    assert cal.error_term(months, 20.0) == pytest.approx(math.log(2) / math.log(1.2))
    assert cal.error_term(months, 5.0) == pytest.approx(-math.log(2) / math.log(1.2))
    assert cal.error_term(months, 12.0) == pytest.approx(1.0)  # a miss of exactly the tolerance counts 1
    assert cal.error_term(rate, 30.0) == pytest.approx(2.0)
    assert cal.error_term(rate, 15.0) == pytest.approx(-1.0)
    assert cal.error_term(months, float("inf")) == 15.0
    assert cal.within_tolerance(months, 12.0) and not cal.within_tolerance(months, 12.01)
    assert cal.within_tolerance(months, 8.0) and not cal.within_tolerance(months, float("inf"))
    assert cal.within_tolerance(rate, 25.0) and not cal.within_tolerance(rate, 25.5)


def test_loss_leaves_out_the_figures_not_fitted() -> None:
    ts = cal.targets()
    rng = np.random.default_rng(3)
    simulated = [t.published * float(rng.uniform(0.5, 1.5)) for t in ts]
    table = pd.DataFrame({"simulated": simulated})
    expected = sum(
        cal.error_term(t, s) ** 2
        for t, s in zip(ts, simulated, strict=True)
        if (t.trial, t.arm, t.endpoint) not in cal.NOT_FITTED
    )
    assert cal.loss(table, ts) == pytest.approx(expected)
    assert {(t.trial, t.arm, t.endpoint) for t in ts} >= cal.NOT_FITTED
    everything = sum(cal.error_term(t, s) ** 2 for t, s in zip(ts, simulated, strict=True))
    assert cal.loss(table, ts) < everything


def test_fast_table_on_a_small_population(kb: KnowledgeBase) -> None:
    """Every target's simulated value, recomputed from the population's endpoints with each trial's
    era (no later line in SHARP, a fifth in IMbrave150)."""
    cohort = cal.calibrated_cohort()
    pop = cal.simulate_population(kb, cohort, patients=12, seed=4)
    assert set(pop.trajectories) == set(cal.CALIBRATION_ARMS) and pop.trajectories["placebo"].n == 12
    table = cal.fast_table(pop, cohort)
    ts = cal.targets()
    assert len(table) == len(ts) and table["published"].tolist() == [t.published for t in ts]
    disease = DiseaseParameters.from_cohort(cohort.as_dict())

    def frame(trial: str, arm: str) -> pd.DataFrame:
        share = cal.NO_ASSESSMENT.get((trial, arm), 0.0)  # IMbrave150's arms withdraw their published share
        f = endpoints(pop.trajectories[arm], disease, LATER_LINE_SHARES[cal.TRIAL_ERA[trial]][0], share)
        return f[f["ok"]]

    for t, row in zip(ts, table.to_dict(orient="records"), strict=True):
        f = frame(t.trial, t.arm)
        if t.endpoint in ("orr", "cr", "dcr"):
            good = {"orr": ["CR", "PR"], "cr": ["CR"], "dcr": ["CR", "PR", "SD"]}[t.endpoint]
            expected = 100.0 * f["bor"].isin(good).mean()
        elif t.endpoint.endswith("_median"):
            ep = t.endpoint.removesuffix("_median")
            expected = km_median(f[f"{ep}_month"].to_numpy(), f[f"{ep}_event"].to_numpy())
        else:
            ep = t.endpoint.removesuffix("_hr")
            r = frame(t.trial, t.reference or "")
            both = pd.concat([r, f])
            expected = cox_hr(
                both[f"{ep}_month"].to_numpy(), both[f"{ep}_event"].to_numpy(), np.r_[np.zeros(len(r)), np.ones(len(f))]
            )
        assert row["simulated"] == pytest.approx(expected, nan_ok=True), (t.trial, t.arm, t.endpoint)
        assert row["within_tolerance"] == cal.within_tolerance(t, row["simulated"])
        assert not row["inside_pi"]  # no interval on one population
    assert math.isfinite(cal.loss(table))


def test_trial_configs_follow_the_published_trials(kb: KnowledgeBase) -> None:
    cohort = cal.calibrated_cohort()
    configs = cal.trial_configs(cohort, cal.targets(), replicates=3, seed=9)
    assert list(configs) == ["SHARP", "IMbrave150"]
    sharp, imbrave = configs["SHARP"], configs["IMbrave150"]
    assert set(sharp.arms) == {"sorafenib", "placebo"} and sharp.reference == "placebo"
    assert sharp.arm_size("sorafenib") == 299 and sharp.arm_size("placebo") == 303 and sharp.patients == 303
    assert sharp.later_line == 0.0  # SHARP enrolled before any later line was approved
    assert imbrave.reference == "sorafenib" and imbrave.later_line == LATER_LINE_SHARES["modern"][0]
    assert imbrave.arm_size("atezolizumab+bevacizumab") == 336 and imbrave.arm_size("sorafenib") == 165
    for config in configs.values():
        assert config.replicates == 3 and config.seed == 9 and config.cohort == cohort and config.population == "first-line"
        config.validate(kb)
    small = [cal.Target("S", "sorafenib", "orr", "percent", 5.0, n=4, line=2, later_line_share=0.5)]
    (only,) = cal.trial_configs(cohort, small, replicates=2, seed=1).values()
    assert only.population == "post-sorafenib" and only.patients == 10 and only.later_line == 0.5  # at least 10 patients


def _run(config: TrialConfig, replicates: list[ReplicateFigure], frame: pd.DataFrame) -> TrialRun:
    arms, comparisons = summarise(frame, list(config.arms))
    return TrialRun(config, frame, arms, comparisons, pd.DataFrame(), replicates=replicates)


def test_compare_runs_reads_replicate_figures_or_the_single_trial() -> None:
    frame = patient_table(n=60)
    config = TrialConfig(("A", "B"))
    figure: ReplicateFigure = {
        "figure": "pfs_hr", "label": "PFS hazard ratio", "unit": "ratio", "arm": "B", "reference": "A",
        "median": 0.62, "pi_low": 0.5, "pi_high": 0.8, "replicates": 5,
    }  # fmt: skip
    ts = [
        cal.Target("R", "B", "pfs_hr", "ratio", 0.59, reference="A"),
        cal.Target("S", "A", "orr", "percent", 12.0),
        cal.Target("S", "B", "pfs_hr", "ratio", 0.9, reference="A"),
    ]
    runs = {"R": _run(config, [figure], frame), "S": _run(config, [], frame)}
    table = cal.compare_runs(runs, ts)
    r0, r1, r2 = table.to_dict(orient="records")
    assert r0["simulated"] == 0.62 and (r0["pi_low"], r0["pi_high"]) == (0.5, 0.8) and r0["inside_pi"]
    assert r0["within_tolerance"] and r0["error"] == pytest.approx(0.62 - 0.59)
    assert r1["simulated"] == pytest.approx(10.0) and math.isnan(r1["pi_low"]) and not r1["inside_pi"]
    assert r2["simulated"] == pytest.approx(runs["S"].comparisons[0]["pfs_hr"]["hr"])


def _table(ts: list[cal.Target]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "trial": t.trial, "arm": t.arm, "endpoint": t.endpoint, "unit": t.unit, "published": t.published,
                "simulated": t.published * 1.1, "pi_low": t.published * 0.8, "pi_high": t.published * 1.3,
                "error": t.published * 0.1, "within_tolerance": t.unit != "percent", "inside_pi": True,
                "reference": t.reference or "", "n": t.n, "source": t.source,
            }
            for t in ts
        ]
    )  # fmt: skip


def test_markdown_lists_every_target() -> None:
    ts = cal.targets()
    table = _table(ts)
    text = cal.markdown(table, None, "calibration.png", 20)
    assert text.count("\n| SHARP |") + text.count("\n| IMbrave150 |") == len(ts)
    assert "| SHARP | sorafenib vs placebo | OS hazard ratio (ratio) | 0.69 | 0.759 | 0.552 - 0.897 | yes | yes |" in text
    n_tol = int(table["within_tolerance"].sum())
    assert f"**{n_tol} of {len(ts)} figures within tolerance; {len(ts)} of {len(ts)} published figures inside the" in text
    assert "No fit has been made" in text and "20 virtual trials" in text
    assert "![simulated against published](calibration.png)" in text
    misfits = [line for line in text.splitlines() if line.startswith("- ")]
    assert len(misfits) == len(ts) - n_tol  # every figure out of tolerance is named


def _fit_lines(record: dict[str, Any]) -> list[str]:
    priors = {p.name: p for p in COHORT_PARAMETERS}
    return [
        f"| `{n}` | {record['start'][n]:.4g} | {v:.4g} | {priors[n].low:g} - {priors[n].high:g} | {priors[n].description} |"
        for n, v in record["values"].items()
    ]


def test_shipped_fit_is_complete_and_in_use() -> None:
    record = cal.fit_record()
    assert record is not None, "no calibration has been shipped (src/exoresist/cohort/data/calibrated.json)"
    assert set(record["values"]) == set(cal.FITTED) == set(record["start"])
    assert cal.calibrated_cohort().as_dict() | record["values"] == cal.calibrated_cohort().as_dict()
    priors = {p.name: p for p in COHORT_PARAMETERS}
    for name, value in record["values"].items():
        assert priors[name].low <= value <= priors[name].high, name
    text = cal.markdown(_table(cal.targets()), record)
    for line in _fit_lines(record):
        assert line in text
    assert f"Fit of {record['date']}: {record['evaluations']} evaluations" in text


def test_shipped_fit_is_documented() -> None:
    """docs/calibration.md is what :func:`calibration.markdown` writes for the shipped fit: every
    fitted value and every target."""
    record = cal.fit_record()
    assert record is not None
    doc = DOC.read_text()
    assert "Generated by `exoresist trial calibrate --check -o docs/calibration.md`" in doc
    for line in _fit_lines(record):
        assert line in doc, f"docs/calibration.md is stale: {line}"
    for t in cal.targets():
        ref = f" vs {t.reference}" if t.reference else ""
        row = f"| {t.trial} | {t.arm}{ref} | {cal.FIGURE_LABELS[t.endpoint]} ({t.unit}) | {t.published:g} |"
        assert row in doc, f"docs/calibration.md lacks {row}"


def test_cli_fits_on_the_documented_population_size() -> None:
    """`trial calibrate --fit` without --patients refits on the shipped fit's population size."""
    import inspect

    from exoresist.cli.trial import calibrate_command

    default = inspect.signature(calibrate_command).parameters["patients"].default
    assert default == cal.DEFAULT_PATIENTS == cal.fit_record()["patients_per_arm"]  # type: ignore[index]


def test_imbrave150_arms_withdraw_their_unassessed_share_and_sharp_none() -> None:
    """The IMbrave150 arms leave their published share without an on-study assessment to
    withdrawal before the first scan; SHARP (figure not found) withdraws no one."""
    configs = cal.trial_configs(cal.calibrated_cohort(), cal.targets(), replicates=2, seed=1)
    imbrave, sharp = configs["IMbrave150"], configs["SHARP"]
    assert imbrave.withdrawal("sorafenib") == pytest.approx(32 / 159)
    assert imbrave.withdrawal("atezolizumab+bevacizumab") == pytest.approx(0.067)
    assert sharp.withdrawal_shares is None and sharp.withdrawal("sorafenib") == 0.0
    assert ("IMbrave150", "sorafenib", "dcr") not in cal.NOT_FITTED
