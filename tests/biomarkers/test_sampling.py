"""The trial's sampling interface (``TrialConfig.samples``): model values per patient at given days."""

from __future__ import annotations

import numpy as np
import pytest

from exoresist.cohort.population import CohortParameters
from exoresist.cohort.trial import TrialConfig, TrialError, simulate_chunk
from exoresist.kb import KnowledgeBase


def test_sampled_columns_read_the_model_without_changing_outcomes(kb: KnowledgeBase) -> None:
    cohort = CohortParameters()
    plain = TrialConfig(("sorafenib",), "first-line", 6, 6.0, 3, 6, cohort)
    sampled = TrialConfig(
        ("sorafenib",),
        "first-line",
        6,
        6.0,
        3,
        6,
        cohort,
        samples=("X_mir_4669", "tumour_diameter_mm", "nope"),
        sample_days=(0.0, 28.0, 42.0, 400.0),
    )
    arms = plain.validate(kb)
    a = simulate_chunk(kb, plain, arms, range(6), [1.0, 1.0, 1.0])
    b = simulate_chunk(kb, sampled, arms, range(6), [1.0, 1.0, 1.0])
    assert a.equals(b[a.columns])  # sampling reads the simulation, it does not change it
    np.testing.assert_allclose(b["marker:tumour_diameter_mm@0"], b["baseline_diameter_mm"])
    assert (b["marker:X_mir_4669@0"] > 0).all() and (b["marker:X_mir_4669@28"] > 0).all()
    assert b["marker:nope@0"].isna().all()  # a name the arm's model lacks
    assert b["marker:X_mir_4669@400"].isna().all()  # past the 6 months of follow-up
    assert "samples" not in plain.as_dict() and sampled.as_dict()["sample_days"] == [0.0, 28.0, 42.0, 400.0]


def test_samples_need_days(kb: KnowledgeBase) -> None:
    with pytest.raises(TrialError, match="sample days"):
        TrialConfig(("sorafenib",), samples=("X_mir_4669",)).validate(kb)
    with pytest.raises(TrialError, match="sample days"):
        TrialConfig(("sorafenib",), samples=("X_mir_4669",), sample_days=(-1.0,)).validate(kb)
