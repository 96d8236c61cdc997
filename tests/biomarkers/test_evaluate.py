"""Marker classification on simulated cohorts with a known predictive, prognostic and noise marker."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from exoresist.biomarkers.evaluate import Evaluation, MarkerColumn, evaluate_frame
from tests.biomarkers.synthetic import two_arm_cohort

COLUMNS = [MarkerColumn(name, name, "baseline", 1) for name in ("prognostic", "predictive", "noise")]


@pytest.fixture(scope="module", params=[4, 9])
def evaluation(request: pytest.FixtureRequest) -> Evaluation:
    frame = two_arm_cohort(500, int(request.param))
    return evaluate_frame(frame, COLUMNS, ["control", "treated"], endpoints=("os",), bootstrap=20, seed=1)


def _entry(ev: Evaluation, marker: str, arm: str) -> dict[str, Any]:
    (hit,) = [m for m in ev.markers if m["marker"] == marker and m["arm"] == arm]
    return hit


def test_a_predictive_marker_is_called_predictive(evaluation: Evaluation) -> None:
    m = _entry(evaluation, "predictive", "treated")
    assert m["kind"] == "predictive"
    assert m["interaction_hr"]["hr"] < 0.8 and m["interaction_hr"]["q"] < 0.01
    quartiles = [q["hr"] for q in m["interaction_hr"]["by_quartile"]]
    assert quartiles[0] > 1.0 > quartiles[-1]  # treatment helps at high levels, harms at low ones
    assert _entry(evaluation, "predictive", "control")["kind"] == "none"  # no effect without treatment


def test_a_prognostic_marker_is_prognostic_not_predictive(evaluation: Evaluation) -> None:
    for arm in ("control", "treated"):
        m = _entry(evaluation, "prognostic", arm)
        assert m["kind"] == "prognostic"
        assert m["c_index"]["ci_low"] > 0.6
    hr = _entry(evaluation, "prognostic", "treated")["interaction_hr"]["hr"]
    assert abs(np.log(hr)) < 0.25  # about 3.5 standard errors: no interaction beyond sampling noise


def test_noise_is_neither(evaluation: Evaluation) -> None:
    for arm in ("control", "treated"):
        m = _entry(evaluation, "noise", arm)
        assert m["kind"] == "none"
        assert m["c_index"]["ci_low"] < 0.5 < m["c_index"]["ci_high"] or abs(m["c_index"]["estimate"] - 0.5) < 0.05


def test_json_has_the_issue_shape(evaluation: Evaluation) -> None:
    data = evaluation.to_json_dict()
    assert set(data) == {"markers", "panels", "meta"}
    for m in data["markers"]:
        assert {"marker", "kind", "c_index", "auc_t", "interaction_hr", "cutpoint"} <= set(m)
        assert m["kind"] in ("prognostic", "predictive", "none")
        assert set(m["c_index"]) == {"estimate", "ci_low", "ci_high"}
        assert set(m["auc_t"]) == {"3", "6", "12"}
        assert (m["interaction_hr"] is None) == (m["arm"] == "control")
        assert set(m["cutpoint"]) == {"survival", "response"}
    assert {p["arm"] for p in data["panels"]} == {"control", "treated"}
    assert "estimators" in data["meta"] and "c_index" in data["meta"]["estimators"]


def test_results_do_not_depend_on_the_order_of_markers() -> None:
    frame = two_arm_cohort(150, 2)
    a = evaluate_frame(frame, COLUMNS, ["control", "treated"], endpoints=("os",), bootstrap=10, with_panels=False)
    b = evaluate_frame(frame, COLUMNS[::-1], ["control", "treated"], endpoints=("os",), bootstrap=10, with_panels=False)
    key = {(m["marker"], m["arm"]): m for m in b.markers}
    for m in a.markers:
        assert m["cutpoint"] == key[(m["marker"], m["arm"])]["cutpoint"]
