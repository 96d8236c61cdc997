"""Virtual-trial stage: RECIST classification of simulated tumours and trial statistics."""

from exoresist.cohort.recist import (
    NOT_ASSESSED,
    RECIST_1_1,
    RecistBatch,
    RecistCriteria,
    RecistSeries,
    Response,
    best_overall_response,
    best_overall_response_batch,
    classify,
    classify_batch,
    progression_time,
    progression_time_batch,
)
from exoresist.cohort.survival import (
    HazardRatio,
    KmMedian,
    ProportionCI,
    cox_hazard_ratio,
    km_median,
    logrank_p,
    proportion_ci,
)

__all__ = [
    "NOT_ASSESSED",
    "RECIST_1_1",
    "HazardRatio",
    "KmMedian",
    "ProportionCI",
    "RecistBatch",
    "RecistCriteria",
    "RecistSeries",
    "Response",
    "best_overall_response",
    "best_overall_response_batch",
    "classify",
    "classify_batch",
    "cox_hazard_ratio",
    "km_median",
    "logrank_p",
    "progression_time",
    "progression_time_batch",
    "proportion_ci",
]
