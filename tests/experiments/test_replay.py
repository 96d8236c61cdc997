"""The replay suite: every experimental claim of the KB is reproduced with the shared parameters."""

from __future__ import annotations

import pytest

from exoresist.experiments import Claim, claims, run_claims, specificity_checks
from exoresist.kb import KnowledgeBase, load_kb


def test_every_table1_row_with_a_process_has_a_claim(kb: KnowledgeBase) -> None:
    claimed = {c.record_id for c in claims(kb)}
    for m in kb.mechanisms:
        if m.table1_row is not None and m.process is not None and m.exosomal:
            assert m.id in claimed, m.id
    assert any(c.protocol == "intervention" for c in claims(kb))


CLAIMS = claims(load_kb())


def test_there_are_claims_for_every_protocol() -> None:
    assert len(CLAIMS) >= 50
    assert {c.protocol for c in CLAIMS} == {"culture_ic50", "xenograft", "immune", "phenotype", "intervention"}


@pytest.mark.slow
@pytest.mark.parametrize("claim", CLAIMS, ids=lambda c: f"{c.record_id}-{c.protocol}-{c.therapy or 'none'}")
def test_claim_reproduced(kb: KnowledgeBase, claim: Claim) -> None:
    (outcome,) = run_claims(kb, [claim])
    assert outcome.passed, f"{claim.record_id} {claim.protocol}: effect {outcome.effect:+.3g} ({outcome.detail})"


@pytest.mark.slow
def test_knockouts_are_specific(kb: KnowledgeBase) -> None:
    checks = specificity_checks(kb)
    assert len(checks) >= 8
    failed = [(o.claim.record_id, o.detail) for o in checks if not o.passed]
    assert failed == []


def test_strength_zero_equals_knockout(kb: KnowledgeBase) -> None:
    """The replays switch records off through their strength; that must equal removing the record."""
    import numpy as np

    from exoresist.model.assemble import Scenario, assemble
    from exoresist.ode import simulate

    record = "mech:mir135a-5p-vamp2-doxorubicin"
    base = Scenario("culture", ("doxorubicin",), days=7.0, treatment_start_day=4.0)
    full = assemble(kb, base)
    knocked = assemble(kb, Scenario(**{**base.__dict__, "knockouts": (record,)}))
    params = full.defaults()
    params[full.parameter_names.index("strength_mir135a_5p_vamp2_doxorubicin")] = 0.0
    times = np.linspace(0, 7, 8)
    a = simulate(full, params[None, :], t_end_day=7.0, t_eval_day=times, rtol=1e-9, atol=1e-12)
    b = simulate(knocked, knocked.defaults()[None, :], t_end_day=7.0, t_eval_day=times, rtol=1e-9, atol=1e-12)
    for name in ("S", "C", "R_doxorubicin"):
        np.testing.assert_allclose(a.species(name), b.species(name), rtol=1e-6, atol=1e-12)
