"""Batched simulation of a :class:`~exoresist.model.spec.ModelSpec`."""

from __future__ import annotations

import time
from collections.abc import Mapping
from contextlib import nullcontext
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from exoresist.model.spec import ModelSpec
from exoresist.ode._codegen import CompiledModel, compile_spec
from exoresist.ode._result import SimulationResult
from exoresist.ode._rosenbrock import BatchState, integrate_to


class SimulationInputError(ValueError):
    """Inputs to :func:`simulate` that do not fit the spec (shapes, times, names)."""


def _output_times(t_end_day: float, t_eval_day: ArrayLike | None) -> np.ndarray:
    if not np.isfinite(t_end_day) or t_end_day < 0:
        raise SimulationInputError(f"t_end_day must be a finite number >= 0, got {t_end_day}")
    if t_eval_day is None:
        times = np.arange(0.0, np.floor(t_end_day) + 1.0)
        if times[-1] < t_end_day:
            times = np.append(times, t_end_day)
        return times
    times = np.asarray(t_eval_day, dtype=float).reshape(-1)
    if times.size == 0:
        raise SimulationInputError("t_eval_day is empty")
    if np.any(np.diff(times) <= 0):
        raise SimulationInputError("t_eval_day must be strictly increasing")
    if times[0] < 0 or times[-1] > t_end_day:
        raise SimulationInputError(f"t_eval_day must lie in [0, t_end_day = {t_end_day}]")
    return times


def _parameter_matrix(spec: ModelSpec, params: ArrayLike | None) -> np.ndarray:
    n_params = len(spec.parameters)
    if params is None:
        return spec.defaults()[None, :]
    matrix = np.asarray(params, dtype=float)
    if matrix.ndim == 1:
        matrix = matrix[None, :]
    if matrix.ndim != 2 or matrix.shape[1] != n_params:
        raise SimulationInputError(
            f"params must have shape (n_sets, {n_params}) in spec.parameter_names order, got {matrix.shape}"
        )
    if matrix.shape[0] == 0:
        raise SimulationInputError("params has no rows")
    return matrix


def _initial_state(spec: ModelSpec, model: CompiledModel, p: np.ndarray, overrides: Mapping[str, ArrayLike] | None) -> np.ndarray:
    """``(n_species, n_sets)`` initial values from the spec, then ``overrides``."""
    with np.errstate(all="ignore"):
        y0 = np.array(model.initial(p), dtype=float)
    names = spec.species_names
    for name, value in (overrides or {}).items():
        if name not in names:
            raise SimulationInputError(f"initial_overrides names '{name}', which is not a species")
        v = np.asarray(value, dtype=float)
        if v.ndim > 1 or (v.ndim == 1 and v.shape[0] != p.shape[1]):
            raise SimulationInputError(f"initial_overrides['{name}'] must be a number or have shape ({p.shape[1]},)")
        y0[names.index(name)] = v
    return y0


