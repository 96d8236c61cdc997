"""SBML export: libSBML consistency, and libroadrunner agrees with :func:`exoresist.ode.simulate`."""

from __future__ import annotations

from pathlib import Path

import libsbml
import numpy as np
import pytest
import roadrunner

from exoresist.model.sbml import SbmlExportError, build_document, sbml_units_report, to_sbml, write_sbml
from exoresist.model.spec import Assignment, Event, ModelSpec, Parameter, Reaction, Species
from exoresist.ode import simulate
from tests.ode.specs import exosome_pool_spec, logistic_spec, par, pk_spec


def untreated_spec() -> ModelSpec:
    return logistic_spec()


def daily_oral_spec(n_days: int = 28) -> ModelSpec:
    """Oral drug: a dose into the gut depot every day, first-order absorption and elimination,
    Emax kill of a logistically growing tumour."""
    return ModelSpec(
        name="oral",
        version="1",
        context="test",
        species=(
            Species("A_gut", "0", "mg", "depot"),
            Species("C", "0", "mg", "central"),
            Species("N", "N0", "cell", "tumour"),
        ),
        parameters=(
            par("N0", 1e8, "cell"),
            par("K", 1e10, "cell"),
            par("r_per_day", 0.08, "1/day"),
            par("dose_mg", 400.0, "mg"),
            par("ka_per_day", 24.0, "1/day"),
            par("ke_per_day", 2.5, "1/day"),
            par("emax_per_day", 0.15, "1/day"),
            par("ec50_mg", 150.0, "mg"),
        ),
        assignments=(
            Assignment("effect", "emax_per_day * C / (C + ec50_mg)", "1/day", "kill rate"),
            Assignment("burden", "N / K", "dimensionless", "fraction of capacity"),
        ),
        reactions=(
            Reaction("absorption", "ka_per_day * A_gut", (("A_gut", 1.0),), (("C", 1.0),), "absorption"),
            Reaction("elimination", "ke_per_day * C", (("C", 1.0),), (), "elimination"),
            Reaction("growth", "r_per_day * N * (1 - burden)", (), (("N", 1.0),), "growth"),
            Reaction("kill", "effect * N", (("N", 1.0),), (), "drug kill"),
        ),
        events=tuple(Event(f"dose_{d}", float(d), (("A_gut", "A_gut + dose_mg"),)) for d in range(n_days)),
    )


def antibody_switch_spec() -> ModelSpec:
    """q3w antibody boluses given only while ``on`` is 1; treatment stops at day 63 — the stop
    and the day-63 dose are at the same time, stop first, so no dose is given on day 63."""
    doses = tuple(Event(f"dose_{i}", 21.0 * i, (("Ab", "Ab + on * dose_mg"),)) for i in range(6))
    stop = Event("stop", 63.0, (("on", "0"),), "treatment stops")
    events = (*doses[:3], stop, *doses[3:])
    return ModelSpec(
        name="antibody",
        version="1",
        context="test",
        species=(
            Species("Ab", "0", "mg", "antibody"),
            Species("N", "N0", "cell", "tumour"),
            Species("R", "0", "cell", "resistant"),
            Species("on", "1", "dimensionless", "treatment switch", kind="discrete"),
        ),
        parameters=(
            par("N0", 1e9, "cell"),
            par("r_per_day", 0.03, "1/day"),
            par("dose_mg", 1200.0, "mg"),
            par("kel_per_day", 0.04, "1/day"),
            par("kmax_per_day", 0.08, "1/day"),
            par("kd_mg", 100.0, "mg"),
            par("mu_per_day", 1e-4, "1/day"),
        ),
        assignments=(Assignment("occupancy", "Ab / (Ab + kd_mg)", "dimensionless", "target occupancy"),),
        reactions=(
            Reaction("elim", "kel_per_day * Ab", (("Ab", 1.0),), (), "elimination"),
            Reaction("growth", "r_per_day * N", (), (("N", 1.0),), "growth"),
            Reaction("kill", "kmax_per_day * occupancy * N", (("N", 1.0),), (), "kill"),
            Reaction("switch", "mu_per_day * occupancy * N", (("N", 1.0),), (("R", 1.0),), "resistance"),
            Reaction("r_growth", "r_per_day * R * exp(-0.001 * t)", (), (("R", 1.0),), "resistant growth"),
        ),
        events=events,
    )


def roadrunner_run(spec: ModelSpec, times: np.ndarray) -> dict[str, np.ndarray]:
    rr = roadrunner.RoadRunner(to_sbml(spec))
    rr.integrator.relative_tolerance = 1e-10
    rr.integrator.absolute_tolerance = 1e-14
    names = [*spec.species_names, *(a.name for a in spec.assignments)]
    rr.timeCourseSelections = ["time", *names]
    out = np.asarray(rr.simulate(times=list(times)))
    np.testing.assert_allclose(out[:, 0], times)
    return {name: out[:, i + 1] for i, name in enumerate(names)}


