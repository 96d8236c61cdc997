"""The typed result contract of a virtual trial, read by the CLI, the report and the web layer.

Every summary is a ``TypedDict`` so it is JSON as it stands (``trial.json``) and typed for mypy;
``None`` stands for a value that is undefined (a median not reached, a ratio without events).
"""

from __future__ import annotations

from typing import TypedDict


class Estimate(TypedDict):
    """A proportion or survival probability (0-1) with its 95 % interval."""

    estimate: float
    ci_low: float
    ci_high: float


class Median(TypedDict):
    """A Kaplan–Meier median (months) with its 95 % interval; ``inf`` when not reached."""

    median: float
    ci_low: float
    ci_high: float


class HazardRatio(TypedDict):
    hr: float
    ci_low: float
    ci_high: float
    p: float


class ArmSummary(TypedDict):
    """Response and survival of one arm (all its patients; with replicates, all of them pooled)."""

    arm: str
    n: int
    n_failed: int
    orr: Estimate
    dcr: Estimate
    cr: float
    pr: float
    sd: float
    pd: float
    ne: float
    pfs_median_month: Median
    ttp_median_month: Median
    os_median_month: Median
    dor_median_month: Median
    os_12_month: Estimate
    progression_by_new_lesion: float
    later_line: float
    liver_death: float


class Comparison(TypedDict):
    arm: str
    reference: str
    os_hr: HazardRatio
    pfs_hr: HazardRatio
    os_logrank_p: float
    pfs_logrank_p: float


class ReplicateFigure(TypedDict):
    """One figure over R virtual trials of the stated size: median and 90 % prediction interval."""

    figure: str
    label: str
    unit: str
    arm: str
    reference: str | None
    median: float
    pi_low: float
    pi_high: float
    replicates: int


class BaselineRow(TypedDict):
    factor: str
    label: str
    level: str
    simulated: float
    target: float
    source: str
    kind: str


class AttributionRow(TypedDict):
    arm: str
    record_id: str
    label: str
    n_progressing: int
    share: float
    mean_contribution: float
    ko_share: float
    ko_mean_delay_month: float
