"""Virtual trial arms: simulate selected patients under each arm and derive the endpoints.

Design (documented for users in ``docs/trials.md``):

- Every patient is simulated in every arm (the same virtual patient, "digital twin" design); the
  statistics treat the arms as independent samples, which is conservative for comparisons.
- Time 0 of the trial is the baseline scan, at the end of an untreated screening window
  (:data:`~exoresist.cohort.population.BURN_IN_DAY`). Tumour assessments follow every
  :data:`~exoresist.cohort.population.SCAN_INTERVAL_DAY` days; RECIST 1.1 is applied to the
  simulated tumour diameter (one spherical lesion standing for the sum of diameters).
- Death: a hazard per month of ``background + tumour * (D / 100 mm) ** 3`` (tumour burden by
  volume plus mortality not due to the tumour), integrated along the simulated diameter; the
  patient dies when the cumulative hazard reaches a unit-exponential threshold drawn per patient.
  Treatment continues after progression (no subsequent therapy is modelled).
- PFS is the time to the first RECIST progression or death, TTP the time to RECIST progression
  (death censors), OS the time to death; all are censored at the end of follow-up.
- Attribution: at a patient's progression, each active mechanism record's effect term (its
  strength times the saturating effect of its cargo pool) is read from the model; the record with
  the largest term "carried" the resistance (instantaneous, model-internal). With
  ``TrialConfig.knockouts`` each progressing patient is also simulated once per record it
  expresses with that record switched off, and the delay of its progression is recorded
  (counterfactual; :func:`knockout_delays`).
- ``post-sorafenib``: first-line patients are treated with sorafenib until RECIST progression
  (within 24 months, alive); the whole model state at that scan is the start of the second-line
  trial, whose baseline is the tumour at progression. Cells resistant to a drug the new arm does
  not give are counted as sensitive cells (resistance in the model is drug-specific).
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from lifelines.exceptions import ConvergenceError

from exoresist.cohort.population import (
    BURN_IN_DAY,
    DAYS_PER_MONTH,
    DEATH_REFERENCE_DIAMETER_MM,
    DEATH_VOLUME_EXPONENT,
    MAX_ATTEMPTS,
    POPULATIONS,
    SCAN_INTERVAL_DAY,
    STREAM_SECOND_LINE,
    CohortParameters,
    Population,
    PopulationError,
    mechanism_records,
    parameter_matrix,
    patient_spec,
    select_patients,
    strength_names,
)
from exoresist.cohort.recist import NOT_ASSESSED, Response, best_overall_response_batch, classify_batch, progression_time_batch
from exoresist.cohort.survival import cox_hazard_ratio, km_median, logrank_p, proportion_ci
from exoresist.kb import KnowledgeBase, Mechanism
from exoresist.kb.errors import UnknownNameError
from exoresist.model.assemble import AssemblyError, pool_name, resolve_interventions, resolve_therapies, strength_param
from exoresist.model.spec import ModelSpec
from exoresist.ode import SimulationResult, simulate

PRE_TREATMENT_MAX_MONTHS = 24.0
RTOL = 1e-5
ATOL = 1e-6
GRID_DAY = 7.0
MAX_PATIENTS_PER_ARM = 1_000_000
"""Hard upper limit of ``--patients``, checked before anything else: the finished run is assembled
in memory (about 14 GB for 1,000,000 patients in 2 arms; :func:`exoresist.cohort.runner.estimate`)."""


class TrialError(ValueError):
    """Bad trial arguments: unknown arm component, non-positive patients or months, ..."""


@dataclass(frozen=True)
class Arm:
    """A trial arm: the user's label, the drugs (KB therapy ids) and interventions (KB ids)."""

    label: str
    therapies: tuple[str, ...]
    interventions: tuple[str, ...]


def parse_arm(kb: KnowledgeBase, text: str) -> Arm:
    """``"sorafenib+anti-pIgR"`` -> drugs and interventions; ``"placebo"`` is no treatment.

    Each ``+``-separated part is a therapy (name, alias, id or a regimen such as
    ``atezolizumab+bevacizumab``) or an intervention (name, alias, id or short form such as
    ``secretion-blockade``). An unknown part raises ``TrialError`` naming it.
    """
    label = text.strip()
    if not label:
        raise TrialError("an arm name is empty")
    if label.casefold() == "placebo":
        return Arm("placebo", (), ())
    therapies: list[str] = []
    interventions: list[str] = []
    for part in [p.strip() for p in re.split(r"\+", label)]:
        if not part:
            raise TrialError(f"arm '{label}' has an empty component")
        try:
            for d in resolve_therapies(kb, [part]):
                if d not in therapies:
                    therapies.append(d)
            continue
        except (UnknownNameError, AssemblyError) as therapy_error:
            try:
                for i in resolve_interventions(kb, [part]):
                    if i.id not in interventions:
                        interventions.append(i.id)
            except (UnknownNameError, AssemblyError):
                raise TrialError(f"arm '{label}': '{part}' is neither a therapy nor an intervention ({therapy_error})") from None
    return Arm(label, tuple(therapies), tuple(interventions))


