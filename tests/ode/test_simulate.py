"""The batched Rodas4 simulator against closed forms, scipy's Radau, and its own invariants."""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.integrate import solve_ivp

from exoresist.model.spec import Assignment, Event, ModelSpec, Reaction, Species
from exoresist.ode import SimulationInputError, compile_spec, simulate
from exoresist.ode._engine import rodas4_step
from tests.ode.specs import decay_spec, exosome_pool_spec, logistic_spec, par, pk_spec, quadratic_blowup_spec


def rel_err(a: np.ndarray, b: np.ndarray, floor: float = 0.0) -> float:
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(b), floor)))


def test_exponential_decay_matches_closed_form() -> None:
    spec = decay_spec()
    rng = np.random.default_rng(0)
    params = np.column_stack([rng.uniform(1, 5, 20), rng.uniform(0.1, 2.0, 20)])
    res = simulate(spec, params, t_end_day=10.0, rtol=1e-8, atol=1e-14)
    exact = params[:, [0]] * np.exp(-params[:, [1]] * res.times_day[None, :])
    assert res.ok.all()
    assert rel_err(res.species("A"), exact) < 1e-6


def test_logistic_growth_matches_closed_form() -> None:
    spec = logistic_spec()
    rng = np.random.default_rng(1)
    n = 30
    params = np.column_stack([rng.uniform(1e5, 1e7, n), rng.uniform(0.02, 0.2, n), rng.uniform(1e8, 1e10, n)])
    res = simulate(spec, params, t_end_day=365.0, rtol=1e-8, atol=1e-6)
    n0, r, k = (params[:, [i]] for i in range(3))
    t = res.times_day[None, :]
    exact = k / (1 + (k / n0 - 1) * np.exp(-r * t))
    assert res.ok.all()
    assert rel_err(res.species("N"), exact) < 1e-6
    assert rel_err(res.derived_value("S"), exact / k) < 1e-6


def test_time_dependent_rate_matches_closed_form() -> None:
    """``A' = a exp(-b t)``: exercises the explicit df/dt term of the Rosenbrock stages."""
    spec = ModelSpec(
        name="infusion",
        version="1",
        context="test",
        species=(Species("A", "0", "mg", "amount"),),
        parameters=(par("a", 3.0), par("b", 2.0)),
        assignments=(Assignment("rate", "a * exp(-b * t)", "mg/day", "decaying infusion"),),
        reactions=(Reaction("infusion", "rate", (), (("A", 1.0),), "input"),),
    )
    res = simulate(spec, t_end_day=5.0, t_eval_day=np.linspace(0, 5, 41), rtol=1e-8, atol=1e-12)
    exact = 3.0 / 2.0 * (1 - np.exp(-2.0 * res.times_day))
    assert np.max(np.abs(res.species("A")[0] - exact)) < 1e-6 * 1.5
    assert compile_spec(spec).uses_time


def test_rodas4_local_error_is_fifth_order() -> None:
    """Local error of an order-4 method scales as h^5 (a wrong coefficient breaks this)."""
    spec = logistic_spec()
    model = compile_spec(spec)
    p = spec.defaults()[:, None]
    y = np.array([[3e8]])
    n0, r, k = 3e8, 0.05, 1e9

    def local_error(h: float) -> float:
        y1, _ = rodas4_step(model, 0.0, h, y, p)
        exact = k / (1 + (k / n0 - 1) * np.exp(-r * h))
        return abs(float(y1[0, 0]) - exact)

    e1, e2 = local_error(8.0), local_error(4.0)
    order = np.log2(e1 / e2)
    assert 4.5 < order < 5.6


