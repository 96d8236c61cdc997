"""Per-patient endpoints of one simulated arm: RECIST 1.1 response, progression (target lesions, new
lesions), death, PFS, TTP, OS and duration of response.

The simulation gives, per patient, the sphere-equivalent diameter of the whole tumour on a time
grid. The patient's ``n`` target lesions are taken as equal spheres of that total volume, so the
RECIST sum of diameters is ``n ** (2/3) * diameter`` and each lesion's diameter is
``diameter / n ** (1/3)``. Assessments follow every :data:`~exoresist.cohort.population.SCAN_INTERVAL_DAY`
days from the baseline scan. :class:`Trajectories` keeps what the endpoints need, so they can be
recomputed for other cohort parameters without simulating again.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pandas as pd

from exoresist.cohort.covariates import Covariates
from exoresist.cohort.disease import DiseaseParameters, death_day, new_lesion_day
from exoresist.cohort.population import DAYS_PER_MONTH, SCAN_INTERVAL_DAY, SCAN_WINDOW_DAY, Candidates, sum_of_diameters
from exoresist.cohort.recist import NOT_ASSESSED, RecistCriteria, Response, best_overall_response_batch, classify_batch

CRITERIA = RecistCriteria(cr_threshold_mm=0.0)
SD_MIN_DAY = SCAN_INTERVAL_DAY - SCAN_WINDOW_DAY
"""Stable disease counts as best response from the first scheduled assessment (6 weeks, less its
visit window)."""
"""RECIST 1.1 thresholds; complete response is decided per lesion (cohort parameter ``cr_lesion_mm``)."""


def scan_days(follow_up_day: float) -> np.ndarray:
    """Assessment days from the baseline scan (day 0) to the end of follow-up."""
    n = int(np.floor(follow_up_day / SCAN_INTERVAL_DAY + 1e-9))
    return SCAN_INTERVAL_DAY * np.arange(n + 1)


@dataclass(frozen=True)
class Trajectories:
    """What the endpoints of one arm need: the grid (days from baseline, first 0), each patient's
    sphere-equivalent tumour diameter on it, the patients' covariates and outcome random numbers."""

    times_day: np.ndarray
    diameter_mm: np.ndarray  # (n, n_t)
    covariates: Covariates
    randoms: dict[str, np.ndarray]
    ok: np.ndarray
    messages: tuple[str, ...]

    @property
    def n(self) -> int:
        return int(self.diameter_mm.shape[0])

    @staticmethod
    def from_simulation(
        times_day: np.ndarray, diameter_mm: np.ndarray, patients: Candidates, ok: np.ndarray, messages: tuple[str, ...]
    ) -> Trajectories:
        return Trajectories(times_day, diameter_mm, patients.covariates, patients.randoms, ok, messages)

    def take(self, index: np.ndarray) -> Trajectories:
        idx = np.asarray(index, dtype=int)
        cov = self.covariates
        return Trajectories(
            self.times_day,
            self.diameter_mm[idx],
            Covariates({k: v[idx] for k, v in cov.levels.items()}, {k: v[idx] for k, v in cov.values.items()}),
            {k: v[idx] for k, v in self.randoms.items()},
            self.ok[idx],
            tuple(self.messages[i] for i in idx),
        )


def _at(times: np.ndarray, values: np.ndarray, when: np.ndarray) -> np.ndarray:
    """Row-wise linear interpolation of ``values`` (n, n_t) on ``times`` at ``when`` (n, k)."""
    k = np.clip(np.searchsorted(times, when, side="right"), 1, times.size - 1)
    t0, t1 = times[k - 1], times[k]
    v0 = np.take_along_axis(values, k - 1, axis=1)
    v1 = np.take_along_axis(values, k, axis=1)
    w = np.clip((when - t0) / np.maximum(t1 - t0, 1e-12), 0.0, 1.0)
    out: np.ndarray = v0 + w * (v1 - v0)
    return out


