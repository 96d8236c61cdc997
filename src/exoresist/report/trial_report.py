"""The HTML report of a finished virtual trial (what ``exoresist demo`` writes)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from exoresist.report.html import render_report

LIMITATIONS = (
    "Every virtual patient is simulated in every arm (the same patients, a 'digital twin' design); "
    "confidence intervals and p-values treat the arms as independent samples, which is conservative.",
    "One spherical tumour stands for the sum of target-lesion diameters; new lesions are not modelled, "
    "so progression is by growth of the measured tumour only.",
    "Death follows a hazard from tumour volume plus a background hazard for liver disease; treatment "
    "continues after progression and no later lines of therapy are modelled.",
    "Most exosome parameters have no published value: they are marked 'assumed' in docs/parameters.md, "
    "carry prior ranges and enter the sensitivity analysis. Cohort-level parameters were calibrated on "
    "SHARP and IMbrave150 only (docs/calibration.md).",
)
ATTRIBUTION_LIMITATION = (
    "Mechanism attribution reads each record's effect term at the progression scan; it says which "
    "exosomal signal was strongest in the model, not what removing it would have changed."
)
KNOCKOUT_LIMITATION = (
    "Mechanism attribution: the figure and the share columns read each record's effect term at the progression "
    "scan (the strongest exosomal signal in the model). The knockout columns say what removing a record would have "
    "changed: each progressing patient was simulated again without it. Both are results of the model, whose "
    "exosome parameters are mostly assumed."
)


def write_report(
    run: Any,
    path: Path,
    *,
    calibration: pd.DataFrame | None = None,
    sensitivity: pd.DataFrame | None = None,
    title: str | None = None,
    biomarkers: dict[str, Any] | None = None,
) -> Path:
    """Write the report of ``run`` (a :class:`~exoresist.cohort.runner.TrialRun`) to ``path``; with
    ``biomarkers`` (a biomarker evaluation's JSON dictionary) it has a biomarker section."""
    meta = dict(run.meta)
    meta.setdefault("date", date.today().isoformat())
    meta["limitations"] = [*LIMITATIONS, KNOCKOUT_LIMITATION if run.config.knockouts else ATTRIBUTION_LIMITATION]
    patients = run.patients[run.patients["ok"]]
    arms = ", ".join(a["arm"] for a in run.arms)
    return render_report(
        title=title or f"Virtual {run.config.population} HCC trial: {arms}",
        meta=meta,
        patients=patients,
        arms=run.arms,
        comparisons=run.comparisons,
        attribution=run.attribution,
        calibration=calibration,
        sensitivity=sensitivity,
        out_path=path,
        biomarkers=biomarkers,
    )
