"""Virtual patients: cohort parameters, vectorised draws, plausibility and selection."""

from __future__ import annotations

import math

import numpy as np
import pytest

from exoresist.cohort.covariates import IMBRAVE150
from exoresist.cohort.population import (
    BURN_IN_DAY,
    COHORT_PARAMETERS,
    GROWTH_COVARIATE_LOG_EFFECTS,
    MAX_SCANS,
    NATHANI_GROWTH_MIX,
    PRIOR_DRAWN,
    SCAN_WINDOW_DAY,
    STREAM_PILOT,
    TVDT_BOUNDS_DAY,
    CohortParameters,
    PopulationError,
    draw_candidates,
    inclusion_probabilities,
    mechanism_records,
    plausible,
    select_patients,
    strength_names,
    sum_of_diameters,
    tvdt_category,
)
from exoresist.kb import KnowledgeBase
from exoresist.model.assemble import INITIAL_STATE_PARAMETERS, STRENGTH_PRIOR, strength_param
from exoresist.model.drugs import all_parameters


def test_cohort_parameters_reject_unknown_and_negative() -> None:
    with pytest.raises(PopulationError, match="unknown cohort parameter 'growth'"):
        CohortParameters({"growth": 1.0})
    with pytest.raises(PopulationError, match="death_liver_per_month"):
        CohortParameters({"death_liver_per_month": -0.1})
    with pytest.raises(PopulationError, match="growth_sigma must be a finite number"):
        CohortParameters({"growth_sigma": float("nan")})
    defaults = {p.name: p.default for p in COHORT_PARAMETERS}
    assert CohortParameters()["growth_sigma"] == defaults["growth_sigma"]
    assert CohortParameters().as_dict() == defaults
    moved = CohortParameters().replace(t_kill_scale=2.0)
    assert moved["t_kill_scale"] == 2.0 and moved["growth_sigma"] == defaults["growth_sigma"]
    with pytest.raises(KeyError):
        CohortParameters()["no_such_parameter"]


def test_every_cohort_parameter_default_lies_in_its_prior() -> None:
    for p in COHORT_PARAMETERS:
        assert p.low <= p.default <= p.high, p.name
        assert p.source, p.name


def test_model_overrides_scale_the_model_defaults() -> None:
    kill = next(p.default for p in all_parameters() if p.name == "k_t_kill_per_day")
    over = CohortParameters({"t_kill_scale": 0.5, "growth_median_per_day": 0.006}).model_overrides()
    assert over["k_t_kill_per_day"] == pytest.approx(0.5 * kill)
    assert over["k_growth_patient_per_day"] == 0.006


def test_draws_depend_only_on_seed_slot_and_attempt(kb: KnowledgeBase) -> None:
    cohort = CohortParameters()
    batch = draw_candidates(kb, cohort, 7, [2, 3, 9], [0, 0, 4])
    alone = draw_candidates(kb, cohort, 7, [3], [0])
    late = draw_candidates(kb, cohort, 7, [9], [4])
    for name, values in batch.params.items():  # the same patient whatever else is drawn with it
        assert values[1] == alone.params[name][0] and values[2] == late.params[name][0], name
    for name, values in batch.randoms.items():
        assert np.array_equal(values[1], alone.randoms[name][0]), name
    for f, levels in batch.covariates.levels.items():
        assert levels[1] == alone.covariates.levels[f][0]
    g = "k_growth_patient_per_day"
    assert draw_candidates(kb, cohort, 7, [4], [0]).params[g][0] != alone.params[g][0]
    assert draw_candidates(kb, cohort, 7, [3], [1]).params[g][0] != alone.params[g][0]
    assert draw_candidates(kb, cohort, 8, [3], [0]).params[g][0] != alone.params[g][0]
    assert draw_candidates(kb, cohort, 7, [3], [0], stream=STREAM_PILOT).params[g][0] != alone.params[g][0]
    for rid in mechanism_records(kb):
        assert strength_param(rid) in alone.params
    assert strength_names(kb) == tuple(strength_param(r) for r in mechanism_records(kb))
    assert batch.slots.tolist() == [2, 3, 9] and batch.attempts.tolist() == [0, 0, 4]


