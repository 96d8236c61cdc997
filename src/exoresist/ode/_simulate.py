"""Batched simulation of a :class:`~exoresist.model.spec.ModelSpec`."""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import nullcontext
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from exoresist.model.spec import ModelSpec
from exoresist.ode._codegen import CompiledModel, compile_spec
from exoresist.ode._engine import (
    FAIL_INITIAL,
    FAIL_JACOBIAN,
    FAIL_MAX_STEPS,
    FAIL_STATE,
    FAIL_UNDERFLOW_ERROR,
    FAIL_UNDERFLOW_NEGATIVE,
    FAIL_UNDERFLOW_NONFINITE,
    derive_range,
    integrate_range,
    model_tuple,
)
from exoresist.ode._result import SimulationResult


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


def failure_message(code: int, t_day: float, max_steps: int) -> str:
    """The message of a set's failure code (see :mod:`exoresist.ode._engine`)."""
    if code == FAIL_INITIAL:
        return "non-finite initial value"
    if code == FAIL_STATE:
        return f"non-finite state or derivative at t = {t_day:.6g} day"
    if code == FAIL_JACOBIAN:
        return f"non-finite Jacobian at t = {t_day:.6g} day"
    if code == FAIL_MAX_STEPS:
        return f"more than {max_steps} steps before t = {t_day:.6g} day"
    kind = {
        FAIL_UNDERFLOW_NONFINITE: "non-finite values",
        FAIL_UNDERFLOW_NEGATIVE: "a species below zero beyond tolerance",
        FAIL_UNDERFLOW_ERROR: "error test",
    }[code]
    return f"step size underflow at t = {t_day:.6g} day ({kind})"


def _threads() -> int:
    """Cores this process may use, capped by ``OMP_NUM_THREADS`` when set (Dask workers and batch
    schedulers set it to the threads they grant a task)."""
    try:
        n = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        n = os.cpu_count() or 1
    cap = os.environ.get("OMP_NUM_THREADS", "")
    if cap.isdigit() and int(cap) > 0:
        n = min(n, int(cap))
    return max(1, n)


