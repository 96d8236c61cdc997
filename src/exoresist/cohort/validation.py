"""Validation on a user's own trials: predict each published trial listed in a CSV (the columns of
``calibration_trials.csv``) with the shipped calibration, refitting nothing, and compare.

Each arm's text is read as a model arm: first as it stands (``lenvatinib``,
``atezolizumab+bevacizumab``), then with dose and schedule words removed ("lenvatinib 12 mg/day" ->
``lenvatinib``; "nivolumab 240 mg q2w + ipilimumab 3 mg/kg" -> ``nivolumab+ipilimumab``); an
optional ``model_arm`` column overrides it. ``line`` 2 trials are simulated in the post-sorafenib
population; an optional ``later_line_share`` column sets a trial's share of progressing patients
given a later line (default: the modern-era figure), and an optional ``no_assessment_percent``
column an arm's share of patients with no on-study response category (they are simulated as
leaving before the first scan; default none).
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from exoresist.cohort.arms import TrialError, parse_arm
from exoresist.cohort.calibration import Target, check, targets_from_table
from exoresist.cohort.population import CohortParameters
from exoresist.cohort.runner import TrialRun
from exoresist.kb import KnowledgeBase

REQUIRED = (
    "trial",
    "arm",
    "n",
    "os_median_months",
    "os_hr_vs_control",
    "pfs_or_ttp_median_months",
    "pfs_measure",
    "pfs_hr_vs_control",
    "orr_percent",
    "cr_percent",
    "dcr_percent",
)
NUMERIC = (
    "n",
    "line",
    "os_median_months",
    "os_hr_vs_control",
    "pfs_or_ttp_median_months",
    "pfs_hr_vs_control",
    "orr_percent",
    "cr_percent",
    "dcr_percent",
    "later_line_share",
    "no_assessment_percent",
)
_DOSE = re.compile(
    r"\b(\d+(\.\d+)?|mg|g|kg|m2|mg/kg|mg/m2|mg/day|q\d+w|qd|bid|daily|once|twice|every|weeks?|days?|doses?|x|iv|po|oral)\b",
    re.IGNORECASE,
)


def read_trials_csv(path: Path | str) -> pd.DataFrame:
    """The trial table, with its columns checked; ``TrialError`` naming the row and column otherwise."""
    path = Path(path)
    try:
        frame = pd.read_csv(path)
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise TrialError(f"{path}: cannot read the trial table ({type(exc).__name__}: {exc})") from None
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        raise TrialError(f"{path}: missing column(s) {', '.join(missing)} (same columns as calibration_trials.csv)")
    if frame.empty:
        raise TrialError(f"{path}: the trial table has no rows")
    for col in NUMERIC:
        if col not in frame.columns:
            continue
        values = pd.to_numeric(frame[col], errors="coerce")
        bad = values.isna() & frame[col].notna()
        if bad.any():
            row = int(bad.to_numpy().nonzero()[0][0]) + 2
            raise TrialError(f"{path}:{row}: column {col}: '{frame[col][bad].iloc[0]}' is not a number")
        frame[col] = values
    if "no_assessment_percent" in frame.columns:
        out = frame["no_assessment_percent"].notna() & ~frame["no_assessment_percent"].between(0, 100, inclusive="left")
        if out.any():
            row = int(out.to_numpy().nonzero()[0][0]) + 2
            value = frame["no_assessment_percent"][out].iloc[0]
            raise TrialError(f"{path}:{row}: column no_assessment_percent: {value:g} is not a percentage in [0, 100)")
    for col in ("trial", "arm"):
        empty = frame[col].isna() | (frame[col].astype(str).str.strip() == "")
        if empty.any():
            raise TrialError(f"{path}:{int(empty.to_numpy().nonzero()[0][0]) + 2}: column {col} is empty")
    return frame


def model_arm(kb: KnowledgeBase, text: str) -> str:
    """The model arm a published arm's text names (``TrialError`` when it names none)."""
    text = text.strip()
    candidates = [text, re.sub(r"\(.*?\)", " ", text)]
    stripped = _DOSE.sub(" ", re.sub(r"\(.*?\)", " ", text))
    parts = [re.sub(r"\s+", " ", p).strip(" ,;/") for p in re.split(r"\+| plus | and ", stripped)]
    candidates.append("+".join(p for p in parts if p))
    for candidate in candidates:
        try:
            return parse_arm(kb, candidate).label if candidate.casefold() != "placebo" else "placebo"
        except TrialError:
            continue
    raise TrialError(f"arm '{text}' names no therapy the model knows (give a model_arm column, e.g. 'lenvatinib')")


def validation_targets(kb: KnowledgeBase, frame: pd.DataFrame) -> list[Target]:
    overrides = dict(zip(frame["arm"].astype(str), frame["model_arm"].astype(str), strict=True)) if "model_arm" in frame else {}

    def arm_of(text: str) -> str:
        return overrides.get(text) or model_arm(kb, text)

    return targets_from_table(frame, arm_of)


def validate(
    kb: KnowledgeBase,
    cohort: CohortParameters,
    frame: pd.DataFrame,
    out_dir: Path,
    *,
    replicates: int,
    seed: int,
    scheduler: str | None = None,
    progress: bool = True,
) -> tuple[dict[str, TrialRun], pd.DataFrame]:
    """Predict every figure of ``frame`` (nothing is fitted) and compare with the published values."""
    ts = validation_targets(kb, frame)
    if not ts:
        raise TrialError("the trial table gives no published figure to compare with")
    return check(kb, cohort, out_dir, replicates=replicates, seed=seed, scheduler=scheduler, progress=progress, ts=ts)
