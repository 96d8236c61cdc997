"""One chunk of a virtual trial: the same patients in every arm, determinism, what sorafenib does to
the simulated tumours, attribution and the knockout counterfactual."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from exoresist.cohort.calibration import calibrated_cohort
from exoresist.cohort.config import TrialConfig
from exoresist.cohort.disease import DiseaseParameters
from exoresist.cohort.endpoints import Trajectories, endpoints
from exoresist.cohort.population import DAYS_PER_MONTH, SCAN_INTERVAL_DAY, mechanism_records, parameter_matrix, patient_spec
from exoresist.cohort.simulate import (
    ArmSimulation,
    _to_start_state,
    record_label,
    select_cohort,
    simulate_arm,
    simulate_chunk,
    simulation_grid,
)
from exoresist.kb import KnowledgeBase
from exoresist.model.assemble import Scenario, acting_records, assemble
from exoresist.ode import simulate

COHORT = calibrated_cohort()  # what the CLI uses
ACCEPT = (1.0, 1.0, 1.0)


def test_simulation_grid_is_weekly_with_every_scan_and_the_end() -> None:
    grid = simulation_grid(0.0, 100.0)
    assert grid[0] == 0.0 and grid[-1] == 100.0
    assert {42.0, 84.0} <= set(grid.tolist()) and {7.0, 14.0, 98.0} <= set(grid.tolist())
    assert np.all(np.diff(grid) > 0) and np.diff(grid).max() <= 7.0
    shifted = simulation_grid(56.0, 56.0 + 2 * SCAN_INTERVAL_DAY)
    assert shifted[0] == 56.0 and 56.0 + SCAN_INTERVAL_DAY in shifted


@pytest.fixture(scope="module")
def two_arms(kb: KnowledgeBase) -> dict[str, ArmSimulation]:
    """30 first-line patients under placebo and under sorafenib for 6 months."""
    config = TrialConfig(("placebo", "sorafenib"), patients=30, months=6.0, seed=1, cohort=COHORT)
    cohort = select_cohort(kb, config, range(30), ACCEPT)
    return {a.label: simulate_arm(kb, config, a, cohort) for a in config.validate(kb)}


def test_every_arm_starts_from_the_same_patients(two_arms: dict[str, ArmSimulation]) -> None:
    placebo, sorafenib = two_arms["placebo"].trajectories, two_arms["sorafenib"].trajectories
    assert placebo.times_day[0] == 0.0 and np.array_equal(placebo.times_day, sorafenib.times_day)
    assert np.array_equal(placebo.diameter_mm[:, 0], sorafenib.diameter_mm[:, 0])
    assert np.array_equal(placebo.covariates.values["baseline_sld_mm"], sorafenib.covariates.values["baseline_sld_mm"])
    assert placebo.ok.all() and sorafenib.ok.all()


def test_sorafenib_slows_tumour_growth(two_arms: dict[str, ArmSimulation]) -> None:
    """Log growth of the tumour diameter over the first three months: lower with sorafenib on
    average and in almost every patient; untreated tumours grow."""
    growth = {}
    for label, sim in two_arms.items():
        t = sim.trajectories
        k = int(np.searchsorted(t.times_day, 91.0))
        growth[label] = np.log(t.diameter_mm[:, k] / t.diameter_mm[:, 0])
    assert np.median(growth["placebo"]) > 0
    assert growth["sorafenib"].mean() < growth["placebo"].mean()
    assert np.mean(growth["sorafenib"] < growth["placebo"]) >= 0.9


def test_no_therapy_arm_has_no_drug(two_arms: dict[str, ArmSimulation]) -> None:
    placebo = two_arms["placebo"]
    assert not any(s.startswith(("R_", "A_", "on_")) for s in placebo.result.species_names)
    assert "R_sorafenib" in two_arms["sorafenib"].result.species_names


@pytest.fixture(scope="module")
def chunk(kb: KnowledgeBase) -> pd.DataFrame:
    config = TrialConfig(("placebo", "sorafenib"), patients=8, months=8.0, seed=2, cohort=COHORT)
    return simulate_chunk(kb, config, config.validate(kb), range(8), ACCEPT)


def test_chunk_rows_are_the_same_patients_in_every_arm(kb: KnowledgeBase, chunk: pd.DataFrame) -> None:
    assert chunk["arm"].tolist() == ["placebo"] * 8 + ["sorafenib"] * 8
    assert chunk["patient"].tolist() == list(range(8)) * 2
    a, b = chunk[chunk["arm"] == "placebo"].reset_index(drop=True), chunk[chunk["arm"] == "sorafenib"].reset_index(drop=True)
    same = ["attempt", "tvdt_day", "baseline_sld_mm"] + [c for c in chunk if c.startswith(("cov:", "strength:"))]
    assert len(same) > 20
    pd.testing.assert_frame_equal(a[same], b[same])
    assert {f"strength:{rid}" for rid in mechanism_records(kb)} <= set(chunk)


def test_chunk_is_deterministic(kb: KnowledgeBase, chunk: pd.DataFrame) -> None:
    config = TrialConfig(("placebo", "sorafenib"), patients=8, months=8.0, seed=2, cohort=COHORT)
    again = simulate_chunk(kb, config, config.validate(kb), range(8), ACCEPT)
    pd.testing.assert_frame_equal(again, chunk)
    # a sub-range of slots gives the same rows as in the whole chunk
    part = simulate_chunk(kb, config, config.validate(kb), range(5, 8), ACCEPT)
    whole = chunk[chunk["patient"] >= 5].reset_index(drop=True)
    pd.testing.assert_frame_equal(part, whole)


def test_contributions_only_for_progressing_patients_and_acting_records(kb: KnowledgeBase, chunk: pd.DataFrame) -> None:
    config = TrialConfig(("placebo", "sorafenib"), patients=8, months=8.0, seed=2, cohort=COHORT)
    records = mechanism_records(kb)
    for arm in config.validate(kb):
        g = chunk[chunk["arm"] == arm.label]
        acting = set(acting_records(patient_spec(kb, arm.therapies, arm.interventions, 8 * DAYS_PER_MONTH, 0.0)))
        contrib = g[[f"contrib:{r}" for r in records]].to_numpy(dtype=float)
        assert np.isnan(contrib[~g["progressed"].to_numpy()]).all()
        for k, rid in enumerate(records):
            if rid not in acting:
                assert np.isnan(contrib[:, k]).all(), (arm.label, rid)
        for i, row in enumerate(g.itertuples()):
            values = np.nan_to_num(contrib[i], nan=-1.0)
            expected = records[int(np.argmax(values))] if row.progressed and values.max() > 0 else ""
            assert row.top_mechanism == expected
    assert "mech:mir21-pten-akt-autophagy-sorafenib" not in set(
        acting_records(patient_spec(kb, (), (), 8 * DAYS_PER_MONTH, 0.0))
    )  # a sorafenib record does not act without sorafenib
    assert "(" in record_label(kb, records[0])


def test_to_start_state_counts_resistance_to_an_absent_drug_as_sensitive(kb: KnowledgeBase) -> None:
    untreated = patient_spec(kb, (), (), 100.0, 0.0)
    treated = patient_spec(kb, ("ther:sorafenib",), (), 100.0, 0.0)
    state = {"S": np.array([1.0, 2.0]), "R_sorafenib": np.array([0.5, 0.25]), "not_a_species": np.array([9.0, 9.0])}
    mapped = _to_start_state(state, untreated)
    assert mapped["S"].tolist() == [1.5, 2.25] and "R_sorafenib" not in mapped and "not_a_species" not in mapped
    kept = _to_start_state(state, treated)
    assert kept["S"].tolist() == [1.0, 2.0] and kept["R_sorafenib"].tolist() == [0.5, 0.25]
    assert state["S"].tolist() == [1.0, 2.0]  # the input is not changed


def test_knockout_delay_equals_a_trial_of_the_model_without_the_record(kb: KnowledgeBase) -> None:
    """The counterfactual of one patient and one record, recomputed independently: the arm's model
    assembled *without* the record (a model knockout, not a zero strength), the same patient."""
    config = TrialConfig(("sorafenib",), "first-line", 20, 12.0, 5, 20, COHORT, knockouts=True)
    (arm,) = config.validate(kb)
    rows = simulate_chunk(kb, config, [arm], range(20), ACCEPT)
    cols = [c for c in rows if c.startswith("ko_delay:")]
    assert len(cols) == len(mechanism_records(kb)), "knockouts ran"
    values = rows[cols].to_numpy(dtype=float)
    progressed = rows["progressed"].to_numpy()
    assert np.all(np.isnan(values[~progressed]))  # only progressing patients are re-simulated
    hits = np.argwhere(np.isfinite(values))
    assert hits.size, "some progressing patient expresses some record"
    for i, k in hits:
        assert rows[f"strength:{cols[k].removeprefix('ko_delay:')}"].iloc[i] > 0  # only expressed records
    # the largest delay and one other, each against an independent simulation
    largest = hits[np.argmax(np.abs(values[hits[:, 0], hits[:, 1]]))]
    other = next(h for h in hits if h[1] != largest[1])
    assert values[largest[0], largest[1]] > 0, "some record's knockout delays progression"
    for i, k in (largest, other):
        rid = cols[k].removeprefix("ko_delay:")
        slot = int(rows["patient"].iloc[i])
        start = select_cohort(kb, config, [slot], ACCEPT)
        spec = assemble(
            kb,
            Scenario("patient", arm.therapies, arm.interventions, knockouts=(rid,), days=start.end_day, treatment_start_day=0.0),
        )
        assert rid not in acting_records(spec)
        grid = simulation_grid(start.start_day, start.end_day)
        states = {name: v for name, v in (start.states or {}).items() if name in set(spec.species_names)}
        res = simulate(
            spec,
            parameter_matrix(kb, spec, COHORT, start.patients),
            t_end_day=float(grid[-1]),
            t_eval_day=grid,
            rtol=1e-5,
            atol=1e-6,
            initial_overrides=states,
        )
        traj = Trajectories.from_simulation(
            res.times_day, res.derived_value("tumour_diameter_mm"), start.patients, res.ok, res.messages
        )
        ttp = endpoints(traj, DiseaseParameters.from_cohort(COHORT.as_dict()), config.later_line)["ttp_month"].iloc[0]
        assert values[i, k] == pytest.approx(ttp - rows["ttp_month"].iloc[i], abs=1e-6), rid
