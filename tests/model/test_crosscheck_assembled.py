"""The assembled KB model, exported to SBML and run by libroadrunner, agrees with exoresist's engine."""

from __future__ import annotations

import numpy as np
import pytest

from exoresist.kb import KnowledgeBase
from exoresist.model.assemble import Scenario, assemble
from exoresist.ode import simulate
from tests.model.test_sbml import relative_error, roadrunner_run

SCENARIOS = {
    "untreated": Scenario("patient", (), days=120.0),
    "daily_oral": Scenario("patient", ("lenvatinib",), days=120.0),
    "antibody_q3w_with_intervention": Scenario("patient", ("atezolizumab",), ("anti-pigr",), days=126.0),
}


@pytest.mark.slow
@pytest.mark.parametrize("name", list(SCENARIOS))
def test_roadrunner_agrees_on_the_assembled_model(kb: KnowledgeBase, name: str) -> None:
    scenario = SCENARIOS[name]
    spec = assemble(kb, scenario)
    times = np.linspace(0.0, scenario.days, int(scenario.days) + 1)
    ours = simulate(spec, t_end_day=scenario.days, t_eval_day=times, rtol=1e-9, atol=1e-12)
    assert ours.ok.all()
    theirs = roadrunner_run(spec, times)
    worst = {}
    for var, values in theirs.items():
        mine = ours.species(var)[0] if var in ours.species_names else ours.derived_value(var)[0]
        worst[var] = relative_error(mine, values)
    bad = {k: v for k, v in worst.items() if v >= 1e-4}
    assert bad == {}
