"""The statistics against the libraries and against data with known answers."""

from __future__ import annotations

import numpy as np
import pytest
from lifelines.statistics import logrank_test
from sklearn.metrics import roc_auc_score, roc_curve
from sksurv.metrics import concordance_index_censored

from exoresist.biomarkers import cutpoints, metrics, panels
from exoresist.cohort.survival import cox_hazard_ratio
from tests.biomarkers.synthetic import survival


@pytest.fixture(params=[1, 2, 3])
def seed(request: pytest.FixtureRequest) -> int:
    return int(request.param)


def _tied(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Times, events and a risk score with ties in all three (rounded), censorings at event times."""
    risk = np.round(rng.standard_normal(n), 1)
    t, e = survival(rng, 0.7 * risk)
    return np.round(t), e, risk


def test_marker_equal_to_event_time_gives_c_of_1_and_noise_about_half(seed: int) -> None:
    rng = np.random.default_rng(seed)
    t, e = survival(rng, np.zeros(800))
    perfect = metrics.harrell_c(t, e, -t)  # a marker equal to the event time, read as protective
    assert perfect.estimate == 1.0
    noise = metrics.harrell_c(t, e, rng.standard_normal(t.size))
    assert abs(noise.estimate - 0.5) < 0.06
    assert noise.ci_low < noise.estimate < noise.ci_high


def test_concordance_kernel_equals_scikit_survival_with_ties(seed: int) -> None:
    t, e, r = _tied(np.random.default_rng(seed), 300)
    c, _ = metrics.concordance_ij(t, e, r)
    assert c == pytest.approx(concordance_index_censored(e, t, r)[0], abs=1e-12)


def test_jackknife_se_matches_the_bootstrap_of_scikit_survival() -> None:
    rng = np.random.default_rng(5)
    t, e, r = _tied(rng, 250)
    _, se = metrics.concordance_ij(t, e, r)
    boot = [concordance_index_censored(e[i], t[i], r[i])[0] for i in rng.integers(0, t.size, (300, t.size))]
    assert se == pytest.approx(np.std(boot, ddof=1), rel=0.25)


def test_logrank_scan_equals_lifelines_at_every_cut(seed: int) -> None:
    t, e, r = _tied(np.random.default_rng(seed), 200)
    cuts = np.quantile(r, [0.2, 0.5, 0.8])
    high = r[None, :] > cuts[:, None]
    chi2, log_hr = metrics.logrank_scan(t, e, high)
    for k in range(cuts.size):
        g = high[k]
        expected = logrank_test(t[g], t[~g], event_observed_A=e[g], event_observed_B=e[~g]).test_statistic
        assert chi2[k] == pytest.approx(expected, rel=1e-9)
        cox = cox_hazard_ratio(t, e.astype(float), g.astype(float)).hr
        assert np.sign(log_hr[k]) == np.sign(np.log(cox))  # the one-step HR points the way the Cox HR does


def test_rank_auc_and_youden_thresholds_equal_scikit_learn(seed: int) -> None:
    rng = np.random.default_rng(seed)
    y = rng.random(300) < 0.4
    score = np.round(rng.standard_normal(300) + y, 1)
    assert metrics.rank_auc(y, score) == pytest.approx(roc_auc_score(y, score), abs=1e-12)
    fpr, tpr, thr = roc_curve(y, score)
    k = int(np.argmax(tpr - fpr))
    assert cutpoints._youden_best(y, score) == pytest.approx((thr[k], (tpr - fpr)[k]))


def test_time_dependent_auc_and_brier_score_know_a_perfect_marker_from_noise(seed: int) -> None:
    rng = np.random.default_rng(seed)
    t, e = survival(rng, np.zeros(600))
    perfect = metrics.time_dependent_auc(t, e, -t, [3.0, 6.0, 12.0])
    assert all(v == pytest.approx(1.0) for v in perfect.values())
    noise = metrics.time_dependent_auc(t, e, rng.standard_normal(t.size), [6.0])
    assert abs(noise[6.0] - 0.5) < 0.08
    assert np.isnan(metrics.time_dependent_auc(t, e, -t, [100.0])[100.0])  # after follow-up
    ibs_perfect, ref = metrics.integrated_brier(t, e, -t)
    ibs_noise, ref2 = metrics.integrated_brier(t, e, rng.standard_normal(t.size))
    assert ref == ref2 and ibs_perfect < 0.8 * ref
    assert ibs_noise == pytest.approx(ref, rel=0.05)


def test_response_auc_of_a_separating_marker_is_1() -> None:
    responded = np.r_[np.ones(50, bool), np.zeros(50, bool)]
    risk = np.r_[np.zeros(50), np.ones(50)]  # non-responders have the higher risk
    auc = metrics.response_auc(responded, risk, bootstrap=50, rng=np.random.default_rng(0))
    assert auc is not None and auc.estimate == 1.0
    assert metrics.response_auc(np.ones(10, bool), np.arange(10.0)) is None  # every patient responded
    cut = cutpoints.youden_cutpoint(responded, risk, bootstrap=30, rng=np.random.default_rng(0))
    assert cut is not None and cut["youden_apparent"] == 1.0 and cut["sensitivity"] == 1.0


def test_maxstat_finds_a_step_and_corrects_its_optimism(seed: int) -> None:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(500)
    t, e = survival(rng, np.log(3.0) * (x > 0))
    step = cutpoints.maxstat_cutpoint(t, e, x, bootstrap=40, rng=rng)
    assert step is not None
    assert abs(step["cut"]) < 0.35 and step["hr_apparent"] > 2.0
    assert step["p_permutation"] <= 1 / 41 + 1e-12
    noise = cutpoints.maxstat_cutpoint(t, e, rng.standard_normal(t.size), bootstrap=40, rng=rng)
    assert noise is not None
    assert abs(np.log(noise["hr_corrected"])) < abs(np.log(noise["hr_apparent"]))
    assert cutpoints.CUTPOINT_WARNING in noise["warning"]


def test_cox_panel_keeps_the_informative_marker(seed: int) -> None:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((400, 4))
    t, e = survival(rng, 0.9 * x[:, 2])
    res = panels.cox_panel(x, ["a", "b", "c", "d"], t, e, seed=seed)
    assert res is not None
    assert "c" in res["selected"] and res["selected"]["c"] > 0
    assert res["cross_validated"] > 0.6
    assert res["optimism"] == pytest.approx(res["apparent"] - res["cross_validated"])
