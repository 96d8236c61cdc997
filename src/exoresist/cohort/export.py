"""A finished trial as tables for spreadsheets: CSV of the per-arm summary, and an Excel workbook
with the summary, comparisons, replicate figures, baseline table, attribution and every patient."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from exoresist.atomic import write_via


def _flat(record: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in record.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(_flat(value, f"{name}."))
        else:
            out[name] = value
    return out


def summary_frames(summary: Mapping[str, Any]) -> dict[str, pd.DataFrame]:
    """The tables of ``trial.json`` (a run's JSON summary), nested values spread into ``a.b`` columns."""
    return {
        name: pd.DataFrame([_flat(r) for r in summary.get(name) or []])
        for name in ("arms", "comparisons", "replicates", "baseline", "attribution")
    }


def summary_csv(summary: Mapping[str, Any]) -> str:
    """The per-arm summary as CSV (one row per arm)."""
    text: str = summary_frames(summary)["arms"].to_csv(index=False)
    return text


def write_xlsx(summary: Mapping[str, Any], patients: pd.DataFrame, path: Path) -> None:
    """One workbook: a sheet per summary table, the configuration, and every patient row (atomic)."""
    frames = summary_frames(summary)
    config = pd.DataFrame([_flat(summary.get("config") or {})]).T.reset_index()
    config.columns = ["setting", "value"]

    def write(tmp: Path) -> None:
        with pd.ExcelWriter(tmp, engine="openpyxl") as xl:
            for name, frame in frames.items():
                frame.to_excel(xl, sheet_name=name, index=False)
            config.to_excel(xl, sheet_name="config", index=False)
            patients.to_excel(xl, sheet_name="patients", index=False)

    write_via(path, write)
