"""The schema of a patient row (one row per arm and patient of a trial), defined once.

Every column of the frame :func:`~exoresist.cohort.simulate.simulate_chunk` returns is listed here
with its dtype and the range its values must lie in. The runner checks every chunk it reloads
from disk against it (:func:`check_rows`), so a chunk whose values were damaged is named and
recomputed, never used. To add a column to the trial, add it here too.

Ranges: times are months after the baseline scan within follow-up, sums of diameters in mm, the
first-line baseline as read (with its measurement error, at most :data:`~exoresist.cohort.population.MEASUREMENT_Z_CLIP`
SD) within the selection's plausibility bounds
(:data:`~exoresist.cohort.population.BASELINE_SLD_BOUNDS_MM`) and doubling times within
:data:`~exoresist.cohort.population.TVDT_BOUNDS_DAY`. A row of a failed simulation (``ok`` false)
may hold NaN where a successful one may not.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from exoresist.cohort.config import TrialConfig
from exoresist.cohort.covariates import CATEGORICAL, NUMERIC, SLD_BOUNDS_MM
from exoresist.cohort.population import BASELINE_SLD_BOUNDS_MM, MEASUREMENT_Z_CLIP, TVDT_BOUNDS_DAY, Population, mechanism_records
from exoresist.kb import KnowledgeBase

RESPONSES = ("CR", "PR", "SD", "PD", "NE")
TIME_TOLERANCE_MONTH = 1e-6
DIAMETER_TOLERANCE = 0.01
"""Relative slack on the baseline bounds: the baseline is re-integrated per arm (tolerance 1e-5)."""
MAX_SLD_MM = 3000.0
"""Physical upper bound of a simulated sum of diameters (second-line baselines are not bounded by
selection)."""


@dataclass(frozen=True)
class RowContext:
    """What the valid values of a trial's rows depend on."""

    population: Population
    months: float
    arms: tuple[str, ...]
    records: tuple[str, ...]  # mechanism record ids (contrib:/strength:/ko_delay: columns)
    knockouts: bool
    samples: tuple[str, ...] = ()  # marker:<name>@<day> columns (TrialConfig.samples)
    sample_days: tuple[float, ...] = ()
    measurement_sd: float = 0.0  # the cohort's measurement error: the read baseline differs from the true one


def row_context(kb: KnowledgeBase, config: TrialConfig, labels: tuple[str, ...]) -> RowContext:
    """The row context of a trial of ``config`` with arm labels ``labels``."""
    return RowContext(
        config.population, config.months, labels, mechanism_records(kb), config.knockouts, config.samples, config.sample_days,
        config.cohort["measurement_sd"],
    )  # fmt: skip


@dataclass(frozen=True)
class Column:
    """A column: its name, dtype kind (numpy: ``i`` int, ``f`` float, ``b`` bool, ``O`` text), the
    closed range ``[low, high]`` of its values (numbers), whether NaN is allowed in rows that
    simulated successfully (``nan_ok``) and, for text, the allowed values (``None``: any)."""

    name: str
    kind: str
    low: float = -np.inf
    high: float = np.inf
    nan_ok: bool = False
    choices: tuple[str, ...] | None = None


def columns(ctx: RowContext) -> list[Column]:
    """The columns of a patient row of a trial with ``ctx``, in the order the simulation writes them."""
    t_hi = ctx.months + TIME_TOLERANCE_MONTH
    if ctx.population == "first-line":
        lo, hi = BASELINE_SLD_BOUNDS_MM
        reading = math.exp(MEASUREMENT_Z_CLIP * ctx.measurement_sd)  # the read baseline: true one times at most this
        baseline = Column(
            "baseline_sld_mm", "f", lo * (1 - DIAMETER_TOLERANCE) / reading, hi * (1 + DIAMETER_TOLERANCE) * reading
        )
        tvdt = Column("tvdt_day", "f", TVDT_BOUNDS_DAY[0], TVDT_BOUNDS_DAY[1])
    else:
        baseline = Column("baseline_sld_mm", "f", 0.0, MAX_SLD_MM)
        tvdt = Column("tvdt_day", "f", nan_ok=True, low=np.nan, high=np.nan)  # no screening window: always NaN
    cols = [
        Column("arm", "O", choices=ctx.arms),
        Column("patient", "i", 0, np.inf),
        Column("attempt", "i", 0, np.inf),
        tvdt,
        baseline,
        Column("best_change_pct", "f", -100.0, 100.0 * (MAX_SLD_MM / BASELINE_SLD_BOUNDS_MM[0] - 1), nan_ok=True),
        Column("bor", "O", choices=RESPONSES),
        Column("pfs_month", "f", 0.0, t_hi),
        Column("pfs_event", "b"),
        Column("ttp_month", "f", 0.0, t_hi),
        Column("ttp_event", "b"),
        Column("os_month", "f", 0.0, t_hi),
        Column("os_event", "b"),
        Column("progressed", "b"),
        Column("progression_by_new_lesion", "b"),
        Column("response_month", "f", 0.0, t_hi, nan_ok=True),
        Column("dor_month", "f", 0.0, t_hi, nan_ok=True),
        Column("dor_event", "b"),
        Column("later_line", "b"),
        Column("withdrawn", "b"),
        Column("death_tumour_share", "f", 0.0, 1.0, nan_ok=True),
        Column("ok", "b"),
        Column("message", "O"),
        Column("top_mechanism", "O", choices=("", *ctx.records)),
    ]
    cols += [Column(f"contrib:{r}", "f", 0.0, np.inf, nan_ok=True) for r in ctx.records]
    cols += [Column(f"cov:{f}", "O", choices=levels) for f, levels in CATEGORICAL.items()]
    cols += [
        Column(f"cov:{f}", "f", *(SLD_BOUNDS_MM if f == "baseline_sld_mm" else (-np.inf, np.inf)), nan_ok=False) for f in NUMERIC
    ]
    cols += [Column(f"strength:{r}", "f", 0.0, np.inf, nan_ok=True) for r in ctx.records]
    cols += [Column(f"marker:{name}@{day:g}", "f", 0.0, np.inf, nan_ok=True) for name in ctx.samples for day in ctx.sample_days]
    if ctx.knockouts:
        cols += [Column(f"ko_delay:{r}", "f", -t_hi, t_hi, nan_ok=True) for r in ctx.records]
    return cols


