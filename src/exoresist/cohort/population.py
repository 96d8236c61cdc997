"""Virtual patients: covariates, parameter draws, plausibility, and selection toward a target population.

A virtual patient is a draw of baseline covariates (:mod:`exoresist.cohort.covariates`), of the
patient-level model parameters (tumour growth, immune infiltration, pharmacokinetic variability,
the initial share of immune-escaped cells, and which resistance cargos the tumour expresses and how
strongly), and of the random numbers of its outcome (inclusion, death, new lesions, a later line of
therapy). The population-level values are the model's defaults, replaced by the cohort parameters
of :data:`COHORT_PARAMETERS` (the ones the calibration fits).

Covariates shape the tumour: the baseline sum of target-lesion diameters and the number of target
lesions give its volume (equal spheres), AFP >= 400 ng/mL and macrovascular invasion speed its
growth (assumed coefficients). Selection follows the usual virtual-population practice
(parameter-anchors.md): draw, keep only plausible patients (an untreated screening window must
show a tumour volume doubling time inside the published range and a measurable sum of diameters),
then accept each plausible candidate with a probability that makes the cohort's growth-pattern mix
match a published one when one is given (probability of inclusion, Allen et al., CPT
Pharmacometrics Syst Pharmacol 2016). Every draw derives from the run's seed, the patient's index and the attempt number only, so
a patient is the same whatever the chunking, worker or arm.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal

import numpy as np

from exoresist.cohort.covariates import IMBRAVE150, N_FACTORS, BaselineTable, Covariates, draw_covariates
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
"""Tumour assessments every 6 weeks from the baseline scan: the schedule of SHARP (imaging every 6
weeks, as reported in a review of SHARP) and of IMbrave150 (every 6 weeks in the first year)."""

TVDT_BOUNDS_DAY = (11.0, 851.2)
"""Range of untreated HCC tumour volume doubling times in 175 patients (Kim et al., Clin Mol
Hepatol 2015;21:279): plausibility bounds."""
TVDT_CUTS_DAY = (3 * DAYS_PER_MONTH, 9 * DAYS_PER_MONTH)
NATHANI_GROWTH_MIX = (0.35, 0.274, 0.376)
"""Rapid (< 3 months), intermediate and indolent (> 9 months) growth among 1374 untreated HCC
lesions (Nathani et al., Gut 2021;70:401, pooled analysis). Those lesions are mostly early-stage
HCC under surveillance; the advanced-HCC trial population grows faster (its growth distribution is
calibrated), so the mix is not imposed by default and is available as ``growth_mix``."""
BASELINE_SLD_BOUNDS_MM = (10.0, 300.0)
"""Measurable (RECIST 1.1: at least 10 mm) and at most 300 mm summed at baseline (upper bound assumed)."""
PILOT_SIZE = 600
MAX_ATTEMPTS = 60

GROWTH_COVARIATE_LOG_EFFECTS = {("afp_ge_400", "yes"): 0.3, ("mvi", "yes"): 0.2}
"""Log-multipliers of the tumour growth rate by covariate (assumed: high-AFP and vascular-invasive
HCCs grow faster; no published coefficient found)."""


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
    _p("t_kill_scale", 1.0, 0.1, 10.0, "1", "assumed", "population multiplier of CD8 T-cell killing (k_t_kill_per_day)"),
    _p(
        "k_adapt_per_day",
        0.005,
        0.0005,
        0.05,
        "1/day",
        "assumed",
        "drug-induced switching of sensitive tumour cells to reversible resistance (model k_adapt_per_day)",
    ),
    _p(
        "immune_escape_share",
        0.01,
        0.001,
        0.1,
        "1",
        "assumed (immunoediting)",
        "share of immune-attacked sensitive cells that survive as immune-escaped cells (model immune_escape_share)",
    ),
    _p(
        "immune_class_share",
        0.25,
        0.1,
        0.5,
        "1",
        "Sia et al., Gastroenterology 2017 (online 14 June 2017), as summarised by the International Liver Cancer"
        " Association (ilca-online.org, 'A novel immune subclass in HCC identified'): in 956 HCCs a molecular"
        " subclass of about 25 % with activated immune cells (higher T-cell cytolytic activity); not fitted",
        "share of tumours of the immune class (inflamed), the rest immune-poor",
        "linear",
    ),
    _p(
        "immune_hot_recruit_scale",
        1.0,
        1.0,
        10.0,
        "1",
        "assumed",
        "multiplier of CD8 T-cell recruitment (k_t_recruit_per_day) in tumours of the immune class",
    ),
    _p(
        "immune_cold_recruit_scale",
        1.0,
        0.05,
        1.0,
        "1",
        "assumed",
        "multiplier of CD8 T-cell recruitment (k_t_recruit_per_day) in immune-poor tumours (primary resistance to"
        " checkpoint inhibitors)",
    ),
    _p(
        "new_lesion_per_month",
        0.5,
        0.02,
        2.0,
        "1",
        "assumed",
        "hazard of a new lesion or unequivocal non-target progression per unit of tumour growth (per month, per"
        " log-volume growth per month)",
    ),
    _p(
        "new_lesion_base_per_month",
        0.01,
        0.001,
        0.1,
        "1/month",
        "assumed",
        "hazard of a new lesion or unequivocal non-target progression whatever the measured tumour does (occult"
        " clones; mixed responses)",
    ),
    _p(
        "new_lesion_frailty_sd",
        1.0,
        0.1,
        2.5,
        "1",
        "assumed",
        "between-patient log-SD of the new-lesion hazard (patients differ in occult disease beyond their factors)",
        "linear",
    ),
    _p(
        "death_tumour_scale_month",
        15.0,
        3.0,
        60.0,
        "month",
        "assumed",
        "Weibull scale of tumour-related death at reference covariates and an unchanged tumour",
    ),
    _p(
        "death_tumour_shape",
        1.5,
        1.0,
        2.5,
        "1",
        "assumed (a hazard that rises after baseline, as in trial populations selected for a life expectancy of at "
        "least 12 weeks: few deaths before the first scan)",
        "Weibull shape of tumour-related death",
        "linear",
    ),
    _p(
        "death_tumour_size_power",
        1.0,
        0.0,
        4.0,
        "1",
        "assumed (the tumour burden relative to baseline, besides its growth rate)",
        "power of the sum of diameters relative to baseline in the tumour-related death hazard",
        "linear",
    ),
    _p(
        "death_liver_per_month",
        0.005,
        0.001,
        0.014,
        "1/month",
        "assumed, bounded above by decompensated cirrhosis: its median survival is 2-4 years (D'Amico and"
        " Perricone, Curr Hepatol Rep 2019, issue 2, pp. 144-156, DOI 10.1007/s11901-019-00473-1, Abstract), a hazard of"
        " 0.014-0.029 per month; the trial patients have compensated (Child-Pugh A) liver disease, so their"
        " non-tumour hazard is taken to lie below the lower end",
        "hazard of death from liver failure and other causes at an ALBI score of -2.60",
    ),
    _p(
        "measurement_sd",
        0.041,
        0.03,
        0.07,
        "1",
        "Yoon et al., Eur J Cancer 2016;53:5-15 (PMID 26687017), Abstract: pooled 95 % limits of agreement of"
        " the relative difference between two measurements of a sum of lesions, -9.8 % to 13.1 % for one observer"
        " (per-measurement SD 11.45 / 1.96 / sqrt 2 = 4.1 %) and -19.2 % to 19.5 % between observers (7.0 %):"
        " the prior spans the two",
        "per-assessment measurement error of the sum of diameters (SD of its log): radiologists' reading",
        "linear",
    ),
    _p(
        "cr_lesion_mm",
        5.0,
        2.0,
        10.0,
        "mm",
        "assumed (a simulated tumour shrinks toward zero without reaching it; a liver lesion below a few mm is no"
        " longer seen on CT, and RECIST 1.1 calls lesions under 10 mm non-measurable)",
        "diameter below which a target lesion counts as disappeared (complete response)",
        "linear",
    ),
    _p(
        "post_progression_hr",
        0.7,
        0.3,
        1.0,
        "1",
        "assumed",
        "hazard ratio of tumour-related death after progression for patients who receive a later line",
    ),
)
"""Cohort-level parameters (the ones a calibration may move)."""

PRIOR_DRAWN = (
    "init_stem_fraction",
    "init_immune_escape_fraction",
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
RANDOMS = ("inclusion_u", "death_e", "lesion_e", "later_line_u")
"""The outcome random numbers of a patient: inclusion (uniform), death and new-lesion thresholds
(unit exponential), and whether a later line follows progression (uniform)."""
SCAN_WINDOW_DAY = 7.0
"""Each assessment falls anywhere within +/- 7 days of its scheduled day (assumed visit window);
without it every simulated progression would fall on the 6-week grid."""
MAX_FOLLOW_UP_MONTHS = 120.0
MAX_SCANS = int(MAX_FOLLOW_UP_MONTHS * DAYS_PER_MONTH // SCAN_INTERVAL_DAY) + 1
"""Scan-day jitters and measurement errors drawn per patient: one per assessment of the longest
follow-up (:data:`MAX_FOLLOW_UP_MONTHS`). Drawn at the end of each patient's stream, so a longer
follow-up limit leaves every earlier draw unchanged."""
MEASUREMENT_Z_CLIP = 4.0
"""Measurement errors are normal truncated at +-4 SD (a reading more than 4 SD off is a misread
lesion, not measurement noise), so a measured sum stays within known bounds of the true one."""


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

    def replace(self, **values: float) -> CohortParameters:
        return CohortParameters({**self.values, **values})

    def model_overrides(self) -> dict[str, float]:
        """Population-level model parameter values these cohort parameters imply."""
        base = _model_parameters()
        return {
            "k_growth_patient_per_day": self["growth_median_per_day"],
            "k_t_kill_per_day": base["k_t_kill_per_day"].default * self["t_kill_scale"],
            "immune_escape_share": self["immune_escape_share"],
            "k_adapt_per_day": self["k_adapt_per_day"],
        }


def mechanism_records(kb: KnowledgeBase) -> tuple[str, ...]:
    """Record ids of every mechanism taking part in the patient model (one cargo-strength draw each,
    so a patient is the same in every arm; which of them act depends on the arm, see
    :func:`exoresist.model.assemble.acting_records`)."""
    return tuple(m.id for m in candidate_mechanisms(kb))


def strength_names(kb: KnowledgeBase) -> tuple[str, ...]:
    """``strength_<record>`` of every mechanism of the patient model, in :func:`mechanism_records` order."""
    return tuple(strength_param(rid) for rid in mechanism_records(kb))


STREAM_PATIENT, STREAM_PILOT, STREAM_SECOND_LINE = 0, 1, 2
"""Independent random streams: patients, the inclusion pilot, second-line outcome thresholds."""


@dataclass(frozen=True)
class Candidates:
    """A batch of candidate patients: model parameters, covariates and outcome random numbers, each
    an array over patients."""

    slots: np.ndarray
    attempts: np.ndarray
    params: dict[str, np.ndarray]
    covariates: Covariates
    randoms: dict[str, np.ndarray]

    @property
    def n(self) -> int:
        return int(self.slots.shape[0])

    def take(self, index: np.ndarray | Sequence[int]) -> Candidates:
        idx = np.asarray(index, dtype=int)
        return Candidates(
            self.slots[idx],
            self.attempts[idx],
            {k: v[idx] for k, v in self.params.items()},
            Covariates(
                {k: v[idx] for k, v in self.covariates.levels.items()}, {k: v[idx] for k, v in self.covariates.values.items()}
            ),
            {k: v[idx] for k, v in self.randoms.items()},
        )

    def with_params(self, **columns: np.ndarray) -> Candidates:
        return Candidates(self.slots, self.attempts, {**self.params, **columns}, self.covariates, self.randoms)

    @staticmethod
    def concat(parts: Sequence[Candidates]) -> Candidates:
        first = parts[0]
        return Candidates(
            np.concatenate([p.slots for p in parts]),
            np.concatenate([p.attempts for p in parts]),
            {k: np.concatenate([p.params[k] for p in parts]) for k in first.params},
            Covariates(
                {k: np.concatenate([p.covariates.levels[k] for p in parts]) for k in first.covariates.levels},
                {k: np.concatenate([p.covariates.values[k] for p in parts]) for k in first.covariates.values},
            ),
            {k: np.concatenate([p.randoms[k] for p in parts]) for k in first.randoms},
        )


def draw_candidates(
    kb: KnowledgeBase,
    cohort: CohortParameters,
    seed: int,
    slots: Sequence[int] | np.ndarray,
    attempts: Sequence[int] | np.ndarray,
    *,
    stream: int = STREAM_PATIENT,
    target: BaselineTable = IMBRAVE150,
) -> Candidates:
    """Candidates for patient ``slots`` at ``attempts``; each from ``SeedSequence([seed, stream, slot,
    attempt])``: the same patient in every chunk, arm and worker."""
    slots_arr = np.asarray(slots, dtype=np.int64)
    att = np.asarray(attempts, dtype=np.int64)
    n = slots_arr.size
    base = _model_parameters()
    pk = _pk_parameters()
    names = strength_names(kb)
    n_normal = N_FACTORS + 2 + len(pk)
    n_uniform = len(PRIOR_DRAWN) + 2 * len(names) + len(RANDOMS) + MAX_SCANS
    normals = np.empty((n, n_normal))
    uniforms = np.empty((n, n_uniform))
    measurement = np.empty((n, MAX_SCANS))
    immune_u = np.empty(n)
    withdrawal_u = np.empty(n)
    for i in range(n):
        rng = np.random.default_rng(np.random.SeedSequence([seed, stream, int(slots_arr[i]), int(att[i])]))
        normals[i] = rng.standard_normal(n_normal)
        uniforms[i] = rng.random(n_uniform)
        measurement[i] = rng.standard_normal(MAX_SCANS)  # drawn after the others: they keep their values
        immune_u[i] = rng.random()  # drawn after those, for the same reason
        withdrawal_u[i] = rng.random()  # and this one last
    cov = draw_covariates(normals[:, :N_FACTORS], target)
    params: dict[str, np.ndarray] = {}
    log_growth = np.log(cohort["growth_median_per_day"]) + cohort["growth_sigma"] * normals[:, N_FACTORS]
    for (factor, level), effect in GROWTH_COVARIATE_LOG_EFFECTS.items():
        log_growth = log_growth + effect * cov.flag(factor, level)
    params["k_growth_patient_per_day"] = np.exp(log_growth)
    # the tumour at the start of screening: the baseline sum of diameters as equal spheres, taken
    # back over the screening window at the patient's growth rate
    n_lesions = cov.n_lesions()
    volume_mm3 = math.pi / 6 * cov.values["baseline_sld_mm"] ** 3 / n_lesions**2
    volume_mm3 = volume_mm3 * np.exp(-params["k_growth_patient_per_day"] * BURN_IN_DAY)
    params["init_tumour_patient_Mcells"] = volume_mm3 / base["cell_volume_mm3_per_Mcell"].default
    for k, name in enumerate(PRIOR_DRAWN):
        params[name] = _prior_from_uniform(base[name], uniforms[:, k])
    # immune class (inflamed tumours, Sia et al. 2017) or immune-poor: T-cell recruitment scaled per class
    inflamed = immune_u < cohort["immune_class_share"]
    params["k_t_recruit_per_day"] = params["k_t_recruit_per_day"] * np.where(
        inflamed, cohort["immune_hot_recruit_scale"], cohort["immune_cold_recruit_scale"]
    )
    overrides = cohort.model_overrides()
    for k, p in enumerate(pk):
        cv = PK_CV.get(p.name, PK_CV_DEFAULT)
        sigma = math.sqrt(math.log1p(cv * cv))
        centre = overrides.get(p.name, p.default)
        params[p.name] = centre * np.exp(sigma * normals[:, N_FACTORS + 2 + k] - sigma * sigma / 2)
    offset = len(PRIOR_DRAWN)
    lo, hi = np.log(STRENGTH_PRIOR)
    for k, name in enumerate(names):
        expressed = uniforms[:, offset + 2 * k] < cohort["p_cargo_expressed"]
        strength = np.exp(lo + (hi - lo) * uniforms[:, offset + 2 * k + 1])
        params[name] = np.where(expressed, strength, 0.0)
    u = uniforms[:, offset + 2 * len(names) :]
    randoms = {
        "inclusion_u": u[:, 0],
        "death_e": -np.log1p(-u[:, 1]),
        "lesion_e": -np.log1p(-u[:, 2]),
        "later_line_u": u[:, 3],
        "scan_jitter_day": SCAN_WINDOW_DAY * (2.0 * u[:, 4 : 4 + MAX_SCANS] - 1.0),
        "lesion_z": normals[:, N_FACTORS + 1],
        "measurement_z": np.clip(measurement, -MEASUREMENT_Z_CLIP, MEASUREMENT_Z_CLIP),
        "withdrawal_u": withdrawal_u,
    }
    return Candidates(slots_arr, att, params, cov, randoms)


def _prior_from_uniform(p: Parameter, u: np.ndarray) -> np.ndarray:
    if p.scale == "log" and p.low > 0:
        out: np.ndarray = np.exp(np.log(p.low) + (np.log(p.high) - np.log(p.low)) * u)
        return out
    return np.asarray(p.low + (p.high - p.low) * u)


@lru_cache(maxsize=1)
def _pk_parameters() -> tuple[Parameter, ...]:
    """The elimination and clearance parameters drawn per patient, in a fixed order."""
    return tuple(p for p in _model_parameters().values() if p.name.endswith(("_k_el_per_day", "_cl_L_per_day")))


@lru_cache(maxsize=1)
def _model_parameters() -> dict[str, Parameter]:
    """Every parameter a patient model has before records add theirs, by name."""
    return {p.name: p for p in (*all_parameters(), *INITIAL_STATE_PARAMETERS)}


def drawn_names(kb: KnowledgeBase) -> frozenset[str]:
    """Every model parameter a patient draw or the cohort overrides may set (an arm's model lacks,
    say, the clearance of a drug it does not give, or the strength of a record that does not act)."""
    fixed = {"k_growth_patient_per_day", "init_tumour_patient_Mcells", *PRIOR_DRAWN}
    fixed |= {p.name for p in _pk_parameters()} | set(CohortParameters().model_overrides())
    return frozenset(fixed | set(strength_names(kb)))


def patient_spec(
    kb: KnowledgeBase,
    therapies: tuple[str, ...],
    interventions: tuple[str, ...],
    days: float,
    start_day: float,
    measured: tuple[str, ...] = (),
) -> ModelSpec:
    """The patient model of one arm (from the model stage's spec cache); ``measured``: names read
    per patient (``TrialConfig.samples``), whose cargo pools are secreted in every arm."""
    scenario = Scenario("patient", therapies, interventions, days=days, treatment_start_day=start_day, measured=measured)
    return build_cached(kb, scenario)


def parameter_matrix(kb: KnowledgeBase, spec: ModelSpec, cohort: CohortParameters, patients: Candidates) -> np.ndarray:
    """``(n_patients, n_params)`` in spec order: defaults, then cohort values, then each patient's
    draws. A name that is neither a parameter of ``spec`` nor one of :func:`drawn_names` is an error."""
    return spec.parameter_columns(patients.params, patients.n, base=cohort.model_overrides(), absent_ok=drawn_names(kb))


def tvdt_category(tvdt_day: np.ndarray) -> np.ndarray:
    """0 rapid, 1 intermediate, 2 indolent (Nathani et al. 2021 cut-offs of 3 and 9 months)."""
    out: np.ndarray = np.digitize(tvdt_day, TVDT_CUTS_DAY)
    return out


def sum_of_diameters(diameter_mm: np.ndarray, n_lesions: np.ndarray) -> np.ndarray:
    """RECIST sum of diameters of ``n`` equal spherical lesions whose total volume is that of a
    sphere of ``diameter_mm``: ``n ** (2/3) * diameter`` (``n_lesions`` broadcast over time)."""
    n = np.asarray(n_lesions, dtype=float)
    return np.asarray(diameter_mm) * (n[:, None] if np.ndim(diameter_mm) == 2 else n) ** (2.0 / 3.0)


@dataclass(frozen=True)
class Screening:
    """The untreated screening window of a batch of candidates: doubling time, baseline sum of
    diameters and the whole model state at the baseline scan (species name -> value per patient)."""

    tvdt_day: np.ndarray
    baseline_sld_mm: np.ndarray
    states: dict[str, np.ndarray]

    def take(self, index: np.ndarray) -> Screening:
        return Screening(self.tvdt_day[index], self.baseline_sld_mm[index], {k: v[index] for k, v in self.states.items()})


def screening(kb: KnowledgeBase, cohort: CohortParameters, patients: Candidates, measured: tuple[str, ...] = ()) -> Screening:
    """Simulate the untreated screening window (a tumour that does not grow gets an infinite
    doubling time, which is implausible); ``measured``: as for :func:`patient_spec`."""
    from exoresist.ode import simulate

    spec = patient_spec(kb, (), (), BURN_IN_DAY, BURN_IN_DAY, measured)
    params = parameter_matrix(kb, spec, cohort, patients)
    res = simulate(spec, params, t_end_day=BURN_IN_DAY, t_eval_day=[0.0, BURN_IN_DAY], rtol=1e-5, atol=1e-8)
    vol = res.derived_value("tumour_volume_mm3")
    sld = sum_of_diameters(res.derived_value("tumour_diameter_mm")[:, -1], patients.covariates.n_lesions())
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = vol[:, -1] / vol[:, 0]
        tvdt = np.where(ratio > 1.0, BURN_IN_DAY * math.log(2) / np.log(ratio), np.inf)
    tvdt = np.where(res.ok, tvdt, np.nan)
    states = {name: res.states[:, -1, k] for k, name in enumerate(res.species_names)}
    return Screening(tvdt, np.where(res.ok, sld, np.nan), states)


MEASURABLE_LESION_MM = 10.0
"""RECIST 1.1: a target lesion is measurable from 10 mm (longest diameter on CT). Each of a
patient's equal target lesions must reach it at baseline."""


def plausible(tvdt_day: np.ndarray, sld_mm: np.ndarray, n_lesions: np.ndarray | None = None) -> np.ndarray:
    """Doubling time within :data:`TVDT_BOUNDS_DAY`, sum of diameters within
    :data:`BASELINE_SLD_BOUNDS_MM` and, given the lesion counts, every (equal) target lesion at least
    :data:`MEASURABLE_LESION_MM`."""
    lo, hi = TVDT_BOUNDS_DAY
    dlo, dhi = BASELINE_SLD_BOUNDS_MM
    ok = (tvdt_day >= lo) & (tvdt_day <= hi) & (sld_mm >= dlo) & (sld_mm <= dhi)
    if n_lesions is not None:
        ok = ok & (sld_mm / np.asarray(n_lesions, dtype=float) >= MEASURABLE_LESION_MM)
    out: np.ndarray = ok
    return out


def inclusion_probabilities(
    kb: KnowledgeBase,
    cohort: CohortParameters,
    seed: int,
    target: BaselineTable = IMBRAVE150,
    growth_mix: tuple[float, float, float] | None = None,
) -> tuple[float, float, float]:
    """Acceptance probability per growth category (rapid, intermediate, indolent).

    Checked on a pilot of :data:`PILOT_SIZE` candidates from the run's seed (a stream of its own,
    never used by patients): at least 5 % must be plausible, else ``PopulationError``. Without a
    ``growth_mix`` every plausible candidate is accepted; with one (for example
    :data:`NATHANI_GROWTH_MIX`), plausible candidates are accepted with the probabilities that make
    the cohort's mix match it (probability of inclusion), and a category below 2 % of plausible
    candidates is a ``PopulationError``.
    """
    pilot = draw_candidates(kb, cohort, seed, range(PILOT_SIZE), np.zeros(PILOT_SIZE), stream=STREAM_PILOT, target=target)
    scr = screening(kb, cohort, pilot)
    tvdt = scr.tvdt_day
    ok = plausible(tvdt, scr.baseline_sld_mm, pilot.covariates.n_lesions())
    if ok.sum() < PILOT_SIZE * 0.05:
        raise PopulationError(
            f"only {int(ok.sum())} of {PILOT_SIZE} pilot candidates are plausible (doubling time within "
            f"{TVDT_BOUNDS_DAY[0]:g}-{TVDT_BOUNDS_DAY[1]:g} days): the cohort parameters are far from HCC growth"
        )
    if growth_mix is None:
        return (1.0, 1.0, 1.0)
    cats = tvdt_category(tvdt[ok])
    shares = np.bincount(cats, minlength=3) / ok.sum()
    if np.any(shares < 0.02):
        raise PopulationError(
            f"growth mix of plausible candidates {np.round(shares, 3).tolist()} (rapid, intermediate, indolent) "
            f"cannot be reweighted to the target {list(growth_mix)}"
        )
    ratio = np.asarray(growth_mix) / shares
    accept = ratio / ratio.max()
    return (float(accept[0]), float(accept[1]), float(accept[2]))


@dataclass(frozen=True)
class SelectedPatients:
    """Accepted patients of a slot range (in slot order) with their screening results."""

    patients: Candidates
    screening: Screening

    @property
    def tvdt_day(self) -> np.ndarray:
        return self.screening.tvdt_day

    @property
    def baseline_sld_mm(self) -> np.ndarray:
        return self.screening.baseline_sld_mm


def select_patients(
    kb: KnowledgeBase,
    cohort: CohortParameters,
    seed: int,
    slots: Sequence[int] | range | np.ndarray,
    accept: Sequence[float],
    *,
    first_attempt: Sequence[int] | np.ndarray | None = None,
    target: BaselineTable = IMBRAVE150,
    measured: tuple[str, ...] = (),
) -> SelectedPatients:
    """Draw candidates for each slot until one is plausible and included (batched per round).

    Slot ``i`` tries attempts ``first_attempt[i], first_attempt[i] + 1, ...`` (default from 0).
    ``measured``: as for :func:`patient_spec` (the screening state then holds those pools).
    """
    slots_arr = np.asarray(slots, dtype=np.int64)
    n = slots_arr.size
    start = np.zeros(n, dtype=np.int64) if first_attempt is None else np.asarray(first_attempt, dtype=np.int64)
    chosen: list[Candidates] = []
    screened: list[Screening] = []
    order: list[np.ndarray] = []
    pending = np.arange(n)
    for round_ in range(MAX_ATTEMPTS):
        if pending.size == 0:
            break
        cands = draw_candidates(kb, cohort, seed, slots_arr[pending], start[pending] + round_, target=target)
        scr = screening(kb, cohort, cands, measured)
        ok = plausible(scr.tvdt_day, scr.baseline_sld_mm, cands.covariates.n_lesions())
        cat = tvdt_category(np.where(ok, scr.tvdt_day, 1.0))
        take = ok & (cands.randoms["inclusion_u"] < np.asarray(accept)[cat])
        idx = np.flatnonzero(take)
        chosen.append(cands.take(idx))
        screened.append(scr.take(idx))
        order.append(pending[idx])
        pending = pending[~take]
    if pending.size:
        raise PopulationError(
            f"{pending.size} patient slots found no plausible candidate in {MAX_ATTEMPTS} attempts "
            f"(first: slot {int(slots_arr[pending[0]])}); the cohort parameters are far from HCC growth"
        )
    where = np.argsort(np.concatenate(order), kind="stable")
    all_screened = Screening(
        np.concatenate([x.tvdt_day for x in screened]),
        np.concatenate([x.baseline_sld_mm for x in screened]),
        {k: np.concatenate([x.states[k] for x in screened]) for k in screened[0].states},
    )
    return SelectedPatients(Candidates.concat(chosen).take(where), all_screened.take(where))
