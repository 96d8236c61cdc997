"""Sobol sensitivity of an arm's PFS and response to the exosome parameters."""

from __future__ import annotations

import numpy as np
import pytest

from exoresist.cohort import calibration as cal
from exoresist.cohort.arms import TrialError, parse_arm
from exoresist.cohort.sensitivity import GENERIC_EXOSOME_PARAMETERS, factors, run_sensitivity
from exoresist.kb import KnowledgeBase
from exoresist.model.assemble import acting_records, strength_param


def test_sensitivity_factors_follow_the_arm(kb: KnowledgeBase) -> None:
    sor = {f[0] for f in factors(kb, parse_arm(kb, "sorafenib"), 3.0)}
    assert "strength_mir21_pten_akt_autophagy_sorafenib" in sor
    assert "strength_mir135a_5p_vamp2_doxorubicin" not in sor  # a doxorubicin-only record
    assert "k_exosome_uptake_per_day" in sor
    untreated = factors(kb, parse_arm(kb, "placebo"), 3.0)
    assert "strength_mir21_pten_akt_autophagy_sorafenib" not in {f[0] for f in untreated}  # acts only with sorafenib
    assert len(untreated) < len(sor)
    for name, low, high, log, label, rid in factors(kb, parse_arm(kb, "sorafenib"), 3.0):
        assert 0 < low < high if log else low < high
        if rid:
            assert name == strength_param(rid) and label
        else:
            assert name in GENERIC_EXOSOME_PARAMETERS


def test_acting_records_are_the_record_factors(kb: KnowledgeBase) -> None:
    from exoresist.cohort.population import patient_spec

    arm = parse_arm(kb, "atezolizumab+bevacizumab")
    spec = patient_spec(kb, arm.therapies, arm.interventions, 90.0, 0.0)
    assert [f[5] for f in factors(kb, arm, 3.0) if f[5]] == list(acting_records(spec))


@pytest.mark.parametrize(("kwargs", "message"), [({"patients": 1}, "at least 2 patients"), ({"samples": 6}, "power of 2")])
def test_bad_design_is_refused(kb: KnowledgeBase, kwargs: dict[str, int], message: str) -> None:
    with pytest.raises(TrialError, match=message):
        run_sensitivity(kb, "sorafenib", cal.calibrated_cohort(), **kwargs)  # type: ignore[arg-type]


def test_sobol_run_on_a_tiny_design(kb: KnowledgeBase) -> None:
    result = run_sensitivity(kb, "sorafenib", cal.calibrated_cohort(), patients=4, samples=4, months=8.0, seed=1)
    n_factors = len(factors(kb, parse_arm(kb, "sorafenib"), 8.0))
    assert len(result.table) == 2 * n_factors and set(result.table["output"]) == {"PFS", "response"}
    assert result.n_samples == 4 * (n_factors + 2) and result.n_patients == 4 and result.arm == "sorafenib"
    assert np.isfinite(result.table[["S1", "ST"]].to_numpy()).all()
    assert (result.table.loc[result.table["output"] == "PFS", "ST"] != 0).any()  # PFS moves with the factors
    ranking = result.ranking()
    assert [r["ST"] for r in ranking] == sorted((r["ST"] for r in ranking), reverse=True)
    assert all(r["record_id"] for r in ranking)  # records only, not the generic parameters
    data = result.to_json_dict()
    assert data["samples"] == result.n_samples and len(data["indices"]) == len(result.table)
