"""The trial's sampling interface (``TrialConfig.samples``): model values per patient at given days."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from exoresist.cohort.arms import TrialError
from exoresist.cohort.config import TrialConfig
from exoresist.cohort.population import MEASUREMENT_Z_CLIP, CohortParameters, sum_of_diameters
from exoresist.cohort.simulate import simulate_chunk
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
    # sampling reads the simulation: the measured pools feed no rate, so the outcomes are those of
    # the run without them (up to the solver's tolerance: the extra species change its step sizes)
    pd.testing.assert_frame_equal(a, b[a.columns], check_exact=False, rtol=1e-3, atol=0.01)
    # the baseline scan reads the sampled tumour (n equal lesions of its volume) with the radiologist's
    # measurement error: a log-normal factor within MEASUREMENT_Z_CLIP SD
    sld = sum_of_diameters(b["marker:tumour_diameter_mm@0"].to_numpy(), b["cov:n_target_lesions"].to_numpy(dtype=float))
    log_error = np.log(b["baseline_sld_mm"].to_numpy() / sld)
    assert np.all(np.abs(log_error) <= MEASUREMENT_Z_CLIP * cohort["measurement_sd"] + 1e-9)
    assert np.all(log_error != 0.0)
    exact = TrialConfig(
        ("sorafenib",),
        "first-line",
        6,
        6.0,
        3,
        6,
        cohort.replace(measurement_sd=0.0),
        samples=("tumour_diameter_mm",),
        sample_days=(0.0,),
    )
    c = simulate_chunk(kb, exact, arms, range(6), [1.0, 1.0, 1.0])
    sld = sum_of_diameters(c["marker:tumour_diameter_mm@0"].to_numpy(), c["cov:n_target_lesions"].to_numpy(dtype=float))
    np.testing.assert_allclose(sld, c["baseline_sld_mm"], rtol=1e-9)  # without the error: the tumour itself
    assert (b["marker:X_mir_4669@0"] > 0).all() and (b["marker:X_mir_4669@28"] > 0).all()
    assert b["marker:nope@0"].isna().all()  # a name the arm's model lacks
    assert b["marker:X_mir_4669@400"].isna().all()  # past the 6 months of follow-up
    assert "samples" not in plain.as_dict() and sampled.as_dict()["sample_days"] == [0.0, 28.0, 42.0, 400.0]


def test_samples_need_days(kb: KnowledgeBase) -> None:
    with pytest.raises(TrialError, match="sample days"):
        TrialConfig(("sorafenib",), samples=("X_mir_4669",)).validate(kb)
    with pytest.raises(TrialError, match="sample days"):
        TrialConfig(("sorafenib",), samples=("X_mir_4669",), sample_days=(-1.0,)).validate(kb)
