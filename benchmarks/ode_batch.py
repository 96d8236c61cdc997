"""Benchmark the compiled Rodas4 engine against libroadrunner (one set after another).

Usage (from the repository root)::

    .venv/bin/python benchmarks/ode_batch.py --n-sets 10000 --n-roadrunner 200

The model is the full patient model assembled from the shipped KB (see :func:`build_spec`).
Parameter sets are log-uniform within a factor 1.5 of each default (about ±50 %), from ``--seed``.

Accuracy: besides the largest difference between the engine and libroadrunner, the first
``--n-reference`` sets are integrated by libroadrunner at rtol 1e-10 / atol 1e-14, and the largest
relative error of each method against that reference is printed (same floor), so "equal accuracy"
can be checked rather than assumed. Tolerances mean different things to the two methods (per-set
Rodas4 error control against CVODE's), so "equal accuracy" compares measured errors: run the engine
with ``--engine-rtol`` at the loosest tolerance whose error is still no larger than libroadrunner's
(the last line says which is the more accurate).

Timing: this is a shared 2-core virtual machine whose speed varies from run to run by 10-30 %.
Each method is timed ``--repeat`` times on the same sets and the best time counts (as ``timeit``
does); every time is printed, and so are the ratios slowest against slowest and slowest engine
against fastest libroadrunner.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
import tracemalloc
from collections.abc import Callable

import numpy as np

from exoresist.kb import load_kb
from exoresist.model.assemble import Scenario, assemble
from exoresist.model.sbml import to_sbml
from exoresist.model.spec import ModelSpec
from exoresist.ode import SimulationResult, simulate


def build_spec(t_end_day: float) -> ModelSpec:
    """The full patient model assembled from the shipped KB: atezolizumab + bevacizumab every
    3 weeks at standard doses, every exosomal mechanism record active."""
    return assemble(load_kb(), Scenario("patient", ("atezolizumab+bevacizumab",), days=t_end_day))


def sample(spec: ModelSpec, n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return spec.defaults()[None, :] * np.exp(rng.uniform(np.log(1 / 1.5), np.log(1.5), (n, len(spec.parameters))))


def rel(a: np.ndarray, ref: np.ndarray) -> float:
    """Largest relative error of ``a`` against ``ref`` (times x species), with a floor of 1e-6 times
    each species' largest reference value (so values that pass through zero do not dominate)."""
    floor = 1e-6 * np.max(np.abs(ref), axis=0) + 1e-12
    return float(np.max(np.abs(a - ref) / np.maximum(np.abs(ref), floor)))