def test_cargo_expression_is_heterogeneous(kb: KnowledgeBase) -> None:
    cohort = CohortParameters({"p_cargo_expressed": 0.5})
    draws = draw_candidates(kb, cohort, 1, range(400), np.zeros(400))
    names = strength_names(kb)
    values = draws.params[names[0]]
    share = float(np.mean(values > 0))
    assert 0.4 < share < 0.6  # Bernoulli(0.5) expression over 400 tumours
    expressed = values[values > 0]
    lo, hi = STRENGTH_PRIOR
    assert expressed.min() >= lo and expressed.max() <= hi and np.ptp(np.log(expressed)) > 0.6 * math.log(hi / lo)
    # each record is expressed independently of the others
    both = np.mean((draws.params[names[0]] > 0) & (draws.params[names[1]] > 0))
    assert both == pytest.approx(0.25, abs=0.07)
    none = CohortParameters({"p_cargo_expressed": 0.0})
    assert all((draw_candidates(kb, none, 1, range(50), np.zeros(50)).params[n] == 0).all() for n in names)


def test_growth_draws_follow_the_cohort_median(kb: KnowledgeBase) -> None:
    """log growth = log median + sigma z + covariate effects: the residual after the (assumed)
    AFP and MVI effects has the cohort's median and log-SD."""
    cohort = CohortParameters({"growth_median_per_day": 0.01, "growth_sigma": 0.5})
    draws = draw_candidates(kb, cohort, 2, range(2000), np.zeros(2000))
    log_g = np.log(draws.params["k_growth_patient_per_day"])
    effects = sum(e * draws.covariates.flag(f, lv) for (f, lv), e in GROWTH_COVARIATE_LOG_EFFECTS.items())
    residual = log_g - effects
    assert abs(math.exp(np.median(residual)) / 0.01 - 1) < 0.06
    assert abs(np.std(residual) - 0.5) < 0.03
    high_afp = draws.covariates.flag("afp_ge_400", "yes") > 0
    assert np.median(log_g[high_afp]) > np.median(log_g[~high_afp])


def test_immune_classes_scale_t_cell_recruitment(kb: KnowledgeBase) -> None:
    """A share ``immune_class_share`` of tumours (inflamed) gets its recruitment times the hot scale,
    the rest times the cold scale; the scales at 1 leave the draws as they were, and the class draw
    changes no other draw."""
    plain = draw_candidates(kb, CohortParameters(), 5, range(4000), np.zeros(4000))
    split = draw_candidates(
        kb,
        CohortParameters({"immune_class_share": 0.25, "immune_hot_recruit_scale": 4.0, "immune_cold_recruit_scale": 0.2}),
        5,
        range(4000),
        np.zeros(4000),
    )
    ratio = split.params["k_t_recruit_per_day"] / plain.params["k_t_recruit_per_day"]
    assert set(np.round(ratio, 12)) == {4.0, 0.2}
    assert abs(float(np.mean(ratio == 4.0)) - 0.25) < 0.02  # 4000 draws: SE 0.007
    for name, values in plain.params.items():
        if name != "k_t_recruit_per_day":
            np.testing.assert_array_equal(values, split.params[name])
    np.testing.assert_array_equal(plain.randoms["measurement_z"], split.randoms["measurement_z"])


def test_initial_tumour_grows_into_the_baseline_sum_of_diameters(kb: KnowledgeBase) -> None:
    """The tumour at the start of screening, grown over the window at the patient's rate, is n equal
    spheres whose diameters sum to the drawn baseline sum (each sld / n, total n pi/6 (sld/n)^3)."""
    draws = draw_candidates(kb, CohortParameters(), 3, range(50), np.zeros(50))
    cell_volume = next(p.default for p in all_parameters() if p.name == "cell_volume_mm3_per_Mcell")
    volume = draws.params["init_tumour_patient_Mcells"] * cell_volume
    grown = volume * np.exp(draws.params["k_growth_patient_per_day"] * BURN_IN_DAY)
    n = draws.covariates.n_lesions()
    sld = draws.covariates.values["baseline_sld_mm"]
    assert grown == pytest.approx(n * math.pi / 6 * (sld / n) ** 3, rel=1e-9)


def test_outcome_random_numbers(kb: KnowledgeBase) -> None:
    draws = draw_candidates(kb, CohortParameters(), 4, range(3000), np.zeros(3000))
    r = draws.randoms
    for name in ("death_e", "lesion_e"):  # unit exponentials
        assert r[name].min() > 0 and r[name].mean() == pytest.approx(1.0, abs=0.06)
    assert r["later_line_u"].min() >= 0 and r["later_line_u"].max() < 1
    assert r["scan_jitter_day"].shape == (3000, MAX_SCANS)
    assert np.abs(r["scan_jitter_day"]).max() <= SCAN_WINDOW_DAY
    assert r["scan_jitter_day"].mean() == pytest.approx(0.0, abs=0.05)
    priors = {p.name: p for p in (*all_parameters(), *INITIAL_STATE_PARAMETERS)}
    for name in PRIOR_DRAWN:  # within the model prior, spread over it
        p, v = priors[name], draws.params[name]
        assert p.low <= v.min() and v.max() <= p.high, name
        spread = np.ptp(np.log(v)) / math.log(p.high / p.low) if p.scale == "log" and p.low > 0 else np.ptp(v) / (p.high - p.low)
        assert spread > 0.9, name


