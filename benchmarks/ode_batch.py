"""Benchmark the batched Rodas4 engine against libroadrunner (one set after another).

Usage (from the repository root)::

    .venv/bin/python benchmarks/ode_batch.py --n-sets 10000 --n-roadrunner 200

The model is the full patient model assembled from the shipped KB (see :func:`build_spec`).
Parameter sets are log-uniform within a factor 1.5 of each default (about ±50 %), from ``--seed``.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
import tracemalloc

import numpy as np

from exoresist.kb import load_kb
from exoresist.model.assemble import Scenario, assemble
from exoresist.model.sbml import to_sbml
from exoresist.model.spec import ModelSpec
from exoresist.ode import simulate


def build_spec(t_end_day: float) -> ModelSpec:
    """The full patient model assembled from the shipped KB: atezolizumab + bevacizumab every
    3 weeks at standard doses, every exosomal mechanism record active."""
    return assemble(load_kb(), Scenario("patient", ("atezolizumab+bevacizumab",), days=t_end_day))


def sample(spec: ModelSpec, n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return spec.defaults()[None, :] * np.exp(rng.uniform(np.log(1 / 1.5), np.log(1.5), (n, len(spec.parameters))))


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-sets", type=int, default=10_000)
    ap.add_argument("--n-roadrunner", type=int, default=200)
    ap.add_argument("--t-end", type=float, default=730.0)
    ap.add_argument("--rtol", type=float, default=1e-6)
    ap.add_argument("--atol", type=float, default=1e-9)
    ap.add_argument("--batch-size", type=int, default=2048)
    ap.add_argument("--seed", type=int, default=0)
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
    print(f"code generation (once per spec): {time.perf_counter() - t0:.2f} s")

    if args.tracemalloc:
        tracemalloc.start()
    res = simulate(
        spec,
        params,
        t_end_day=args.t_end,
        t_eval_day=times,
        rtol=args.rtol,
        atol=args.atol,
        seed=args.seed,
        batch_size=args.batch_size,
    )
    peak = tracemalloc.get_traced_memory()[1] if args.tracemalloc else 0
    tracemalloc.stop()
    print(
        f"engine: {args.n_sets} sets x {args.t_end:g} days in {res.wall_time_s:.1f} s "
        f"= {args.n_sets / res.wall_time_s:.0f} sets/s; steps {res.n_steps}, rejected {res.n_rejected}; "
        f"ok {int(res.ok.sum())}/{args.n_sets}; peak traced memory {peak / 2**20:.0f} MiB (0: not traced); "
        f"max RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB"
    )
    if not res.ok.all():
        print("failures:", sorted(set(m for m in res.messages if m))[:5])

    if args.n_roadrunner:
        import roadrunner

        n = min(args.n_roadrunner, args.n_sets)
        rr = roadrunner.RoadRunner(to_sbml(spec))
        rr.integrator.relative_tolerance = args.rtol
        rr.integrator.absolute_tolerance = args.atol
        rr.timeCourseSelections = ["time", *spec.species_names]
        names = spec.parameter_names
        t1 = time.perf_counter()
        worst = 0.0
        for k in range(n):
            rr.resetAll()
            for name, value in zip(names, params[k], strict=True):
                rr.setValue(name, float(value))
            rr.reset()  # re-evaluates the initial assignments with the new parameters
            out = np.asarray(rr.simulate(times=list(res.times_day)))[:, 1:]
            ours = res.states[k]
            floor = 1e-6 * np.max(np.abs(out), axis=0) + 1e-12
            worst = max(worst, float(np.max(np.abs(ours - out) / np.maximum(np.abs(out), floor))))
        rr_time = time.perf_counter() - t1
        per_set = rr_time / n
        print(
            f"roadrunner: {n} sets one after another in {rr_time:.1f} s = {1 / per_set:.0f} sets/s; "
            f"extrapolated to {args.n_sets} sets: {per_set * args.n_sets:.0f} s; "
            f"engine speed-up {per_set * args.n_sets / res.wall_time_s:.2f}x"
        )
        print(f"max relative difference engine vs roadrunner on those {n} (floor 1e-6 x max|value|): {worst:.2e}")
    print(
        "reproduce: " + " ".join([".venv/bin/python", "benchmarks/ode_batch.py", *(argv if argv is not None else sys.argv[1:])])
    )


if __name__ == "__main__":
    main()
