"""Simulate one chunk of a virtual trial: select its patients, run each in every arm, derive the
endpoints and the attribution of progression to the KB records.

Design (documented for users in ``docs/trials.md``):

- Every patient is simulated in every arm (the same virtual patient, "digital twin" design); the
  statistics treat the arms as independent samples, which is conservative for comparisons.
- Time 0 of the trial is the baseline scan, at the end of an untreated screening window
  (:data:`~exoresist.cohort.population.BURN_IN_DAY`): every arm starts from the same simulated
  state at that scan, so the records that act only under an arm's therapies act from baseline on.
  Treatment continues after progression.
- ``post-sorafenib``: first-line patients are treated with sorafenib until RECIST progression
  (within 24 months, alive); the whole model state at that scan is the start of the second-line
  trial, whose baseline is the tumour at progression. Cells resistant to a drug the new arm does
  not give are counted as sensitive cells (resistance in the model is drug-specific).
- Attribution: at a patient's progression, each acting record's effect term (its strength times
  the saturating effect of its cargo pool) is read from the model; the record with the largest
  term "carried" the resistance (instantaneous, model-internal). With ``TrialConfig.knockouts``
  each progressing patient is also simulated once per record it expresses with that record
  switched off, and the delay of its progression is recorded (counterfactual).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from exoresist.cohort.arms import Arm
from exoresist.cohort.config import TrialConfig
from exoresist.cohort.disease import DiseaseParameters
from exoresist.cohort.endpoints import Trajectories, endpoints
from exoresist.cohort.population import (
    DAYS_PER_MONTH,
    MAX_ATTEMPTS,
    SCAN_INTERVAL_DAY,
    STREAM_SECOND_LINE,
    Candidates,
    CohortParameters,
    PopulationError,
    mechanism_records,
    parameter_matrix,
    patient_spec,
    select_patients,
    strength_names,
)
from exoresist.kb import KnowledgeBase, Mechanism
from exoresist.model.assemble import acting_records, record_pool, strength_param
from exoresist.model.spec import ModelSpec
from exoresist.ode import SimulationResult, simulate

PRE_TREATMENT_MAX_MONTHS = 24.0
RTOL = 1e-5
ATOL = 1e-6
GRID_DAY = 7.0


def simulation_grid(start_day: float, end_day: float) -> np.ndarray:
    """Output times: weekly from ``start_day`` (the baseline scan), every scan, and the end."""
    grid = np.arange(start_day, end_day + 1e-9, GRID_DAY)
    scans = start_day + SCAN_INTERVAL_DAY * np.arange(int(np.floor((end_day - start_day) / SCAN_INTERVAL_DAY + 1e-9)) + 1)
    grid = np.union1d(grid, scans)
    if grid[-1] < end_day:
        grid = np.append(grid, end_day)
    return grid


@dataclass(frozen=True)
class Cohort:
    """The patients of a chunk and where their trial starts (model day of baseline, and for the
    post-sorafenib population the whole model state at progression on sorafenib)."""

    patients: Candidates
    tvdt_day: np.ndarray
    start_day: float
    end_day: float
    states: dict[str, np.ndarray] | None = None


def select_cohort(kb: KnowledgeBase, config: TrialConfig, slots: Sequence[int], accept: Sequence[float]) -> Cohort:
    days = config.months * DAYS_PER_MONTH
    if config.population == "first-line":
        sel = select_patients(kb, config.cohort, config.seed, slots, accept, target=config.target, measured=config.samples)
        return Cohort(sel.patients, sel.tvdt_day, 0.0, days, sel.screening.states)
    patients, states = _post_sorafenib(kb, config, slots, accept)
    return Cohort(patients, np.full(patients.n, np.nan), 0.0, days, states)


def _run(
    kb: KnowledgeBase, spec: ModelSpec, cohort: CohortParameters, patients: Candidates, times: np.ndarray, start: Cohort
) -> SimulationResult:
    states = None
    if start.states is not None:
        states = _to_start_state(start.states, spec)
    return simulate(
        spec,
        parameter_matrix(kb, spec, cohort, patients),
        t_end_day=float(times[-1]),
        t_eval_day=times,
        rtol=RTOL,
        atol=ATOL,
        initial_overrides=states,
    )


def _trajectories(res: SimulationResult, start_day: float, patients: Candidates) -> Trajectories:
    on = res.times_day >= start_day - 1e-9
    return Trajectories.from_simulation(
        res.times_day[on] - start_day, res.derived_value("tumour_diameter_mm")[:, on], patients, res.ok, res.messages
    )


def _to_start_state(values: dict[str, np.ndarray], new: ModelSpec) -> dict[str, np.ndarray]:
    """Per-patient species values (by name) mapped onto the species of ``new``."""
    new_names = set(new.species_names)
    out = {name: v.copy() for name, v in values.items() if name in new_names}
    for name, v in values.items():
        if name.startswith("R_") and name not in new_names and "S" in out:
            out["S"] = out["S"] + v
    return out


def _post_sorafenib(
    kb: KnowledgeBase, config: TrialConfig, slots: Sequence[int], accept: Sequence[float]
) -> tuple[Candidates, dict[str, np.ndarray]]:
    """Patients who progressed on first-line sorafenib (alive at the progression scan), with the whole
    model state at that scan and fresh outcome random numbers for the second-line trial."""
    cohort = config.cohort
    end = PRE_TREATMENT_MAX_MONTHS * DAYS_PER_MONTH
    spec = patient_spec(kb, ("ther:sorafenib",), (), end, 0.0, config.samples)
    times = simulation_grid(0.0, end)
    disease = DiseaseParameters.from_cohort(cohort.as_dict())
    slots_arr = np.asarray(slots, dtype=np.int64)
    first = np.zeros(slots_arr.size, dtype=np.int64)
    chosen: list[tuple[int, Candidates, np.ndarray]] = []
    pending = np.arange(slots_arr.size)
    for _ in range(MAX_ATTEMPTS):
        if pending.size == 0:
            break
        sel = select_patients(
            kb,
            cohort,
            config.seed,
            slots_arr[pending],
            accept,
            first_attempt=first[pending],
            target=config.target,
            measured=config.samples,
        )
        res = _run(kb, spec, cohort, sel.patients, times, Cohort(sel.patients, sel.tvdt_day, 0.0, end, sel.screening.states))
        ends = endpoints(_trajectories(res, 0.0, sel.patients), disease, config.later_line)
        prog = ends["progressed"].to_numpy()
        alive = ends["pfs_month"].to_numpy() < ends["os_month"].to_numpy()
        eligible = prog & res.ok & alive
        pd_days = ends["ttp_month"].to_numpy() * DAYS_PER_MONTH
        for k in np.flatnonzero(eligible):
            idx = int(np.argmin(np.abs(times - pd_days[k])))
            chosen.append((int(pending[k]), sel.patients.take(np.array([k])), res.states[k, idx]))
        first[pending] = sel.patients.attempts + 1
        pending = pending[~eligible]
    if pending.size:
        raise PopulationError(
            f"{pending.size} post-sorafenib slots found no patient progressing on sorafenib within "
            f"{PRE_TREATMENT_MAX_MONTHS:g} months in {MAX_ATTEMPTS} rounds"
        )
    chosen.sort(key=lambda c: c[0])
    patients = Candidates.concat([c[1] for c in chosen])
    # fresh outcome thresholds for the second-line trial, from the patient's own stream
    fresh = np.array(
        [
            np.random.default_rng(np.random.SeedSequence([config.seed, STREAM_SECOND_LINE, int(s), int(a)])).random(4)
            for s, a in zip(patients.slots, patients.attempts, strict=True)
        ]
    )
    randoms = {
        **patients.randoms,
        "death_e": -np.log1p(-fresh[:, 0]),
        "lesion_e": -np.log1p(-fresh[:, 1]),
        "later_line_u": fresh[:, 2],
        "withdrawal_u": fresh[:, 3],
    }
    patients = Candidates(patients.slots, patients.attempts, patients.params, patients.covariates, randoms)
    states = np.stack([c[2] for c in chosen])
    return patients, {name: states[:, k] for k, name in enumerate(spec.species_names)}


@dataclass(frozen=True)
class ArmSimulation:
    """One arm's simulation of a cohort: the model, the raw result and the endpoint trajectories."""

    arm: Arm
    spec: ModelSpec
    result: SimulationResult
    trajectories: Trajectories
    grid: np.ndarray


