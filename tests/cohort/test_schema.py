"""The patient-row schema: a simulated chunk passes; each kind of wrong value is named."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from exoresist.cohort.calibration import calibrated_cohort
from exoresist.cohort.config import TrialConfig
from exoresist.cohort.population import inclusion_probabilities, mechanism_records
from exoresist.cohort.schema import RowContext, check_rows, columns
from exoresist.cohort.simulate import simulate_chunk
from exoresist.kb import KnowledgeBase

ARMS = ("sorafenib", "placebo")


@pytest.fixture(scope="module")
def chunk(kb: KnowledgeBase) -> tuple[pd.DataFrame, RowContext]:
    config = TrialConfig(ARMS, "first-line", 3, 3.0, 1, 3, calibrated_cohort())
    arms = config.validate(kb)
    frame = simulate_chunk(kb, config, arms, range(0, 3), inclusion_probabilities(kb, config.cohort, config.seed))
    return frame, RowContext("first-line", 3.0, ARMS, mechanism_records(kb), False)


def test_simulated_chunk_matches_the_schema(chunk: tuple[pd.DataFrame, RowContext]) -> None:
    frame, ctx = chunk
    assert list(frame.columns) == [c.name for c in columns(ctx)]
    assert check_rows(frame, ctx, range(0, 3)) == []


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda f: f.assign(baseline_sld_mm=f["baseline_sld_mm"] * 1e5), "baseline_sld_mm: "),
        (lambda f: f.assign(os_month=np.where(f.index == 0, np.nan, f["os_month"])), "os_month: a missing or infinite value"),
        (lambda f: f.assign(pfs_month=f["pfs_month"] + 10), "pfs_month: "),
        (lambda f: f.assign(bor="XX"), "bor: unexpected value(s) 'XX'"),
        (lambda f: f.assign(arm="sorafenib"), "(arm, patient) rows are not one per arm"),
        (lambda f: f.assign(patient=f["patient"] + 3), "(arm, patient) rows are not one per arm"),
        (lambda f: f.assign(pfs_event=f["pfs_event"].astype(int)), "pfs_event: dtype int64, expected bool"),
        (lambda f: f.drop(columns="ttp_month"), "missing column(s) 'ttp_month'"),
        (lambda f: f.head(4), "4 rows, expected 6"),
    ],
)
def test_each_wrong_value_is_named(chunk: tuple[pd.DataFrame, RowContext], change: object, problem: str) -> None:
    frame, ctx = chunk
    found = check_rows(change(frame.copy()), ctx, range(0, 3))  # type: ignore[operator]
    assert any(p.startswith(problem) for p in found), found