@dataclass(frozen=True)
class TrialConfig:
    """Everything that determines a trial's numbers (the resume key)."""

    arms: tuple[str, ...]
    population: Population = "first-line"
    patients: int = 1000
    months: float = 24.0
    seed: int = 0
    chunk_size: int = 100
    cohort: CohortParameters = field(default_factory=CohortParameters)
    knockouts: bool = False  # also simulate each progressing patient with each of its records off

    def validate(self, kb: KnowledgeBase) -> list[Arm]:
        """Check every argument before any work starts; returns the parsed arms."""
        if not self.arms:
            raise TrialError("give at least one arm (--arm)")
        if self.population not in POPULATIONS:
            raise TrialError(f"unknown population '{self.population}': choose one of {', '.join(POPULATIONS)}")
        if self.patients < 1:
            raise TrialError(f"patients per arm must be at least 1, got {self.patients}")
        if self.patients > MAX_PATIENTS_PER_ARM:
            raise TrialError(
                f"at most {MAX_PATIENTS_PER_ARM:,} patients per arm, got {self.patients:,}: "
                "run several trials with different --seed values instead"
            )
        if not (math.isfinite(self.months) and 0 < self.months <= 120):
            raise TrialError(f"months of follow-up must be in (0, 120], got {self.months}")
        if self.chunk_size < 1:
            raise TrialError(f"chunk size must be at least 1, got {self.chunk_size}")
        if self.seed < 0:
            raise TrialError(f"seed must be >= 0, got {self.seed}")
        arms = [parse_arm(kb, a) for a in self.arms]
        labels = [a.label for a in arms]
        if len(set(labels)) != len(labels):
            raise TrialError(f"an arm is given twice: {labels}")
        return arms

    def as_dict(self) -> dict[str, Any]:
        return {
            "arms": list(self.arms),
            "population": self.population,
            "patients": self.patients,
            "months": self.months,
            "seed": self.seed,
            "chunk_size": self.chunk_size,
            "cohort": self.cohort.as_dict(),
            **({"knockouts": True} if self.knockouts else {}),  # (absent when off: earlier run keys hold)
        }

    def chunks(self) -> list[range]:
        return [range(s, min(s + self.chunk_size, self.patients)) for s in range(0, self.patients, self.chunk_size)]


# --- simulation of one chunk ----------------------------------------------------------------------


@dataclass
class _Start:
    """Where each patient's trial starts: the model day of baseline and optional state overrides."""

    start_day: float
    states: dict[str, np.ndarray] | None = None


def _scan_times(start_day: float, end_day: float) -> np.ndarray:
    n = int(np.floor((end_day - start_day) / SCAN_INTERVAL_DAY + 1e-9))
    return start_day + SCAN_INTERVAL_DAY * np.arange(n + 1)


def simulation_grid(start_day: float, end_day: float) -> np.ndarray:
    grid = np.arange(start_day, end_day + 1e-9, GRID_DAY)
    grid = np.union1d(grid, _scan_times(start_day, end_day))
    if grid[-1] < end_day:
        grid = np.append(grid, end_day)
    return grid


def _run(
    spec: ModelSpec, cohort: CohortParameters, draws: Sequence[Mapping[str, float]], times: np.ndarray, start: _Start
) -> SimulationResult:
    return simulate(
        spec,
        parameter_matrix(spec, cohort, draws),
        t_end_day=float(times[-1]),
        t_eval_day=times,
        rtol=RTOL,
        atol=ATOL,
        initial_overrides=start.states,
    )


