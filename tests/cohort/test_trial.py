"""Virtual patients and trial arms: parsing, draws, death model, endpoints, statistics."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from exoresist.cohort.population import (
    COHORT_PARAMETERS,
    DAYS_PER_MONTH,
    CohortParameters,
    PopulationError,
    draw_candidate,
    mechanism_records,
    plausible,
    tvdt_category,
)
from exoresist.cohort.trial import TrialConfig, TrialError, attribution, death_times, parse_arm, summarise
from exoresist.kb import KnowledgeBase
from exoresist.model.assemble import strength_param


def test_parse_arm_resolves_therapies_regimens_and_interventions(kb: KnowledgeBase) -> None:
    assert parse_arm(kb, "placebo").therapies == ()
    combo = parse_arm(kb, "atezolizumab+bevacizumab")
    assert combo.therapies == ("ther:atezolizumab", "ther:bevacizumab") and combo.interventions == ()
    blocked = parse_arm(kb, "sorafenib+secretion-blockade")
    assert blocked.therapies == ("ther:sorafenib",) and blocked.interventions == ("int:rab27a-knockdown",)
    assert parse_arm(kb, "sorafenib+anti-pIgR").interventions == ("int:anti-pigr-antibody",)
    assert parse_arm(kb, "tremelimumab+durvalumab").therapies == ("ther:tremelimumab", "ther:durvalumab")


@pytest.mark.parametrize("text", ["sorafenib+aspirin", "", "sorafenib+", "unknowndrug"])
def test_parse_arm_rejects_unknown_parts(kb: KnowledgeBase, text: str) -> None:
    with pytest.raises(TrialError):
        parse_arm(kb, text)


def test_unknown_part_is_named(kb: KnowledgeBase) -> None:
    with pytest.raises(TrialError, match="'aspirin'"):
        parse_arm(kb, "sorafenib+aspirin")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"patients": 0}, "at least 1"),
        ({"patients": -5}, "at least 1"),
        ({"months": 0.0}, "months"),
        ({"months": float("nan")}, "months"),
        ({"population": "second-line"}, "unknown population"),
        ({"chunk_size": 0}, "chunk size"),
        ({"seed": -1}, "seed"),
        ({"arms": ()}, "at least one arm"),
        ({"arms": ("sorafenib", "sorafenib")}, "twice"),
    ],
)
def test_config_validation(kb: KnowledgeBase, kwargs: dict[str, object], message: str) -> None:
    base: dict[str, object] = {"arms": ("sorafenib",)}
    base.update(kwargs)
    with pytest.raises(TrialError, match=message):
        TrialConfig(**base).validate(kb)  # type: ignore[arg-type]


def test_cohort_parameters_reject_unknown_and_negative() -> None:
    with pytest.raises(PopulationError, match="unknown cohort parameter 'growth'"):
        CohortParameters({"growth": 1.0})
    with pytest.raises(PopulationError, match="death_background_per_month"):
        CohortParameters({"death_background_per_month": -0.1})
    assert CohortParameters()["growth_sigma"] == next(p.default for p in COHORT_PARAMETERS if p.name == "growth_sigma")


def test_draws_depend_only_on_seed_slot_and_attempt(kb: KnowledgeBase) -> None:
    cohort = CohortParameters()
    a = draw_candidate(kb, cohort, 7, 3, 0)
    assert a == draw_candidate(kb, cohort, 7, 3, 0)
    assert a != draw_candidate(kb, cohort, 7, 4, 0)
    assert a != draw_candidate(kb, cohort, 7, 3, 1)
    assert a != draw_candidate(kb, cohort, 8, 3, 0)
    for rid in mechanism_records(kb):
        assert strength_param(rid) in a


def test_cargo_expression_is_heterogeneous(kb: KnowledgeBase) -> None:
    cohort = CohortParameters({"p_cargo_expressed": 0.5})
    draws = [draw_candidate(kb, cohort, 1, j, 0) for j in range(400)]
    name = strength_param(mechanism_records(kb)[0])
    values = np.array([d[name] for d in draws])
    share = float(np.mean(values > 0))
    assert 0.4 < share < 0.6  # Bernoulli(0.5) expression over 400 tumours
    expressed = values[values > 0]
    assert expressed.min() >= 0.1 and expressed.max() <= 10.0 and np.ptp(np.log(expressed)) > 2.0


def test_growth_draws_follow_the_cohort_median(kb: KnowledgeBase) -> None:
    cohort = CohortParameters({"growth_median_per_day": 0.01, "growth_sigma": 0.5})
    g = np.array([draw_candidate(kb, cohort, 2, j, 0)["k_growth_patient_per_day"] for j in range(800)])
    assert abs(np.median(g) / 0.01 - 1) < 0.1
    assert abs(np.std(np.log(g)) - 0.5) < 0.05


def test_plausibility_and_growth_categories() -> None:
    tvdt = np.array([5.0, 50.0, 150.0, 400.0, 900.0, np.inf, np.nan])
    dia = np.full(tvdt.size, 50.0)
    assert plausible(tvdt, dia).tolist() == [False, True, True, True, False, False, False]
    assert plausible(np.array([50.0, 50.0]), np.array([5.0, 200.0])).tolist() == [False, False]
    assert tvdt_category(np.array([50.0, 150.0, 400.0])).tolist() == [0, 1, 2]


def test_death_time_with_constant_hazard_is_exponential_threshold() -> None:
    cohort = CohortParameters({"death_background_per_month": 0.1, "death_tumour_per_month": 0.0})
    times = np.arange(0.0, 3650.0, 7.0)
    dia = np.full((3, times.size), 50.0)
    e = np.array([0.5, 1.0, 100.0])
    got = death_times(times, dia, e, cohort)
    expected_day = e[:2] / 0.1 * DAYS_PER_MONTH
    assert np.allclose(got[:2], expected_day, rtol=1e-9)
    assert math.isnan(got[2])  # threshold beyond the follow-up: alive


def test_death_hazard_grows_with_tumour_volume() -> None:
    cohort = CohortParameters({"death_background_per_month": 0.0, "death_tumour_per_month": 0.2})
    times = np.arange(0.0, 3650.0, 1.0)
    small = death_times(times, np.full((1, times.size), 50.0), np.array([1.0]), cohort)[0]
    large = death_times(times, np.full((1, times.size), 100.0), np.array([1.0]), cohort)[0]
    assert large == pytest.approx(1.0 / 0.2 * DAYS_PER_MONTH, rel=1e-6)
    assert small == pytest.approx(8 * large, rel=1e-6)  # hazard scales with diameter cubed


def _patients() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    rows = []
    for arm, scale in (("A", 4.0), ("B", 8.0)):
        for j in range(200):
            pfs = rng.exponential(scale)
            rows.append(
                {
                    "arm": arm,
                    "patient": j,
                    "bor": "PR" if j % 10 == 0 else ("SD" if j % 2 else "PD"),
                    "pfs_month": min(pfs, 24.0),
                    "pfs_event": pfs < 24.0,
                    "ttp_month": min(pfs, 24.0),
                    "ttp_event": pfs < 24.0,
                    "os_month": min(2 * pfs, 24.0),
                    "os_event": 2 * pfs < 24.0,
                    "ok": True,
                    "progressed": pfs < 24.0,
                    "top_mechanism": "",
                }
            )
    return pd.DataFrame(rows)


def test_summarise_counts_and_compares() -> None:
    arms, comparisons = summarise(_patients(), ["A", "B"])
    assert [a["arm"] for a in arms] == ["A", "B"]
    assert arms[0]["n"] == 200 and arms[0]["pr"] == pytest.approx(0.1) and arms[0]["orr"]["estimate"] == pytest.approx(0.1)
    assert arms[0]["dcr"]["estimate"] == pytest.approx(0.6)
    assert arms[0]["pfs_median_month"]["median"] < arms[1]["pfs_median_month"]["median"]
    (c,) = comparisons
    assert c["reference"] == "A" and c["pfs_hr"]["hr"] < 0.75 and c["pfs_logrank_p"] < 0.01


def test_attribution_shares(kb: KnowledgeBase) -> None:
    rid = mechanism_records(kb)[0]
    frame = _patients()
    frame[f"contrib:{rid}"] = np.where(frame["progressed"], 0.5, np.nan)
    frame["top_mechanism"] = np.where(frame["progressed"], rid, "")
    table = attribution(kb, frame, ["A", "B"])
    row = table[(table["arm"] == "A") & (table["record_id"] == rid)].iloc[0]
    assert row["share"] == 1.0 and row["mean_contribution"] == 0.5
    assert row["n_progressing"] == int(frame[(frame["arm"] == "A") & frame["progressed"]].shape[0])
    assert math.isnan(row["ko_share"]) and math.isnan(row["ko_mean_delay_month"])  # the trial ran no knockouts


def test_attribution_knockout_share_counts_delays_of_at_least_one_scan(kb: KnowledgeBase) -> None:
    rid = mechanism_records(kb)[0]
    frame = _patients()
    frame[f"contrib:{rid}"] = np.where(frame["progressed"], 0.5, np.nan)
    progressing = frame["progressed"].to_numpy()
    # alternate progressing patients: a delay of 2 months (> one 6-week scan), then of 0.5 months
    delays = np.where(np.cumsum(progressing) % 2 == 0, 2.0, 0.5)
    frame[f"ko_delay:{rid}"] = np.where(progressing, delays, np.nan)
    row = attribution(kb, frame, ["A", "B"]).set_index(["arm", "record_id"]).loc[("A", rid)]
    g = frame[(frame["arm"] == "A") & frame["progressed"]]
    assert row["ko_share"] == pytest.approx((g[f"ko_delay:{rid}"] >= 42 / DAYS_PER_MONTH).mean())
    assert row["ko_mean_delay_month"] == pytest.approx(g[f"ko_delay:{rid}"].mean())


def test_knockout_delay_equals_a_trial_of_the_model_without_the_record(kb: KnowledgeBase) -> None:
    """The counterfactual of one patient and one record, recomputed independently: the arm's model
    assembled *without* the record (a model knockout, not a zero strength), the same patient."""
    from exoresist.cohort.population import BURN_IN_DAY, parameter_matrix, select_patients
    from exoresist.cohort.trial import _Start, endpoints, simulate_chunk, simulation_grid
    from exoresist.model.assemble import Scenario, assemble
    from exoresist.ode import simulate

    cohort = CohortParameters()
    config = TrialConfig(("sorafenib",), "first-line", 40, 12.0, 5, 40, cohort, knockouts=True)
    (arm,) = config.validate(kb)
    slots = list(range(40))
    accept = [1.0, 1.0, 1.0]
    rows = simulate_chunk(kb, config, [arm], slots, accept)
    cols = [c for c in rows if c.startswith("ko_delay:")]
    assert cols, "knockouts ran"
    values = rows[cols].to_numpy(dtype=float)
    progressed = rows["progressed"].to_numpy()
    assert np.all(np.isnan(values[~progressed]))  # only progressing patients are re-simulated
    hits = np.argwhere(np.isfinite(values))
    assert hits.size, "some progressing patient expresses some record"
    i, k = hits[0]
    rid = cols[k].removeprefix("ko_delay:")
    assert rows[f"strength:{rid}"].iloc[i] > 0  # only expressed records are knocked out

    end = BURN_IN_DAY + config.months * DAYS_PER_MONTH
    spec = assemble(
        kb, Scenario("patient", arm.therapies, arm.interventions, knockouts=(rid,), days=end, treatment_start_day=BURN_IN_DAY)
    )
    sel = select_patients(kb, cohort, config.seed, [slots[i]], accept)
    grid = simulation_grid(BURN_IN_DAY, end)
    res = simulate(
        spec, parameter_matrix(kb, spec, cohort, sel.draws), t_end_day=float(grid[-1]), t_eval_day=grid, rtol=1e-5, atol=1e-6
    )
    death_e = np.array([sel.draws[0]["death_e"]])
    ttp = endpoints(kb, spec, res, _Start(BURN_IN_DAY).start_day, death_e, cohort, sel.draws)["ttp_month"].iloc[0]
    assert values[i, k] == pytest.approx(ttp - rows["ttp_month"].iloc[i], abs=1e-6)


def test_knockouts_off_keeps_earlier_run_keys() -> None:
    assert "knockouts" not in TrialConfig(("sorafenib",)).as_dict()
    assert TrialConfig(("sorafenib",), knockouts=True).as_dict()["knockouts"] is True