def _chunk_bounds(n_sets: int, threads: int, lanes: int, progress: bool) -> np.ndarray:
    """Chunk boundaries ``0 = b_0 < b_1 < ... = n_sets``; each chunk is integrated by one worker on
    ``lanes`` lanes (a lane takes the chunk's next set as soon as its set is done).

    With several threads, chunks shrink towards the end (guided scheduling) so the threads finish
    together and the progress bar moves; a chunk holds at least 8 sets per lane (a chunk ends with
    lanes idling while its last sets finish). Once less than that is left for every thread, the
    rest is split equally between the threads, so that none idles while another runs the last
    chunk."""
    bounds = [0]
    while bounds[-1] < n_sets:
        left = n_sets - bounds[-1]
        if threads == 1:
            size = max(left // 8, 8 * lanes) if progress else left
        elif left <= threads * 8 * lanes:
            parts = min(threads, left)
            sizes = [left // parts + (1 if k < left % parts else 0) for k in range(parts)]
            bounds.extend((bounds[-1] + np.cumsum(sizes)).tolist())
            break
        else:
            size = max(left // (2 * threads), 8 * lanes)
        bounds.append(bounds[-1] + min(left, size))
    return np.array(bounds, dtype=np.int64)


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
    batch_size: int = 128,
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
        progress: draw a rich progress bar over the parameter sets (updated as chunks finish).
        initial_overrides: species name → a number or ``(n_sets,)`` array replacing the initial
            value computed from the spec.
        batch_size: lanes per worker thread: sets integrated in lock step (each with its own time
            and step size), which shares the interpreter's per-instruction cost; 32-128 suits
            models of tens of species (the registers should stay in the core's cache).
        max_steps: steps (accepted + rejected) allowed per set before it is failed.

    Returns:
        A :class:`SimulationResult`. Sets that fail (non-finite values, or a step that cannot be
        made small enough) are reported in ``ok``/``messages``; the others are unaffected (every
        set has its own step-size control). ``n_steps``/``n_rejected`` are totals over the sets.

    The model is compiled to data (:func:`compile_spec`, once per spec) and integrated by one
    compiled Rodas4 engine (:mod:`exoresist.ode._engine`) on all cores, in threads that share the
    output arrays.

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

    # stops: output times and event times; the events of a stop in spec order
    stops = np.union1d(times, np.asarray(sorted({e.time_day for e in spec.events if e.time_day <= t_end_day}), dtype=float))
    stop_index = {float(tt): i for i, tt in enumerate(stops)}
    stop_out = np.full(stops.size, -1, dtype=np.int64)
    for i, tt in enumerate(times):
        stop_out[stop_index[float(tt)]] = i
    per_stop: list[list[int]] = [[] for _ in range(stops.size)]
    for k, e in enumerate(spec.events):
        if e.time_day <= t_end_day:
            per_stop[stop_index[float(e.time_day)]].append(k)
    ev_order = np.array([k for group in per_stop for k in group], dtype=np.int64)
    counts = np.array([len(g) for g in per_stop], dtype=np.int64)
    stop_ev_hi = np.cumsum(counts)
    stop_ev_lo = stop_ev_hi - counts

    p_sets = np.ascontiguousarray(matrix)
    with np.errstate(all="ignore"):
        y0 = np.ascontiguousarray(_initial_state(spec, model, np.ascontiguousarray(matrix.T), initial_overrides).T)
    status = np.where(np.all(np.isfinite(y0), axis=1), 0, FAIL_INITIAL).astype(np.int64)
    fail_t = np.zeros(n_sets)
    n_acc = np.zeros(n_sets, dtype=np.int64)
    n_rej = np.zeros(n_sets, dtype=np.int64)
    states = np.full((n_sets, times.size, n_species), np.nan)
    derived = np.full((n_sets, times.size, n_assign), np.nan)
    n_out = np.zeros(n_sets, dtype=np.int64)

    threads = min(_threads(), max(1, n_sets // 4))
    lanes = int(min(batch_size, max(1, -(-n_sets // threads))))
    bounds = _chunk_bounds(n_sets, threads, lanes, progress)
    n_chunks = bounds.size - 1
    M = model_tuple(model)

    def run(c: int) -> int:
        lo, hi = int(bounds[c]), int(bounds[c + 1])
        # a chunk smaller than the lanes runs on as many lanes as it has sets
        integrate_range(
            M, p_sets, y0, stops, stop_out, stop_ev_lo, stop_ev_hi, ev_order, float(rtol), float(atol), int(max_steps),
            lo, hi, min(lanes, hi - lo), status, fail_t, n_acc, n_rej, states, n_out,
        )  # fmt: skip
        derive_range(M, p_sets, times, states, n_out, lo, hi, min(lanes, hi - lo), derived)
        return hi - lo

    bar: Any = nullcontext()
    if progress:
        from rich.progress import Progress

        bar = Progress(transient=True)
    with bar, np.errstate(all="ignore"):
        task = bar.add_task("simulating", total=n_sets) if progress else None
        if threads == 1:
            for c in range(n_chunks):
                done = run(c)
                if task is not None:
                    bar.update(task, advance=done)
        else:
            with ThreadPoolExecutor(max_workers=threads) as pool:
                for fut in as_completed([pool.submit(run, c) for c in range(n_chunks)]):
                    done = fut.result()
                    if task is not None:
                        bar.update(task, advance=done)

    messages = [failure_message(int(code), float(tf), max_steps) if code else "" for code, tf in zip(status, fail_t, strict=True)]
    ok = status == 0
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
        n_steps=int(n_acc.sum()),
        n_rejected=int(n_rej.sum()),
        wall_time_s=time.perf_counter() - started,
    )