def simulate_arm(kb: KnowledgeBase, config: TrialConfig, arm: Arm, cohort: Cohort) -> ArmSimulation:
    spec = patient_spec(kb, arm.therapies, arm.interventions, cohort.end_day, cohort.start_day, config.samples)
    grid = simulation_grid(cohort.start_day, cohort.end_day)
    res = _run(kb, spec, config.cohort, cohort.patients, grid, cohort)
    return ArmSimulation(arm, spec, res, _trajectories(res, cohort.start_day, cohort.patients), grid)


def simulate_chunk(
    kb: KnowledgeBase, config: TrialConfig, arms: Sequence[Arm], slots: Sequence[int], accept: Sequence[float]
) -> pd.DataFrame:
    """Select the patients of ``slots`` and simulate each in every arm: one row per (arm, patient).

    A pure function of its arguments: the same slots give the same rows on any worker.
    """
    cohort = select_cohort(kb, config, slots, accept)
    disease = DiseaseParameters.from_cohort(config.cohort.as_dict())
    frames = []
    for arm in arms:
        sim = simulate_arm(kb, config, arm, cohort)
        frame = endpoints(sim.trajectories, disease, config.later_line, config.withdrawal(arm.label))
        contributions(kb, sim, frame)
        frame.insert(0, "arm", arm.label)
        frame.insert(1, "patient", cohort.patients.slots.astype(np.int64))
        frame.insert(2, "attempt", cohort.patients.attempts.astype(np.int64))
        frame.insert(3, "tvdt_day", cohort.tvdt_day)
        extra: dict[str, np.ndarray] = dict(cohort.patients.covariates.columns())
        for rid, sp in zip(mechanism_records(kb), strength_names(kb), strict=True):
            extra[f"strength:{rid}"] = cohort.patients.params[sp]
        if config.samples:
            extra.update(sampled(sim.result, cohort.start_day, config.samples, config.sample_days))
        if config.knockouts:
            for rid, delay in knockout_delays(kb, config, sim, cohort, frame).items():
                extra[f"ko_delay:{rid}"] = delay
        frames.append(pd.concat([frame, pd.DataFrame(extra, index=frame.index)], axis=1))
    return pd.concat(frames, ignore_index=True)


