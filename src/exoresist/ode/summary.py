"""One scenario simulated and summarised as rows (what ``exoresist simulate`` prints and the web API returns).

>>> from exoresist.kb import load_kb
>>> from exoresist.model.api import make_scenario
>>> kb = load_kb()
>>> out = simulate_scenario(kb, make_scenario(kb, context="culture", therapies=["sorafenib"], days=2), every=1)
>>> [row["day"] for row in out["rows"]], sorted(out)
([0.0, 1.0, 2.0], ['model', 'rows', 'spec_hash', 'version'])
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from exoresist.kb import KnowledgeBase
from exoresist.model.api import Scenario, build_model, parameters_with_overrides
from exoresist.model.spec import ModelSpec
from exoresist.ode._result import SimulationResult
from exoresist.ode._simulate import SimulationInputError, simulate

SUMMARY = ("tumour_Mcells", "S", "R_total", "C", "tumour_volume_mm3", "tumour_diameter_mm")
"""The columns of a summary row after ``day`` (species or derived quantities), before the drug
concentrations ``conc_<drug>`` (mg/L) of the scenario."""

MAX_POINTS = 20000
"""Most output time points of one summary."""


class IntegrationError(RuntimeError):
    """The integrator gave up on the scenario (its message says why)."""


def time_grid(days: float, every: float) -> np.ndarray:
    """Output times 0, every, 2 every, ... and ``days`` itself (days)."""
    if not (np.isfinite(days) and days > 0 and np.isfinite(every) and every > 0):
        raise SimulationInputError(f"days and every must be positive, got days={days}, every={every}")
    if days / every > MAX_POINTS:
        raise SimulationInputError(
            f"too many time points ({days / every:.0f} > {MAX_POINTS}): raise every (days between time points)"
        )
    times = np.arange(0.0, days + 1e-9, every)
    if times[-1] < days:
        times = np.append(times, days)
    return times


def summary_rows(result: SimulationResult, spec: ModelSpec) -> list[dict[str, float]]:
    """One row per output time of the first parameter set: ``day``, :data:`SUMMARY`, ``conc_<drug>``."""
    derived = list(result.derived_names)
    species = list(result.species_names)
    drug_cols = [a.name for a in spec.assignments if a.name.startswith("conc_")]
    rows = []
    for k, t in enumerate(result.times_day):
        row: dict[str, float] = {"day": float(t)}
        for col in (*SUMMARY, *drug_cols):
            if col in species:
                row[col] = float(result.states[0, k, species.index(col)])
            elif col in derived:
                row[col] = float(result.derived[0, k, derived.index(col)])
        rows.append(row)
    return rows


def simulate_scenario(
    kb: KnowledgeBase,
    scenario: Scenario,
    overrides: Mapping[str, float] | None = None,
    *,
    every: float = 7.0,
    spec: ModelSpec | None = None,
) -> dict[str, Any]:
    """Assemble ``scenario`` (or use the already assembled ``spec``), apply the parameter
    ``overrides``, simulate ``scenario.days`` days and return ``{"model", "version", "spec_hash",
    "rows"}`` with a row every ``every`` days. ``IntegrationError`` if the integrator fails."""
    times = time_grid(scenario.days, every)
    spec = spec if spec is not None else build_model(kb, scenario)
    params = parameters_with_overrides(spec, overrides or {})
    result = simulate(spec, params, t_end_day=scenario.days, t_eval_day=times)
    if not bool(result.ok[0]):
        raise IntegrationError(f"integration failed: {result.messages[0]}")
    return {"model": spec.name, "version": spec.version, "spec_hash": result.spec_hash, "rows": summary_rows(result, spec)}
