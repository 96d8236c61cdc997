"""Global sensitivity (Sobol, SALib) of an arm's PFS and response to the exosome parameters.

Factors are the population-level exosome parameters of the arm's model: every mechanism record's
strength multiplier (``strength_<record>``, prior 0.1-10, log) and the generic vesicle parameters
(uptake, decay, half-maximal exposure, stem-cell secretion factor, resistance-transfer rate), each
over its prior, sampled in log space when its prior is logarithmic. A Saltelli/Sobol' sample
(``SALib.sample.sobol``, no second-order terms) sets these values for a fixed cohort of virtual
patients (common random numbers: the same patients for every sample); a record's multiplier
scales each patient's own expression draw of that cargo. Outputs per sample: the restricted mean
PFS (months, up to the end of follow-up; smoother than a median on a small cohort) and the
objective response rate. ``SALib.analyze.sobol`` gives first-order (S1) and total (ST) indices
with bootstrap confidence intervals.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from exoresist.cohort.arms import Arm, TrialError, parse_arm
from exoresist.cohort.config import TrialConfig
from exoresist.cohort.disease import DiseaseParameters
from exoresist.cohort.endpoints import Trajectories, endpoints
from exoresist.cohort.population import DAYS_PER_MONTH, CohortParameters, parameter_matrix, patient_spec
from exoresist.cohort.simulate import record_label, select_cohort, simulation_grid
from exoresist.kb import KnowledgeBase
from exoresist.model.assemble import acting_records, strength_param
from exoresist.ode import simulate

GENERIC_EXOSOME_PARAMETERS = (
    "k_exosome_uptake_per_day",
    "k_exosome_decay_per_day",
    "exposure_half_max",
    "stem_secretion_factor",
    "k_transfer_per_day",
)


@dataclass
class SensitivityResult:
    arm: str
    table: pd.DataFrame  # output, parameter, label, record_id, S1, S1_conf, ST, ST_conf
    n_samples: int
    n_patients: int
    wall_time_s: float

    def to_json_dict(self) -> dict[str, Any]:
        from exoresist.cohort.runner import finite_or_none

        out: dict[str, Any] = finite_or_none(
            {
                "arm": self.arm,
                "samples": self.n_samples,
                "patients_per_sample": self.n_patients,
                "wall_time_s": self.wall_time_s,
                "indices": self.table.to_dict(orient="records"),
                "ranking": self.ranking(),
            }
        )
        return out

    def ranking(self) -> list[dict[str, Any]]:
        """Mechanism records by total-order index of PFS, largest first."""
        t = self.table[(self.table["output"] == "PFS") & (self.table["record_id"] != "")]
        t = t.sort_values("ST", ascending=False)
        return [
            {"record_id": r["record_id"], "label": r["label"], "ST": float(r["ST"]), "S1": float(r["S1"])}
            for r in t.to_dict(orient="records")
        ]


def factors(kb: KnowledgeBase, arm: Arm, months: float) -> list[tuple[str, float, float, bool, str, str]]:
    """``(parameter, low, high, log, label, record_id)`` of the arm's exosome parameters."""
    spec = patient_spec(kb, arm.therapies, arm.interventions, months * DAYS_PER_MONTH, 0.0)
    by_name = {p.name: p for p in spec.parameters}
    out = []
    for rid in acting_records(spec):  # a record that reaches no rate in this arm is not a factor
        strength = by_name[strength_param(rid)]
        out.append((strength.name, strength.low, strength.high, True, record_label(kb, rid), rid))
    for name in GENERIC_EXOSOME_PARAMETERS:
        p = by_name.get(name)
        if p is not None and p.high > p.low:
            out.append((name, p.low, p.high, p.scale == "log", name, ""))
    return out


def run_sensitivity(
    kb: KnowledgeBase,
    arm_text: str,
    cohort: CohortParameters,
    *,
    patients: int = 20,
    samples: int = 32,
    months: float = 24.0,
    seed: int = 0,
    progress: Callable[[int, int], None] | None = None,
) -> SensitivityResult:
    """Sobol indices of restricted mean PFS and ORR for ``arm_text`` (``samples`` a power of 2)."""
    from SALib.analyze import sobol as sobol_analyze
    from SALib.sample import sobol as sobol_sample

    from exoresist.cohort.population import inclusion_probabilities

    if patients < 2:
        raise TrialError(f"sensitivity needs at least 2 patients per sample, got {patients}")
    if samples < 4 or samples & (samples - 1):
        raise TrialError(f"samples must be a power of 2 and at least 4, got {samples}")
    started = time.perf_counter()
    arm = parse_arm(kb, arm_text)
    fs = factors(kb, arm, months)
    problem = {
        "num_vars": len(fs),
        "names": [f[0] for f in fs],
        "bounds": [[np.log(f[1]), np.log(f[2])] if f[3] else [f[1], f[2]] for f in fs],
    }
    x = sobol_sample.sample(problem, samples, calc_second_order=False, seed=seed)
    values = np.where([f[3] for f in fs], np.exp(x), x)
    config = TrialConfig((arm_text,), "first-line", patients, months, seed, patients, cohort)
    accept = inclusion_probabilities(kb, cohort, seed)
    chosen = select_cohort(kb, config, range(patients), accept)
    spec = patient_spec(kb, arm.therapies, arm.interventions, chosen.end_day, chosen.start_day)
    base = parameter_matrix(kb, spec, cohort, chosen.patients)
    index = {n: i for i, n in enumerate(spec.parameter_names)}
    times = simulation_grid(chosen.start_day, chosen.end_day)
    states = {k: v for k, v in (chosen.states or {}).items() if k in set(spec.species_names)}
    disease = DiseaseParameters.from_cohort(cohort.as_dict())
    pfs = np.empty(len(values))
    orr = np.empty(len(values))
    for k, row in enumerate(values):
        p = base.copy()
        for (name, *_), v in zip(fs, row, strict=True):
            if name.startswith("strength_"):
                p[:, index[name]] = base[:, index[name]] * v  # scales each patient's own expression
            else:
                p[:, index[name]] = v
        res = simulate(spec, p, t_end_day=chosen.end_day, t_eval_day=times, rtol=1e-5, atol=1e-6, initial_overrides=states)
        traj = Trajectories.from_simulation(
            res.times_day, res.derived_value("tumour_diameter_mm"), chosen.patients, res.ok, res.messages
        )
        ends = endpoints(traj, disease, config.later_line)
        pfs[k] = float(ends["pfs_month"].mean())
        orr[k] = float(ends["bor"].isin(["CR", "PR"]).mean())
        if progress is not None:
            progress(k + 1, len(values))
    rows = []
    for output, y in (("PFS", pfs), ("response", orr)):
        if np.ptp(y) == 0:
            si = {"S1": np.zeros(len(fs)), "S1_conf": np.zeros(len(fs)), "ST": np.zeros(len(fs)), "ST_conf": np.zeros(len(fs))}
        else:
            si = sobol_analyze.analyze(problem, y, calc_second_order=False, seed=seed)
        for j, f in enumerate(fs):
            rows.append(
                {
                    "output": output,
                    "parameter": f[0],
                    "label": f[4],
                    "record_id": f[5],
                    "S1": float(si["S1"][j]),
                    "S1_conf": float(si["S1_conf"][j]),
                    "ST": float(si["ST"][j]),
                    "ST_conf": float(si["ST_conf"][j]),
                }
            )
    return SensitivityResult(arm.label, pd.DataFrame(rows), len(values), patients, round(time.perf_counter() - started, 2))
