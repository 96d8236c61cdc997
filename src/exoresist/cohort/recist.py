"""RECIST 1.1 response classification of simulated sum-of-diameters time series.

Rules (RECIST 1.1, Eisenhauer et al., Eur J Cancer 2009; see ``docs/parameter-anchors.md``),
applied to the sum of target-lesion diameters in mm at each assessment after baseline:

* PD: at least ``pd_fraction`` (20%) above the nadir -- the smallest sum so far, baseline
  included -- *and* at least ``pd_absolute_mm`` (5 mm) above it in absolute terms. PD is checked
  first, so it wins over a size that would otherwise read as PR.
* CR: sum below ``cr_threshold_mm``. RECIST asks for every target lesion to have gone; a
  simulated tumour decays towards zero without reaching it, so "gone" is a modelling choice,
  defaulting to 1 mm. The RECIST rule that lymph nodes count as gone below 10 mm short axis is
  for nodal lesions and does not apply to a simulated tumour sum.
* PR: at least ``pr_fraction`` (30%) below baseline.
* SD: none of the above.

Not modelled: new lesions, non-target lesions, confirmation of CR/PR (RECIST 1.1 does not require
it in randomised trials), and missing assessments.

Everything is computed on arrays of shape ``(n_patients, n_times)`` by :func:`classify_batch`;
:func:`classify` is the one-patient view of the same computation.

>>> series = classify([0, 42, 84, 126], [50.0, 30.0, 33.0, 40.0])
>>> [r.name if r is not None else None for r in series.responses]
[None, 'PR', 'PR', 'PD']
>>> best_overall_response(series).name
'PR'
>>> progression_time(series)
126.0
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum

import numpy as np
import numpy.typing as npt
import pandas as pd

__all__ = [
    "NOT_ASSESSED",
    "RECIST_1_1",
    "RecistBatch",
    "RecistCriteria",
    "RecistSeries",
    "Response",
    "best_overall_response",
    "best_overall_response_batch",
    "classify",
    "classify_batch",
    "progression_time",
    "progression_time_batch",
]

FloatArray = npt.NDArray[np.float64]
CodeArray = npt.NDArray[np.int8]

#: Code in the per-assessment array for the baseline assessment and any before it.
NOT_ASSESSED = -1

#: Absolute slack (mm) so that a change of exactly 30% or 20% counts as "at least" despite rounding.
_SLACK_MM = 1e-9

#: Default minimum time from baseline for SD to count as best overall response (6 weeks).
SD_MIN_DURATION_DAY = 42.0


class Response(IntEnum):
    """RECIST response category; a larger value is a better response.

    ``NE`` (not evaluable) is only used for best overall response, when no assessment qualifies.
    """

    NE = 0
    PD = 1
    SD = 2
    PR = 3
    CR = 4


@dataclass(frozen=True)
class RecistCriteria:
    """Thresholds of the per-assessment rules.

    Defaults are RECIST 1.1 (Eisenhauer et al., Eur J Cancer 2009), except ``cr_threshold_mm``,
    which is a modelling choice (see the module docstring); prior range 0.5-5 mm.
    """

    cr_threshold_mm: float = 1.0
    pr_fraction: float = 0.30
    pd_fraction: float = 0.20
    pd_absolute_mm: float = 5.0

    def __post_init__(self) -> None:
        if not (np.isfinite(self.cr_threshold_mm) and self.cr_threshold_mm >= 0):
            raise ValueError(f"cr_threshold_mm must be a finite number >= 0, got {self.cr_threshold_mm!r}")
        for name in ("pr_fraction", "pd_fraction"):
            value = getattr(self, name)
            if not (np.isfinite(value) and 0 < value < 1):
                raise ValueError(f"{name} must be in (0, 1), got {value!r}")
        if not (np.isfinite(self.pd_absolute_mm) and self.pd_absolute_mm >= 0):
            raise ValueError(f"pd_absolute_mm must be a finite number >= 0, got {self.pd_absolute_mm!r}")


RECIST_1_1 = RecistCriteria()


@dataclass(frozen=True)
class RecistBatch:
    """Per-assessment RECIST classification of ``n_patients`` series sharing one schedule.

    Attributes:
        times_day: assessment times, shape ``(n_times,)``, days, strictly increasing.
        diameters_mm: sums of diameters, shape ``(n_patients, n_times)``, mm.
        baseline_index: index into ``times_day`` of the baseline assessment.
        criteria: thresholds used.
        codes: :class:`Response` values, shape ``(n_patients, n_times)``; ``NOT_ASSESSED`` (-1)
            at and before baseline.
        nadir_mm: smallest sum from baseline up to and including each assessment, shape
            ``(n_patients, n_times)``; NaN before baseline.
    """

    times_day: FloatArray
    diameters_mm: FloatArray
    baseline_index: int
    criteria: RecistCriteria
    codes: CodeArray = field(repr=False)
    nadir_mm: FloatArray = field(repr=False)

    @property
    def n_patients(self) -> int:
        return int(self.diameters_mm.shape[0])

    def to_dataframe(self) -> pd.DataFrame:
        """Long table: one row per patient and assessment, with response names (missing at and before baseline)."""
        n_patients, n_times = self.diameters_mm.shape
        names = np.array([None] + [r.name for r in Response], dtype=object)
        return pd.DataFrame(
            {
                "patient": np.repeat(np.arange(n_patients), n_times),
                "time_day": np.tile(self.times_day, n_patients),
                "diameter_mm": self.diameters_mm.ravel(),
                "nadir_mm": self.nadir_mm.ravel(),
                "response": names[self.codes.ravel().astype(np.int64) + 1],
            }
        )


@dataclass(frozen=True)
class RecistSeries:
    """Per-assessment RECIST classification of one patient (a one-row :class:`RecistBatch`)."""

    batch: RecistBatch

    @property
    def times_day(self) -> FloatArray:
        return self.batch.times_day

    @property
    def diameters_mm(self) -> FloatArray:
        row: FloatArray = self.batch.diameters_mm[0]
        return row

    @property
    def nadir_mm(self) -> FloatArray:
        row: FloatArray = self.batch.nadir_mm[0]
        return row

    @property
    def codes(self) -> CodeArray:
        row: CodeArray = self.batch.codes[0]
        return row

    @property
    def responses(self) -> tuple[Response | None, ...]:
        """Response at each assessment; None at and before baseline."""
        return tuple(None if c == NOT_ASSESSED else Response(int(c)) for c in self.codes)

    def to_dataframe(self) -> pd.DataFrame:
        return self.batch.to_dataframe().drop(columns="patient")


def _validate(times_day: npt.ArrayLike, diameters_mm: npt.ArrayLike, baseline_index: int) -> tuple[FloatArray, FloatArray]:
    times = np.asarray(times_day, dtype=np.float64)
    diameters = np.asarray(diameters_mm, dtype=np.float64)
    if times.ndim != 1 or times.size == 0:
        raise ValueError(f"times_day must be a non-empty 1-D array, got shape {times.shape}")
    if diameters.ndim != 2:
        raise ValueError(f"diameters_mm must have shape (n_patients, n_times), got shape {diameters.shape}")
    if diameters.shape[1] != times.size:
        raise ValueError(
            f"length mismatch: times_day has {times.size} assessments but diameters_mm has {diameters.shape[1]} per patient"
        )
    if not np.all(np.isfinite(times)):
        raise ValueError(f"times_day must be finite; non-finite at index {int(np.flatnonzero(~np.isfinite(times))[0])}")
    steps = np.diff(times)
    if np.any(steps <= 0):
        i = int(np.flatnonzero(steps <= 0)[0])
        raise ValueError(
            f"times_day must be strictly increasing; times_day[{i + 1}] = {times[i + 1]} follows times_day[{i}] = {times[i]}"
        )
    bad = ~np.isfinite(diameters)
    if np.any(bad):
        patient, index = (int(v) for v in np.argwhere(bad)[0])
        raise ValueError(f"diameters_mm must be finite; patient {patient}, assessment {index} is {diameters[patient, index]}")
    negative = diameters < 0
    if np.any(negative):
        patient, index = (int(v) for v in np.argwhere(negative)[0])
        raise ValueError(f"diameters_mm must be >= 0; patient {patient}, assessment {index} is {diameters[patient, index]}")
    if isinstance(baseline_index, bool) or not isinstance(baseline_index, int | np.integer):
        raise TypeError(f"baseline_index must be an int, got {type(baseline_index).__name__}")
    if not 0 <= baseline_index < times.size:
        raise ValueError(f"baseline_index must be in [0, {times.size - 1}], got {baseline_index}")
    zero_baseline = diameters[:, baseline_index] <= 0
    if np.any(zero_baseline):
        patient = int(np.flatnonzero(zero_baseline)[0])
        raise ValueError(f"baseline diameter must be > 0 (no measurable disease otherwise); patient {patient} has 0 mm")
    return times, diameters


def classify_batch(
    times_day: npt.ArrayLike,
    diameters_mm: npt.ArrayLike,
    *,
    baseline_index: int = 0,
    criteria: RecistCriteria = RECIST_1_1,
) -> RecistBatch:
    """Classify every assessment after baseline for a batch of patients.

    Args:
        times_day: assessment times in days, shape ``(n_times,)``, strictly increasing.
        diameters_mm: sums of target-lesion diameters in mm, shape ``(n_patients, n_times)``, >= 0.
        baseline_index: which assessment is baseline; earlier ones are ignored.
        criteria: thresholds (RECIST 1.1 by default).

    Raises:
        ValueError: on shape mismatch, non-increasing or non-finite times, negative or non-finite
            diameters, a baseline index out of range, or a zero baseline sum.

    >>> batch = classify_batch([0, 42], [[50.0, 20.0], [50.0, 62.0]])
    >>> batch.codes[:, 1].tolist() == [Response.PR, Response.PD]
    True
    """
    times, diameters = _validate(times_day, diameters_mm, baseline_index)
    n_patients, n_times = diameters.shape
    nadir = np.full((n_patients, n_times), np.nan)
    nadir[:, baseline_index:] = np.minimum.accumulate(diameters[:, baseline_index:], axis=1)
    # "Nadir so far" for assessment t is the minimum over baseline..t-1; including t itself gives
    # the same PD decision, because when t is the new minimum it cannot exceed it.
    increase = diameters - nadir
    baseline = diameters[:, [baseline_index]]
    is_pd = (increase >= criteria.pd_fraction * nadir - _SLACK_MM) & (increase >= criteria.pd_absolute_mm - _SLACK_MM)
    is_cr = diameters < criteria.cr_threshold_mm
    is_pr = baseline - diameters >= criteria.pr_fraction * baseline - _SLACK_MM
    codes = np.select(
        [is_pd, is_cr, is_pr],
        [Response.PD, Response.CR, Response.PR],
        default=Response.SD,
    ).astype(np.int8)
    codes[:, : baseline_index + 1] = NOT_ASSESSED
    return RecistBatch(
        times_day=times,
        diameters_mm=diameters,
        baseline_index=baseline_index,
        criteria=criteria,
        codes=codes,
        nadir_mm=nadir,
    )


def classify(
    times_day: npt.ArrayLike,
    diameters_mm: npt.ArrayLike,
    *,
    baseline_index: int = 0,
    criteria: RecistCriteria = RECIST_1_1,
) -> RecistSeries:
    """Classify one patient's series; ``diameters_mm`` has shape ``(n_times,)``. See :func:`classify_batch`."""
    diameters = np.asarray(diameters_mm, dtype=np.float64)
    if diameters.ndim != 1:
        raise ValueError(f"diameters_mm must be 1-D for one patient, got shape {diameters.shape}; use classify_batch")
    return RecistSeries(classify_batch(times_day, diameters[np.newaxis, :], baseline_index=baseline_index, criteria=criteria))


