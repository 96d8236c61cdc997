"""The observation model: a virtual patient's plasma level of a cargo, as an assay would report it.

For a dynamic marker (a cargo pool ``X`` in the patient model, in cargo units, cu) at a sample time::

    tumour release   r(t) = (k_exosome_decay_per_day + k_exosome_uptake_per_day) * X(t) * e        [cu/day]
    true level       c(t) = f * (r(t) + b) / (k_clear * V)                                         [cu/mL]
    measured level   m(t) = c(t) * exp(s_a z_a - s_a^2 / 2) * exp(s_p z_p - s_p^2 / 2)

- ``e`` is the tumour's expression of the cargo: the mean strength draw of the cargo's records
  (0 when the tumour expresses none). The model's pool counts vesicles from every donor cell at
  baseline loading; ``e`` says how much of the cargo they carry.
- ``f`` (``plasma_release_fraction``) is the share of the pool's turnover that reaches the blood;
  the plasma level is taken at quasi-steady state, since vesicles circulate for minutes and the
  pool changes over days. Release is not removed from the model's pool (small ``f``).
- ``b`` is the release from non-tumour sources, ``secretion_per_Mcell_day * background_donor_Mcells``
  times a log-normal per patient and marker (``background_cv``).
- ``k_clear = ln 2 / plasma_half_life_min`` times a log-normal per patient (``plasma_clearance_cv``,
  the same for every marker of the patient); ``V`` the plasma volume.
- ``z_a`` (assay, ``assay_cv``) and ``z_p`` (pre-analytical, ``preanalytical_cv``) are standard
  normal per sample; the log-normal factors have mean 1.
- A measurement below the lower limit of quantification (LLOQ: ``lloq_fraction_of_background``
  times the population median of the non-tumour level) is reported as LLOQ/2 and flagged.
- A sample after the patient's death is missing (NaN).

A static marker (no pool) has ``r = secretion_per_Mcell_day * N_ref * e`` with ``N_ref`` the
model's default initial tumour (``init_tumour_patient_Mcells``), constant in time, and ``e``
drawn here the way the cohort draws a record's expression (expressed with ``p_cargo_expressed``,
strength log-uniform over the strength prior), one draw per record naming the cargo.

Random numbers come from ``SeedSequence([seed, STREAM_OBSERVATION, patient, ...])``: a patient's
baseline sample is the same number in every arm (it is taken before treatment), and adding a
marker changes no other marker's draws.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from exoresist.biomarkers.errors import BiomarkerError
from exoresist.biomarkers.markers import MarkerSpec
from exoresist.biomarkers.parameters import ObservationParameters
from exoresist.model.assemble import INITIAL_STATE_PARAMETERS, STRENGTH_PRIOR
from exoresist.model.drugs import all_parameters

STREAM_OBSERVATION = 7
"""Random stream of the observation model (the cohort uses 0-2)."""
MAX_SAMPLES = 64
DAYS_PER_MONTH = 365.25 / 12


def sample_column(pool: str, day: float) -> str:
    """The trial's column holding ``pool`` at ``day`` after baseline (see ``cohort.simulate.sampled``)."""
    return f"marker:{pool}@{day:g}"


def level_column(marker: str, day: float, what: str = "level") -> str:
    """Column of the observed frame: ``level`` (reported), ``true`` (noise-free) or ``below_lloq``."""
    return f"{what}:{marker}@{day:g}"


@dataclass
class Observations:
    """Observed plasma levels of every marker at every sample day, one row per (arm, patient).

    ``frame`` has ``arm``, ``patient`` and per marker and day the columns of :func:`level_column`
    (cu/mL; ``level`` with values below the LLOQ set to LLOQ/2, NaN after death or past follow-up).
    ``lloq`` is each marker's LLOQ in cu/mL.
    """

    frame: pd.DataFrame
    markers: list[MarkerSpec]
    days: tuple[float, ...]
    lloq: dict[str, float]
    parameters: ObservationParameters
    seed: int
    notes: dict[str, str] = field(default_factory=dict)

    def missing_counts(self) -> dict[str, dict[str, int]]:
        """Per marker and day: samples missing (death, follow-up) and below the LLOQ, over all rows."""
        out: dict[str, dict[str, int]] = {}
        for m in self.markers:
            for d in self.days:
                lv = self.frame[level_column(m.name, d)]
                out.setdefault(m.name, {})[f"{d:g}"] = int(lv.isna().sum())
                out[m.name][f"below_lloq@{d:g}"] = int(self.frame[level_column(m.name, d, "below_lloq")].sum())
        return out


def _model_default(name: str) -> float:
    for p in (*all_parameters(), *INITIAL_STATE_PARAMETERS):
        if p.name == name:
            return p.default
    raise KeyError(name)


def _sigma(cv: float) -> float:
    return math.sqrt(math.log1p(cv * cv))


def required_samples(markers: Sequence[MarkerSpec]) -> tuple[str, ...]:
    """The model species the trial must sample for ``markers`` (the pools of the dynamic ones)."""
    return tuple(dict.fromkeys(m.pool for m in markers if m.pool is not None))