def pk_reference(spec: ModelSpec, t_eval: np.ndarray, t_end: float) -> np.ndarray:
    """scipy Radau (rtol 1e-10) piecewise between doses; output after the dose at a dose time."""
    p = dict(zip(spec.parameter_names, spec.defaults(), strict=True))
    k10, k12, k21, dose = p["k10_per_day"], p["k12_per_day"], p["k21_per_day"], p["dose_mg"]
    m = np.array([[-(k10 + k12), k21], [k12, -k21]])
    doses = sorted(e.time_day for e in spec.events)
    bounds = [0.0, *[d for d in doses if d > 0], t_end]
    y = np.zeros(2)
    out = np.full((t_eval.size, 2), np.nan)
    for a, b in itertools.pairwise(bounds):
        if a in doses:
            y = y + np.array([dose, 0.0])
        inside = (t_eval >= a) & ((t_eval < b) | ((b == t_end) & (t_eval <= b)))
        sol = solve_ivp(
            lambda _t, u: m @ u, (a, b), y, method="Radau", rtol=1e-10, atol=1e-14, t_eval=t_eval[inside], jac=lambda _t, _u: m
        )
        out[inside] = sol.y.T
        y = solve_ivp(lambda _t, u: m @ u, (a, b), y, method="Radau", rtol=1e-10, atol=1e-14, jac=lambda _t, _u: m).y[:, -1]
    return out


def test_stiff_pk_with_boluses_matches_radau() -> None:
    spec = pk_spec(period_day=21.0, n_doses=5)
    t_eval = np.arange(0.0, 105.25, 0.5)
    res = simulate(spec, t_end_day=105.0, t_eval_day=t_eval, rtol=1e-8, atol=1e-12)
    ref = pk_reference(spec, t_eval, 105.0)
    assert res.ok.all()
    got = res.states[0]
    # relative error with an absolute floor of 1e-6 mg for the central amount between doses
    assert rel_err(got, ref, floor=1e-6) < 1e-5
    # the dose is visible at the dose time itself
    assert got[t_eval.tolist().index(21.0), 0] > 199.0


def test_batch_equals_each_set_alone() -> None:
    """200 sets in one batch (one shared step size) agree with each set integrated alone."""
    spec = exosome_pool_spec()
    rng = np.random.default_rng(2)
    params = spec.defaults()[None, :] * np.exp(rng.uniform(-0.7, 0.7, (200, len(spec.parameters))))
    kw = {"t_end_day": 10.0, "rtol": 1e-8, "atol": 1e-10}
    batch = simulate(spec, params, **kw)
    alone = [simulate(spec, params[i], **kw) for i in range(200)]
    singles = np.stack([r.states[0] for r in alone])
    assert batch.ok.all()
    assert rel_err(batch.states, singles, floor=1e-6) < 1e-6
    # every set has its own step-size control: the batch takes exactly the steps of the sets alone
    assert batch.n_steps == sum(r.n_steps for r in alone)
    assert batch.n_rejected == sum(r.n_rejected for r in alone)


def test_lane_count_does_not_change_results() -> None:
    spec = exosome_pool_spec()
    rng = np.random.default_rng(5)
    params = spec.defaults()[None, :] * np.exp(rng.uniform(-0.7, 0.7, (37, len(spec.parameters))))
    a = simulate(spec, params, t_end_day=5.0, batch_size=1)
    b = simulate(spec, params, t_end_day=5.0, batch_size=8)
    np.testing.assert_array_equal(a.states, b.states)
    assert a.n_steps == b.n_steps


def test_stiff_set_does_not_slow_down_the_others() -> None:
    """A set that needs many small steps does not impose them on the rest of its batch."""
    spec = pk_spec(period_day=21.0, n_doses=3)
    params = np.tile(spec.defaults(), (4, 1))
    params[0, spec.parameter_names.index("k10_per_day")] = 4e4  # far stiffer, far faster
    kw = {"t_end_day": 60.0, "rtol": 1e-8, "atol": 1e-12}
    together = simulate(spec, params, **kw)
    alone = simulate(spec, params[1:], **kw)
    assert together.ok.all()
    slow_steps = simulate(spec, params[:1], **kw).n_steps
    assert together.n_steps == slow_steps + alone.n_steps
    np.testing.assert_array_equal(together.states[1:], alone.states)


