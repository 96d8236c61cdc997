"""Markers in a virtual trial: what the trial must sample, and the evaluation of a finished trial.

The trial layer is used through two public things only: ``TrialConfig(samples=..., sample_days=...)``
(which makes each arm's simulation return ``marker:<species>@<day>`` columns) and the per-patient
rows of the finished run (``arm``, ``patient``, outcomes, ``strength:<record>``). Everything else
happens here, so the same code serves ``biomarker evaluate``, ``trial run --stratify`` and the demo.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from exoresist.biomarkers.evaluate import (
    ENDPOINTS,
    Endpoint,
    Evaluation,
    Mapper,
    MarkerColumn,
    analysis_frame,
    evaluate_frame,
    evaluation_meta,
)
from exoresist.biomarkers.markers import MarkerSpec, Unmeasurable
from exoresist.biomarkers.observation import Observations, observe, required_samples
from exoresist.biomarkers.parameters import ObservationParameters, sample_days
from exoresist.kb import KnowledgeBase


def trial_samples(specs: Sequence[MarkerSpec], months: float) -> tuple[tuple[str, ...], tuple[float, ...]]:
    """The ``TrialConfig`` fields that make a trial sample ``specs``: ``(samples, sample_days)``."""
    from exoresist.cohort.population import DAYS_PER_MONTH, SCAN_INTERVAL_DAY

    pools = required_samples(specs)
    days = sample_days(months * DAYS_PER_MONTH, SCAN_INTERVAL_DAY) if pools else ()
    return pools, days


@dataclass
class MarkerRun:
    """A trial with its markers observed and evaluated."""

    trial: Any  # exoresist.cohort.runner.TrialRun
    observations: Observations
    frame: pd.DataFrame
    columns: list[MarkerColumn]
    evaluation: Evaluation


def observe_run(
    run: Any, specs: Sequence[MarkerSpec], parameters: ObservationParameters | None = None
) -> tuple[Observations, pd.DataFrame, list[MarkerColumn]]:
    """Observe ``specs`` in a finished trial (run with :func:`trial_samples`); returns the
    observations and the analysis frame with its marker columns."""
    from exoresist.cohort.population import DAYS_PER_MONTH, SCAN_INTERVAL_DAY

    patients = run.patients[run.patients["ok"]].reset_index(drop=True)
    days = sample_days(run.config.months * DAYS_PER_MONTH, SCAN_INTERVAL_DAY)
    obs = observe(
        patients, specs, days, seed=run.config.seed, p_expressed=run.config.cohort["p_cargo_expressed"], parameters=parameters
    )
    frame, columns = analysis_frame(patients, obs)
    return obs, frame, columns


def evaluate_run(
    run: Any,
    specs: Sequence[MarkerSpec],
    skipped: Sequence[Unmeasurable] = (),
    *,
    parameters: ObservationParameters | None = None,
    endpoints: Sequence[Endpoint] = ENDPOINTS,
    bootstrap: int = 200,
    with_panels: bool = True,
    mapper: Mapper | None = None,
) -> MarkerRun:
    """Observe and evaluate ``specs`` in a finished trial; the first arm is the reference.
    ``mapper`` (for example :func:`~exoresist.biomarkers.evaluate.dask_mapper`) spreads the markers
    over workers; the numbers do not depend on it."""
    obs, frame, columns = observe_run(run, specs, parameters)
    arms = [a["arm"] for a in run.arms]
    evaluation = evaluate_frame(
        frame,
        columns,
        arms,
        endpoints=endpoints,
        bootstrap=bootstrap,
        seed=run.config.seed,
        with_panels=with_panels,
        mapper=mapper,
    )
    evaluation.meta |= evaluation_meta(obs, specs, skipped)
    evaluation.meta["trial"] = {
        k: run.meta.get(k) for k in ("population", "patients_per_arm", "months", "seed", "model_version", "run_key")
    }
    return MarkerRun(run, obs, frame, columns, evaluation)


def run_and_evaluate(
    kb: KnowledgeBase,
    arms: Sequence[str],
    specs: Sequence[MarkerSpec],
    skipped: Sequence[Unmeasurable],
    out: Path,
    *,
    patients: int = 500,
    months: float = 24.0,
    seed: int = 0,
    scheduler: str | None = None,
    chunk_size: int = 50,
    parameters: ObservationParameters | None = None,
    endpoints: Sequence[Endpoint] = ENDPOINTS,
    bootstrap: int = 200,
    progress: bool = False,
) -> MarkerRun:
    """Run (or resume) a first-line trial of ``arms`` that samples ``specs``, then evaluate them."""
    from exoresist.cohort.calibration import calibrated_cohort
    from exoresist.cohort.config import TrialConfig
    from exoresist.cohort.runner import run_trial

    samples, days = trial_samples(specs, months)
    config = TrialConfig(
        tuple(arms), "first-line", patients, months, seed, chunk_size, calibrated_cohort(), samples=samples, sample_days=days
    )
    config.validate(kb)
    run = run_trial(kb, config, out, scheduler=scheduler, progress=progress)
    return evaluate_run(run, specs, skipped, parameters=parameters, endpoints=endpoints, bootstrap=bootstrap)