def death_times(times_day: np.ndarray, diameter_mm: np.ndarray, threshold: np.ndarray, cohort: CohortParameters) -> np.ndarray:
    """Day of death per patient (NaN if alive at the last time): first time the cumulative hazard
    (trapezoid along ``times_day``) reaches ``threshold``; linear interpolation inside a step."""
    d = np.nan_to_num(diameter_mm, nan=0.0)
    hazard = (
        cohort["death_background_per_month"]
        + cohort["death_tumour_per_month"] * (d / DEATH_REFERENCE_DIAMETER_MM) ** DEATH_VOLUME_EXPONENT
    ) / DAYS_PER_MONTH
    steps = 0.5 * (hazard[:, 1:] + hazard[:, :-1]) * np.diff(times_day)[None, :]
    cum = np.concatenate([np.zeros((d.shape[0], 1)), np.cumsum(steps, axis=1)], axis=1)
    out = np.full(d.shape[0], np.nan)
    for i in range(d.shape[0]):
        k = int(np.searchsorted(cum[i], threshold[i]))
        if k == 0:
            out[i] = times_day[0]
        elif k < cum.shape[1]:
            frac = (threshold[i] - cum[i, k - 1]) / max(cum[i, k] - cum[i, k - 1], 1e-300)
            out[i] = times_day[k - 1] + frac * (times_day[k] - times_day[k - 1])
    return out


def endpoints(
    kb: KnowledgeBase,
    spec: ModelSpec,
    res: SimulationResult,
    start_day: float,
    death_e: np.ndarray,
    cohort: CohortParameters,
    draws: Sequence[Mapping[str, float]],
) -> pd.DataFrame:
    """Per-patient endpoints of one simulated arm (baseline at ``start_day``): best response, best
    change, PFS, TTP, OS (months, with event flags) and each record's effect term at progression."""
    times = res.times_day
    dia = res.derived_value("tumour_diameter_mm")
    on = times >= start_day - 1e-9
    t_on, d_on = times[on], dia[:, on]
    end_day = float(times[-1])
    follow_month = (end_day - start_day) / DAYS_PER_MONTH
    death_day = death_times(t_on, d_on, death_e, cohort)
    scans = _scan_times(start_day, end_day)
    scan_idx = np.searchsorted(times, scans)
    d_scan = dia[:, scan_idx]
    safe = np.where(np.isfinite(d_scan), d_scan, 0.0)
    batch = classify_batch(scans - start_day, safe, baseline_index=0)
    dead_before = np.isfinite(death_day)[:, None] & (scans[None, :] > death_day[:, None])
    codes = np.where(dead_before, NOT_ASSESSED, batch.codes).astype(batch.codes.dtype)
    batch = dataclasses.replace(batch, codes=codes)
    pd_day = progression_time_batch(batch)  # relative to baseline
    bor = best_overall_response_batch(batch)
    death_rel = death_day - start_day
    progressed = np.isfinite(pd_day)
    pfs_day = np.fmin(np.where(progressed, pd_day, np.inf), np.where(np.isfinite(death_rel), death_rel, np.inf))
    pfs_event = np.isfinite(pfs_day)
    pfs_month = np.where(pfs_event, pfs_day / DAYS_PER_MONTH, follow_month)
    # TTP (SHARP's endpoint): RECIST progression only, death censors
    ttp_month = np.where(
        progressed & (~np.isfinite(death_rel) | (pd_day <= np.nan_to_num(death_rel, nan=np.inf))), pd_day, np.nan
    )
    ttp_event = np.isfinite(ttp_month)
    ttp_month = np.where(
        ttp_event, ttp_month / DAYS_PER_MONTH, np.fmin(np.nan_to_num(death_rel, nan=np.inf) / DAYS_PER_MONTH, follow_month)
    )
    os_event = np.isfinite(death_rel)
    os_month = np.where(os_event, death_rel / DAYS_PER_MONTH, follow_month)
    # best change: post-baseline scans up to progression, before death
    rel = scans - start_day
    window = (rel[None, :] > 0) & ~dead_before & (rel[None, :] <= np.where(progressed, pd_day, np.inf)[:, None])
    change = 100.0 * (d_scan / d_scan[:, :1] - 1.0)
    best_change = np.where(window.any(axis=1), np.min(np.where(window, change, np.inf), axis=1), np.nan)

    records = mechanism_records(kb)
    params = set(spec.parameter_names)
    contrib = np.full((len(draws), len(records)), np.nan)
    pd_scan = np.where(progressed, np.searchsorted(rel, np.nan_to_num(pd_day)), 0)
    derived_names = set(res.derived_names)
    for k, rid in enumerate(records):
        sp = strength_param(rid)
        effect = f"effect_{pool_name(kb.entity(_mech(kb, rid).cargo).id)}"
        if sp not in params or effect not in derived_names:
            continue
        values = res.derived_value(effect)[:, scan_idx]
        strength = np.array([d.get(sp, 1.0) for d in draws])
        contrib[:, k] = np.where(progressed, strength * values[np.arange(len(draws)), pd_scan], np.nan)
    has = progressed & np.any(np.nan_to_num(contrib) > 0, axis=1)
    top = np.where(has, np.array(records, dtype=object)[np.argmax(np.nan_to_num(contrib, nan=-1.0), axis=1)], "")
    names = np.array([r.name for r in Response], dtype=object)
    frame = pd.DataFrame(
        {
            "baseline_diameter_mm": d_scan[:, 0],
            "best_change_pct": best_change,
            "bor": names[bor],
            "pfs_month": pfs_month,
            "pfs_event": pfs_event,
            "ttp_month": ttp_month,
            "ttp_event": ttp_event,
            "os_month": os_month,
            "os_event": os_event,
            "progressed": progressed,
            "top_mechanism": top.astype(str),
            "ok": res.ok,
            "message": list(res.messages),
        }
    )
    for k, rid in enumerate(records):
        frame[f"contrib:{rid}"] = contrib[:, k]
    return frame