def progression_time_batch(batch: RecistBatch) -> FloatArray:
    """Time (days) of the first PD assessment per patient, shape ``(n_patients,)``; NaN if none."""
    is_pd = batch.codes == Response.PD
    first = np.argmax(is_pd, axis=1)
    return np.where(is_pd.any(axis=1), batch.times_day[first], np.nan)


def progression_time(series: RecistSeries) -> float | None:
    """Time (days) of the first assessment classified PD, or None if there is none."""
    value = float(progression_time_batch(series.batch)[0])
    return None if np.isnan(value) else value


def best_overall_response_batch(batch: RecistBatch, *, sd_min_duration_day: float = SD_MIN_DURATION_DAY) -> CodeArray:
    """Best overall response per patient, shape ``(n_patients,)``, as :class:`Response` codes.

    The best response among assessments before the first PD. SD counts only at an assessment at
    least ``sd_min_duration_day`` after baseline (RECIST 1.1 leaves the interval to the protocol,
    "in general not less than 6-8 weeks"; default 6 weeks). When no assessment before PD
    qualifies, the result is PD if the patient progressed and NE otherwise. CR and PR are not
    required to be confirmed.
    """
    if not (np.isfinite(sd_min_duration_day) and sd_min_duration_day >= 0):
        raise ValueError(f"sd_min_duration_day must be a finite number >= 0, got {sd_min_duration_day!r}")
    codes = batch.codes
    is_pd = codes == Response.PD
    before_pd = np.cumsum(is_pd, axis=1) == 0
    elapsed = batch.times_day - batch.times_day[batch.baseline_index]
    early_sd = (codes == Response.SD) & (elapsed < sd_min_duration_day)
    qualifying = np.where(before_pd & ~early_sd & (codes > Response.PD), codes, Response.NE)
    best = qualifying.max(axis=1)
    best = np.where((best == Response.NE) & is_pd.any(axis=1), Response.PD, best)
    return best.astype(np.int8)


def best_overall_response(series: RecistSeries, *, sd_min_duration_day: float = SD_MIN_DURATION_DAY) -> Response:
    """Best overall response of one patient; see :func:`best_overall_response_batch`."""
    return Response(int(best_overall_response_batch(series.batch, sd_min_duration_day=sd_min_duration_day)[0]))
