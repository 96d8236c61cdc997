"""Checks of the report's inputs, done once at the boundary, with errors that name what is wrong."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pandas as pd

PATIENT_COLUMNS = (
    "arm",
    "patient",
    "baseline_sld_mm",
    "best_change_pct",
    "bor",
    "pfs_month",
    "pfs_event",
    "os_month",
    "os_event",
)
ATTRIBUTION_COLUMNS = ("arm", "record_id", "label", "n_progressing", "share", "mean_contribution")
CALIBRATION_COLUMNS = ("trial", "arm", "endpoint", "unit", "published", "simulated", "error")
SENSITIVITY_COLUMNS = ("output", "parameter", "label", "S1", "S1_conf", "ST", "ST_conf")
ARM_KEYS = ("arm", "n", "orr", "dcr", "cr", "pr", "sd", "pd", "ne", "pfs_median_month", "os_median_month")
ESTIMATE_KEYS = ("estimate", "ci_low", "ci_high")
MEDIAN_KEYS = ("median", "ci_low", "ci_high")
COMPARISON_KEYS = ("arm", "reference", "os_hr", "pfs_hr", "os_logrank_p", "pfs_logrank_p")
HR_KEYS = ("hr", "ci_low", "ci_high", "p")
RESPONSES = ("CR", "PR", "SD", "PD", "NE")
UNITS = ("months", "percent", "ratio")


class ReportInputError(ValueError):
    """An input of the report lacks a required column or key, or holds a value it cannot show."""


def require_columns(frame: pd.DataFrame, name: str, columns: Iterable[str]) -> None:
    """Raise :class:`ReportInputError` naming every column of ``columns`` missing from ``frame``."""
    if not isinstance(frame, pd.DataFrame):
        raise ReportInputError(f"{name} must be a pandas DataFrame, not {type(frame).__name__}")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        listed = ", ".join(repr(c) for c in missing)
        raise ReportInputError(f"{name} is missing required column(s) {listed}; it has {list(map(str, frame.columns))}")


def require_values(frame: pd.DataFrame, name: str, column: str, allowed: Sequence[str]) -> None:
    """Raise :class:`ReportInputError` if ``frame[column]`` holds a value outside ``allowed``."""
    unknown = sorted({str(v) for v in frame[column].unique()} - set(allowed))
    if unknown:
        raise ReportInputError(f"{name}[{column!r}] holds {unknown}; allowed values are {list(allowed)}")


def require_keys(record: Mapping[str, Any], name: str, keys: Iterable[str]) -> None:
    """Raise :class:`ReportInputError` naming every key of ``keys`` missing from the mapping ``record``."""
    if not isinstance(record, Mapping):
        raise ReportInputError(f"{name} must be a dict, not {type(record).__name__}")
    missing = [k for k in keys if k not in record]
    if missing:
        listed = ", ".join(repr(k) for k in missing)
        raise ReportInputError(f"{name} is missing required key(s) {listed}")


def validate_patients(patients: pd.DataFrame, columns: Iterable[str] = PATIENT_COLUMNS) -> None:
    """Check the per-patient table: the columns asked for, at least one row, known responses."""
    require_columns(patients, "patients", columns)
    if patients.empty:
        raise ReportInputError("patients has no rows")
    if "bor" in patients.columns:
        require_values(patients, "patients", "bor", RESPONSES)


def validate_arms(arms: Sequence[Mapping[str, Any]]) -> None:
    """Check the per-arm summaries: the keys of the data contract, nested ones included."""
    if not arms:
        raise ReportInputError("arms is empty: the report needs at least one arm summary")
    for i, arm in enumerate(arms):
        where = f"arms[{i}]"
        require_keys(arm, where, ARM_KEYS)
        where = f"arms[{i}] ({arm['arm']!r})"
        for key in ("orr", "dcr"):
            require_keys(arm[key], f"{where}[{key!r}]", ESTIMATE_KEYS)
        for key in ("pfs_median_month", "os_median_month"):
            require_keys(arm[key], f"{where}[{key!r}]", MEDIAN_KEYS)


def validate_comparisons(comparisons: Sequence[Mapping[str, Any]]) -> None:
    """Check the between-arm comparisons: the keys of the data contract, nested ones included."""
    for i, comp in enumerate(comparisons):
        where = f"comparisons[{i}]"
        require_keys(comp, where, COMPARISON_KEYS)
        for key in ("os_hr", "pfs_hr"):
            require_keys(comp[key], f"{where}[{key!r}]", HR_KEYS)


def validate_attribution(attribution: pd.DataFrame) -> None:
    """Check the mechanism attribution table: the columns of the data contract."""
    require_columns(attribution, "attribution", ATTRIBUTION_COLUMNS)


def validate_calibration(calibration: pd.DataFrame) -> None:
    """Check the calibration targets: the columns and the units the figure knows."""
    require_columns(calibration, "calibration", CALIBRATION_COLUMNS)
    require_values(calibration, "calibration", "unit", UNITS)


def validate_sensitivity(sensitivity: pd.DataFrame) -> None:
    """Check the Sobol indices table."""
    require_columns(sensitivity, "sensitivity", SENSITIVITY_COLUMNS)
