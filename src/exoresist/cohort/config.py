"""The configuration of a virtual trial: everything that determines its numbers (the run key)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from exoresist.cohort.arms import Arm, TrialError, parse_arm
from exoresist.cohort.covariates import IMBRAVE150, BaselineTable
from exoresist.cohort.disease import LATER_LINE_SHARES
from exoresist.cohort.population import (
    DAYS_PER_MONTH,
    MAX_FOLLOW_UP_MONTHS,
    POPULATIONS,
    SCAN_INTERVAL_DAY,
    CohortParameters,
    Population,
)
from exoresist.kb import KnowledgeBase

MAX_REPLICATES = 200
MAX_PATIENTS_PER_ARM = 1_000_000
"""Hard upper limit of patients per arm (``--patients`` times ``--replicates``), checked before
anything else: the finished run is assembled in memory (about 14 GB for 1,000,000 patients in 2
arms; :func:`exoresist.cohort.runner.estimate`)."""


@dataclass(frozen=True)
class TrialConfig:
    """Everything that determines a trial's numbers (the resume key).

    ``patients`` is the size of one virtual trial; with ``replicates`` R the run simulates R trials
    of that size (R x patients distinct patients per arm) and reports the median and 90 % prediction
    interval of every figure. ``baseline`` replaces marginals of the default target population
    (IMbrave150's baseline table); ``later_line_share`` is the share of progressing patients who
    receive a later line (default: the modern-era figure of :data:`LATER_LINE_SHARES`).
    ``reference`` is the arm hazard ratios are computed against (default: the first arm).
    ``withdrawal_shares`` gives, per arm, the share of patients alive at the first assessment who
    leave before it (a published arm's patients with no on-study response category; default none).
    """

    arms: tuple[str, ...]
    population: Population = "first-line"
    patients: int = 1000
    months: float = 24.0
    seed: int = 0
    chunk_size: int = 100
    cohort: CohortParameters = field(default_factory=CohortParameters)
    knockouts: bool = False  # also simulate each progressing patient with each of its records off
    replicates: int = 1
    later_line_share: float | None = None
    baseline: BaselineTable | None = None
    reference: str | None = None
    arm_sizes: tuple[int, ...] | None = None  # per arm, <= patients: the size of each arm in a replicate
    samples: tuple[str, ...] = ()  # species or derived names read per patient (biomarkers), see simulate.sampled
    sample_days: tuple[float, ...] = ()  # days after baseline at which ``samples`` are read
    withdrawal_shares: tuple[float, ...] | None = None  # per arm: leave before the first assessment

    @property
    def target(self) -> BaselineTable:
        """The baseline table the cohort is drawn to."""
        return IMBRAVE150 if self.baseline is None else IMBRAVE150.with_overrides(self.baseline)

    @property
    def later_line(self) -> float:
        return LATER_LINE_SHARES["modern"][0] if self.later_line_share is None else self.later_line_share

    def withdrawal(self, label: str) -> float:
        """The share of an arm's patients who leave before the first assessment (0 unless set)."""
        return float(self._per_arm(self.withdrawal_shares, label, 0.0))

    def _per_arm(self, values: tuple[Any, ...] | None, label: str, default: Any) -> Any:
        """Arm ``label``'s entry of a per-arm setting (aligned with ``arms``); ``default`` when unset."""
        if values is None:
            return default
        labels = [a.strip() for a in self.arms]
        return values[labels.index(label)] if label in labels else default

    @property
    def total_patients(self) -> int:
        return self.patients * self.replicates

    def validate(self, kb: KnowledgeBase) -> list[Arm]:
        """Check every argument before any work starts; returns the parsed arms."""
        if not self.arms:
            raise TrialError("give at least one arm (--arm)")
        if self.population not in POPULATIONS:
            raise TrialError(f"unknown population '{self.population}': choose one of {', '.join(POPULATIONS)}")
        if self.patients < 1:
            raise TrialError(f"patients per arm must be at least 1, got {self.patients}")
        if self.patients * max(self.replicates, 1) > MAX_PATIENTS_PER_ARM:
            raise TrialError(
                f"at most {MAX_PATIENTS_PER_ARM:,} patients per arm, got {self.patients * max(self.replicates, 1):,}: "
                "run several trials with different --seed values instead"
            )
        if not (math.isfinite(self.months) and 0 < self.months <= MAX_FOLLOW_UP_MONTHS):
            raise TrialError(f"months of follow-up must be in (0, {MAX_FOLLOW_UP_MONTHS:g}], got {self.months}")
        first_scan_month = SCAN_INTERVAL_DAY / DAYS_PER_MONTH
        if self.months < first_scan_month:
            raise TrialError(
                f"months of follow-up ({self.months:g}) end before the first tumour assessment at "
                f"{first_scan_month:.2f} months (6 weeks): no response or progression could be seen"
            )
        if self.chunk_size < 1:
            raise TrialError(f"chunk size must be at least 1, got {self.chunk_size}")
        if self.seed < 0:
            raise TrialError(f"seed must be >= 0, got {self.seed}")
        if not 1 <= self.replicates <= MAX_REPLICATES:
            raise TrialError(f"replicates must be between 1 and {MAX_REPLICATES}, got {self.replicates}")
        if bool(self.samples) != bool(self.sample_days) or not all(math.isfinite(d) and d >= 0 for d in self.sample_days):
            raise TrialError(f"samples need sample days >= 0 (got {list(self.samples)} at {list(self.sample_days)})")
        if self.later_line_share is not None and not 0 <= self.later_line_share <= 1:
            raise TrialError(f"the later-line share must be in [0, 1], got {self.later_line_share}")
        arms = [parse_arm(kb, a) for a in self.arms]
        labels = [a.label for a in arms]
        if len(set(labels)) != len(labels):
            raise TrialError(f"an arm is given twice: {labels}")
        if self.arm_sizes is not None and (
            len(self.arm_sizes) != len(arms) or not all(1 <= n <= self.patients for n in self.arm_sizes)
        ):
            raise TrialError(
                f"arm sizes {list(self.arm_sizes)} must give each of the {len(arms)} arms 1 to {self.patients} patients"
            )
        if self.withdrawal_shares is not None and (
            len(self.withdrawal_shares) != len(arms) or not all(0 <= w < 1 for w in self.withdrawal_shares)
        ):
            raise TrialError(
                f"withdrawal shares {list(self.withdrawal_shares)} must give each of the {len(arms)} arms a share in [0, 1)"
            )
        if self.reference is not None and self.reference not in labels:
            raise TrialError(f"reference arm '{self.reference}' is not one of the arms: {', '.join(labels)}")
        return arms

    @property
    def reference_arm(self) -> str:
        return self.reference or self.arms[0].strip()

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "arms": list(self.arms),
            "population": self.population,
            "patients": self.patients,
            "months": self.months,
            "seed": self.seed,
            "chunk_size": self.chunk_size,
            "cohort": self.cohort.as_dict(),
        }
        # options appear only when set, so the run keys of earlier runs hold
        if self.knockouts:
            out["knockouts"] = True
        if self.replicates != 1:
            out["replicates"] = self.replicates
        if self.later_line_share is not None:
            out["later_line_share"] = self.later_line_share
        if self.withdrawal_shares is not None:
            out["withdrawal_shares"] = list(self.withdrawal_shares)
        if self.baseline is not None:
            out["baseline"] = {
                "shares": {f: {lv: x.share for lv, x in levels.items()} for f, levels in self.baseline.shares.items()},
                "means": {f: x.share for f, x in self.baseline.means.items()},
            }
        if self.reference is not None:
            out["reference"] = self.reference
        if self.arm_sizes is not None:
            out["arm_sizes"] = list(self.arm_sizes)
        if self.samples:
            out["samples"] = list(self.samples)
            out["sample_days"] = list(self.sample_days)
        return out

    def arm_size(self, label: str) -> int:
        """Patients of arm ``label`` in each replicate trial."""
        return int(self._per_arm(self.arm_sizes, label, self.patients))

    def chunks(self) -> list[range]:
        total = self.total_patients
        return [range(s, min(s + self.chunk_size, total)) for s in range(0, total, self.chunk_size)]