def simulate(
    spec: ModelSpec,
    params: ArrayLike | None = None,
    *,
    t_end_day: float,
    t_eval_day: ArrayLike | None = None,
    rtol: float = 1e-6,
    atol: float = 1e-9,
    seed: int | None = None,
    progress: bool = False,
    initial_overrides: Mapping[str, ArrayLike] | None = None,
    batch_size: int = 2048,
    max_steps: int = 200_000,
) -> SimulationResult:
    """Simulate every parameter set of ``params`` from t = 0 to ``t_end_day`` in one call.

    Args:
        spec: the model.
        params: ``(n_sets, n_params)`` in ``spec.parameter_names`` order; ``None`` is one set of
            defaults. A 1-D array is one set.
        t_end_day: end time (days).
        t_eval_day: output times (days), strictly increasing in ``[0, t_end_day]``; default every
            whole day from 0 to ``t_end_day`` (and ``t_end_day`` itself).
        rtol, atol: relative and absolute tolerances of the local error test (per species, in the
            species' unit). ``atol`` is also the non-negativity slack: a step that takes a dynamic
            species below minus its error weight (``atol + rtol|y|``) is rejected and retried smaller; values just below 0 are
            set to 0.
        seed: recorded in the result (the ODE model has no randomness; samplers upstream do).
        progress: draw a rich progress bar over simulated time.
        initial_overrides: species name → a number or ``(n_sets,)`` array replacing the initial
            value computed from the spec.
        batch_size: sets integrated together with one common step size (memory grows as
            ``batch_size * n_species**2``); larger batches share the cost of Python overhead.
        max_steps: steps (accepted + rejected) allowed per batch before its sets are failed.

    Returns:
        A :class:`SimulationResult`. Sets that fail (non-finite values, or a step that cannot be
        made small enough) are reported in ``ok``/``messages``; the others are unaffected.

    Events apply at their time in spec order, each on the values left by the previous one; output
    at an event time shows the values after the event. Events after ``t_end_day`` are ignored.

    >>> from exoresist.model.spec import ModelSpec, Parameter, Reaction, Species
    >>> spec = ModelSpec(name="decay", version="1", context="doc",
    ...     species=(Species("A", "A0", "mg", "drug"),),
    ...     parameters=(Parameter("A0", 2.0, 1.0, 3.0, "mg", "assumed", "dose"),
    ...                 Parameter("k_per_day", 0.5, 0.1, 1.0, "1/day", "assumed", "elimination")),
    ...     assignments=(), reactions=(Reaction("elim", "k_per_day * A", (("A", 1.0),), (), "elimination"),))
    >>> result = simulate(spec, [[2.0, 0.5], [2.0, 1.0]], t_end_day=2.0)
    >>> result.states.shape
    (2, 3, 1)
    >>> bool(abs(result.species("A")[1, 2] - 2.0 * np.exp(-2.0)) < 1e-5)
    True
    """
    started = time.perf_counter()
    if not (rtol > 0 and atol > 0):
        raise SimulationInputError("rtol and atol must be positive")
    if batch_size < 1:
        raise SimulationInputError("batch_size must be at least 1")
    times = _output_times(t_end_day, t_eval_day)
    matrix = _parameter_matrix(spec, params)
    model = compile_spec(spec)
    n_sets = matrix.shape[0]
    for name, value in (initial_overrides or {}).items():
        if np.ndim(value) > 1 or (np.ndim(value) == 1 and np.shape(value)[0] != n_sets):
            raise SimulationInputError(f"initial_overrides['{name}'] must be a number or have shape ({n_sets},)")
    n_species = len(spec.species)
    n_assign = len(spec.assignments)

    event_times = sorted({e.time_day for e in spec.events if e.time_day <= t_end_day})
    stops = np.union1d(times, np.asarray(event_times, dtype=float))
    events_at: dict[float, list[int]] = {}
    for k, e in enumerate(spec.events):
        if e.time_day <= t_end_day:
            events_at.setdefault(float(e.time_day), []).append(k)
    output_index = {float(tt): i for i, tt in enumerate(times)}

    states = np.full((n_sets, times.size, n_species), np.nan)
    derived = np.full((n_sets, times.size, n_assign), np.nan)
    messages = [""] * n_sets
    n_steps = 0
    n_rejected = 0

    bar: Any = nullcontext()
    if progress:
        from rich.progress import Progress

        bar = Progress(transient=True)
    with bar:
        task = (
            bar.add_task("simulating", total=float(stops[-1]) * ((n_sets + batch_size - 1) // batch_size)) if progress else None
        )
        for start in range(0, n_sets, batch_size):
            chunk = slice(start, min(start + batch_size, n_sets))
            p = np.ascontiguousarray(matrix[chunk].T)
            y0 = _initial_state(spec, model, p, _chunk_overrides(initial_overrides, chunk))
            state = BatchState(t=0.0, y=y0, p=p, index=np.arange(chunk.start, chunk.stop))
            bad = ~np.all(np.isfinite(y0), axis=0)
            if np.any(bad):
                state.drop(bad, "non-finite initial value")
            for stop in stops:
                stop_f = float(stop)
                integrate_to(model, state, stop_f, rtol=rtol, atol=atol, max_steps=max_steps)
                for k in events_at.get(stop_f, ()):
                    if state.index.size:
                        with np.errstate(all="ignore"):
                            state.y = np.asarray(model.events[k](stop_f, state.y, state.p), dtype=float)
                        state.h = None  # a discontinuity: estimate the step afresh
                if stop_f in output_index and state.index.size:
                    i = output_index[stop_f]
                    states[state.index, i, :] = state.y.T
                    with np.errstate(all="ignore"):
                        derived[state.index, i, :] = model.derived(stop_f, state.y, state.p).T
                if task is not None:
                    bar.update(task, advance=stop_f - (float(stops[stops < stop][-1]) if np.any(stops < stop) else 0.0))
            n_steps += state.n_steps
            n_rejected += state.n_rejected
            for i, reason in state.failures.items():
                messages[i] = reason

    ok = np.array([m == "" for m in messages], dtype=bool)
    # a set that "succeeded" but shows non-finite outputs (e.g. an event produced NaN) is a failure
    finite = np.all(np.isfinite(states), axis=(1, 2))
    for i in np.flatnonzero(ok & ~finite).tolist():
        messages[i] = "non-finite value at an output time (from an initial value or an event)"
    ok = ok & finite
    return SimulationResult(
        times_day=times,
        states=states,
        species_names=tuple(spec.species_names),
        derived=derived,
        derived_names=tuple(a.name for a in spec.assignments),
        params=matrix.copy(),
        param_names=tuple(spec.parameter_names),
        ok=ok,
        messages=tuple(messages),
        seed=seed,
        model_name=spec.name,
        model_version=spec.version,
        spec_hash=model.spec_hash,
        rtol=rtol,
        atol=atol,
        n_steps=n_steps,
        n_rejected=n_rejected,
        wall_time_s=time.perf_counter() - started,
    )


def _chunk_overrides(overrides: Mapping[str, ArrayLike] | None, chunk: slice) -> dict[str, ArrayLike] | None:
    if not overrides:
        return None
    out: dict[str, ArrayLike] = {}
    for name, value in overrides.items():
        v = np.asarray(value, dtype=float)
        out[name] = v[chunk] if v.ndim == 1 else v
    return out