def check_rows(frame: pd.DataFrame, ctx: RowContext, patients: Sequence[int] | range) -> list[str]:
    """Problems of ``frame`` as the rows of ``patients`` in every arm of ``ctx`` (empty: valid).

    Checks the column names and order, each column's dtype and range, and that the frame holds
    exactly one row per (arm, patient), arms in order, patients ascending within each arm."""
    problems: list[str] = []
    cols = columns(ctx)
    names = [c.name for c in cols]
    if list(frame.columns) != names:
        missing = [n for n in names if n not in frame.columns]
        extra = [n for n in frame.columns if n not in names]
        what = []
        if missing:
            what.append(f"missing column(s) {_few(missing)}")
        if extra:
            what.append(f"unexpected column(s) {_few([str(e) for e in extra])}")
        return ["; ".join(what) or "columns out of order"]
    expected_rows = len(ctx.arms) * len(patients)
    if len(frame) != expected_rows:
        return [f"{len(frame)} rows, expected {expected_rows} ({len(ctx.arms)} arms x {len(patients)} patients)"]
    ok = frame["ok"].to_numpy() if frame["ok"].dtype.kind == "b" else np.ones(len(frame), dtype=bool)
    for col in cols:
        problem = _check_column(frame[col.name], col, ok)
        if problem:
            problems.append(f"{col.name}: {problem}")
    if problems:
        return problems
    want_arm = np.repeat(np.array(ctx.arms, dtype=object), len(patients))
    want_patient = np.tile(np.asarray(patients, dtype=np.int64), len(ctx.arms))
    if not (
        np.array_equal(frame["arm"].to_numpy(dtype=object), want_arm)
        and np.array_equal(frame["patient"].to_numpy(), want_patient)
    ):
        problems.append(f"(arm, patient) rows are not one per arm for patients {_span(patients)}")
    return problems


def _check_column(values: pd.Series, col: Column, ok: np.ndarray) -> str | None:
    kind = values.dtype.kind
    if col.kind == "O":
        if kind not in ("O", "U", "T") and not isinstance(values.dtype, pd.StringDtype):
            return f"dtype {values.dtype}, expected text"
        arr = values.to_numpy(dtype=object)
        if not all(isinstance(v, str) for v in arr):
            return "a value is not text"
        if col.choices is not None:
            bad = sorted(set(arr) - set(col.choices))
            if bad:
                return f"unexpected value(s) {_few(bad)}"
        return None
    if kind != col.kind:
        return f"dtype {values.dtype}, expected {_KIND_NAMES[col.kind]}"
    if col.kind == "b":
        return None
    arr = values.to_numpy(dtype=float)
    if np.isnan(col.low) and np.isnan(col.high):  # a column that must be all NaN
        return None if np.isnan(arr).all() else "a value where none is expected"
    finite = np.isfinite(arr)
    allowed_nan = np.isnan(arr) & (col.nan_ok | ~ok)
    if np.any(~finite & ~allowed_nan):
        return "a missing or infinite value"
    inside = (arr >= col.low) & (arr <= col.high)
    bad = finite & ~inside
    if bad.any():
        first = float(arr[np.flatnonzero(bad)[0]])
        return f"{int(bad.sum())} value(s) outside [{col.low:g}, {col.high:g}], e.g. {first:g}"
    return None


_KIND_NAMES = {"i": "integer", "f": "float", "b": "bool"}


def _few(items: Sequence[str], n: int = 3) -> str:
    shown = ", ".join(repr(s[:60]) for s in items[:n])
    return shown + (f" and {len(items) - n} more" if len(items) > n else "")


def _span(patients: Sequence[int] | range) -> str:
    return f"{patients[0]}-{patients[-1]}" if len(patients) else "(none)"