def _to_start_state(values: Mapping[str, np.ndarray], new: ModelSpec) -> dict[str, np.ndarray]:
    """Per-patient species values (by name) mapped onto the species of ``new``."""
    new_names = set(new.species_names)
    out = {name: v.copy() for name, v in values.items() if name in new_names}
    for name, v in values.items():
        if name.startswith("R_") and name not in new_names and "S" in out:
            out["S"] = out["S"] + v
    return out


def _post_sorafenib(
    kb: KnowledgeBase, cohort: CohortParameters, seed: int, slots: Sequence[int], accept: Sequence[float]
) -> tuple[list[dict[str, float]], np.ndarray, dict[str, np.ndarray]]:
    """Select patients who progressed on first-line sorafenib; returns their draws, attempt numbers
    and the whole model state at the progression scan (species name -> value per patient)."""
    end = BURN_IN_DAY + PRE_TREATMENT_MAX_MONTHS * DAYS_PER_MONTH
    spec = patient_spec(kb, ("ther:sorafenib",), (), end, BURN_IN_DAY)
    times = simulation_grid(BURN_IN_DAY, end)
    slots_arr = np.asarray(slots, dtype=int)
    first = np.zeros(slots_arr.size, dtype=int)
    chosen: list[tuple[int, dict[str, float], int, np.ndarray]] = []
    pending = np.arange(slots_arr.size)
    for _ in range(MAX_ATTEMPTS):
        if pending.size == 0:
            break
        sel = select_patients(kb, cohort, seed, slots_arr[pending].tolist(), accept, first_attempt=first[pending])
        res = _run(spec, cohort, sel.draws, times, _Start(BURN_IN_DAY))
        e = np.array([d["death_e"] for d in sel.draws])
        ends = endpoints(kb, spec, res, BURN_IN_DAY, e, cohort, sel.draws)
        eligible = ends["progressed"].to_numpy() & res.ok & (ends["pfs_month"].to_numpy() < ends["os_month"].to_numpy())
        pd_days = BURN_IN_DAY + ends["pfs_month"].to_numpy() * DAYS_PER_MONTH
        for k in np.flatnonzero(eligible):
            idx = int(np.argmin(np.abs(times - pd_days[k])))
            chosen.append((int(pending[k]), sel.draws[k], int(sel.attempts[k]), res.states[k, idx]))
        first[pending] = sel.attempts + 1
        pending = pending[~eligible]
    if pending.size:
        raise PopulationError(
            f"{pending.size} post-sorafenib slots found no patient progressing on sorafenib within "
            f"{PRE_TREATMENT_MAX_MONTHS:g} months in {MAX_ATTEMPTS} rounds"
        )
    chosen.sort(key=lambda c: c[0])
    draws = [c[1] for c in chosen]
    attempts = np.array([c[2] for c in chosen])
    states = np.stack([c[3] for c in chosen])
    return draws, attempts, {name: states[:, k] for k, name in enumerate(spec.species_names)}