def endpoints(
    traj: Trajectories, disease: DiseaseParameters, later_line_share: float, withdrawal_share: float = 0.0
) -> pd.DataFrame:
    """One row per patient: baseline and best change of the sum of diameters, best overall
    response, PFS, TTP, OS (months, with event flags), how progression was found, duration of
    response, whether a later line followed, and the tumour-related share of the death hazard.

    Each assessment falls on the patient's own day within the visit window of its scheduled day
    (:data:`~exoresist.cohort.population.SCAN_WINDOW_DAY`); RECIST is applied to the sum of
    diameters on those days, and events are dated on them.

    ``withdrawal_share``: the share of patients alive at the first assessment who leave before it
    (a published arm's patients with no on-study response category): they are not evaluable, their
    PFS and TTP are censored at baseline (their last assessment) and their survival is still
    followed. It is an observation of the trial, not of the tumour: their tumour and death are
    simulated as for everyone."""
    times = traj.times_day
    end_day = float(times[-1])
    follow_month = end_day / DAYS_PER_MONTH
    dia = np.nan_to_num(traj.diameter_mm, nan=0.0)
    n = traj.n
    n_lesions = traj.covariates.n_lesions()
    nominal = scan_days(end_day)
    jitter = np.zeros((n, nominal.size))
    jitter[:, 1:] = traj.randoms["scan_jitter_day"][:, : nominal.size - 1]
    scans = np.minimum(nominal[None, :] + jitter, end_day)  # (n, n_scans): each patient's assessment days
    sld_true = sum_of_diameters(_at(times, dia, scans), n_lesions)
    sld_true = np.where(traj.ok[:, None], sld_true, np.maximum(sld_true[:, :1], 1e-3))
    # what the radiologist reads: the true sum times a log-normal measurement error per assessment
    sld_scan = sld_true * np.exp(disease.measurement_sd * traj.randoms["measurement_z"][:, : nominal.size])
    batch = classify_batch(nominal, np.maximum(sld_scan, 1e-9), baseline_index=0, criteria=CRITERIA)
    lesion = _at(times, dia, scans) / n_lesions[:, None] ** (1.0 / 3.0)
    codes = np.where((lesion < disease.cr_lesion_mm) & (batch.codes > Response.PD), Response.CR, batch.codes).astype(np.int8)
    # new lesions: seen at the first assessment after they appear
    nl_day = new_lesion_day(times, dia**3, traj.covariates, traj.randoms["lesion_e"], traj.randoms["lesion_z"], disease)
    after_nl = (scans >= nl_day[:, None]) & np.isfinite(nl_day)[:, None]
    after_nl[:, 0] = False
    codes = np.where(after_nl, Response.PD, codes).astype(np.int8)
    first_pd = _first_pd_day(codes, scans)
    later_line = traj.randoms["later_line_u"] < later_line_share
    deaths = death_day(
        times, safe_ratio(dia, n_lesions, sld_true[:, 0]), dia**3, sld_true[:, 0], traj.covariates, first_pd, later_line,
        traj.randoms["death_e"], disease,
    )  # fmt: skip
    death = deaths.day
    dead_before = np.isfinite(death)[:, None] & (scans > death[:, None])
    codes = np.where(dead_before, NOT_ASSESSED, codes).astype(np.int8)
    codes[:, 0] = NOT_ASSESSED
    alive_at_first = ~dead_before[:, 1] if nominal.size > 1 else np.ones(n, dtype=bool)
    withdrawn = alive_at_first & (traj.randoms["withdrawal_u"] < withdrawal_share)
    codes[withdrawn] = NOT_ASSESSED
    final = dataclasses.replace(batch, codes=codes)
    pd_day = _first_pd_day(codes, scans)
    bor = best_overall_response_batch(final, sd_min_duration_day=SD_MIN_DAY)
    progressed = np.isfinite(pd_day)
    first_nl_scan = np.where(after_nl.any(axis=1), np.argmax(after_nl, axis=1), nominal.size)
    pd_scan = np.where(progressed, np.argmax(codes == Response.PD, axis=1), -1)
    by_new_lesion = progressed & (pd_scan >= first_nl_scan)
    death_inf = np.where(np.isfinite(death), death, np.inf)
    pfs_day = np.fmin(np.where(progressed, pd_day, np.inf), death_inf)
    pfs_event = np.isfinite(pfs_day) & ~withdrawn
    ttp_event = progressed & (pd_day <= death_inf)
    ttp_month = np.where(ttp_event, pd_day, np.where(withdrawn, 0.0, np.fmin(death_inf, end_day))) / DAYS_PER_MONTH
    os_event = np.isfinite(death)
    # best change: post-baseline assessments up to progression, before death
    window = (
        (nominal[None, :] > 0) & ~dead_before & ~withdrawn[:, None] & (scans <= np.where(progressed, pd_day, np.inf)[:, None])
    )
    change = 100.0 * (sld_scan / sld_scan[:, :1] - 1.0)
    best_change = np.where(window.any(axis=1), np.min(np.where(window, change, np.inf), axis=1), np.nan)
    responded = (bor == Response.PR) | (bor == Response.CR)
    is_resp = (codes == Response.PR) | (codes == Response.CR)
    first_resp = np.where(
        is_resp.any(axis=1), np.take_along_axis(scans, np.argmax(is_resp, axis=1)[:, None], axis=1)[:, 0], np.nan
    )
    dor_end = np.fmin(np.where(progressed, pd_day, np.inf), death_inf)
    dor_event = responded & np.isfinite(dor_end)
    dor_month = np.where(responded, (np.where(np.isfinite(dor_end), dor_end, end_day) - first_resp) / DAYS_PER_MONTH, np.nan)
    names = np.array([r.name for r in Response], dtype=object)
    return pd.DataFrame(
        {
            "baseline_sld_mm": sld_scan[:, 0],
            "best_change_pct": best_change,
            "bor": names[bor],
            "pfs_month": np.where(pfs_event, pfs_day / DAYS_PER_MONTH, np.where(withdrawn, 0.0, follow_month)),
            "pfs_event": pfs_event,
            "ttp_month": ttp_month,
            "ttp_event": ttp_event,
            "os_month": np.where(os_event, death / DAYS_PER_MONTH, follow_month),
            "os_event": os_event,
            "progressed": progressed,
            "progression_by_new_lesion": by_new_lesion,
            "response_month": first_resp / DAYS_PER_MONTH,
            "dor_month": dor_month,
            "dor_event": dor_event,
            "later_line": later_line & progressed,
            "withdrawn": withdrawn,
            "death_tumour_share": deaths.tumour_share,
            "ok": traj.ok,
            "message": list(traj.messages),
        }
    )


def safe_ratio(dia: np.ndarray, n_lesions: np.ndarray, baseline_sld: np.ndarray) -> np.ndarray:
    """Sum of diameters on the grid over its baseline value."""
    out: np.ndarray = sum_of_diameters(dia, n_lesions) / np.maximum(baseline_sld, 1e-9)[:, None]
    return out


def _first_pd_day(codes: np.ndarray, scans: np.ndarray) -> np.ndarray:
    """Day of each patient's first PD assessment (``scans``: (n, n_scans)); NaN without one."""
    is_pd = codes == Response.PD
    first = np.argmax(is_pd, axis=1)
    day = np.take_along_axis(scans, first[:, None], axis=1)[:, 0]
    return np.where(is_pd.any(axis=1), day, np.nan)
