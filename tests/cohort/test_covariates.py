"""Baseline covariates: Gaussian-copula draws to the IMbrave150 table, user targets from CSV."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from exoresist.cohort.covariates import (
    CATEGORICAL,
    IMBRAVE150,
    N_FACTORS,
    NUMERIC,
    BaselineError,
    Covariates,
    baseline_comparison,
    draw_covariates,
    read_baseline_csv,
)
from exoresist.cohort.population import CohortParameters, draw_candidates
from exoresist.kb import KnowledgeBase

N = 6000


@pytest.fixture(scope="module")
def drawn(kb: KnowledgeBase) -> Covariates:
    """Covariates of a large sample of candidates, drawn as trial patients are (each its own stream)."""
    return draw_candidates(kb, CohortParameters(), 5, range(N), np.zeros(N)).covariates


def _within_sampling_error(share: float, target: float, n: int, k: float = 4.5) -> bool:
    return abs(share - target) <= k * math.sqrt(target * (1 - target) / n) + 1e-12


def test_drawn_shares_match_the_imbrave150_table(drawn: Covariates) -> None:
    """Every level of every factor within 4.5 binomial standard errors of its target share."""
    assert drawn.n == N
    for factor, levels in CATEGORICAL.items():
        assert set(np.unique(drawn.levels[factor])) <= set(levels)
        for level in levels:
            share = float(drawn.flag(factor, level).mean())
            target = IMBRAVE150.share(factor, level)
            assert _within_sampling_error(share, target, N), (factor, level, share, target)


def test_drawn_means_and_derived_shares(drawn: Covariates) -> None:
    values = drawn.values
    assert values["age_years"].mean() == pytest.approx(IMBRAVE150.means["age_years"].share, abs=0.5)
    assert values["albi_score"].mean() == pytest.approx(IMBRAVE150.means["albi_score"].share, abs=0.02)
    assert values["baseline_sld_mm"].mean() == pytest.approx(IMBRAVE150.means["baseline_sld_mm"].share, rel=0.03)
    assert values["baseline_sld_mm"].min() >= 10.0 and values["baseline_sld_mm"].max() <= 300.0
    # ALBI grade 1 (score <= -2.60) in 191 of 336 and 87 of 165 IMbrave150 patients (Kudo et al. 2023)
    assert _within_sampling_error(float(drawn.albi_grade_1().mean()), (191 + 87) / 500, N)
    # BCLC C in 276 of 336 and 133 of 165; the EHS share is derived assuming independent MVI, EHS and
    # ECOG, which the latent correlation between MVI and EHS (-0.1) slightly breaks
    assert float(drawn.bclc_c().mean()) == pytest.approx((276 + 133) / 501, abs=0.02)


def test_latent_correlations_have_their_clinical_signs(drawn: Covariates) -> None:
    albi = drawn.values["albi_score"]
    a6 = drawn.levels["child_pugh"] == "A6"
    assert albi[a6].mean() > albi[~a6].mean() + 0.3  # worse liver function with Child-Pugh A6
    asia = drawn.levels["region"] == "asia_excl_japan"
    assert (drawn.levels["aetiology"][asia] == "hbv").mean() > (drawn.levels["aetiology"][~asia] == "hbv").mean() + 0.2
    mvi = drawn.levels["mvi"] == "yes"
    assert (drawn.levels["afp_ge_400"][mvi] == "yes").mean() > (drawn.levels["afp_ge_400"][~mvi] == "yes").mean()
    sld = drawn.values["baseline_sld_mm"]
    assert np.median(sld[drawn.n_lesions() >= 3]) > np.median(sld[drawn.n_lesions() == 1])


def test_draw_covariates_checks_the_shape() -> None:
    with pytest.raises(ValueError, match=f"shape \\(n, {N_FACTORS}\\)"):
        draw_covariates(np.zeros((3, N_FACTORS - 1)))


def test_columns_round_trip() -> None:
    cov = draw_covariates(np.random.default_rng(0).standard_normal((7, N_FACTORS)))
    cols = cov.columns()
    assert set(cols) == {f"cov:{f}" for f in (*CATEGORICAL, *NUMERIC)}
    back = Covariates.from_columns(cols)
    for f in CATEGORICAL:
        assert back.levels[f].tolist() == cov.levels[f].tolist()
    for f in NUMERIC:
        assert back.values[f].tolist() == cov.values[f].tolist()


def _csv(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "baseline.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_baseline_csv_overrides_change_the_drawn_shares(kb: KnowledgeBase, tmp_path: Path) -> None:
    """ECOG 0 at 90 % (percentages), an older cohort, MVI at 10 % (shares); the rest as IMbrave150."""
    path = _csv(tmp_path, "factor,level,value\necog,0,90\necog,1,10\nmvi,no,0.9\nmvi,yes,0.1\nage_years,,71\n")
    user = read_baseline_csv(path)
    assert user.share("ecog", "0") == pytest.approx(0.9) and user.means["age_years"].share == 71.0
    target = IMBRAVE150.with_overrides(user)
    assert target.share("ecog", "1") == pytest.approx(0.1) and target.share("mvi", "yes") == pytest.approx(0.1)
    assert target.share("sex", "male") == IMBRAVE150.share("sex", "male")  # not named: unchanged
    assert target.means["albi_score"] == IMBRAVE150.means["albi_score"]
    assert "baseline.csv" in target.name and target.shares["ecog"]["0"].source == "user table baseline.csv"
    n = 3000
    cov = draw_candidates(kb, CohortParameters(), 5, range(n), np.zeros(n), target=target).covariates
    assert _within_sampling_error(float(cov.flag("ecog", "0").mean()), 0.9, n)
    assert _within_sampling_error(float(cov.flag("mvi", "yes").mean()), 0.1, n)
    assert _within_sampling_error(float(cov.flag("sex", "male").mean()), IMBRAVE150.share("sex", "male"), n)
    assert cov.values["age_years"].mean() == pytest.approx(71.0, abs=0.7)
    default = draw_candidates(kb, CohortParameters(), 5, range(n), np.zeros(n)).covariates
    assert cov.flag("ecog", "0").mean() > default.flag("ecog", "0").mean() + 0.2


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("factor,level\necog,0\n", "needs the columns factor, level, value"),
        ("", "needs the columns factor, level, value"),
        ("factor,level,value\necog,0,0.6\necog,1,abc\n", ":3: value 'abc' is not a number"),
        ("factor,level,value\necog,0,inf\necog,1,0.4\n", ":2: value must be finite"),
        ("factor,level,value\necog,2,0.6\n", ":2: unknown level '2' of ecog (levels: 0, 1)"),
        ("factor,level,value\nmvi,no,0.6\nweight,,70\n", ":3: unknown factor 'weight'"),
        ("factor,level,value\necog,0,-0.1\necog,1,1.1\n", ":2: a share cannot be negative"),
        ("factor,level,value\naetiology,hbv,0.5\naetiology,hcv,0.5\n", "factor aetiology lacks the level(s) non_viral"),
        ("factor,level,value\nsex,female,0.3\nsex,male,0.3\n", "the shares of sex sum to 0.6, not 1 (or 100)"),
    ],
)
def test_bad_baseline_csv_is_a_one_line_error_naming_the_row(tmp_path: Path, text: str, message: str) -> None:
    path = _csv(tmp_path, text)
    with pytest.raises(BaselineError) as info:
        read_baseline_csv(path)
    assert message in str(info.value)
    assert str(info.value).startswith(str(path)) and "\n" not in str(info.value)


def test_unreadable_baseline_csv(tmp_path: Path) -> None:
    with pytest.raises(BaselineError, match="cannot read the baseline table"):
        read_baseline_csv(tmp_path / "missing.csv")
    bad = tmp_path / "latin1.csv"
    bad.write_bytes("factor,level,value\nsex,f\xe9male,1\n".encode("latin-1"))
    with pytest.raises(BaselineError, match="cannot read"):
        read_baseline_csv(bad)


def test_baseline_comparison_rows(drawn: Covariates, tmp_path: Path) -> None:
    rows = baseline_comparison(drawn, IMBRAVE150)
    by_key = {(r["factor"], r["level"]): r for r in rows}
    assert len(rows) == sum(len(v) for v in CATEGORICAL.values()) + len(NUMERIC) + 2
    row = by_key[("ecog", "1")]
    assert row["simulated"] == pytest.approx(float(np.mean(drawn.levels["ecog"] == "1")))
    assert row["target"] == 0.38 and row["kind"] == "share" and row["source"]
    age = by_key[("age_years", "mean")]
    assert age["simulated"] == pytest.approx(float(drawn.values["age_years"].mean())) and age["kind"] == "mean"
    assert by_key[("albi_grade_1", "yes")]["target"] == pytest.approx(278 / 500)
    # a user target has no ALBI-grade or BCLC figure of its own
    user = IMBRAVE150.with_overrides(read_baseline_csv(_csv(tmp_path, "factor,level,value\nsex,female,50\nsex,male,50\n")))
    user_rows = {(r["factor"], r["level"]): r for r in baseline_comparison(drawn, user)}
    assert user_rows[("sex", "female")]["target"] == 0.5
    assert math.isnan(user_rows[("albi_grade_1", "yes")]["target"]) and math.isnan(user_rows[("bclc_c", "yes")]["target"])