def roadrunner_runner(spec: ModelSpec, params: np.ndarray, times: np.ndarray) -> Callable[[int, float, float], np.ndarray]:
    """``run(k, rtol, atol)``: set ``k`` simulated by libroadrunner on the exported SBML, the
    species at ``times`` (times x species)."""
    import roadrunner

    rr = roadrunner.RoadRunner(to_sbml(spec))
    rr.timeCourseSelections = ["time", *spec.species_names]
    names = spec.parameter_names

    def run(k: int, rtol: float, atol: float) -> np.ndarray:
        rr.resetAll()
        rr.integrator.relative_tolerance = rtol
        rr.integrator.absolute_tolerance = atol
        for name, value in zip(names, params[k], strict=True):
            rr.setValue(name, float(value))
        rr.reset()  # re-evaluates the initial assignments with the new parameters
        return np.asarray(rr.simulate(times=list(times)))[:, 1:]

    return run


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-sets", type=int, default=10_000)
    ap.add_argument("--n-roadrunner", type=int, default=200)
    ap.add_argument("--t-end", type=float, default=730.0)
    ap.add_argument("--rtol", type=float, default=1e-6)
    ap.add_argument("--atol", type=float, default=1e-9)
    ap.add_argument(
        "--engine-rtol", type=float, default=None, help="engine rtol if not --rtol (to compare at equal accuracy, not tolerance)"
    )
    ap.add_argument("--engine-atol", type=float, default=None, help="engine atol if not --atol")
    ap.add_argument("--batch-size", type=int, default=128, help="lanes per worker thread")
    ap.add_argument("--n-reference", type=int, default=50, help="sets checked against a tight-tolerance reference")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--repeat", type=int, default=3, help="time each method this many times; the best time counts")
    ap.add_argument("--every", type=float, default=7.0, help="days between output points")
    ap.add_argument("--tracemalloc", action="store_true", help="trace peak Python memory (slows numpy down)")
    args = ap.parse_args(argv)

    spec = build_spec(args.t_end)
    times = np.arange(0.0, args.t_end + 1e-9, args.every)
    print(
        f"spec: {len(spec.species)} species, {len(spec.reactions)} reactions, "
        f"{len(spec.events)} events, {len(spec.parameters)} parameters"
    )
    params = sample(spec, args.n_sets, args.seed)
    t0 = time.perf_counter()
    simulate(spec, params[:2], t_end_day=1.0)  # code generation + symbolic Jacobian, cached
    print(f"spec compilation to data (once per spec) and engine load: {time.perf_counter() - t0:.2f} s")

    e_rtol = args.engine_rtol or args.rtol
    e_atol = args.engine_atol or args.atol
    if args.tracemalloc:
        tracemalloc.start()
    engine_times = []
    last: list[SimulationResult] = []  # the latest result only: the peak memory is that of one run
    for _ in range(args.repeat):  # the same sets each time (results are identical); timing noise differs
        last.clear()
        last.append(
            simulate(
                spec,
                params,
                t_end_day=args.t_end,
                t_eval_day=times,
                rtol=e_rtol,
                atol=e_atol,
                seed=args.seed,
                batch_size=args.batch_size,
            )
        )
        engine_times.append(last[0].wall_time_s)
    res = last[0]
    peak = tracemalloc.get_traced_memory()[1] if args.tracemalloc else 0
    tracemalloc.stop()
    best = min(engine_times)
    print(
        f"engine (rtol {e_rtol:g}, atol {e_atol:g}): {args.n_sets} sets x {args.t_end:g} days "
        f"in {best:.1f} s (best of {args.repeat}: {', '.join(f'{x:.1f}' for x in engine_times)} s) "
        f"= {args.n_sets / best:.0f} sets/s; steps {res.n_steps}, rejected {res.n_rejected}; "
        f"ok {int(res.ok.sum())}/{args.n_sets}; peak traced memory {peak / 2**20:.0f} MiB (0: not traced); "
        f"peak memory (max RSS) {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB"
    )
    if not res.ok.all():
        print("failures:", sorted(set(m for m in res.messages if m))[:5])

    if args.n_roadrunner:
        n = min(args.n_roadrunner, args.n_sets)
        run_rr = roadrunner_runner(spec, params, res.times_day)

        rr_times = []
        for _ in range(args.repeat):
            t1 = time.perf_counter()
            rr_out = [run_rr(k, args.rtol, args.atol) for k in range(n)]
            rr_times.append(time.perf_counter() - t1)
        worst = max(rel(res.states[k], out) for k, out in enumerate(rr_out))
        per_set = min(rr_times) / n
        print(
            f"roadrunner (rtol {args.rtol:g}, atol {args.atol:g}): {n} sets one after another "
            f"in {min(rr_times):.1f} s (best of {args.repeat}: {', '.join(f'{x:.1f}' for x in rr_times)} s) "
            f"= {1 / per_set:.0f} sets/s; extrapolated to {args.n_sets} sets: {per_set * args.n_sets:.0f} s"
        )
        print(
            f"engine speed-up {per_set * args.n_sets / best:.2f}x (best against best); "
            f"{max(rr_times) / n * args.n_sets / max(engine_times):.2f}x slowest against slowest, "
            f"{min(rr_times) / n * args.n_sets / max(engine_times):.2f}x slowest engine against fastest roadrunner"
        )
        print(f"max relative difference engine vs roadrunner on those {n} (floor 1e-6 x max|value|): {worst:.2e}")
        m = min(args.n_reference, n)
        if m:
            err_engine = err_rr = 0.0
            for k in range(m):
                ref = run_rr(k, 1e-10, 1e-14)
                err_engine = max(err_engine, rel(res.states[k], ref))
                err_rr = max(err_rr, rel(rr_out[k], ref))
            verdict = "at least as accurate as" if err_engine <= err_rr else "LESS accurate than"
            print(
                f"max relative error vs roadrunner at rtol 1e-10, atol 1e-14 on the first {m} sets: "
                f"engine {err_engine:.2e}, roadrunner {err_rr:.2e} (engine {verdict} roadrunner)"
            )
    print(
        "reproduce: " + " ".join([".venv/bin/python", "benchmarks/ode_batch.py", *(argv if argv is not None else sys.argv[1:])])
    )


if __name__ == "__main__":
    main()