def test_plausibility_and_growth_categories() -> None:
    tvdt = np.array([5.0, 50.0, 150.0, 400.0, 900.0, np.inf, np.nan])
    sld = np.full(tvdt.size, 50.0)
    assert plausible(tvdt, sld).tolist() == [False, True, True, True, False, False, False]
    lo, hi = TVDT_BOUNDS_DAY
    assert plausible(np.array([lo, hi]), np.array([50.0, 50.0])).tolist() == [True, True]
    # not measurable (< 10 mm) or beyond 300 mm summed
    assert plausible(np.array([50.0, 50.0, 50.0]), np.array([5.0, 200.0, 350.0])).tolist() == [False, True, False]
    # every target lesion measurable (RECIST 1.1: >= 10 mm): 45 mm in 5 equal lesions is 9 mm each
    assert plausible(np.full(3, 50.0), np.array([45.0, 50.0, 45.0]), np.array([5, 5, 4])).tolist() == [False, True, True]
    # rapid < 3 months, intermediate, indolent > 9 months (Nathani et al. 2021)
    assert tvdt_category(np.array([50.0, 150.0, 400.0])).tolist() == [0, 1, 2]


def test_sum_of_diameters_of_equal_spheres() -> None:
    """n equal spheres holding the volume of one sphere of diameter D have diameter D / n^(1/3)."""
    d = np.array([30.0, 30.0, 60.0])
    n = np.array([1.0, 8.0, 27.0])
    each = d / np.cbrt(n)
    assert n * (math.pi / 6) * each**3 == pytest.approx(math.pi / 6 * d**3)
    assert sum_of_diameters(d, n) == pytest.approx(n * each)
    grid = np.tile(d[:, None], (1, 4))
    assert sum_of_diameters(grid, n) == pytest.approx(np.tile((n * each)[:, None], (1, 4)))


def test_selected_patients_are_plausible_and_independent_of_the_batch(kb: KnowledgeBase) -> None:
    cohort = CohortParameters()
    sel = select_patients(kb, cohort, 3, range(8), (1.0, 1.0, 1.0))
    assert sel.patients.slots.tolist() == list(range(8))
    assert plausible(sel.tvdt_day, sel.baseline_sld_mm, sel.patients.covariates.n_lesions()).all()
    one = select_patients(kb, cohort, 3, [5], (1.0, 1.0, 1.0))
    assert one.patients.attempts[0] == sel.patients.attempts[5]
    assert one.tvdt_day[0] == sel.tvdt_day[5] and one.baseline_sld_mm[0] == sel.baseline_sld_mm[5]
    assert set(one.screening.states) == set(sel.screening.states) and one.screening.states["S"][0] == sel.screening.states["S"][5]
    # a slot made to start later draws from later attempts only
    later = select_patients(kb, cohort, 3, [5], (1.0, 1.0, 1.0), first_attempt=[int(sel.patients.attempts[5]) + 1])
    assert later.patients.attempts[0] > sel.patients.attempts[5]


def test_inclusion_probabilities(kb: KnowledgeBase) -> None:
    cohort = CohortParameters()
    assert inclusion_probabilities(kb, cohort, 0) == (1.0, 1.0, 1.0)  # no target mix: every plausible patient
    accept = inclusion_probabilities(kb, cohort, 0, IMBRAVE150, NATHANI_GROWTH_MIX)
    assert max(accept) == 1.0 and min(accept) > 0
    with pytest.raises(PopulationError, match="pilot candidates are plausible"):
        inclusion_probabilities(kb, CohortParameters({"growth_median_per_day": 1e-6}), 0)


def test_inclusion_reweights_the_growth_mix(kb: KnowledgeBase) -> None:
    """Patients selected with the acceptance probabilities have the target growth-pattern mix."""
    cohort = CohortParameters()
    accept = inclusion_probabilities(kb, cohort, 0, IMBRAVE150, NATHANI_GROWTH_MIX)
    n = 300
    sel = select_patients(kb, cohort, 0, range(n), accept)
    mix = np.bincount(tvdt_category(sel.tvdt_day), minlength=3) / n
    for got, want in zip(mix, NATHANI_GROWTH_MIX, strict=True):
        assert abs(got - want) <= 4 * math.sqrt(want * (1 - want) / n), (mix, NATHANI_GROWTH_MIX)