def sampled(res: SimulationResult, start_day: float, names: Sequence[str], days: Sequence[float]) -> dict[str, np.ndarray]:
    """Per-patient values of species or derived quantities ``names`` at ``days`` after baseline, as
    columns ``marker:<name>@<day>`` (the biomarker stage's observation model reads them). Values are
    interpolated linearly on the simulation grid; NaN past follow-up or where the arm's model has no
    such name (death is not applied here: the reader knows each patient's OS)."""
    out: dict[str, np.ndarray] = {}
    t = res.times_day - start_day
    for name in names:
        series = (
            res.species(name) if name in res.species_names else res.derived_value(name) if name in res.derived_names else None
        )
        for day in days:
            column = f"marker:{name}@{day:g}"
            if series is None or day > t[-1] + 1e-9:
                out[column] = np.full(res.n_sets, np.nan)
            else:
                out[column] = np.array([np.interp(day, t, row) for row in series])
    return out


def contributions(kb: KnowledgeBase, sim: ArmSimulation, frame: pd.DataFrame) -> None:
    """Add ``contrib:<record>`` (each acting record's effect term at the progression scan) and
    ``top_mechanism`` (the largest) to ``frame``, in place."""
    res = sim.result
    records = mechanism_records(kb)
    acting = set(acting_records(sim.spec))
    n = len(frame)
    contrib = np.full((n, len(records)), np.nan)
    progressed = frame["progressed"].to_numpy()
    start = float(sim.grid[0])
    pd_day = start + frame["ttp_month"].to_numpy() * DAYS_PER_MONTH
    pd_idx = np.clip(np.searchsorted(res.times_day, pd_day - 1e-6), 0, res.times_day.size - 1)
    for k, rid in enumerate(records):
        if rid not in acting:
            continue
        values = res.derived_value(f"effect_{record_pool(kb, _mech(kb, rid))}")
        strength = res.params[:, res.param_names.index(strength_param(rid))]
        contrib[:, k] = np.where(progressed, strength * values[np.arange(n), pd_idx], np.nan)
    has = progressed & np.any(np.nan_to_num(contrib) > 0, axis=1)
    top = np.where(has, np.array(records, dtype=object)[np.argmax(np.nan_to_num(contrib, nan=-1.0), axis=1)], "")
    frame["top_mechanism"] = top.astype(str)
    frame[[f"contrib:{rid}" for rid in records]] = contrib


