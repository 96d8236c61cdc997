"""Properties of the assembled model for random parameters within their priors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from exoresist.kb import KnowledgeBase
from exoresist.model.assemble import Scenario, assemble
from exoresist.model.spec import ModelSpec
from exoresist.ode import simulate

SCENARIO = Scenario(
    "patient",
    ("sorafenib", "atezolizumab"),
    ("secretion-blockade", "anti-pigr", "amsc-exo-mir122"),
    days=30.0,
    track_cargo_fluxes=("pIgR", "miR-122", "circRNA-SORE", "S100A10"),
)


def sample_priors(spec: ModelSpec, n: int, seed: int) -> np.ndarray:
    """Parameter sets drawn within each parameter's prior (log-uniform or uniform)."""
    rng = np.random.default_rng(seed)
    out = np.empty((n, len(spec.parameters)))
    for j, p in enumerate(spec.parameters):
        if p.scale == "log" and p.low > 0:
            out[:, j] = np.exp(rng.uniform(np.log(p.low), np.log(p.high), n))
        else:
            out[:, j] = rng.uniform(p.low, p.high, n)
    return out


@pytest.mark.slow
@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**31 - 1))
def test_non_negative_and_cargo_mass_balance(kb: KnowledgeBase, seed: int) -> None:
    spec = assemble(kb, SCENARIO)
    params = sample_priors(spec, 6, seed)
    result = simulate(spec, params, t_end_day=SCENARIO.days, t_eval_day=np.linspace(0, SCENARIO.days, 13))
    assert result.ok.all(), [m for m in result.messages if m]
    dynamic = [i for i, s in enumerate(spec.species) if s.kind == "dynamic"]
    assert (result.states[:, :, dynamic] >= 0).all()
    names = result.species_names
    pools = [s.name for s in spec.species if s.name.startswith("X_") and f"{s.name}_decayed" in names]
    assert len(pools) == 4
    for pool in pools:

        def get(suffix: str, pool: str = pool) -> np.ndarray:
            name = f"{pool}{suffix}"
            return result.species(name) if name in names else np.zeros_like(result.species(pool))

        inflow = get("_secreted") + get("_dosed")
        outflow = get("_decayed") + get("_uptaken") + get("_cleared") + get("")
        scale = np.maximum(inflow, 1e-12)
        assert np.all(np.abs(inflow - outflow) <= 1e-5 * scale + 1e-9), pool