def test_zero_diagonal_pivot_falls_back_to_dense_pivoting() -> None:
    """``W = I / (h gamma) - J`` with an exactly zero diagonal entry: the sparse LU's fixed
    (diagonal) pivot order fails there, and the set is solved by dense partial pivoting instead."""
    spec = ModelSpec(
        name="rotation",
        version="1",
        context="test",
        species=(Species("U", "1", "1", "u"), Species("V", "0", "1", "v")),
        parameters=(par("r", 2.0), par("w", 3.0)),
        assignments=(),
        reactions=(
            Reaction("grow", "r * U", (), (("U", 1.0),), "u growth"),
            Reaction("to_v", "w * U", (), (("V", 1.0),), "v from u"),
            Reaction("from_v", "w * V", (), (("U", 1.0),), "u from v"),
        ),
    )
    model = compile_spec(spec)
    p = spec.defaults()[:, None]
    y = np.array([[1.0], [0.5]])
    h = 1.0 / (0.25 * 2.0)  # 1 / (h gamma) = r = J[U, U]: W[U, U] = 0
    y_sing, err_sing = rodas4_step(model, 0.0, h, y, p)
    assert np.all(np.isfinite(y_sing)) and np.all(np.isfinite(err_sing))
    y_near, _ = rodas4_step(model, 0.0, h * (1 + 1e-7), y, p)
    np.testing.assert_allclose(y_sing, y_near, rtol=1e-5)


def test_blowing_up_set_is_reported_and_others_are_fine() -> None:
    spec = quadratic_blowup_spec()
    params = np.array([[1.0, 1e-3], [1.0, 0.5], [2.0, 1e-3]])  # set 1 blows up at t = 2 day
    res = simulate(spec, params, t_end_day=10.0, rtol=1e-8, atol=1e-10)
    assert res.ok.tolist() == [True, False, True]
    assert res.messages[1] != "" and res.messages[0] == res.messages[2] == ""
    assert np.all(np.isfinite(res.states[[0, 2]]))
    n0, q = params[[0, 2], 0:1], params[[0, 2], 1:2]
    exact = n0 / (1 - q * n0 * res.times_day[None, :])
    assert rel_err(res.states[[0, 2], :, 0], exact) < 1e-6
    # the failed set is exact up to its failure, NaN only afterwards
    assert np.isfinite(res.states[1, 1, 0]) and np.isnan(res.states[1, -1, 0])


def test_non_finite_parameters_fail_only_that_set() -> None:
    spec = decay_spec()
    res = simulate(spec, [[1.0, 0.5], [np.nan, 0.5]], t_end_day=3.0)
    assert res.ok.tolist() == [True, False]
    assert "initial" in res.messages[1]


def fast_decay_spec() -> ModelSpec:
    return ModelSpec(
        name="fast",
        version="1",
        context="test",
        species=(
            Species("D", "0", "mg", "drug"),
            Species("X", "1", "mg", "metabolite"),
            Species("on", "1", "1", "switch", kind="discrete"),
        ),
        parameters=(par("k_per_day", 100.0), par("m_per_day", 300.0), par("dose", 10.0)),
        assignments=(),
        reactions=(
            Reaction("elim", "k_per_day * D", (("D", 1.0),), (("X", 1.0),), "to metabolite"),
            Reaction("clear", "m_per_day * X", (("X", 1.0),), (), "clearance"),
            Reaction("infuse", "on * 0.1", (), (("D", 1.0),), "infusion while on"),
        ),
        events=(
            Event("d0", 1.0, (("D", "D + dose"),)),
            Event("off", 2.0, (("on", "0"),)),
            Event("d1", 3.0, (("D", "D + dose"),)),
        ),
    )


@settings(max_examples=25, deadline=None)
@given(
    k=st.floats(1.0, 1e4),
    m=st.floats(1.0, 1e4),
    dose=st.floats(0.0, 1e3),
    rtol=st.sampled_from([1e-3, 1e-6]),
)
def test_non_negative(k: float, m: float, dose: float, rtol: float) -> None:
    res = simulate(fast_decay_spec(), [[k, m, dose]], t_end_day=6.0, t_eval_day=np.linspace(0, 6, 61), rtol=rtol, atol=1e-9)
    assert res.ok.all()
    assert np.all(res.states >= 0.0)


def test_discrete_species_changes_only_at_events() -> None:
    res = simulate(fast_decay_spec(), t_end_day=4.0, t_eval_day=[0.0, 1.5, 2.0, 2.5, 4.0])
    assert res.species("on")[0].tolist() == [1.0, 1.0, 0.0, 0.0, 0.0]