def simulate_chunk(
    kb: KnowledgeBase, config: TrialConfig, arms: Sequence[Arm], slots: Sequence[int], accept: Sequence[float]
) -> pd.DataFrame:
    """Select the patients of ``slots`` and simulate each in every arm: one row per (arm, patient).

    A pure function of its arguments: the same slots give the same rows on any worker.
    """
    cohort = config.cohort
    days = config.months * DAYS_PER_MONTH
    if config.population == "first-line":
        sel = select_patients(kb, cohort, config.seed, slots, accept)
        draws, attempts = sel.draws, sel.attempts
        start = _Start(BURN_IN_DAY)
        tvdt = sel.tvdt_day
        end = BURN_IN_DAY + days
        death_e = np.array([d["death_e"] for d in draws])
    else:
        draws, attempts, at_progression = _post_sorafenib(kb, cohort, config.seed, slots, accept)
        start = _Start(0.0)
        tvdt = np.full(len(draws), np.nan)
        end = days
        # a fresh death threshold for the second-line trial, from the patient's own stream
        death_e = np.array(
            [
                np.random.default_rng(np.random.SeedSequence([config.seed, STREAM_SECOND_LINE, int(s), int(a)])).exponential()
                for s, a in zip(slots, attempts, strict=True)
            ]
        )
    frames = []
    for arm in arms:
        spec = patient_spec(kb, arm.therapies, arm.interventions, end, start.start_day)
        arm_start = start
        if config.population == "post-sorafenib":
            arm_start = _Start(0.0, _to_start_state(at_progression, spec))
        res = _run(spec, cohort, draws, simulation_grid(arm_start.start_day, end), arm_start)
        frame = endpoints(kb, spec, res, arm_start.start_day, death_e, cohort, draws)
        frame.insert(0, "arm", arm.label)
        frame.insert(1, "patient", np.asarray(slots, dtype=np.int64))
        frame.insert(2, "attempt", attempts)
        frame.insert(3, "tvdt_day", tvdt)
        for rid, sp in zip(mechanism_records(kb), strength_names(kb), strict=True):
            frame[f"strength:{rid}"] = [d.get(sp, np.nan) for d in draws]
        if config.knockouts:
            grid = simulation_grid(arm_start.start_day, end)
            for rid, delay in knockout_delays(kb, spec, cohort, draws, grid, arm_start, death_e, frame).items():
                frame[f"ko_delay:{rid}"] = delay
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def knockout_delays(
    kb: KnowledgeBase,
    spec: ModelSpec,
    cohort: CohortParameters,
    draws: Sequence[Mapping[str, float]],
    grid: np.ndarray,
    start: _Start,
    death_e: np.ndarray,
    frame: pd.DataFrame,
) -> dict[str, np.ndarray]:
    """Counterfactual attribution: each progressing patient is simulated again once per record it
    expresses, with that record's strength set to 0 (everything else, including the death
    threshold, unchanged). Returns per record the delay of RECIST progression in months (the time
    to progression without the record minus with it; NaN where the patient did not progress or does
    not express the record). When the patient no longer progresses within follow-up (or dies first),
    the delay is counted up to that time, so it is a lower bound."""
    records = mechanism_records(kb)
    params = set(spec.parameter_names)
    out = {rid: np.full(len(draws), np.nan) for rid in records}
    progressing = np.flatnonzero(frame["progressed"].to_numpy() & frame["ok"].to_numpy()).tolist()
    pairs = [
        (i, rid, sp)
        for i in progressing
        for rid, sp in zip(records, strength_names(kb), strict=True)
        if sp in params and draws[i].get(sp, 0.0) > 0.0
    ]
    if not pairs:
        return out
    rows = np.array([i for i, _, _ in pairs])
    cf_draws = [{**draws[i], sp: 0.0} for i, _, sp in pairs]
    states = None if start.states is None else {name: v[rows] for name, v in start.states.items()}
    res = _run(spec, cohort, cf_draws, grid, _Start(start.start_day, states))
    cf = endpoints(kb, spec, res, start.start_day, death_e[rows], cohort, cf_draws)
    delay = cf["ttp_month"].to_numpy() - frame["ttp_month"].to_numpy()[rows]
    delay = np.where(res.ok, delay, np.nan)
    for (i, rid, _), d in zip(pairs, delay.tolist(), strict=True):
        out[rid][i] = d
    return out


def _mech(kb: KnowledgeBase, record_id: str) -> Mechanism:
    rec = kb.get(record_id)
    assert isinstance(rec, Mechanism)
    return rec