def relative_error(ours: np.ndarray, theirs: np.ndarray) -> float:
    """Relative error with an absolute floor of 1e-8 x the largest magnitude of that variable
    (a drug amount between doses decays towards 0, where a pure relative error is meaningless)."""
    floor = 1e-8 * float(np.max(np.abs(theirs))) + 1e-300
    return float(np.max(np.abs(ours - theirs) / np.maximum(np.abs(theirs), floor)))


@pytest.mark.parametrize(
    ("factory", "t_end"),
    [(untreated_spec, 200.0), (daily_oral_spec, 35.0), (antibody_switch_spec, 150.0)],
    ids=["untreated", "daily_oral", "antibody_switch"],
)
def test_roadrunner_agrees_with_engine(factory: object, t_end: float) -> None:
    spec = factory()  # type: ignore[operator]
    times = np.linspace(0.0, t_end, int(4 * t_end) + 1)
    ours = simulate(spec, t_end_day=t_end, t_eval_day=times, rtol=1e-8, atol=1e-12)
    assert ours.ok.all()
    theirs = roadrunner_run(spec, times)
    for name, values in theirs.items():
        mine = ours.species(name)[0] if name in ours.species_names else ours.derived_value(name)[0]
        assert relative_error(mine, values) < 1e-4, name


def test_same_time_events_keep_spec_order() -> None:
    spec = antibody_switch_spec()
    times = np.array([0.0, 62.0, 63.0, 64.0])
    ours = simulate(spec, t_end_day=64.0, t_eval_day=times, rtol=1e-8, atol=1e-12)
    theirs = roadrunner_run(spec, times)
    assert ours.species("on")[0].tolist() == [1.0, 1.0, 0.0, 0.0]
    # no dose on day 63: the amount keeps decaying through the event
    assert ours.species("Ab")[0, 2] < ours.species("Ab")[0, 1]
    assert relative_error(ours.species("Ab")[0], theirs["Ab"]) < 1e-6


@pytest.mark.parametrize("factory", [untreated_spec, daily_oral_spec, antibody_switch_spec, exosome_pool_spec, pk_spec])
def test_export_passes_consistency_checks(factory: object) -> None:
    doc = build_document(factory())  # type: ignore[operator]
    n = doc.checkConsistency()
    severities = [doc.getError(i).getSeverity() for i in range(n)]
    assert all(s < libsbml.LIBSBML_SEV_ERROR for s in severities)
    text = to_sbml(factory())  # type: ignore[operator]
    reread = libsbml.readSBMLFromString(text)
    assert reread.getLevel() == 3 and reread.getVersion() == 2
    model = reread.getModel()
    assert model.getTimeUnits() == "day"
    for i in range(model.getNumSpecies()):
        assert model.getSpecies(i).getHasOnlySubstanceUnits()


@pytest.mark.parametrize("factory", [untreated_spec, daily_oral_spec, antibody_switch_spec, exosome_pool_spec])
def test_only_the_documented_unit_warnings(factory: object) -> None:
    """Every unit string of the test specs is expressible, and libSBML's only complaints are the
    unit warnings documented in :mod:`exoresist.model.sbml` (99505, 99507, 10503)."""
    spec = factory()  # type: ignore[operator]
    assert sbml_units_report(spec) == []
    doc = build_document(spec)
    n = doc.checkConsistency()
    ids = {doc.getError(i).getErrorId() for i in range(n)}
    assert ids <= {99505, 99507, 10503}


def test_unknown_unit_is_left_out_not_guessed() -> None:
    spec = ModelSpec(
        name="u",
        version="1",
        context="test",
        species=(Species("A", "1", "furlong", "odd unit"),),
        parameters=(Parameter("k", 0.1, 0.01, 1.0, "1/fortnight", "assumed", "rate"),),
        assignments=(),
        reactions=(Reaction("d", "k * A", (("A", 1.0),), (), "decay"),),
    )
    assert sbml_units_report(spec) == ["A", "k"]
    model = libsbml.readSBMLFromString(to_sbml(spec)).getModel()
    assert not model.getParameter("k").isSetUnits()


def test_parameter_values_and_write_is_atomic(tmp_path: Path) -> None:
    spec = logistic_spec()
    path = write_sbml(spec, tmp_path / "out" / "model.xml", params={"r_per_day": 0.2})
    model = libsbml.readSBMLFromFile(str(path)).getModel()
    assert model.getParameter("r_per_day").getValue() == 0.2
    assert model.getSpecies("N").getInitialAmount() == 1e6
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["model.xml"]
    with pytest.raises(SbmlExportError):
        to_sbml(spec, {"nope": 1.0})