def test_mass_balance_of_exosome_pool() -> None:
    spec = exosome_pool_spec()
    rng = np.random.default_rng(3)
    params = spec.defaults()[None, :] * np.exp(rng.uniform(-1, 1, (50, len(spec.parameters))))
    res = simulate(spec, params, t_end_day=30.0, rtol=1e-8, atol=1e-10)
    assert res.ok.all()
    e0 = params[:, [spec.parameter_names.index("E0")]]
    balance = res.species("E") + res.species("decayed") + res.species("taken_up") - res.species("secreted")
    scale = np.maximum(res.species("secreted"), 1.0)
    assert np.max(np.abs(balance - e0) / scale) < 1e-8


def test_events_at_the_same_time_apply_in_order_on_previous_values() -> None:
    events = (
        Event("double", 1.0, (("N", "2 * N"),)),
        Event("add_capacity_fraction", 1.0, (("N", "N + S * K"),)),  # sees N already doubled
    )
    spec = logistic_spec(events)
    res = simulate(spec, t_end_day=1.0, t_eval_day=[0.0, 1.0], rtol=1e-10, atol=1e-8)
    n0, r, k = 1e6, 0.05, 1e9
    n1 = k / (1 + (k / n0 - 1) * np.exp(-r))
    assert res.species("N")[0, 1] == pytest.approx(4 * n1, rel=1e-8)


def test_event_at_time_zero_shows_in_first_output() -> None:
    res = simulate(pk_spec(n_doses=1), t_end_day=1.0)
    assert res.species("C")[0, 0] == pytest.approx(200.0)


def test_to_dataframe_shape_and_reproducibility() -> None:
    spec = logistic_spec()
    params = spec.defaults()[None, :] * np.array([[1.0, 1.0, 1.0], [2.0, 0.5, 1.5]])
    a = simulate(spec, params, t_end_day=5.0, seed=7)
    b = simulate(spec, params, t_end_day=5.0, seed=7)
    df = a.to_dataframe()
    assert df.shape == (2 * 6 * 2, 5)
    assert list(df.columns) == ["set", "time_day", "variable", "kind", "value"]
    row = df[(df["set"] == 1) & (df["time_day"] == 3.0) & (df["variable"] == "N")]
    assert float(row["value"].iloc[0]) == a.species("N")[1, 3]
    np.testing.assert_array_equal(a.states, b.states)
    np.testing.assert_array_equal(a.derived, b.derived)
    assert (a.seed, a.spec_hash, a.model_name) == (7, spec.content_hash(), "logistic")
    assert a.params.shape == (2, 3) and a.param_names == tuple(spec.parameter_names)


def test_bad_inputs_are_rejected() -> None:
    spec = decay_spec()
    with pytest.raises(SimulationInputError):
        simulate(spec, np.ones((2, 3)), t_end_day=1.0)
    with pytest.raises(SimulationInputError):
        simulate(spec, t_end_day=1.0, t_eval_day=[0.0, 2.0])
    with pytest.raises(SimulationInputError):
        simulate(spec, t_end_day=1.0, initial_overrides={"B": 1.0})


def test_initial_overrides() -> None:
    res = simulate(decay_spec(), [[3.0, 1.0], [3.0, 1.0]], t_end_day=1.0, initial_overrides={"A": [1.0, 2.0]})
    np.testing.assert_allclose(res.species("A")[:, 0], [1.0, 2.0])
    np.testing.assert_allclose(res.species("A")[:, 1], [np.exp(-1), 2 * np.exp(-1)], rtol=1e-5)


def test_progress_bar_runs() -> None:
    res = simulate(decay_spec(), t_end_day=2.0, progress=True)
    assert res.ok.all()


def test_max_steps_fails_only_the_sets_that_need_more() -> None:
    """``max_steps`` is per set: a slow set passes while a fast (stiff) one is failed with a message."""
    spec = decay_spec()
    res = simulate(spec, [[1.0, 0.1], [1.0, 1e4]], t_end_day=5.0, t_eval_day=[0.0, 5.0], rtol=1e-8, atol=1e-14, max_steps=40)
    assert res.ok.tolist() == [True, False]
    assert res.messages[1].startswith("more than 40 steps before t = 5 day")
    assert np.isnan(res.states[1, 1, 0]) and res.states[1, 0, 0] == 1.0


