"""RECIST 1.1 classification on hand-made sum-of-diameters series."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from exoresist.cohort import (
    NOT_ASSESSED,
    RecistCriteria,
    Response,
    best_overall_response,
    best_overall_response_batch,
    classify,
    classify_batch,
    progression_time,
    progression_time_batch,
)

R = Response


def responses(times: list[float], diameters: list[float], **kwargs: object) -> list[Response | None]:
    return list(classify(times, diameters, **kwargs).responses)  # type: ignore[arg-type]


def test_baseline_is_not_assessed() -> None:
    assert responses([0, 42], [50, 50]) == [None, R.SD]


def test_partial_response_is_at_least_30_percent_below_baseline() -> None:
    assert responses([0, 42, 84], [100, 71, 70]) == [None, R.SD, R.PR]


def test_progression_needs_20_percent_over_nadir() -> None:
    assert responses([0, 42, 84], [100, 100, 119]) == [None, R.SD, R.SD]
    assert responses([0, 42, 84], [100, 100, 120]) == [None, R.SD, R.PD]


def test_progression_is_measured_from_nadir_not_baseline() -> None:
    # 62 mm is still 38% below baseline (a PR by size) but +24% and +12 mm over the 50 mm nadir.
    series = classify([0, 42, 84], [100, 50, 62])
    assert list(series.responses) == [None, R.PR, R.PD]
    assert series.nadir_mm.tolist() == [100, 50, 50]
    assert progression_time(series) == 84.0


def test_rise_of_20_percent_under_5_mm_is_not_progression() -> None:
    # +25% over the 10 mm nadir, but only +2.5 mm.
    assert responses([0, 42, 84], [10, 10, 12.5]) == [None, R.SD, R.SD]
    # Same relative rise from a 20 mm nadir is +5 mm: progression.
    assert responses([0, 42, 84], [20, 20, 25]) == [None, R.SD, R.PD]


def test_complete_response_threshold() -> None:
    assert responses([0, 42, 84], [50, 1.0, 0.9]) == [None, R.PR, R.CR]
    loose = RecistCriteria(cr_threshold_mm=2.0)
    assert responses([0, 42], [50, 1.5], criteria=loose) == [None, R.CR]


def test_best_overall_response_stops_at_progression() -> None:
    # SD, then PD (110 is +22% and +20 mm over the 90 mm nadir), then a later shrinkage to CR.
    series = classify([0, 42, 84, 126], [100, 90, 110, 0.5])
    assert list(series.responses) == [None, R.SD, R.PD, R.CR]
    assert best_overall_response(series) == R.SD
    assert progression_time(series) == 84.0


def test_best_overall_response_prefers_best_before_progression() -> None:
    series = classify([0, 42, 84, 126], [100, 80, 60, 90])
    assert list(series.responses) == [None, R.SD, R.PR, R.PD]
    assert best_overall_response(series) == R.PR


def test_stable_disease_minimum_duration() -> None:
    early_sd_then_pd = classify([0, 28, 56], [100, 95, 130])
    assert best_overall_response(early_sd_then_pd) == R.PD
    assert best_overall_response(early_sd_then_pd, sd_min_duration_day=28) == R.SD
    assert best_overall_response(classify([0, 28], [100, 95])) == R.NE
    assert best_overall_response(classify([0, 42], [100, 95])) == R.SD
    # PR does not need the minimum duration.
    assert best_overall_response(classify([0, 14], [100, 60])) == R.PR


def test_no_progression_gives_none() -> None:
    assert progression_time(classify([0, 42], [100, 100])) is None


def test_baseline_index_ignores_earlier_assessments() -> None:
    series = classify([-14, 0, 42, 84], [120, 100, 80, 70], baseline_index=1)
    assert series.codes.tolist() == [NOT_ASSESSED, NOT_ASSESSED, R.SD, R.PR]
    # elapsed time is counted from the baseline assessment (day 0), so SD at day 42 qualifies.
    assert best_overall_response(classify([-14, 0, 42], [120, 100, 95], baseline_index=1)) == R.SD


def test_batch_matches_hand_results_and_dataframe() -> None:
    batch = classify_batch([0, 42, 84], [[100, 50, 62], [100, 90, 95], [50, 0.5, 0.5]])
    assert batch.codes[:, 1:].tolist() == [[R.PR, R.PD], [R.SD, R.SD], [R.CR, R.CR]]
    assert best_overall_response_batch(batch).tolist() == [R.PR, R.SD, R.CR]
    np.testing.assert_array_equal(progression_time_batch(batch), [84.0, np.nan, np.nan])
    frame = batch.to_dataframe()
    assert frame.shape == (9, 5)
    assert frame["response"].isna().tolist()[:3] == [True, False, False]
    assert frame["response"].tolist()[1:3] == ["PR", "PD"]


@settings(max_examples=50, deadline=None)
@given(
    arrays(np.float64, st.tuples(st.integers(1, 4), st.integers(2, 6)), elements=st.floats(0.5, 200)),
)
def test_batch_agrees_with_single_series_and_rules(diameters: np.ndarray) -> None:
    times = np.arange(diameters.shape[1]) * 42.0
    batch = classify_batch(times, diameters)
    best = best_overall_response_batch(batch)
    for i, row in enumerate(diameters):
        series = classify(times, row)
        assert series.codes.tolist() == batch.codes[i].tolist()
        assert best_overall_response(series) == best[i]
        nadir_before = np.minimum.accumulate(row)[:-1]
        rise = row[1:] - nadir_before
        expected_pd = (rise >= 0.2 * nadir_before - 1e-9) & (rise >= 5 - 1e-9)
        assert (batch.codes[i, 1:] == R.PD).tolist() == expected_pd.tolist()


@pytest.mark.parametrize(
    ("times", "diameters", "match"),
    [
        ([0, 42], [100, 90, 80], "length mismatch"),
        ([0, 42, 42], [100, 90, 80], r"strictly increasing; times_day\[2\]"),
        ([0, 84, 42], [100, 90, 80], "strictly increasing"),
        ([0, 42], [100, -1], r"must be >= 0; patient 0, assessment 1"),
        ([0, 42], [100, np.nan], "must be finite"),
        ([0, np.inf], [100, 90], "times_day must be finite"),
        ([0, 42], [0, 10], "baseline diameter must be > 0"),
        ([0, 42], [[100, 90]], "1-D for one patient"),
    ],
)
def test_bad_input_names_the_problem(times: list[float], diameters: list[float], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        classify(times, diameters)


def test_bad_baseline_index_and_criteria() -> None:
    with pytest.raises(ValueError, match="baseline_index must be in"):
        classify([0, 42], [100, 90], baseline_index=2)
    with pytest.raises(ValueError, match="pr_fraction"):
        RecistCriteria(pr_fraction=1.5)
    with pytest.raises(ValueError, match="sd_min_duration_day"):
        best_overall_response(classify([0, 42], [100, 90]), sd_min_duration_day=-1)
