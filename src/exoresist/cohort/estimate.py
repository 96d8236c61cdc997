"""How long a trial run takes and how much memory it needs, before it starts (rough, within a
factor of 2), and the sizes above which the command line asks for confirmation."""

from __future__ import annotations

import os
from dataclasses import dataclass

from exoresist.atomic import format_bytes
from exoresist.cohort.config import TrialConfig
from exoresist.cohort.population import BURN_IN_DAY, DAYS_PER_MONTH
from exoresist.cohort.schema import columns, row_context
from exoresist.kb import KnowledgeBase

ARM_SIMULATIONS_PER_WORKER_SECOND = 250.0
"""Patients simulated in one arm per second by one worker, 24 months first-line. Measured
2026-12-01 on this project's 2-core machine, shared: 5000 patients x 2 arms serially took 29.5 s
more than 500 x 2 (305 per second); rounded down."""
KNOCKOUT_COST = 3.0
"""A run with ``--knockouts`` takes about this many times as long (measured 2.5, 500 x 2 serially)."""
POST_SORAFENIB_COST = 5.0
"""Second line also simulates the first-line treatment before it (measured 4.4, 500 x 2 serially)."""
MEMORY_PER_CELL_BYTES = 100.0
"""Peak memory per value of ``patients.parquet`` while the finished run is assembled (the chunk
frames, their concatenation, the sorted copy and the Parquet bytes). Measured 84 bytes: peak RSS
of 5000 x 2 patients minus that of 500 x 2, over the difference in values; rounded up."""
BASE_MEMORY_BYTES = 450 * 2**20
"""Peak memory of a small run (Python, numba, the model; measured 435 MB)."""
CONFIRM_SECONDS = 30 * 60.0
CONFIRM_BYTES = 4 * 2**30


@dataclass(frozen=True)
class RunEstimate:
    """How long a run takes and how much memory it needs, roughly (within a factor of 2)."""

    patients: int
    arms: int
    workers: int
    seconds: float
    memory_bytes: float

    @property
    def needs_confirmation(self) -> bool:
        """True beyond :data:`CONFIRM_SECONDS` or :data:`CONFIRM_BYTES`: the CLI then asks for ``--yes``."""
        return self.seconds > CONFIRM_SECONDS or self.memory_bytes > CONFIRM_BYTES

    @property
    def fits_in_memory(self) -> bool:
        """Whether the estimated memory is below this machine's physical memory (unknown: True)."""
        total = physical_memory()
        return total is None or self.memory_bytes < total

    def describe(self) -> str:
        return (
            f"{self.patients:,} patients x {self.arms} arm(s) on {self.workers} worker(s): about "
            f"{_duration(self.seconds)} and {format_bytes(self.memory_bytes)} of memory (rough estimate)"
        )


def physical_memory() -> int | None:
    """Bytes of physical memory of this machine, if the platform tells."""
    try:
        return int(os.sysconf("SC_PHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):  # pragma: no cover - not POSIX
        return None


def estimate(kb: KnowledgeBase, config: TrialConfig, workers: int) -> RunEstimate:
    """The time and memory of running ``config`` from scratch on ``workers`` single-threaded workers.

    Time scales with the simulated days (screening window plus follow-up) against the measured
    24-month rate; memory with the values of ``patients.parquet`` (rows times columns)."""
    arms = len(config.arms)
    days = (BURN_IN_DAY + config.months * DAYS_PER_MONTH) / (BURN_IN_DAY + 24.0 * DAYS_PER_MONTH)
    cost = days * (KNOCKOUT_COST if config.knockouts else 1.0)
    cost *= POST_SORAFENIB_COST if config.population != "first-line" else 1.0
    seconds = config.total_patients * arms * cost / (ARM_SIMULATIONS_PER_WORKER_SECOND * max(1, workers))
    cells = config.total_patients * arms * len(columns(row_context(kb, config, tuple(config.arms))))
    return RunEstimate(config.total_patients, arms, workers, seconds, BASE_MEMORY_BYTES + cells * MEMORY_PER_CELL_BYTES)


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 2 * 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"
