"""Virtual patients: parameter draws, plausibility, and selection toward a target population.

A virtual patient is a draw of the patient-level model parameters (tumour growth and size,
immune infiltration, pharmacokinetic variability, and which resistance cargos the tumour
expresses and how strongly) on top of population-level values. The population-level values are
the model's defaults, replaced by the cohort parameters of :data:`COHORT_PARAMETERS` (the ones the
calibration fits).

Selection follows the usual virtual-population practice (parameter-anchors.md): draw, keep only
plausible patients (an untreated observation window must show a tumour volume doubling time
inside the published range and a measurable tumour), then accept each plausible candidate with a
probability that makes the cohort's growth-pattern mix match the published one (probability of
inclusion, Allen et al., CPT Pharmacometrics Syst Pharmacol 2016). Every draw derives from the run's
seed, the patient's index and the attempt number only, so a patient is the same whatever the
chunking, worker or arm.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal

import numpy as np

from exoresist.kb import KnowledgeBase
from exoresist.model.assemble import (
    INITIAL_STATE_PARAMETERS,
    STRENGTH_PRIOR,
    Scenario,
    build_cached,
    candidate_mechanisms,
    strength_param,
)
from exoresist.model.drugs import all_parameters
from exoresist.model.spec import ModelSpec, Parameter

Population = Literal["first-line", "post-sorafenib"]
POPULATIONS: tuple[Population, ...] = ("first-line", "post-sorafenib")

DAYS_PER_MONTH = 365.25 / 12
BURN_IN_DAY = 56.0
"""Untreated observation before the baseline scan (days); assumed: a screening window of 8 weeks
in which the doubling time used for plausibility is measured."""
SCAN_INTERVAL_DAY = 42.0
"""Tumour assessments every 6 weeks from the baseline scan; assumed, the usual schedule of
first-line advanced-HCC trials."""

TVDT_BOUNDS_DAY = (11.0, 851.2)
"""Range of untreated HCC tumour volume doubling times in 175 patients (Kim et al., Clin Mol
Hepatol 2015;21:279): plausibility bounds."""
TVDT_CUTS_DAY = (3 * DAYS_PER_MONTH, 9 * DAYS_PER_MONTH)
TVDT_TARGET_SHARES = (0.35, 0.274, 0.376)
"""Rapid (< 3 months), intermediate and indolent (> 9 months) growth among 1374 untreated HCC
lesions (Nathani et al., Gut 2021;70:401, pooled analysis): the target mix for selection."""
BASELINE_DIAMETER_BOUNDS_MM = (10.0, 150.0)
"""Measurable (RECIST 1.1: at least 10 mm) and at most 150 mm at baseline (upper bound assumed)."""
INITIAL_DIAMETER_RANGE_MM = (25.0, 90.0)
"""Tumour diameter at the start of the screening window, drawn log-uniform (assumed)."""
PILOT_SIZE = 600
MAX_ATTEMPTS = 60


def _p(name: str, default: float, low: float, high: float, unit: str, source: str, desc: str, scale: str = "log") -> Parameter:
    return Parameter(name, default, low, high, unit, source, desc, (), scale)  # type: ignore[arg-type]


COHORT_PARAMETERS: tuple[Parameter, ...] = (
    _p(
        "growth_median_per_day",
        0.004,
        0.001,
        0.05,
        "1/day",
        "Ande et al., J Pharmacokinet Pharmacodyn 2018 (parameter-anchors.md): patient tumour growth about 0.004/day",
        "population median of the tumour growth rate constant (k_growth_patient_per_day)",
    ),
    _p("growth_sigma", 0.8, 0.2, 1.5, "1", "assumed", "between-patient log-SD of the tumour growth rate constant", "linear"),
    _p(
        "p_cargo_expressed",
        0.5,
        0.1,
        0.9,
        "1",
        "assumed",
        "probability that a tumour expresses a given resistance cargo (each record independently)",
        "linear",
    ),
    _p(
        "death_background_per_month",
        0.03,
        0.005,
        0.15,
        "1/month",
        "assumed",
        "death hazard not due to tumour burden (liver disease)",
    ),
    _p(
        "death_tumour_per_month",
        0.05,
        0.005,
        1.0,
        "1/month",
        "assumed",
        "death hazard from tumour burden at the reference diameter (100 mm), scaling with tumour volume",
    ),
    _p(
        "sorafenib_kmax_scale",
        1.0,
        0.1,
        10.0,
        "1",
        "assumed",
        "population multiplier of the maximal sorafenib kill rate (in vivo potency relative to the in vitro default)",
    ),
    _p(
        "t_kill_scale",
        1.0,
        0.1,
        10.0,
        "1",
        "assumed",
        "population multiplier of CD8 T-cell killing (k_t_kill_per_day)",
    ),
)
DEATH_REFERENCE_DIAMETER_MM = 100.0
DEATH_VOLUME_EXPONENT = 3.0

PRIOR_DRAWN = (
    "init_stem_fraction",
    "k_t_recruit_per_day",
    "k_nk_recruit_per_day",
    "macrophages_per_tumour_cell",
    "fibroblasts_per_tumour_cell",
    "body_weight_kg",
    "body_surface_m2",
)
"""Patient-level parameters drawn from their model prior (log-uniform or uniform per its scale)."""
PK_CV = {"sorafenib_k_el_per_day": 0.65}
"""Between-patient coefficient of variation of elimination: sorafenib from the CV of its trough in
HCC (65 %, parameter-anchors.md); every other elimination or clearance 30 % (assumed)."""
PK_CV_DEFAULT = 0.30


class PopulationError(ValueError):
    """A cohort that cannot be built: unknown cohort parameter, unreachable target mix, ..."""


@dataclass(frozen=True)
class CohortParameters:
    """Cohort-level values: :data:`COHORT_PARAMETERS` defaults with ``values`` on top."""

    values: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        known = {p.name: p for p in COHORT_PARAMETERS}
        for name, value in self.values.items():
            if name not in known:
                raise PopulationError(f"unknown cohort parameter '{name}' (known: {', '.join(sorted(known))})")
            if not math.isfinite(value) or value < 0:
                raise PopulationError(f"cohort parameter {name} must be a finite number >= 0, got {value}")

    def __getitem__(self, name: str) -> float:
        if name in self.values:
            return float(self.values[name])
        for p in COHORT_PARAMETERS:
            if p.name == name:
                return p.default
        raise KeyError(name)

    def as_dict(self) -> dict[str, float]:
        return {p.name: self[p.name] for p in COHORT_PARAMETERS}

    def model_overrides(self) -> dict[str, float]:
        """Population-level model parameter values these cohort parameters imply."""
        base = _model_parameters()
        return {
            "k_growth_patient_per_day": self["growth_median_per_day"],
            "sorafenib_kmax_per_day": base["sorafenib_kmax_per_day"].default * self["sorafenib_kmax_scale"],
            "k_t_kill_per_day": base["k_t_kill_per_day"].default * self["t_kill_scale"],
        }


def mechanism_records(kb: KnowledgeBase) -> tuple[str, ...]:
    """Record ids of every mechanism taking part in the patient model (one cargo-strength draw each,
    so a patient is the same in every arm; which of them act depends on the arm, see
    :func:`exoresist.model.assemble.acting_records`)."""
    return tuple(m.id for m in candidate_mechanisms(kb))


def _prior_draw(rng: np.random.Generator, p: Parameter) -> float:
    if p.scale == "log" and p.low > 0:
        return float(np.exp(rng.uniform(np.log(p.low), np.log(p.high))))
    return float(rng.uniform(p.low, p.high))


STREAM_PATIENT, STREAM_PILOT, STREAM_SECOND_LINE = 0, 1, 2
"""Independent random streams: patients, the inclusion pilot, second-line death thresholds."""


def draw_candidate(
    kb: KnowledgeBase, cohort: CohortParameters, seed: int, slot: int, attempt: int, *, stream: int = STREAM_PATIENT
) -> dict[str, float]:
    """One candidate for patient ``slot``: patient-level model parameters by name.

    The stream is ``SeedSequence([seed, stream, slot, attempt])``: the same patient in every chunk, arm and
    worker. Keys are model parameter names plus ``inclusion_u`` (the uniform number of the
    inclusion step) and ``death_e`` (the unit-exponential death threshold).
    """
    rng = np.random.default_rng(np.random.SeedSequence([seed, stream, slot, attempt]))
    base = _model_parameters()
    out: dict[str, float] = {}
    out["k_growth_patient_per_day"] = cohort["growth_median_per_day"] * float(
        np.exp(cohort["growth_sigma"] * rng.standard_normal())
    )
    d0 = float(np.exp(rng.uniform(*np.log(INITIAL_DIAMETER_RANGE_MM))))
    out["init_tumour_patient_Mcells"] = math.pi / 6 * d0**3 / base["cell_volume_mm3_per_Mcell"].default
    for name in PRIOR_DRAWN:
        out[name] = _prior_draw(rng, base[name])
    # the draws below are vectorised; they consume the stream exactly as one call per value would
    overrides = cohort.model_overrides()
    pk = _pk_parameters()
    z = rng.standard_normal(len(pk))
    for p, zi in zip(pk, z.tolist(), strict=True):
        cv = PK_CV.get(p.name, PK_CV_DEFAULT)
        sigma = math.sqrt(math.log1p(cv * cv))
        centre = overrides.get(p.name, p.default)
        out[p.name] = centre * float(np.exp(sigma * zi - sigma * sigma / 2))
    names = strength_names(kb)
    u = rng.random(2 * len(names))  # per record: expressed?, then its strength (log-uniform)
    lo, hi = np.log(STRENGTH_PRIOR)
    strength = np.exp(lo + (hi - lo) * u[1::2])
    expressed = u[0::2] < cohort["p_cargo_expressed"]
    out.update(zip(names, np.where(expressed, strength, 0.0).tolist(), strict=True))
    out["inclusion_u"] = float(rng.uniform())
    out["death_e"] = float(rng.exponential())
    return out


@lru_cache(maxsize=1)
def _pk_parameters() -> tuple[Parameter, ...]:
    """The elimination and clearance parameters drawn per patient, in a fixed order."""
    return tuple(p for p in _model_parameters().values() if p.name.endswith(("_k_el_per_day", "_cl_L_per_day")))


def strength_names(kb: KnowledgeBase) -> tuple[str, ...]:
    """``strength_<record>`` of every mechanism of the patient model, in :func:`mechanism_records` order."""
    return tuple(strength_param(rid) for rid in mechanism_records(kb))


NOT_PARAMETERS = ("inclusion_u", "death_e")
"""Keys of a patient draw that are not model parameters (the inclusion and death random numbers)."""


def drawn_names(kb: KnowledgeBase) -> frozenset[str]:
    """Every name a patient draw or the cohort overrides may set: the parameters of the arm models
    (an arm's model lacks, say, the clearance of a drug it does not give) and :data:`NOT_PARAMETERS`."""
    fixed = {"k_growth_patient_per_day", "init_tumour_patient_Mcells", *PRIOR_DRAWN, *NOT_PARAMETERS}
    fixed |= {p.name for p in _pk_parameters()} | set(CohortParameters().model_overrides())
    return frozenset(fixed | set(strength_names(kb)))


@lru_cache(maxsize=1)
def _model_parameters() -> dict[str, Parameter]:
    """Every parameter a patient model has before records add theirs, by name."""
    return {p.name: p for p in (*all_parameters(), *INITIAL_STATE_PARAMETERS)}


def patient_spec(
    kb: KnowledgeBase, therapies: tuple[str, ...], interventions: tuple[str, ...], days: float, start_day: float
) -> ModelSpec:
    """The patient model of one arm (from the model stage's spec cache)."""
    return build_cached(kb, Scenario("patient", therapies, interventions, days=days, treatment_start_day=start_day))


def parameter_matrix(
    kb: KnowledgeBase, spec: ModelSpec, cohort: CohortParameters, draws: Sequence[Mapping[str, float]]
) -> np.ndarray:
    """``(n_patients, n_params)`` in spec order: defaults, then cohort values, then each patient's
    draws. A name that is neither a parameter of ``spec`` nor one of :func:`drawn_names` is an error."""
    return spec.parameter_matrix(draws, base=cohort.model_overrides(), absent_ok=drawn_names(kb))


def tvdt_category(tvdt_day: np.ndarray) -> np.ndarray:
    """0 rapid, 1 intermediate, 2 indolent (Nathani et al. 2021 cut-offs of 3 and 9 months)."""
    out: np.ndarray = np.digitize(tvdt_day, TVDT_CUTS_DAY)
    return out


def screening(kb: KnowledgeBase, cohort: CohortParameters, draws: Sequence[Mapping[str, float]]) -> tuple[np.ndarray, np.ndarray]:
    """Simulate the untreated screening window; returns ``(tvdt_day, baseline_diameter_mm)``.

    A tumour that does not grow gets an infinite doubling time (implausible).
    """
    from exoresist.ode import simulate

    spec = patient_spec(kb, (), (), BURN_IN_DAY, BURN_IN_DAY)
    res = simulate(
        spec,
        parameter_matrix(kb, spec, cohort, draws),
        t_end_day=BURN_IN_DAY,
        t_eval_day=[0.0, BURN_IN_DAY],
        rtol=1e-5,
        atol=1e-8,
    )
    vol = res.derived_value("tumour_volume_mm3")
    dia = res.derived_value("tumour_diameter_mm")[:, -1]
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = vol[:, -1] / vol[:, 0]
        tvdt = np.where(ratio > 1.0, BURN_IN_DAY * math.log(2) / np.log(ratio), np.inf)
    tvdt = np.where(res.ok, tvdt, np.nan)
    return tvdt, np.where(res.ok, dia, np.nan)


def plausible(tvdt_day: np.ndarray, diameter_mm: np.ndarray) -> np.ndarray:
    lo, hi = TVDT_BOUNDS_DAY
    dlo, dhi = BASELINE_DIAMETER_BOUNDS_MM
    return (tvdt_day >= lo) & (tvdt_day <= hi) & (diameter_mm >= dlo) & (diameter_mm <= dhi)


def inclusion_probabilities(kb: KnowledgeBase, cohort: CohortParameters, seed: int) -> tuple[float, float, float]:
    """Acceptance probability per growth category so plausible candidates match the target mix.

    Estimated on a pilot of :data:`PILOT_SIZE` candidates from the run's seed (a stream of its own,
    never used by patients). Raises ``PopulationError`` when the cohort parameters
    make a category too rare (below 2 % of plausible candidates) to reach the target.
    """
    draws = [draw_candidate(kb, cohort, seed, k, 0, stream=STREAM_PILOT) for k in range(PILOT_SIZE)]
    tvdt, dia = screening(kb, cohort, draws)
    ok = plausible(tvdt, dia)
    if ok.sum() < PILOT_SIZE * 0.05:
        raise PopulationError(
            f"only {int(ok.sum())} of {PILOT_SIZE} pilot candidates are plausible (doubling time within "
            f"{TVDT_BOUNDS_DAY[0]:g}-{TVDT_BOUNDS_DAY[1]:g} days): the cohort parameters are far from HCC growth"
        )
    cats = tvdt_category(tvdt[ok])
    shares = np.bincount(cats, minlength=3) / ok.sum()
    if np.any(shares < 0.02):
        raise PopulationError(
            f"growth mix of plausible candidates {np.round(shares, 3).tolist()} (rapid, intermediate, indolent) "
            f"cannot be reweighted to the target {list(TVDT_TARGET_SHARES)}"
        )
    ratio = np.asarray(TVDT_TARGET_SHARES) / shares
    accept = ratio / ratio.max()
    return (float(accept[0]), float(accept[1]), float(accept[2]))


@dataclass
class SelectedPatients:
    """Accepted patients of a slot range: draws, their attempt numbers and screening results."""

    slots: np.ndarray
    draws: list[dict[str, float]]
    attempts: np.ndarray
    tvdt_day: np.ndarray
    baseline_diameter_mm: np.ndarray


def select_patients(
    kb: KnowledgeBase,
    cohort: CohortParameters,
    seed: int,
    slots: Sequence[int],
    accept: Sequence[float],
    *,
    first_attempt: Sequence[int] | np.ndarray | None = None,
) -> SelectedPatients:
    """Draw candidates for each slot until one is plausible and included (batched per round).

    Slot ``i`` tries attempts ``first_attempt[i], first_attempt[i] + 1, ...`` (default from 0).
    """
    slots_arr = np.asarray(slots, dtype=int)
    n = slots_arr.size
    draws: list[dict[str, float] | None] = [None] * n
    start = np.zeros(n, dtype=int) if first_attempt is None else np.asarray(first_attempt, dtype=int)
    attempts = np.zeros(n, dtype=int)
    tvdt = np.full(n, np.nan)
    dia = np.full(n, np.nan)
    pending = np.arange(n)
    for round_ in range(MAX_ATTEMPTS):
        if pending.size == 0:
            break
        cands = [draw_candidate(kb, cohort, seed, int(slots_arr[i]), int(start[i]) + round_) for i in pending]
        t, d = screening(kb, cohort, cands)
        ok = plausible(t, d)
        cat = tvdt_category(np.where(ok, t, 1.0))
        u = np.array([c["inclusion_u"] for c in cands])
        take = ok & (u < np.asarray(accept)[cat])
        for k in np.flatnonzero(take):
            i = pending[k]
            draws[i] = cands[k]
            attempts[i] = int(start[i]) + round_
            tvdt[i] = t[k]
            dia[i] = d[k]
        pending = pending[~take]
    if pending.size:
        raise PopulationError(
            f"{pending.size} patient slots found no plausible candidate in {MAX_ATTEMPTS} attempts "
            f"(first: slot {int(slots_arr[pending[0]])}); the cohort parameters are far from HCC growth"
        )
    return SelectedPatients(slots_arr, [d for d in draws if d is not None], attempts, tvdt, dia)