def observe(
    patients: pd.DataFrame,
    markers: Sequence[MarkerSpec],
    days: Sequence[float],
    *,
    seed: int,
    p_expressed: float,
    parameters: ObservationParameters | None = None,
) -> Observations:
    """Apply the observation model to the trial's per-patient rows.

    ``patients`` needs ``arm``, ``patient`` (the index the random streams use), ``os_month``,
    ``os_event``, and for each dynamic marker its sampled pool at every day
    (:func:`sample_column`) and ``strength:<record>`` of its records. ``p_expressed`` is the
    cohort's ``p_cargo_expressed`` (static markers' expression draws).
    """
    params = parameters or ObservationParameters()
    days = tuple(sorted(float(d) for d in days))
    if len(days) > MAX_SAMPLES:
        raise BiomarkerError(f"at most {MAX_SAMPLES} sample days, got {len(days)}")
    for col in ("arm", "patient", "os_month", "os_event"):
        if col not in patients:
            raise BiomarkerError(f"the trial rows have no column '{col}'")
    n = len(patients)
    slots = patients["patient"].to_numpy(dtype=np.int64)
    k_turnover = _model_default("k_exosome_decay_per_day") + _model_default("k_exosome_uptake_per_day")
    secretion = _model_default("secretion_per_Mcell_day")
    n_ref = _model_default("init_tumour_patient_Mcells")
    k_clear = math.log(2) / (params["plasma_half_life_min"] / (24 * 60))  # 1/day
    volume_ml = params["plasma_volume_L"] * 1000.0
    s_c, s_b = _sigma(params["plasma_clearance_cv"]), _sigma(params["background_cv"])
    s_a, s_p = _sigma(params["assay_cv"]), _sigma(params["preanalytical_cv"])
    f = params["plasma_release_fraction"]
    unique_slots = np.unique(slots)
    row_of = {int(s): i for i, s in enumerate(unique_slots)}
    rows = np.array([row_of[int(s)] for s in slots])
    z_clear = np.array(
        [
            np.random.default_rng(np.random.SeedSequence([seed, STREAM_OBSERVATION, int(s)])).standard_normal()
            for s in unique_slots
        ]
    )
    scale = f / (k_clear * np.exp(s_c * z_clear - s_c * s_c / 2) * volume_ml)[rows]  # day/mL per patient row
    death_day = np.where(
        patients["os_event"].to_numpy(dtype=bool), patients["os_month"].to_numpy(dtype=float) * DAYS_PER_MONTH, np.inf
    )
    lo, hi = np.log(STRENGTH_PRIOR)
    columns: dict[str, np.ndarray] = {"arm": patients["arm"].to_numpy(), "patient": slots}
    lloq: dict[str, float] = {}
    notes: dict[str, str] = {}
    for m in markers:
        n_rec = max(1, len(m.records))
        draws = np.array(
            [
                np.random.default_rng(
                    np.random.SeedSequence([seed, STREAM_OBSERVATION, int(s), zlib.crc32(m.entity_id.encode())])
                ).standard_normal(1 + 2 * n_rec + 2 * MAX_SAMPLES)
                for s in unique_slots
            ]
        )[rows]
        background = secretion * params["background_donor_Mcells"] * np.exp(s_b * draws[:, 0] - s_b * s_b / 2)
        if m.pool is not None:
            missing = [sample_column(m.pool, d) for d in days if sample_column(m.pool, d) not in patients]
            missing += [f"strength:{r}" for r in m.records if f"strength:{r}" not in patients]
            if missing:
                raise BiomarkerError(
                    f"marker {m.name}: the trial rows lack {missing[:3]} (run the trial with samples of {m.pool})"
                )
            expression = expression_of(patients, m)
            release = {d: k_turnover * patients[sample_column(m.pool, d)].to_numpy(dtype=float) * expression for d in days}
        else:
            # one expression draw per record (or one from the prior), as the cohort draws a record's
            u = _uniform(draws[:, 1 : 1 + 2 * n_rec])
            expressed = u[:, 0::2] < p_expressed
            strength = np.exp(lo + (hi - lo) * u[:, 1::2])
            expression = np.mean(np.where(expressed, strength, 0.0), axis=1)
            release = {d: np.full(n, secretion * n_ref) * expression for d in days}
            notes[m.name] = m.measured_from
        median_bg = secretion * params["background_donor_Mcells"] * math.exp(-s_b * s_b / 2)
        median_scale = f / (k_clear * math.exp(-s_c * s_c / 2) * volume_ml)
        limit = params["lloq_fraction_of_background"] * median_bg * median_scale
        lloq[m.name] = limit
        offset = 1 + 2 * n_rec
        for k, d in enumerate(days):
            true = scale * (release[d] + background)
            noise = np.exp(s_a * draws[:, offset + 2 * k] - s_a * s_a / 2) * np.exp(
                s_p * draws[:, offset + 2 * k + 1] - s_p * s_p / 2
            )
            measured = true * noise
            alive = d <= death_day + 1e-9
            measured = np.where(alive, measured, np.nan)
            below = np.isfinite(measured) & (measured < limit)
            columns[level_column(m.name, d, "true")] = np.where(alive, true, np.nan)
            columns[level_column(m.name, d)] = np.where(below, limit / 2, measured)
            columns[level_column(m.name, d, "below_lloq")] = below
    frame = pd.DataFrame(columns, index=patients.index)
    return Observations(frame, list(markers), days, lloq, params, seed, notes)


def _uniform(z: np.ndarray) -> np.ndarray:
    """Standard normal draws mapped to uniform ones (probability integral transform)."""
    from scipy.special import ndtr

    out: np.ndarray = ndtr(z)
    return out


def expression_of(patients: pd.DataFrame, marker: MarkerSpec) -> np.ndarray:
    """The tumour's expression of a dynamic marker's cargo (mean strength draw of its records)."""
    out: np.ndarray = np.mean([np.nan_to_num(patients[f"strength:{r}"].to_numpy(dtype=float)) for r in marker.records], axis=0)
    return out


__all__ = [
    "STREAM_OBSERVATION",
    "Observations",
    "expression_of",
    "level_column",
    "observe",
    "required_samples",
    "sample_column",
]