def test_output_only_assignments_are_not_evaluated_by_the_right_hand_side() -> None:
    base = logistic_spec()
    extra = (
        Assignment("V", "sqrt(N) * 2 + K", "cell", "output only"),
        Assignment("W", "pow(V, 3) / K", "cell", "output only, from another"),
    )
    spec = dataclasses.replace(base, assignments=(*base.assignments, *extra))
    m0, m1 = compile_spec(base), compile_spec(spec)
    assert m1.rhs_ops[1] - m1.rhs_ops[0] == m0.rhs_ops[1] - m0.rhs_ops[0]
    assert m1.jac_ops[1] - m1.jac_ops[0] == m0.jac_ops[1] - m0.jac_ops[0]
    r0 = simulate(base, t_end_day=50.0)
    r1 = simulate(spec, t_end_day=50.0)
    assert np.array_equal(r0.species("N"), r1.species("N"))
    n = r1.species("N")[0]
    v = np.sqrt(n) * 2 + 1e9
    assert np.allclose(r1.derived_value("V")[0], v, rtol=1e-14)
    assert np.allclose(r1.derived_value("W")[0], v**3 / 1e9, rtol=1e-13)


def test_derived_outputs_equal_the_derived_program_at_each_output() -> None:
    """Derived quantities are evaluated after the integration (vectorised over outputs); they must
    equal the derived program run on the recorded state, parameters and time, and stay NaN after
    a set's failure."""
    spec = logistic_spec()
    params = spec.defaults()[None, :] * np.array([[1.0, 1.0, 1.0], [2.0, 0.5, 1.5], [0.7, 1.3, 0.9]])
    res = simulate(spec, params, t_end_day=6.0, t_eval_day=np.linspace(0.0, 6.0, 13), batch_size=2)
    model = compile_spec(spec)
    for s in range(params.shape[0]):
        for o, t in enumerate(res.times_day):
            expected = model.derived(float(t), res.states[s, o][:, None], params[s][:, None])[:, 0]
            np.testing.assert_array_equal(res.derived[s, o], expected)

    blow = dataclasses.replace(
        quadratic_blowup_spec(), assignments=(Assignment("twice", "2 * N", "dimensionless", "a derived output"),)
    )
    res = simulate(blow, np.array([[1.0, 1e-3], [1.0, 0.5]]), t_end_day=10.0, rtol=1e-8, atol=1e-10)
    assert res.ok.tolist() == [True, False]
    reached = np.isfinite(res.states[1, :, 0])
    assert reached[1] and not reached[-1]
    np.testing.assert_array_equal(res.derived[1, reached, 0], 2 * res.states[1, reached, 0])
    assert np.all(np.isnan(res.derived[1, ~reached, 0]))


def test_tape_destinations_never_alias_their_operands() -> None:
    """The engine's lane loops vectorise only when an instruction does not write one of its own
    operands (LLVM's runtime alias check falls back to scalar code), so the allocator never does."""
    from exoresist.kb import load_kb
    from exoresist.model.assemble import Scenario, assemble

    model = compile_spec(assemble(load_kb(), Scenario("patient", ("atezolizumab+bevacizumab",), days=60.0)))
    ops = model.ops
    binary = ~np.isin(ops[:, 0], [4, 6, 7, 8, 9])  # NEG, EXP, SQRT, LOG, SQR read one operand
    assert not np.any(ops[:, 1] == ops[:, 2])
    assert not np.any(binary & (ops[:, 1] == ops[:, 3]))


@pytest.mark.parametrize("n_sets", [1, 7, 100, 255, 256, 1000, 10_000])
@pytest.mark.parametrize("threads", [1, 2, 4])
def test_chunks_cover_every_set_once_and_give_every_thread_work(n_sets: int, threads: int) -> None:
    from exoresist.ode._simulate import _chunk_bounds

    lanes = min(128, -(-n_sets // threads))
    bounds = _chunk_bounds(n_sets, threads, lanes, progress=False)
    assert bounds[0] == 0 and bounds[-1] == n_sets and np.all(np.diff(bounds) > 0)
    if threads > 1:
        # no thread idles while another runs the only chunk: the last `threads` chunks are equal
        assert bounds.size - 1 >= min(threads, n_sets)
        last = np.diff(bounds)[-min(threads, n_sets) :]
        assert last.max() - last.min() <= 1
    if threads == 1:
        assert bounds.size == 2  # one thread, no progress bar: one chunk