def record_label(kb: KnowledgeBase, record_id: str) -> str:
    """Short label of a mechanism record for tables and figures: its cargo and process."""
    m = _mech(kb, record_id)
    return f"{kb.entity(m.cargo).name} ({m.process.value if m.process else ''})"


# --- statistics ------------------------------------------------------------------------------------


def _ci(p: Any) -> dict[str, float]:
    return {"estimate": float(p.estimate), "ci_low": float(p.ci_low), "ci_high": float(p.ci_high)}


def _median(t: np.ndarray, e: np.ndarray) -> dict[str, float]:
    m = km_median(t, e)
    return {"median": float(m.median), "ci_low": float(m.ci_low), "ci_high": float(m.ci_high)}


def summarise(patients: pd.DataFrame, arm_order: Sequence[str]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Per-arm response and survival statistics, and comparisons of every arm with the first."""
    arms: list[dict[str, Any]] = []
    comparisons: list[dict[str, Any]] = []
    ok = patients[patients["ok"]]
    for label in arm_order:
        g = ok[ok["arm"] == label]
        n = len(g)
        if n == 0:
            raise TrialError(f"arm '{label}' has no successfully simulated patient")
        counts = g["bor"].value_counts()
        k = {r: int(counts.get(r, 0)) for r in ("CR", "PR", "SD", "PD", "NE")}
        arms.append(
            {
                "arm": label,
                "n": n,
                "n_failed": int(((patients["arm"] == label) & ~patients["ok"]).sum()),
                "orr": _ci(proportion_ci(k["CR"] + k["PR"], n)),
                "dcr": _ci(proportion_ci(k["CR"] + k["PR"] + k["SD"], n)),
                **{r.lower(): k[r] / n for r in k},
                "pfs_median_month": _median(g["pfs_month"].to_numpy(), g["pfs_event"].to_numpy()),
                "ttp_median_month": _median(g["ttp_month"].to_numpy(), g["ttp_event"].to_numpy()),
                "os_median_month": _median(g["os_month"].to_numpy(), g["os_event"].to_numpy()),
            }
        )
    ref = arm_order[0]
    r = ok[ok["arm"] == ref]
    for label in arm_order[1:]:
        g = ok[ok["arm"] == label]
        both = pd.concat([r, g])
        group = (both["arm"] == label).to_numpy().astype(float)
        out: dict[str, Any] = {"arm": label, "reference": ref}
        for ep in ("os", "pfs"):
            t, e = both[f"{ep}_month"].to_numpy(), both[f"{ep}_event"].to_numpy()
            nan = float("nan")
            out[f"{ep}_hr"] = {"hr": nan, "ci_low": nan, "ci_high": nan, "p": nan}
            out[f"{ep}_logrank_p"] = nan
            if e.sum() == 0:
                continue  # no event in either arm: no hazard ratio
            try:
                hr = cox_hazard_ratio(t, e, group)
                out[f"{ep}_hr"] = {"hr": hr.hr, "ci_low": hr.ci_low, "ci_high": hr.ci_high, "p": hr.p}
            except ConvergenceError:  # e.g. complete separation in a tiny trial: reported as undefined
                pass
            out[f"{ep}_logrank_p"] = logrank_p(t, e, group)
        comparisons.append(out)
    return arms, comparisons


KNOCKOUT_DELAY_MONTH = SCAN_INTERVAL_DAY / DAYS_PER_MONTH
"""A record's knockout "delays" a patient's progression when it moves it by at least one scan."""
ATTRIBUTION_COLUMNS = (
    "arm", "record_id", "label", "n_progressing", "share", "mean_contribution", "ko_share", "ko_mean_delay_month"
)  # fmt: skip


def attribution(kb: KnowledgeBase, patients: pd.DataFrame, arm_order: Sequence[str]) -> pd.DataFrame:
    """Per arm and record, among progressing patients: ``share`` whose progression the record's
    effect term led at progression (instantaneous), and, when the trial ran the knockouts,
    ``ko_share`` whose progression its knockout delays by at least one scan and
    ``ko_mean_delay_month``, the mean delay among those expressing it (NaN without knockouts)."""
    rows = []
    for label in arm_order:
        g = patients[(patients["arm"] == label) & patients["ok"] & patients["progressed"]]
        n = len(g)
        for rid in mechanism_records(kb):
            col = f"contrib:{rid}"
            values = g[col].to_numpy(dtype=float) if col in g else np.array([])
            if n == 0 or np.all(np.isnan(values)):
                continue
            ran = f"ko_delay:{rid}" in g  # the trial ran the knockouts
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