def knockout_delays(
    kb: KnowledgeBase, config: TrialConfig, sim: ArmSimulation, cohort: Cohort, frame: pd.DataFrame
) -> dict[str, np.ndarray]:
    """Counterfactual attribution: each progressing patient is simulated again once per record it
    expresses, with that record's strength set to 0 (everything else, including its outcome random
    numbers, unchanged). Returns per record the delay of RECIST progression in months (time to
    progression without the record minus with it; NaN where the patient did not progress or does
    not express the record). When the patient no longer progresses within follow-up (or dies
    first), the delay is counted up to that time, so it is a lower bound."""
    records = mechanism_records(kb)
    acting = set(acting_records(sim.spec))
    out = {rid: np.full(len(frame), np.nan) for rid in records}
    progressing = np.flatnonzero(frame["progressed"].to_numpy() & frame["ok"].to_numpy())
    params = cohort.patients.params
    pairs = [
        (int(i), rid, sp)
        for i in progressing
        for rid, sp in zip(records, strength_names(kb), strict=True)
        if rid in acting and params[sp][i] > 0.0
    ]
    if not pairs:
        return out
    rows = np.array([i for i, _, _ in pairs])
    cf = cohort.patients.take(rows)
    knocked = np.array([sp for _, _, sp in pairs])
    cf = cf.with_params(**{sp: np.where(knocked == sp, 0.0, cf.params[sp]) for sp in set(knocked.tolist())})
    states = None if cohort.states is None else {name: v[rows] for name, v in cohort.states.items()}
    cf_cohort = Cohort(cf, cohort.tvdt_day[rows], cohort.start_day, cohort.end_day, states)
    res = _run(kb, sim.spec, config.cohort, cf, sim.grid, cf_cohort)
    disease = DiseaseParameters.from_cohort(config.cohort.as_dict())
    cf_frame = endpoints(_trajectories(res, cohort.start_day, cf), disease, config.later_line, config.withdrawal(sim.arm.label))
    delay = cf_frame["ttp_month"].to_numpy() - frame["ttp_month"].to_numpy()[rows]
    delay = np.where(res.ok, delay, np.nan)
    for (i, rid, _), d in zip(pairs, delay.tolist(), strict=True):
        out[rid][i] = d
    return out


def _mech(kb: KnowledgeBase, record_id: str) -> Mechanism:
    rec = kb.get(record_id)
    assert isinstance(rec, Mechanism)
    return rec


def record_label(kb: KnowledgeBase, record_id: str) -> str:
    """Short label of a mechanism record for tables and figures: its cargo and what it does."""
    m = _mech(kb, record_id)
    return f"{kb.entity(m.cargo).name} ({m.process.value.replace('_', ' ') if m.process else ''})"
